"""Corrections and the audit history of the contract on screen (`h` on the review screen)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from app.dialogs.base import WorkstationDialog
from services.domain import FIELD_LABELS
from services.review import ExtractionDetail
from widgets.plain import plain
from widgets.sized_table import SizedDataTable


class HistoryDialog(WorkstationDialog[None]):
    BINDINGS = [Binding("escape,h,q", "dismiss", "Close", id="close_history")]

    def __init__(self, detail: ExtractionDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box"):
            yield Static(Text.assemble((self.detail.contract_id, "bold"), " — corrections and history"))
            corrections: DataTable[Text] = SizedDataTable(id="corrections-table", cursor_type="row")
            corrections.add_columns("When (UTC)", "Who", "Field", "Old", "New", "Reason", "Note")
            for c in self.detail.corrections:
                corrections.add_row(
                    *map(plain, (f"{c.at:%Y-%m-%d %H:%M}", c.by, FIELD_LABELS[c.field], c.old or "—",
                                 c.new or "—", c.reason.label, c.note or "")),
                )  # fmt: skip
            if not self.detail.corrections:
                yield Static("No corrections.", classes="muted")
            yield corrections
            history: DataTable[Text] = SizedDataTable(
                id="history-table", cursor_type="row", zebra_stripes=True
            )
            history.add_columns("When (UTC)", "Who", "Event", "What")
            for h in self.detail.history:
                history.add_row(
                    *map(plain, (f"{h.at:%Y-%m-%d %H:%M:%S}", h.by or "system", h.event_type, h.summary))
                )
            yield history

    def on_mount(self) -> None:
        self.query_one("#history-table", DataTable).focus()
