"""Numbered choices picked with one digit: the reasons of a correction or a rejection, the methods.

A drop-down costs a reviewer Enter, arrows and Enter again for every decision; with the choices on
screen, numbered 1-9, the digit is the whole choice. Left/right move a cursor for those who prefer to
look, and space takes the one under it; Enter is left to the dialog (it confirms).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

MAX_CHOICES = 9


class ChoicePicker(Widget, can_focus=True):
    """One line (wrapped when narrow) of `1 label   2 label …`; a digit picks, and says so."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous choice", show=False, id="choice_previous"),
        Binding("right", "move(1)", "Next choice", show=False, id="choice_next"),
        Binding("space", "pick_cursor", "Choose", show=False, id="choice_pick"),
    ]

    DEFAULT_CSS = """
    ChoicePicker {
        height: auto;
        padding: 0 1;
    }
    ChoicePicker:focus {
        background: $boost;
    }
    """

    cursor: reactive[int | None] = reactive(None)
    chosen: reactive[int | None] = reactive(None)

    class Picked(Message):
        """A choice was made (by its digit, or by space on the cursor)."""

        def __init__(self, picker: ChoicePicker, value: str) -> None:
            super().__init__()
            self.picker = picker
            self.value = value

        @property
        def control(self) -> ChoicePicker:
            return self.picker

    def __init__(
        self, choices: Sequence[tuple[str, str]], *, one_per_line: bool = False, id: str | None = None
    ) -> None:
        """`choices` are (label, value) pairs, at most nine: each gets the digit of its place. Short
        labels share a line; sentences (`one_per_line`) read better in a column."""
        if not 0 < len(choices) <= MAX_CHOICES:
            raise ValueError(f"a picker takes 1 to {MAX_CHOICES} choices, not {len(choices)}")
        super().__init__(id=id)
        self.choices = list(choices)
        self._separator = "\n" if one_per_line else "   "

    @property
    def value(self) -> str | None:
        return None if self.chosen is None else self.choices[self.chosen][1]

    def render(self) -> Text:
        text = Text()
        for index, (label, _) in enumerate(self.choices):
            if index:
                text.append(self._separator)
            style = "bold reverse" if index == self.chosen else "underline" if index == self.cursor else ""
            text.append(f"{index + 1}", style="bold cyan")
            text.append(f" {label}", style=style)
        return text

    def pick(self, index: int) -> None:
        self.chosen = self.cursor = index
        self.post_message(self.Picked(self, self.choices[index][1]))

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit() and 0 < int(event.character) <= len(self.choices):
            event.stop()
            event.prevent_default()
            self.pick(int(event.character) - 1)

    def action_move(self, step: int) -> None:
        start = self.cursor if self.cursor is not None else (-1 if step > 0 else 0)
        self.cursor = (start + step) % len(self.choices)

    def action_pick_cursor(self) -> None:
        if self.cursor is not None:
            self.pick(self.cursor)
