"""Help (`?` or f1): every key of the screen it was opened from, read from the live bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    """The bindings of one screen and of the whole app, as the user has them mapped."""

    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss", "Close help", id="close_help"),
    ]

    def __init__(self, origin: Screen) -> None:
        super().__init__()
        # The screen's own keys (and its widgets') first, then the ones that work everywhere.
        bindings = sorted(origin.active_bindings.values(), key=lambda active: active.node is self.app)
        self._rows = [
            (self.app.get_key_display(active.binding), active.binding.description or active.binding.action,
             active.binding.id or "")
            for active in bindings
        ]  # fmt: skip
        self._title = type(origin).__name__.removesuffix("Screen") or "Workstation"

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(
                f"[b]Keys — {self._title}[/b]   (ctrl+p opens the command palette: every action by name)"
            )
            table: DataTable[str] = DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Action", "Binding id (for the keymap setting)")
            seen: set[tuple[str, str]] = set()
            for key, description, binding_id in self._rows:
                if (key, description) not in seen:
                    seen.add((key, description))
                    table.add_row(key, description, binding_id)
            yield table
            yield Static(
                'Remap keys with REFUND_REVIEW_KEYMAP, e.g. \'{"approve": "ctrl+a"}\'.', id="help-hint"
            )

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
