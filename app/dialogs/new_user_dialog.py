"""A new user: username, email, full name, role and a temporary password typed twice."""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from app.dialogs.form_dialog import FormDialog
from services.context import ROLES
from services.users import USERNAME_RULE, UserInfo, create_user


class NewUserDialog(FormDialog[UserInfo | None]):
    """The service checks every field; this dialog only checks that the password was typed the same twice."""

    heading = "New user"
    save_label = "Create"

    def fields(self) -> Iterable[Widget]:
        yield Label("Username")
        yield Input(placeholder=USERNAME_RULE, id="new-username", max_length=32)
        yield Label("Email")
        yield Input(placeholder="name@example.com", id="new-email", max_length=254)
        yield Label("Full name")
        yield Input(id="new-full-name", max_length=200)
        yield Label("Role")
        yield Select([(role, role) for role in ROLES], value="reviewer", allow_blank=False, id="new-role")
        yield Label("Temporary password (the user changes it after logging in)")
        yield from self.password_inputs("new-password")

    @work(exclusive=True, group="save-user", exit_on_error=False)
    async def save(self) -> None:
        password = self.typed_password("new-password")
        if password is None:
            return
        user = await self.submit(
            create_user(
                self.ctx,
                self.query_one("#new-username", Input).value,
                self.query_one("#new-email", Input).value,
                self.query_one("#new-full-name", Input).value,
                str(self.query_one("#new-role", Select).value),
                password,
                bcrypt_rounds=self.workstation.settings.bcrypt_rounds,
            )
        )
        if user is not None:
            self.dismiss(user)
