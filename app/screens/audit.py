"""The audit log (supervisors and admins): read it, filter it, verify its chain, export a period.

The log is shown newest first and fetched one keyset page at a time as the
cursor nears the end, so it opens as fast on ten million events as on ten.
`/` opens the filters (user, contract, event type, period); `v` walks the
whole hash chain in a worker with a progress bar and says plainly whether it
is intact or where it breaks; `x` exports a period to a file for auditors.
The highlighted event's full data and hash are shown under the table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from rich.console import Group
from rich.highlighter import JSONHighlighter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Header, Input, Label, ProgressBar, Select, Static

from app.dialogs.export_dialog import ExportDialog, parse_day
from app.screens.base import WorkstationScreen
from services.audit import (
    EVENT_TYPES,
    AuditCursor,
    AuditItem,
    ChainVerification,
    ExportSummary,
    anchor_source,
    audit_page,
    verify_audit_chain,
)
from services.permissions import Permission, allowed
from widgets.key_footer import KeyFooter
from widgets.plain import notify_plain, plain, shown
from widgets.sized_table import SizedDataTable

PAGE = 100
FETCH_WHEN_ROWS_LEFT = 20
SUMMARY_CELL_CHARS = 44  # what fits beside the other columns at 120; the detail has it all
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; `until` is the last day shown (included)."""

    user: str | None = None
    contract_id: str | None = None
    event_type: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def describe(self) -> str:
        period = " ".join(
            part
            for part in (f"from {self.since}" if self.since else "", f"to {self.until}" if self.until else "")
            if part
        )
        parts = [
            f"user {self.user}" if self.user else "",
            f"contract {self.contract_id}" if self.contract_id else "",
            f"type {self.event_type}" if self.event_type else "",
            period,
        ]
        shown = ", ".join(p for p in parts if p)
        return f"filtered: {shown}" if shown else "all events (/ filters)"


def verdict_text(result: ChainVerification) -> Text:
    """The verification's answer a person can repeat to an auditor, then its findings, one per line."""
    return Text("\n").join([_verdict(result), *(Text(line) for line in result.finding_lines())])


def _verdict(result: ChainVerification) -> Text:
    if result.broken_at is not None:
        return Text.assemble(
            ("Audit chain BROKEN ", "bold red"), result.broken_at.describe(),
            f". {result.events_verified:,} events before it verified.",
        )  # fmt: skip
    if result.problems:
        return Text.assemble(
            ("Audit chain NOT VERIFIED: ", "bold red"),
            f"{len(result.problems)} problems, although every link holds.",
        )
    if result.events_verified == 0:
        return Text("Audit chain intact: the log holds no events yet.", style="green")
    return Text.assemble(
        ("Audit chain intact: ", "bold green"),
        f"{result.events_verified:,} events verified (#{result.first_seq}..#{result.last_seq}) "
        f"in {result.seconds:.1f} s; head hash {result.head_hash}",
    )


def export_text(summary: ExportSummary) -> Text:
    days = f"{summary.since:%Y-%m-%d} to {(summary.until - dt.timedelta(days=1)):%Y-%m-%d}"
    return Text.assemble(
        ("Exported ", "bold"), f"{summary.count:,} events ({days}) to ", (str(summary.path), "bold"),
        f"; sha256 {summary.sha256}",
    )  # fmt: skip


