"""Another role for a user; their live sessions end so that the new role applies at once."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.widgets import Label, Select, Static

from app.dialogs.form_dialog import FormDialog
from services.context import ROLES
from services.users import UserInfo, change_role


class RoleDialog(FormDialog[UserInfo | None]):
    save_label = "Change role"

    def __init__(self, user: UserInfo) -> None:
        super().__init__()
        self.user = user
        self.heading = f"Role of {user.username} ({user.full_name})"

    def fields(self) -> Iterable[Widget]:
        yield Static(
            Text(f"Now {self.user.role}. Their open sessions end when the role changes.", style="dim")
        )
        yield Label("New role")
        yield Select([(role, role) for role in ROLES], value=self.user.role, allow_blank=False, id="role")

    @work(exclusive=True, group="save-role", exit_on_error=False)
    async def save(self) -> None:
        user = await self.submit(change_role(self.ctx, self.user.username, str(self.query_one(Select).value)))
        if user is not None:
            self.dismiss(user)
