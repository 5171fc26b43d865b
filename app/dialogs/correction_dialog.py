"""The correction dialog: a new value, a reason by its digit, and a note only when one is needed.

The fewest keys for the commonest correction: type the value, Enter, the reason's digit, and it is
saved. A note is asked for only when the system requires one (`require_correction_reason`) or the
reason is "other"; then Enter (or ctrl+s) after the note saves. The method field is chosen by its
digit too. The dialog sits at the bottom of the screen so the highlighted source line above it stays
in view, and shows old → new as the value is typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from app.dialogs.base import WorkstationDialog
from services.errors import InvalidInput
from services.extraction.types import REFUND_METHODS
from services.review import CorrectionReason, FieldDetail, parse_field_value
from widgets.choice_picker import ChoicePicker
from widgets.field_list import CONFIDENCE_HIDDEN
from widgets.plain import plain
from widgets.values import NOT_YET_EXTRACTED, VALUE_HINTS, shown_value

METHOD_FIELD = "refund_calculation_method"


@dataclass(frozen=True)
class CorrectionRequest:
    value: str
    reason_code: str
    note: str | None


class CorrectionDialog(WorkstationDialog[CorrectionRequest | None]):
    """Nothing is sent until the new value parses and a reason is chosen (and a note, when needed)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_correction"),
        Binding("ctrl+s", "save", "Save", id="save_correction", priority=True),
    ]

    def __init__(self, field: FieldDetail, *, require_reason: bool, confidence_hidden: bool = False) -> None:
        super().__init__()
        self.field = field
        self.require_reason = require_reason
        # A pending QA item: the dialog keeps its confidence hidden too (see ExtractionDetail.qa_sample).
        self.confidence_hidden = confidence_hidden

    def compose(self) -> ComposeResult:
        field = self.field
        with Vertical(id="correction-box"):
            confidence = (
                CONFIDENCE_HIDDEN
                if self.confidence_hidden
                else NOT_YET_EXTRACTED
                if field.confidence is None
                else f"confidence {field.confidence}"
            )
            title = Text.assemble((f"Correct the {field.label}", "bold"), "   now ",
                                  (shown_value(field.value, field.name), "bold"), f"  ({confidence})")  # fmt: skip
            yield Static(title, id="correction-title")
            with Horizontal(classes="correction-row"):
                yield Label("New value ", classes="correction-label")
                if field.name == METHOD_FIELD:
                    yield ChoicePicker([(m, m) for m in REFUND_METHODS], id="new-method")
                else:
                    yield Input(placeholder=VALUE_HINTS[field.name], id="new-value", max_length=40)
            yield Static("", id="correction-preview")
            with Horizontal(classes="correction-row"):
                yield Label("Reason    ", classes="correction-label")
                yield ChoicePicker([(r.label, r.value) for r in CorrectionReason], id="reason")
            with Horizontal(classes="correction-row"):
                yield Label("Note      ", classes="correction-label")
                yield Input(placeholder=self._note_hint(), id="note", max_length=2000)
            yield Static(self._keys_hint(), id="correction-keys")

    def _note_hint(self) -> str:
        return "required — enter saves" if self.require_reason else "optional (required for “other”)"

    def _keys_hint(self) -> Text:
        first = "method digit" if self.field.name == METHOD_FIELD else "value ⏎"
        then = ", note ⏎" if self.require_reason else ""
        return Text(f"{first}, reason digit{then}  ·  ctrl+s saves  ·  esc cancels", style="dim")

    def on_mount(self) -> None:
        self.query_one("#new-method, #new-value").focus()

    def _raw_value(self) -> str:
        if self.field.name == METHOD_FIELD:
            return self.query_one("#new-method", ChoicePicker).value or ""
        return self.query_one("#new-value", Input).value

    def _parsed(self) -> bool:
        """Whether the new value parses; shows old → new, or what is wrong with it."""
        preview = self.query_one("#correction-preview", Static)
        raw = self._raw_value()
        # An empty value means "not stated", which only a field a contract may leave out can take.
        if not raw.strip() and self.field.name in ("gap_insurance_premium", METHOD_FIELD):
            preview.update(Text("Type the new value.", style="dim"))
            return False
        try:
            new = parse_field_value(self.field.name, raw)
        except InvalidInput as exc:
            preview.update(plain(exc.message, style="red"))
            return False
        name = self.field.name
        preview.update(Text.assemble(("Old ", "dim"), shown_value(self.field.value, name),
                                     ("  →  New ", "dim"), (shown_value(new, name), "bold green")))  # fmt: skip
        return True

    def _note_needed(self) -> bool:
        return self.require_reason or self.query_one("#reason", ChoicePicker).value == CorrectionReason.OTHER

    @on(Input.Changed, "#new-value")
    def _value_typed(self) -> None:
        if self.query_one("#new-value", Input).value:
            self._parsed()
        else:
            self.query_one("#correction-preview", Static).update("")

    @on(Input.Submitted, "#new-value")
    def _value_done(self) -> None:
        if self._parsed():
            self.query_one("#reason", ChoicePicker).focus()

    @on(ChoicePicker.Picked, "#new-method")
    def _method_chosen(self) -> None:
        if self._parsed():
            self.query_one("#reason", ChoicePicker).focus()

    @on(ChoicePicker.Picked, "#reason")
    def _reason_chosen(self) -> None:
        if self._note_needed():
            self.query_one("#note", Input).focus()
        else:
            self.action_save()

    @on(Input.Submitted, "#note")
    def _note_done(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if not self._parsed():
            self.query_one("#new-method, #new-value").focus()
            return
        reason = self.query_one("#reason", ChoicePicker).value
        if reason is None:
            self.notify("Choose a reason for the correction: press its number.", severity="error")
            self.query_one("#reason", ChoicePicker).focus()
            return
        note = self.query_one("#note", Input).value.strip() or None
        if self._note_needed() and not note:
            self.notify("Add a note saying what you checked.", severity="error")
            self.query_one("#note", Input).focus()
            return
        self.dismiss(CorrectionRequest(value=self._raw_value(), reason_code=reason, note=note))