def detail_view(item: AuditItem) -> Group:
    heading = Text.assemble(
        (f"#{item.seq}", "bold"), "  ", (item.event_type, "bold cyan"),
        f"  {item.occurred_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S.%f} UTC",
        shown(f"  by {item.username or 'system'}"),
        shown(f"  · contract {item.contract_id}") if item.contract_id else "",
        shown(f"  · from {item.ip}") if item.ip else "",
    )  # fmt: skip
    # Highlighted like Rich's JSON renderable, but from text made safe first: Rich would write C1 and bidi
    # characters in the event's strings to the terminal as they are.
    data = json.dumps(item.event_data, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return Group(
        heading,
        plain(item.summary, style="italic"),
        JSONHighlighter()(plain(data)),
        Text.assemble(("hash ", "dim"), item.hash),
    )


class AuditScreen(WorkstationScreen):
    """The log newest first, with filters, chain verification, export and each event's detail."""

    BINDINGS = [
        Binding("slash", "toggle_filters", "Filter", id="audit_filter"),
        Binding("v", "verify", "Verify chain", id="audit_verify"),
        Binding("x", "export", "Export", id="audit_export"),
        Binding("r", "refresh", "Refresh", id="audit_refresh"),
        Binding("escape", "back_to_log", "Back to the log", id="audit_back"),
    ]
    AUTO_FOCUS = "#audit-table"

    def __init__(self) -> None:
        super().__init__()
        self.filters = AuditFilters()
        self._items: list[AuditItem] = []
        self._next: AuditCursor | None = None
        self._loading = False
        self._loads = 0
        self._verifying = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters", classes="hidden"):
            yield Input(placeholder="user", id="filter-user", max_length=64)
            yield Input(placeholder="contract id", id="filter-contract", max_length=64)
            yield Select([(t, t) for t in EVENT_TYPES], prompt="any event", id="filter-type")
            yield Input(placeholder="from YYYY-MM-DD", id="filter-from", max_length=10)
            yield Input(placeholder="to YYYY-MM-DD", id="filter-to", max_length=10)
        yield Static("Loading the audit log…", id="audit-status")
        with Horizontal(id="audit-work", classes="hidden"):
            yield Label("Verifying the chain…", id="audit-work-label")
            yield ProgressBar(id="audit-progress", show_eta=False)
        yield Static(id="audit-verdict", classes="hidden")
        yield SizedDataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="audit-detail"):
            yield Static("", id="audit-detail-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        for label, key in (("Seq", "seq"), ("When (UTC)", "when"), ("User", "user"), ("Event", "event"),
                           ("Contract", "contract"), ("What", "summary")):  # fmt: skip
            table.add_column(label, key=key)
        self.reload()

    # --- loading -----------------------------------------------------------------------------------

    def reload(self) -> None:
        """From the newest event again; replaces any page still on its way."""
        self._next = None
        self._load_page(first=True)

    def _fetch_more(self) -> None:
        if self._next is not None and not self._loading:
            self._load_page(first=False)

    @work(exclusive=True, group="audit-page", exit_on_error=False)
    async def _load_page(self, first: bool) -> None:
        self._loads += 1
        mine = self._loads
        self._loading = True
        table = self.query_one("#audit-table", DataTable)
        table.loading = first
        f = self.filters
        try:
            page = await audit_page(
                self.ctx,
                user=f.user,
                contract_id=f.contract_id,
                event_types=[f.event_type] if f.event_type else None,
                since=f.since,
                until=f.until + dt.timedelta(days=1) if f.until else None,
                before=None if first else self._next,
                limit=PAGE,
            )
        finally:
            # A load replaced by a newer one (exclusive) must not clear the newer one's flag.
            if mine == self._loads:
                self._loading = False
                table.loading = False
        if first:
            table.clear()
            self._items = []
        for item in page.items:
            self._items.append(item)
            table.add_row(*self._cells(item), key=str(item.seq))
        self._next = page.next_cursor
        self._show_status()
        if first:
            self._show_detail()

    @staticmethod
    def _cells(item: AuditItem) -> list[str | Text]:
        summary = plain(item.summary)
        summary.truncate(SUMMARY_CELL_CHARS, overflow="ellipsis")
        return [
            Text(str(item.seq), justify="right"),
            f"{item.occurred_at.astimezone(dt.UTC):{TIME_FORMAT}}",
            plain(item.username) if item.username else Text("system", style="dim"),
            plain(item.event_type, style="bold" if item.event_type.startswith("audit") else ""),
            plain(item.contract_id) if item.contract_id else Text("—", style="dim"),
            summary,
        ]

    def _show_status(self) -> None:
        count = len(self._items)
        more = ", more below" if self._next is not None else ""
        counted = f"{count:,} event{'s' if count != 1 else ''} shown{more}" if count else "no events"
        self.query_one("#audit-status", Static).update(
            Text.assemble(("Newest first", "bold"), plain(f" · {counted} · {self.filters.describe()}"))
        )

    @property
    def selected(self) -> AuditItem | None:
        row = self.query_one("#audit-table", DataTable).cursor_row
        return self._items[row] if 0 <= row < len(self._items) else None

    def _show_detail(self) -> None:
        item = self.selected
        text = self.query_one("#audit-detail-text", Static)
        text.update(detail_view(item) if item else Text("No event selected.", style="dim"))

    @on(DataTable.RowHighlighted, "#audit-table")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        if event.cursor_row >= len(self._items) - FETCH_WHEN_ROWS_LEFT:
            self._fetch_more()

    @on(DataTable.RowSelected, "#audit-table")
    def _chosen(self) -> None:
        """Enter moves into the detail, to scroll long event data; escape comes back."""
        self.query_one("#audit-detail").focus()

    # --- filters -----------------------------------------------------------------------------------

    def action_toggle_filters(self) -> None:
        bar = self.query_one("#audit-filters")
        bar.toggle_class("hidden")
        if bar.has_class("hidden"):
            self.query_one("#audit-table").focus()
        else:
            self.query_one("#filter-user").focus()

    def action_back_to_log(self) -> None:
        self.query_one("#audit-filters").add_class("hidden")
        self.query_one("#audit-table").focus()

    @on(Input.Submitted, "#audit-filters Input")
    @on(Select.Changed, "#filter-type")
    def _apply_filters(self) -> None:
        def text(selector: str) -> str | None:
            return self.query_one(selector, Input).value.strip() or None

        kind = self.query_one("#filter-type", Select).value
        first, last = text("#filter-from"), text("#filter-to")
        try:
            since = parse_day(first, "first") if first else None
            until = parse_day(last, "last") if last else None
        except ValueError as exc:
            notify_plain(self, str(exc), title="Check the period", severity="error")
            return
        if since and until and until < since:
            self.notify(
                "The last day comes before the first; swap them.", title="Check the period", severity="error"
            )
            return
        self.filters = AuditFilters(
            user=text("#filter-user"),
            contract_id=text("#filter-contract"),
            event_type=None if kind is Select.NULL else str(kind),
            since=since,
            until=until,
        )
        self.reload()

    # --- verification and export -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export":
            return self.workstation.logged_in and allowed(self.ctx.actor, Permission.EXPORT_AUDIT)
        if action == "verify":
            # Disabled while a walk runs: a second press would cancel the first (exclusive worker).
            return not self._verifying or None
        if action == "back_to_log":
            bars = self.query("#audit-filters")
            filters_open = bool(bars) and not bars.first().has_class("hidden")
            return filters_open or (bool(bars) and self.focused is not self.query_one("#audit-table"))
        return True

    @work(exclusive=True, group="audit-verify", exit_on_error=False)
    async def action_verify(self) -> None:
        work_row = self.query_one("#audit-work")
        bar = self.query_one("#audit-progress", ProgressBar)
        bar.update(total=None, progress=0)
        work_row.remove_class("hidden")
        self._verifying = True
        self.refresh_bindings()
        try:
            result = await verify_audit_chain(
                self.ctx,
                progress=lambda done, total: bar.update(total=total, progress=done),
                anchors=anchor_source(self.workstation.settings),
            )
        finally:
            self._verifying = False
            work_row.add_class("hidden")
            self.refresh_bindings()
        self._show_verdict(verdict_text(result), broken=not result.intact)
        if result.intact:
            self.notify(f"Audit chain intact: {result.events_verified:,} events.", title="Verified")
        else:
            self.notify(
                "The audit chain is broken; see the lines above the log.",
                title="Verified",
                severity="error",
                timeout=10,
            )
        self.reload()

    def action_export(self) -> None:
        folder = self.workstation.settings.exports_dir
        self.app.push_screen(
            ExportDialog(folder, self.filters.since, self.filters.until), callback=self._exported
        )

    def _exported(self, summary: ExportSummary | None) -> None:
        if summary is None:
            return
        self._show_verdict(export_text(summary), broken=False)
        notify_plain(
            self, f"Exported {summary.count:,} events to {summary.path}.", title="Exported", timeout=10
        )
        self.reload()

    def _show_verdict(self, text: Text, *, broken: bool) -> None:
        verdict = self.query_one("#audit-verdict", Static)
        verdict.update(text)
        verdict.remove_class("hidden")
        verdict.set_class(broken, "broken")

    def action_refresh(self) -> None:
        self.reload()
