"""The correction dialog: the field, its current value and quote, a validated new value, a reason."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from app.screens.base import WorkstationDialog
from services.errors import InvalidInput
from services.extraction.types import REFUND_METHODS
from services.review import NOT_STATED, CorrectionReason, FieldDetail, parse_field_value
from widgets.plain import notify_plain, plain
from widgets.values import shown_value


@dataclass(frozen=True)
class CorrectionRequest:
    value: str
    reason_code: str
    note: str | None


class CorrectionDialog(WorkstationDialog[CorrectionRequest | None]):
    """Shows old → new before saving; nothing is sent until the new value parses."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_correction"),
        Binding("ctrl+s", "save", "Save", id="save_correction", priority=True),
    ]

    def __init__(self, field: FieldDetail, *, require_reason: bool) -> None:
        super().__init__()
        self.field = field
        self.require_reason = require_reason

    def compose(self) -> ComposeResult:
        field = self.field
        source = field.source or {}
        with Vertical(id="correction-box"):
            yield Static(Text(f"Correct the {field.label}", style="bold"))
            yield Static(Text.assemble("Current value: ", (shown_value(field.value), "bold"),
                                       f"   (confidence {field.confidence})"))  # fmt: skip
            if source.get("quote"):
                yield Static(plain(f"“{source['quote']}”", style="italic"), id="correction-quote")
            yield Label("New value")
            if field.name == "refund_calculation_method":
                options = [(m, m) for m in REFUND_METHODS]
                yield Select(options, prompt="Choose the method", id="new-method", allow_blank=True)
            else:
                hint = (
                    "e.g. 1250.00"
                    if field.name == "gap_insurance_premium"
                    else f"e.g. 50.00, 0 for no fee, or {NOT_STATED!r}"
                )
                yield Input(placeholder=hint, id="new-value", max_length=40)
            yield Label("Reason")
            yield Select(
                [(r.label, r.value) for r in CorrectionReason], prompt="Why is it wrong?", id="reason"
            )
            yield Input(placeholder="Note (required)" if self.require_reason else "Note (optional)", id="note",
                        max_length=2000)  # fmt: skip
            yield Static("", id="correction-preview")
            with Horizontal(id="correction-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-method, #new-value").focus()

    def _raw_value(self) -> str:
        if self.field.name == "refund_calculation_method":
            value = self.query_one("#new-method", Select).value
            return "" if value is Select.NULL else str(value)
        return self.query_one("#new-value", Input).value

    @on(Input.Changed)
    @on(Select.Changed)
    def _preview(self) -> None:
        preview = self.query_one("#correction-preview", Static)
        raw = self._raw_value()
        if not raw.strip() and self.field.name != "cancellation_fee":
            preview.update("")
            return
        try:
            new = parse_field_value(self.field.name, raw)
        except InvalidInput as exc:
            preview.update(plain(exc.message, style="red"))
            return
        preview.update(
            Text.assemble(
                ("Old ", "dim"),
                shown_value(self.field.value),
                ("  →  New ", "dim"),
                (shown_value(new), "bold green"),
            )
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        raw = self._raw_value()
        try:
            parse_field_value(self.field.name, raw)
        except InvalidInput as exc:
            notify_plain(self, exc.message, title="Check the value", severity="error")
            return
        reason = self.query_one("#reason", Select).value
        note = self.query_one("#note", Input).value.strip() or None
        if reason is Select.NULL:
            self.notify("Choose a reason for the correction.", severity="error")
            return
        if (self.require_reason or reason == CorrectionReason.OTHER) and not note:
            self.notify("Add a note saying what you checked.", severity="error")
            return
        self.dismiss(CorrectionRequest(value=raw, reason_code=str(reason), note=note))
