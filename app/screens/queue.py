"""The review queue: the reviewer's home. Lowest confidence first; `n` claims the next item.

The table holds what has been scrolled through so far and fetches the next
page (keyset, 50 rows) as the cursor nears the end, so it stays fast with
100,000 pending items. It refreshes itself every few seconds, so items
others claim or decide appear as such.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Select, Static

from app.screens.base import WorkstationScreen
from services.domain import FIELD_LABELS, PROVIDER_NAMES, ConfidenceBand, FieldName
from services.extraction.types import FIELD_NAMES
from services.review import (
    ExtractionDetail,
    QueueCounts,
    QueueCursor,
    QueueFilter,
    QueueItem,
    claim_extraction,
    claim_next,
    queue_counts,
    queue_page,
)
from widgets.confidence import confidence_bar
from widgets.key_footer import KeyFooter
from widgets.plain import plain
from widgets.sized_table import SizedDataTable

PAGE = 50
REVIEW_SCREEN = "queue-review"
REFRESH_SECONDS = 10
# Counting every pending item reads the whole queue index: the header refreshes on its own clock,
# not each time a reviewer comes back from an item.
COUNTS_SECONDS = 30
FETCH_WHEN_ROWS_LEFT = 10


def age_text(since: dt.datetime, now: dt.datetime) -> str:
    seconds = max(int((now - since).total_seconds()), 0)
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def below_label(counts: QueueCounts) -> str:
    """What the below-threshold count was counted against: the global threshold only when it is the only one."""
    return "below field thresholds" if counts.own_thresholds else f"below threshold ({counts.threshold})"


# Each field's confidence column, headed short so that the row fits beside the contract and its customer.
_FIELD_COLUMNS: dict[str, str] = {
    "gap_insurance_premium": "Prem",
    "refund_calculation_method": "Meth",
    "cancellation_fee": "Fee",
    "term_months": "Term",
    "governing_state": "St",
    "apr": "APR",
}


class QueueScreen(WorkstationScreen):
    """Pending extractions with their weakest field, each field's confidence, age and holder."""

    BINDINGS = [
        Binding("n", "claim_next", "Next item", id="claim_next"),
        Binding("enter", "open_selected", "Open", id="open_selected"),
        Binding("slash", "toggle_filters", "Filter", id="filter"),
        Binding("escape", "close_filters", "Close filters", show=False, id="close_filters"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("s", "app.goto('search')", "Search", id="queue_search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._items: list[QueueItem] = []
        self._next: QueueCursor | None = None
        self._loading = False
        self._filters: dict[str, str | None] = {"field": None, "provider": None, "band": None}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the queue…", id="queue-counts")
        with Horizontal(id="queue-filters", classes="hidden"):
            yield Select(
                [(FIELD_LABELS[f], f) for f in FIELD_NAMES],
                prompt="Any field below threshold",
                id="filter-field",
            )
            yield Select([(p, p) for p in PROVIDER_NAMES], prompt="Any provider", id="filter-provider")
            yield Select(
                [(b.value, b.value) for b in ConfidenceBand], prompt="Any confidence", id="filter-band"
            )
        yield Static(id="queue-filtered", classes="hidden")
        table = SizedDataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # What a reviewer decides by comes first, so an 80-column terminal shows it without scrolling.
        table.add_column("Contract", key="contract")
        table.add_column("Weakest field", key="weakest")
        table.add_column("Confidence", key="confidence")
        table.add_column("Age", key="age")
        table.add_column("Held by", key="holder")
        for name in FIELD_NAMES:
            table.add_column(_FIELD_COLUMNS[name], key=name)
        table.add_column("Customer", key="customer")
        table.add_column("Provider", key="provider")
        table.focus()
        self.reload()
        self.refresh_counts()
        self.set_interval(REFRESH_SECONDS, self._refresh_page)
        self.set_interval(COUNTS_SECONDS, self.refresh_counts)

    # --- loading -----------------------------------------------------------------------------------

    def reload(self) -> None:
        """Start again from the head of the queue (after a filter change, a decision, a refresh)."""
        self._items = []
        self._next = None
        self._load_page(first=True)

    def _refresh_page(self) -> None:
        """Others claim and decide items: the rows in view follow, from the head of the queue."""
        if self.app.screen is self and self.query_one(DataTable).cursor_row < PAGE:
            self.reload()

    @work(exclusive=True, group="queue-page", exit_on_error=False)
    async def _load_page(self, first: bool = False) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            page = await queue_page(
                self.ctx, after=None if first else self._next, limit=PAGE, **self._filters
            )
        finally:
            self._loading = False
        table = self.query_one(DataTable)
        if first:
            keep = table.cursor_row
            table.clear()
            self._items = []
        # The queue stays on screen for hours: its own refresh brings a changed threshold too.
        if self.session.settings_stale:
            await self.session.refresh_settings()
        now = dt.datetime.now(dt.UTC)
        threshold = self.session.settings.confidence_threshold
        for item in page.items:
            self._items.append(item)
            table.add_row(*self._cells(item, now, threshold), key=str(item.extraction_id))
        self._next = page.next_cursor
        if first and self._items:
            table.move_cursor(row=min(keep, len(self._items) - 1))

    def _cells(self, item: QueueItem, now: dt.datetime, threshold: int) -> list[str | Text]:
        held = "—"
        if item.claimed_by and item.claim_expires_at and item.claim_expires_at > now:
            held = "you" if item.claimed_by == self.ctx.actor.username else item.claimed_by
        # A QA sample keeps its confidence from the reviewer until decided, here as on the review screen.
        weakest: str | Text = FIELD_LABELS[item.lowest_field]
        confidence = confidence_bar(item.min_confidence, threshold)
        if item.refund_flags:
            # A refund check failed on this field (fee above the state's cap, method not allowed, no method).
            confidence = Text("⚑ refund check", style="bold red")
        if item.qa_sample:
            weakest, confidence = Text("—", style="dim"), Text("QA", style="bold cyan")
        return [
            plain(item.contract_id),
            weakest,
            confidence,
            age_text(item.extracted_at, now),
            plain(held),
            *(
                self._field_confidence(
                    item, name, self.session.settings.field_threshold(name, item.llm_provider)
                )
                for name in FIELD_NAMES
            ),
            plain(item.customer_name),
            item.llm_provider,
        ]

    @staticmethod
    def _field_confidence(item: QueueItem, name: FieldName, threshold: int) -> Text:
        """A field's confidence, red below ``threshold``: its own, as the routing applies it."""
        if item.qa_sample:
            return Text("·", style="dim")
        confidence = item.confidences[name]
        if confidence is None:
            return Text("—", style="dim")  # not yet extracted (an extraction older than the field)
        return Text(str(confidence), style="red" if confidence < threshold else "")

    @work(exclusive=True, group="queue-counts", exit_on_error=False)
    async def refresh_counts(self) -> None:
        counts = await queue_counts(self.ctx)
        self.query_one("#queue-counts", Static).update(self._counts_text(counts))

    @staticmethod
    def _counts_text(counts: QueueCounts) -> Text:
        text = Text.assemble(
            ("Pending ", "bold"), f"{counts.total_pending:,}",
            f"   {below_label(counts)} ", (f"{counts.below_threshold:,}", "bold red"),
            "   claimed now ", f"{counts.claimed_now:,}",
        )  # fmt: skip
        for band, count in counts.by_band.items():
            text.append(f"   {band.value}: {count:,}", style="dim")
        return text

    @on(DataTable.RowHighlighted)
    def _maybe_fetch_more(self, event: DataTable.RowHighlighted) -> None:
        if self._next is not None and event.cursor_row >= len(self._items) - FETCH_WHEN_ROWS_LEFT:
            self._load_page()

    # --- actions -----------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.reload()
        self.refresh_counts()

    @property
    def queue_filter(self) -> QueueFilter:
        """The filter the list shows; `n`, here and on the review screen, claims through the same one."""
        return QueueFilter.checked(**self._filters)

    def _filters_open(self) -> bool:
        # Asked by check_action too, which may come before the bar is composed or after it is gone.
        bars = self.query("#queue-filters")
        return bool(bars) and not bars.first().has_class("hidden")

    def action_toggle_filters(self) -> None:
        self._show_filters(not self._filters_open())

    def action_close_filters(self) -> None:
        self._show_filters(False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filters":
            return self._filters_open()
        return True

    def _show_filters(self, shown: bool) -> None:
        self.query_one("#queue-filters").set_class(not shown, "hidden")
        if shown:
            self.query_one("#filter-field", Select).focus()
        else:
            self.query_one(DataTable).focus()
        self._show_filtered()
        self.refresh_bindings()

    def _show_filtered(self) -> None:
        """With the bar hidden, one line still says the list is filtered, and by what."""
        line = self.query_one("#queue-filtered", Static)
        chosen = self.queue_filter
        line.set_class(self._filters_open() or not chosen.active, "hidden")
        parts = [
            *([f"{FIELD_LABELS[chosen.field].lower()} below threshold"] if chosen.field else []),
            *([chosen.provider] if chosen.provider else []),
            *([f"confidence {chosen.band.value}"] if chosen.band else []),
        ]
        line.update(Text.assemble(("Filtered: ", "bold"), " · ".join(parts), ("   / changes it", "dim")))

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        key = (event.select.id or "").removeprefix("filter-")
        self._filters[key] = None if event.value is Select.NULL else str(event.value)
        self._show_filtered()
        self.reload()

    @work(exclusive=True, group="claim", exit_on_error=False)
    async def action_claim_next(self) -> None:
        detail = await claim_next(self.ctx, wanted=self.queue_filter)
        if detail is None:
            self.notify(
                "Nothing left to claim: every pending item is decided or held by someone.",
                title="Queue empty",
            )
            return
        self._open(detail)

    @work(exclusive=True, group="claim", exit_on_error=False)
    async def action_open_selected(self) -> None:
        table = self.query_one(DataTable)
        if not self._items or table.cursor_row >= len(self._items):
            return
        item = self._items[table.cursor_row]
        detail = await claim_extraction(self.ctx, item.extraction_id)
        self._open(detail)

    def _open(self, detail: ExtractionDetail) -> None:
        """One review screen serves every item opened from the queue: composing a new one each
        time (field list, contract view, footer) costs more than everything else on `n`."""
        from app.screens.review import ReviewScreen

        if self.app.is_screen_installed(REVIEW_SCREEN):
            review = self.app.get_screen(REVIEW_SCREEN)
            assert isinstance(review, ReviewScreen)
            review.wanted = self.queue_filter
            review.show(detail)
        else:
            self.app.install_screen(ReviewScreen(detail, wanted=self.queue_filter), REVIEW_SCREEN)
        self.app.push_screen(REVIEW_SCREEN, callback=lambda _: self.reload())

    def on_unmount(self) -> None:
        # The installed review screen holds this user's data; it goes with the queue at logout
        # (when the app shuts down it may still be on the stack, and goes with the app).
        if self.app.is_screen_installed(REVIEW_SCREEN):
            with contextlib.suppress(ScreenStackError):
                self.app.uninstall_screen(REVIEW_SCREEN)

    def item_ids(self) -> list[uuid.UUID]:
        return [item.extraction_id for item in self._items]
