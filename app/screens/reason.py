"""A dialog that asks for a reason (to reject, to reopen); empty reasons are not accepted."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from app.screens.base import WorkstationDialog
from widgets.plain import shown

MAX_REASON = 500


class ReasonDialog(WorkstationDialog[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_reason")]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self._title = title
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Static(Text.assemble((shown(self._title), "bold"), "\n", shown(self._question)))
            yield Input(
                placeholder="reason (enter to confirm, esc to cancel)",
                id="reason-text",
                max_length=MAX_REASON,
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _confirm(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.notify("Type a reason; it goes into the audit log.", severity="error")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
