"""Changing one's own password (f9, or 'Change password' in the palette); forced after a temporary one.

A password an administrator set (new user, reset) is temporary: right after
that login this dialog comes up over an opaque background, Escape logs out
instead of cancelling, and no area opens until the password is changed (the
services refuse every other call meanwhile). Changing it ends the person's
other sessions.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on, work
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from app.dialogs.form_dialog import FormDialog
from services.auth import change_password
from services.users import UserInfo


class ChangePasswordDialog(FormDialog[UserInfo | None]):
    save_label = "Change password"

    def __init__(self, *, forced: bool = False) -> None:
        super().__init__(classes="forced" if forced else None)
        self.forced = forced
        self.heading = (
            "Your password is a temporary one: choose your own before you carry on"
            if forced
            else "Change your password"
        )

    def fields(self) -> Iterable[Widget]:
        yield Static(Text("Your other open sessions end when it is changed.", style="dim"))
        yield Label("Current password")
        yield Input(password=True, id="current-password", max_length=200)
        yield Label("New password")
        yield from self.password_inputs("new-password")

    async def on_mount(self) -> None:
        if self.forced:
            cancel = self.query_one("#form-cancel", Button)
            await cancel.parent.mount(Button("Log out (esc)", id="form-logout"), after=cancel)  # type: ignore[union-attr]
            await cancel.remove()

    @work(exclusive=True, group="change-password", exit_on_error=False)
    async def save(self) -> None:
        new_password = self.typed_password("new-password")
        if new_password is None:
            return
        current = self.query_one("#current-password", Input).value
        user = await self.submit(
            change_password(
                self.ctx, current, new_password, bcrypt_rounds=self.workstation.settings.bcrypt_rounds
            )
        )
        if user is not None:
            self.notify("Your password is changed; your other sessions have ended.", title="Password changed")
            self.dismiss(user)

    @on(Button.Pressed, "#form-logout")
    def action_cancel(self) -> None:
        """A temporary password leaves two ways out: change it, or log out."""
        if self.forced:
            self.session.log_out()
        else:
            self.dismiss(None)
