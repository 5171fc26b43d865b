"""Editing one `system_config` entry with an input suited to its type; the service checks the value."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.validation import Integer, Number, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from app.dialogs.form_dialog import FormDialog
from services.config import MAX_VALUE_CHARS, ConfigEntry, update_config
from widgets.plain import plain, shown

BOOLEANS = ("true", "false")
NOW_CHARS = 60


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def describe_bounds(entry: ConfigEntry) -> str:
    """What values the entry takes, in a few words: "0 – 100", "one of rules, anthropic", "true or false"."""
    if entry.allowed_values:
        return "one of " + ", ".join(entry.allowed_values)
    if entry.value_type == "boolean":
        return "true or false"
    low, high = entry.min_value, entry.max_value
    if low is not None and high is not None:
        return f"{_number(low)} – {_number(high)}"
    if low is not None:
        return f"at least {_number(low)}"
    if high is not None:
        return f"at most {_number(high)}"
    return "any JSON" if entry.value_type == "json" else "—"


def choices(entry: ConfigEntry) -> tuple[str, ...] | None:
    """The values to pick from, when the entry has a closed set of them."""
    if entry.allowed_values:
        return tuple(entry.allowed_values)
    if entry.value_type == "boolean":
        return BOOLEANS
    return None


def number_check(entry: ConfigEntry) -> list[Validator]:
    """For numeric entries, a check as the person types, saying what is wrong in words."""
    low = None if entry.min_value is None else float(entry.min_value)
    high = None if entry.max_value is None else float(entry.max_value)
    bounds = describe_bounds(entry)
    if entry.value_type == "integer":
        return [Integer(low, high, failure_description=f"Type a whole number, {bounds}.")]
    if entry.value_type == "decimal":
        return [Number(low, high, failure_description=f"Type a number, {bounds}.")]
    return []


class ConfigDialog(FormDialog[ConfigEntry | None]):
    save_label = "Save"

    def __init__(self, entry: ConfigEntry) -> None:
        super().__init__()
        self.entry = entry
        self.heading = f"Setting {entry.key}"

    def fields(self) -> Iterable[Widget]:
        entry = self.entry
        yield Static(plain(entry.description))
        now = plain(entry.value, style="bold")
        now.truncate(NOW_CHARS, overflow="ellipsis")
        yield Static(
            Text.assemble(
                ("Type ", "dim"), entry.value_type, ("   values ", "dim"), shown(describe_bounds(entry)),
                ("   now ", "dim"), now,
            ),
            classes="form-note",
        )  # fmt: skip
        yield Label("New value")
        options = choices(entry)
        if options is not None:
            known = entry.value in options
            yield Select(
                [(o, o) for o in options],
                value=entry.value if known else Select.NULL,
                allow_blank=not known,
                id="config-choice",
            )
            return
        # Typed as text whatever the type: an input that silently drops what it does not accept
        # (Textual's integer and number inputs) leaves a person wondering why nothing appears.
        yield Input(
            value="" if entry.is_secret else entry.value,
            placeholder="the new secret" if entry.is_secret else describe_bounds(entry),
            password=entry.is_secret,
            max_length=MAX_VALUE_CHARS,
            validators=number_check(entry),
            id="config-value",
        )

    @on(Input.Changed, "#config-value")
    def _checked_as_typed(self, event: Input.Changed) -> None:
        result = event.validation_result
        self.show_error("" if result is None or result.is_valid else " ".join(result.failure_descriptions))

    def _value(self) -> str:
        if choices(self.entry) is not None:
            choice = self.query_one("#config-choice", Select).value
            return "" if choice is Select.NULL else str(choice)
        return self.query_one("#config-value", Input).value

    @work(exclusive=True, group="save-config", exit_on_error=False)
    async def save(self) -> None:
        entry = await self.submit(update_config(self.ctx, self.entry.key, self._value()))
        if entry is not None:
            self.dismiss(entry)
