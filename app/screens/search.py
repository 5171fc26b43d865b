"""Search (f3): contracts by id, account, VIN, vehicle, customer or words in the document.

One box, classified by the service (services.contracts.search_contracts says what it understands);
`enter` searches, `down` goes to the results, `enter` there opens the contract on the review screen.
Results arrive a page at a time: the next page is fetched with the service's cursor as the cursor nears
the last loaded row. The full snippet of the highlighted result is shown under the table, since a table
row has room for only a few of its words.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Input, Select, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, WorkerState

from app.screens.base import WorkstationScreen
from services.contracts import (
    CONTRACT_TYPES,
    EXTRACTION_STATUSES,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    MAX_QUERY_CHARS,
    ContractHit,
    MatchKind,
    SearchCursor,
    SearchPage,
    search_contracts,
)
from services.errors import Conflict, InvalidInput
from services.permissions import Permission, allowed
from services.review import ExtractionDetail, claim_extraction, get_detail_by_contract
from widgets.confidence import confidence_bar
from widgets.key_footer import KeyFooter
from widgets.plain import notify_plain, plain, shown
from widgets.search_results import SearchBox, SearchResultsTable
from widgets.snippet import from_first_match, highlighted_snippet

PAGE = 50
FETCH_WHEN_ROWS_LEFT = 10
# What the columns before the snippet usually take (contract, customer, date, status, confidence, match,
# with their padding, and the scroll bar): the snippet column gets the rest of the screen's width.
OTHER_COLUMNS_WIDTH = 17 + 20 + 12 + 10 + 12 + 10 + 2
MIN_SNIPPET_WIDTH = 24
BAR_WIDTH = 6
SNIPPET_COLUMN = "snippet"

HINT = (
    "Type a contract id, an account number, a VIN, make:Honda model:Accord, customer Smith (or #12345), "
    "or words from the contract, then press enter."
)
KIND_LABELS: dict[MatchKind, str] = {
    "contract_id": "id",
    "account": "account",
    "vin": "VIN",
    "vehicle": "vehicle",
    "customer": "customer",
    "text": "text",
}
KIND_PHRASES: dict[MatchKind, str] = {
    "contract_id": "whose id starts with",
    "account": "whose account number starts with",
    "vin": "whose VIN starts with",
    "vehicle": "with the vehicle",
    "customer": "with a customer like",
    "text": "with the words",
}


def summary(page: SearchPage, loaded: int) -> Text:
    """What was found, in a sentence: how it matched, how many, and whether there are more."""
    query = f"“{shown(page.query)}”"
    if not page.hits:
        return Text(
            f"No contract matches {query}. Check the spelling, try fewer words, "
            "or search by account number, VIN or make:… instead."
        )
    found = Text.assemble(
        "Contracts ", KIND_PHRASES[page.kind], " ", (query, "bold"), ": ",
    )  # fmt: skip
    if page.more_than_ranked:
        found.append(f"more than {page.matches:,} match", style="bold")
        found.append(
            f"; the first {page.matches:,} found are listed, best first. Add a word or a filter to narrow it."
        )
    elif page.matches is not None:
        found.append(f"{page.matches:,} {'match' if page.matches == 1 else 'matches'}", style="bold")
        found.append(".")
    else:
        found.append(f"{loaded:,} shown", style="bold")
        found.append(", more as you scroll." if page.next_cursor is not None else ".")
    return found


class SearchScreen(WorkstationScreen):
    """Find a contract and open it for review."""

    BINDINGS = [
        Binding("ctrl+f", "toggle_filters", "Filters", id="search_filters"),
        Binding("escape", "edit_query", "Edit search", id="search_edit"),
        Binding("down", "focus_results", "Results", show=False, id="search_results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._hits: list[ContractHit] = []
        self._next: SearchCursor | None = None
        self._loading_more = False
        # What the shown results were searched with: later pages must ask the very same question.
        self._text = ""
        self._filters: dict[str, str | int | None] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchBox(
            placeholder="Contract id, account, VIN, make:Honda, customer or words — enter searches",
            max_length=MAX_QUERY_CHARS * 4,
            id="search-box",
        )
        yield Static(HINT, id="search-message")
        with Horizontal(id="search-filters", classes="hidden"):
            yield Select([(s, s) for s in EXTRACTION_STATUSES], prompt="Any status", id="filter-status")
            yield Select(
                [(t.replace("_", " "), t) for t in CONTRACT_TYPES],
                prompt="Any contract type",
                id="filter-contract_type",
            )
            yield Input(placeholder="Confidence below (1–100)", type="integer", id="filter-confidence_below")
        yield SearchResultsTable(id="search-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="search-detail", classes="hidden")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._add_columns()
        self.query_one(SearchBox).focus()

    def _add_columns(self) -> None:
        table = self.query_one(SearchResultsTable)
        table.add_column("Contract", key="contract")
        table.add_column("Customer", key="customer")
        table.add_column("Date", key="date")
        table.add_column("Status", key="status")
        table.add_column("Confidence", key="confidence")
        table.add_column("Match", key="match")
        width = self._snippet_width()
        if width is not None:
            table.add_column("Snippet", key=SNIPPET_COLUMN, width=width)

    def _snippet_width(self) -> int | None:
        """What the snippet column gets; on a narrow screen no column, the panel under the table shows it."""
        width = self.app.size.width - OTHER_COLUMNS_WIDTH
        return width if width >= MIN_SNIPPET_WIDTH else None

    # --- searching ---------------------------------------------------------------------------------

    @on(Input.Submitted, "#search-box")
    def _query_submitted(self) -> None:
        self.search(focus_results=True)

    @on(Input.Submitted, "#filter-confidence_below")
    @on(Select.Changed)
    def _filters_changed(self) -> None:
        if self._text:
            self.search()

    def search(self, *, focus_results: bool = False) -> None:
        """Start a new search from what is in the box and the filter bar.

        Searched from the box, the results take the focus, so a second `enter` opens the first one; a
        filter changed in the filter bar keeps the focus where the reader is.
        """
        self._text = self.query_one(SearchBox).value
        self._filters = self._filter_values()
        self._next = None
        self._load(first=True, focus_results=focus_results)

    def _filter_values(self) -> dict[str, str | int | None]:
        status: Select[str] = self.query_one("#filter-status", Select)
        contract_type: Select[str] = self.query_one("#filter-contract_type", Select)
        below = self.query_one("#filter-confidence_below", Input).value.strip()
        return {
            "status": None if status.is_blank() else str(status.value),
            "contract_type": None if contract_type.is_blank() else str(contract_type.value),
            "confidence_below": int(below) if below.lstrip("-").isdigit() else None,
        }

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _load(self, first: bool = False, focus_results: bool = False, keep_row: int = 0) -> None:
        table = self.query_one(SearchResultsTable)
        message = self.query_one("#search-message", Static)
        if first:
            table.loading = True
            message.set_class(False, "error")
            message.update("Searching…")
        else:
            self._loading_more = True
        try:
            page = await search_contracts(
                self.ctx,
                self._text,
                after=None if first else self._next,
                limit=PAGE,
                **self._filters,  # type: ignore[arg-type]
            )
        except InvalidInput as exc:
            message.set_class(True, "error")
            message.update(plain(exc.message))
            if first:
                self._show_hits([], first=True)
            return
        finally:
            table.loading = False
            self._loading_more = False
        self._next = page.next_cursor
        self._show_hits(page.hits, first=first)
        if first:
            message.update(summary(page, len(self._hits)))
            if self._hits:
                table.move_cursor(row=min(keep_row, len(self._hits) - 1))
                if focus_results:
                    table.focus()

    def _show_hits(self, hits: list[ContractHit], *, first: bool) -> None:
        table = self.query_one(SearchResultsTable)
        if first:
            table.clear()
            self._hits = []
        threshold = self.session.settings.confidence_threshold
        for hit in hits:
            self._hits.append(hit)
            table.add_row(*self._cells(hit, threshold), key=hit.contract_id)
        if first:
            self._show_detail()

    def _cells(self, hit: ContractHit, threshold: int) -> list[str | Text]:
        status = Text("none", style="dim")
        if hit.extraction_status is not None:
            status = Text(
                hit.extraction_status, style="bold" if hit.extraction_status == "pending" else "magenta"
            )
        cells: list[str | Text] = [
            plain(hit.contract_id),
            plain(hit.customer_name),
            f"{hit.contract_date:%Y-%m-%d}" if hit.contract_date else "—",
            status,
            confidence_bar(hit.min_confidence, threshold, width=BAR_WIDTH)
            if hit.min_confidence is not None
            else Text("—"),
            KIND_LABELS[hit.match_kind],
        ]
        if self._snippet_width() is not None:
            snippet = Text("")
            if hit.snippet:
                shown = from_first_match(hit.snippet, start=HIGHLIGHT_START)
                snippet = highlighted_snippet(shown, start=HIGHLIGHT_START, end=HIGHLIGHT_END)
                snippet.no_wrap = True
                snippet.overflow = "ellipsis"
            cells.append(snippet)
        return cells

    @on(DataTable.RowHighlighted, "#search-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        near_end = event.cursor_row >= len(self._hits) - FETCH_WHEN_ROWS_LEFT
        if self._next is not None and near_end and not self._loading_more:
            self._load()

    def _show_detail(self) -> None:
        """The highlighted contract's account, VIN and type, and its whole snippet, wrapped."""
        detail = self.query_one("#search-detail", Static)
        hit = self.selected_hit
        if hit is None:
            detail.update("")
            detail.add_class("hidden")
            return
        detail.remove_class("hidden")
        text = Text.assemble(
            (hit.contract_id, "bold"), shown(f"  ·  {hit.customer_name}  ·  account {hit.account_number}"),
            shown(f"  ·  VIN {hit.vin}") if hit.vin else "", f"  ·  {hit.contract_type.replace('_', ' ')}",
        )  # fmt: skip
        if hit.snippet:
            text.append("\n")
            text.append_text(highlighted_snippet(hit.snippet, start=HIGHLIGHT_START, end=HIGHLIGHT_END))
        detail.update(text)

    @property
    def selected_hit(self) -> ContractHit | None:
        row = self.query_one(SearchResultsTable).cursor_row
        return self._hits[row] if 0 <= row < len(self._hits) else None

    # --- keys --------------------------------------------------------------------------------------

    def action_toggle_filters(self) -> None:
        bar = self.query_one("#search-filters")
        bar.toggle_class("hidden")
        if bar.has_class("hidden"):
            self.query_one(SearchBox).focus()
        else:
            self.query_one("#filter-status", Select).focus()

    def action_edit_query(self) -> None:
        self.query_one(SearchBox).focus()

    def action_focus_results(self) -> None:
        if self._hits:
            self.query_one(SearchResultsTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_query":
            return not self.query_one(SearchBox).has_focus
        return True

    # --- opening a contract ------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#search-table")
    def _row_selected(self) -> None:
        hit = self.selected_hit
        if hit is None:
            return
        if hit.extraction_status is None:
            notify_plain(
                self,
                f"{hit.contract_id} has not been extracted yet, so there is nothing to review. "
                "Run the extraction first.",
                title="Nothing to review",
                severity="warning",
            )
            return
        self._open(hit.contract_id)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def _open(self, contract_id: str) -> None:
        """Open the contract for review; a pending item nobody holds is claimed so it can be worked on."""
        detail = await get_detail_by_contract(self.ctx, contract_id)
        if self._claimable(detail):
            try:
                detail = await claim_extraction(self.ctx, detail.extraction_id)
            except Conflict as exc:
                # Someone was quicker: show the item as it is now, read-only for this reviewer.
                notify_plain(self, exc.message, title="Not claimed", severity="warning", timeout=8)
                detail = await get_detail_by_contract(self.ctx, contract_id)
        from app.screens.review import ResultReviewScreen

        self.app.push_screen(ResultReviewScreen(detail), callback=self._back_from_review)

    def _claimable(self, detail: ExtractionDetail) -> bool:
        if detail.status != "pending" or not allowed(self.ctx.actor, Permission.CLAIM):
            return False
        claim = detail.claim
        return claim is None or claim.user_id == self.ctx.actor.user_id or claim.expires_at <= detail.as_of

    def _back_from_review(self, _: object) -> None:
        """Decisions taken on the review screen change statuses: the same search again, keeping the place."""
        if self._text:
            self._next = None
            self._load(first=True, keep_row=self.query_one(SearchResultsTable).cursor_row)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "search":
            message = self.query_one("#search-message", Static)
            message.set_class(True, "error")
            message.update(
                "The search did not finish (see the message in the corner). Press enter to try again."
            )
        super().on_worker_state_changed(event)

    def on_resize(self) -> None:
        """The snippet column takes the width the other columns leave; the rows are redrawn to fit."""
        table = self.query_one(SearchResultsTable)
        snippet = table.columns.get(ColumnKey(SNIPPET_COLUMN))
        if not table.columns or (snippet.width if snippet is not None else None) == self._snippet_width():
            return
        row = table.cursor_row
        table.clear(columns=True)
        self._add_columns()
        hits, self._hits = self._hits, []
        self._show_hits(hits, first=False)
        if self._hits:
            table.move_cursor(row=min(row, len(self._hits) - 1))
