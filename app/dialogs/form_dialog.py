"""A dialog whose Save runs one service call and shows the service's refusal inside the form.

The administration dialogs (new user, role, password, setting) let the
service validate: a person sees "the username 'rita' is already taken" under
the field they typed, keeps what they typed, and tries again. Only when the
call succeeds does the dialog close, with the service's answer as its result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from app.dialogs.base import ResultType, WorkstationDialog
from services.errors import ServiceError, SessionExpired
from services.passwords import MIN_PASSWORD_CHARS
from widgets.plain import plain

T = TypeVar("T")


class FormDialog(WorkstationDialog[ResultType]):
    """Subclasses give `heading`, `save_label`, `fields()` and a `save()` worker that calls `submit`."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_form"),
        Binding("ctrl+s", "save", "Save", id="save_form", priority=True),
    ]
    # The first field has the focus as the dialog appears (not a moment after, in on_mount, when keys
    # typed straight away would have gone to the scrolling box around the fields).
    AUTO_FOCUS = "Input, Select"
    heading = ""
    save_label = "Save"

    def fields(self) -> Iterable[Widget]:
        raise NotImplementedError

    def save(self) -> None:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Static(Text(self.heading, style="bold"), classes="form-title")
            # The fields scroll in a short terminal; the service's answer and the buttons stay in sight.
            with VerticalScroll(classes="form-fields"):
                yield from self.fields()
            yield Static("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button(f"{self.save_label} (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(plain(message, style="bold red"))

    @staticmethod
    def password_inputs(input_id: str) -> Iterable[Widget]:
        """A new password and the same again, for `typed_password(input_id)` to read."""
        yield Input(
            placeholder=f"at least {MIN_PASSWORD_CHARS} characters",
            password=True,
            id=input_id,
            max_length=200,
        )
        yield Input(
            placeholder="the same password again", password=True, id=f"{input_id}-again", max_length=200
        )

    def typed_password(self, input_id: str) -> str | None:
        """The password of `password_inputs(input_id)`, or None (and the form says why) if the two differ."""
        password = self.query_one(f"#{input_id}", Input).value
        if password != self.query_one(f"#{input_id}-again", Input).value:
            self.show_error("The two passwords differ; type the same password twice.")
            return None
        return password

    async def submit(self, call: Awaitable[T]) -> T | None:
        """Await the service; a refusal stays in the form (an ended session still logs out)."""
        button = self.query_one("#form-save", Button)
        button.disabled = True
        button.label = "Saving…"
        try:
            return await call
        except SessionExpired:
            raise
        except ServiceError as exc:
            self.show_error(exc.message)
            return None
        finally:
            button.disabled = False
            button.label = f"{self.save_label} (ctrl+s)"

    @on(Input.Submitted)
    def _next_or_save(self, event: Input.Submitted) -> None:
        """Enter moves through the form and saves from its last input."""
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#form-save")
    def action_save(self) -> None:
        if self.query_one("#form-save", Button).disabled:
            return  # the service is still answering the last Save
        self.query_one("#form-error", Static).update("")
        self.save()

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
