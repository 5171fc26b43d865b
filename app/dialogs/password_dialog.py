"""A temporary password for a user who lost theirs (changed at their next login); it also lifts a lock-out and ends their sessions."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.widgets import Label, Static

from app.dialogs.form_dialog import FormDialog
from services.users import UserInfo, reset_password


class PasswordDialog(FormDialog[UserInfo | None]):
    save_label = "Reset password"

    def __init__(self, user: UserInfo) -> None:
        super().__init__()
        self.user = user
        self.heading = f"Reset the password of {user.username} ({user.full_name})"

    def fields(self) -> Iterable[Widget]:
        yield Static(
            Text(
                "Any lock-out is lifted and their open sessions end; they choose their own at their next login.",
                style="dim",
            )
        )
        yield Label("Temporary password")
        yield from self.password_inputs("reset-password")

    @work(exclusive=True, group="save-password", exit_on_error=False)
    async def save(self) -> None:
        password = self.typed_password("reset-password")
        if password is None:
            return
        user = await self.submit(
            reset_password(
                self.ctx, self.user.username, password, bcrypt_rounds=self.workstation.settings.bcrypt_rounds
            )
        )
        if user is not None:
            self.dismiss(user)
