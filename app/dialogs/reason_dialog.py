"""A dialog that asks for a reason (to reject, to reopen); empty reasons are not accepted.

With `choices` (the usual reasons to reject), each is picked by its digit and Enter confirms: a
rejection is `x`, a digit, Enter. The last number, "other", moves to the box to type the reason in
words; typing there at any time replaces a picked reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from app.dialogs.base import WorkstationDialog
from widgets.choice_picker import ChoicePicker
from widgets.plain import shown

MAX_REASON = 500
OTHER = "other"


class ReasonDialog(WorkstationDialog[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_reason"),
        Binding("enter", "confirm", "Confirm", id="confirm_reason"),
    ]

    def __init__(self, title: str, question: str, choices: Sequence[str] = ()) -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._choices = tuple(choices)

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Static(Text.assemble((shown(self._title), "bold"), "\n", shown(self._question)))
            if self._choices:
                yield ChoicePicker(
                    [(choice, choice) for choice in self._choices] + [("other: type it", OTHER)],
                    one_per_line=True,
                    id="reason-choices",
                )
            yield Input(
                placeholder="reason (enter to confirm, esc to cancel)",
                id="reason-text",
                max_length=MAX_REASON,
            )
            yield Static(id="reason-chosen")

    def on_mount(self) -> None:
        self.query_one("#reason-choices, #reason-text").focus()

    @on(ChoicePicker.Picked)
    def _picked(self, event: ChoicePicker.Picked) -> None:
        chosen = self.query_one("#reason-chosen", Static)
        if event.value == OTHER:
            chosen.update("")
            self.query_one("#reason-text", Input).focus()
            return
        self.query_one("#reason-text", Input).value = ""
        chosen.update(Text.assemble("Enter confirms: ", (event.value, "bold")))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.value and self._choices:
            self.query_one(ChoicePicker).chosen = None
            self.query_one("#reason-chosen", Static).update("")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    def _reason(self) -> str:
        typed = self.query_one("#reason-text", Input).value.strip()
        if typed or not self._choices:
            return typed
        picked = self.query_one(ChoicePicker).value
        return picked if picked and picked != OTHER else ""

    def action_confirm(self) -> None:
        reason = self._reason()
        if not reason:
            what = "Press a reason's number or type one" if self._choices else "Type a reason"
            self.notify(f"{what}; it goes into the audit log.", severity="error")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
