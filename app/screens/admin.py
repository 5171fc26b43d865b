"""Administration (admins only): the users, the run-time settings in `system_config`, the jurisdiction rules.

Three tabs, `t` moves to the next. The footer shows only the keys of the
tab on show: on Users, `n` new user, `e` role, `d` deactivate or reactivate
(whichever applies to the selected user), `u` unlock, `p` reset password; on
Configuration, `e` or enter edits the selected setting; on Rules (app/screens/
rules_pane.py), `a` adds a rule version and `e` or enter corrects a rule. Every change is a
service call that checks it, records who did it and why in the audit log,
and then the table is read again, so what is on screen is what is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from app.dialogs.config_dialog import ConfigDialog, describe_bounds
from app.dialogs.confirm_dialog import ConfirmDialog
from app.dialogs.new_user_dialog import NewUserDialog
from app.dialogs.password_dialog import PasswordDialog
from app.dialogs.role_dialog import RoleDialog
from app.screens.base import WorkstationScreen
from app.screens.rules_pane import RULES_TAB, RulesPane
from services.config import ConfigEntry, list_config
from services.context import ServiceContext
from services.domain import FIELD_LABELS, FIELD_NAMES
from services.metrics.period import Period
from services.quality.reports import CalibrationReport, calibration_report
from services.users import UserInfo, deactivate, list_users, reactivate, unlock
from widgets.key_footer import KeyFooter
from widgets.plain import notify_plain, plain, shown
from widgets.sized_table import SizedDataTable

USERS_TAB = "users-pane"
CONFIG_TAB = "config-pane"
TAB_TABLES = {USERS_TAB: "#users-table", CONFIG_TAB: "#config-table", RULES_TAB: "#rules-table"}
USER_ACTIONS = frozenset({"new_user", "change_role", "deactivate", "reactivate", "unlock", "reset_password"})
# The settings beside which the calibration report's suggested thresholds are shown.
THRESHOLD_KEYS = frozenset({"confidence_threshold", "field_thresholds"})
# The days of reviews the suggestion is computed from: the default period of `report calibration`.
SUGGESTION_DAYS = 30
VALUE_CELL_CHARS = 32
BOUNDS_CELL_CHARS = 28
# The one-key changes to a user: the service call and what to say once it is done.
USER_CHANGES: dict[str, tuple[Callable[[ServiceContext, str], Awaitable[UserInfo]], str]] = {
    "deactivate": (deactivate, "deactivated"),
    "reactivate": (reactivate, "reactivated"),
    "unlock": (unlock, "unlocked"),
}


def when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if moment else "—"


def suggestion_text(report: CalibrationReport) -> Text:
    """The calibration report's suggested threshold per field, each beside the threshold in force.

    "none proven" where no threshold is shown to meet the target on the reviews so far: too few reviewed
    values, or too many errors even among the most confident (calibration.py).
    Then each provider and model whose own reviews do suffice, beside the threshold its extractions
    have now (its own in ``field_thresholds``, else the field's).
    """
    suggested = {f.field: f.suggested_threshold for f in report.fields if f.provider == "all"}
    target = f"{100 * report.target_error_rate:g}%"
    line = Text(f"Suggested per field for a {target} error target (last {SUGGESTION_DAYS} days): ")
    # The fields the report covers (its thresholds), in the product's field order.
    for index, name in enumerate(name for name in FIELD_NAMES if name in report.thresholds):
        value = suggested.get(name)
        line.append(", " if index else "")
        line.append(f"{FIELD_LABELS[name]} ")
        line.append("none proven" if value is None else str(value), style="dim" if value is None else "bold")
        line.append(f" (now {report.thresholds[name]})", style="dim")
    # A provider's own threshold (field_thresholds) is worth suggesting only where its reviews suffice.
    own = [f for f in report.fields if f.provider != "all" and f.suggested_threshold is not None]
    if own:
        line.append("\nBy provider and model, where their reviews suffice: ")
        for index, field in enumerate(own):
            line.append(" · " if index else "")
            line.append(plain(f"{field.provider} / {field.model} {FIELD_LABELS[field.field]} "))
            line.append(str(field.suggested_threshold), style="bold")
            line.append(f" (now {field.threshold})", style="dim")
    return line


class AdminScreen(WorkstationScreen):
    """Users and configuration; each table is read again after every change."""

    BINDINGS = [
        Binding("n", "new_user", "New user", id="admin_new_user"),
        Binding("e", "change_role", "Change role", id="admin_change_role"),
        Binding("d", "deactivate", "Deactivate", id="admin_deactivate"),
        Binding("d", "reactivate", "Reactivate", id="admin_reactivate"),
        Binding("u", "unlock", "Unlock", id="admin_unlock"),
        Binding("p", "reset_password", "Reset password", id="admin_reset_password"),
        Binding("e", "edit_config", "Edit setting", id="admin_edit_config"),
        Binding("t", "switch_tab", "Next tab", id="admin_switch_tab"),
        Binding("r", "refresh", "Refresh", id="admin_refresh"),
    ]
    AUTO_FOCUS = "#users-table"

    def __init__(self) -> None:
        super().__init__()
        self._users: list[UserInfo] = []
        self._entries: list[ConfigEntry] = []
        self._suggestion: Text | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="admin-tabs"):
            with TabPane("Users", id=USERS_TAB):
                yield SizedDataTable(id="users-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="user-detail")
            with TabPane("Configuration", id=CONFIG_TAB):
                yield SizedDataTable(id="config-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="config-detail")
            yield RulesPane()
        yield KeyFooter()

    def on_mount(self) -> None:
        users = self.query_one("#users-table", DataTable)
        for label, key in (("Username", "username"), ("Name", "name"), ("Role", "role"), ("Active", "active"),
                           ("Locked until (UTC)", "locked"), ("Last login (UTC)", "last_login")):  # fmt: skip
            users.add_column(label, key=key)
        config = self.query_one("#config-table", DataTable)
        for label, key in (("Key", "key"), ("Value", "value"), ("Type", "type"), ("Values", "bounds"),
                           ("Updated by", "by"), ("Updated (UTC)", "at"), ("Description", "description")):  # fmt: skip
            config.add_column(label, key=key)
        self.load_users()
        self.load_config()
        self.load_suggestion()

    # --- loading -----------------------------------------------------------------------------------

    @work(exclusive=True, group="admin-users", exit_on_error=False)
    async def load_users(self, select: str | None = None) -> None:
        table = self.query_one("#users-table", DataTable)
        table.loading = True
        try:
            users = await list_users(self.ctx)
        finally:
            table.loading = False
        keep = select or (self.selected_user.username if self.selected_user else None)
        self._users = users
        table.clear()
        for user in users:
            table.add_row(*self._user_cells(user), key=user.username)
        names = [u.username for u in users]
        if keep in names:
            table.move_cursor(row=names.index(keep))
        self._show_user()

    @staticmethod
    def _user_cells(user: UserInfo) -> list[str | Text]:
        dim = "" if user.is_active else "dim"
        return [
            plain(user.username, style="bold" if user.is_active else "dim"),
            plain(user.full_name, style=dim),
            Text(user.role, style="magenta" if user.role == "admin" else dim),
            Text("yes", style="green") if user.is_active else Text("no", style="red"),
            Text(when(user.locked_until), style="bold red") if user.is_locked else Text("—", style="dim"),
            Text(when(user.last_login_at), style=dim),
        ]

    @work(exclusive=True, group="admin-config", exit_on_error=False)
    async def load_config(self, select: str | None = None) -> None:
        table = self.query_one("#config-table", DataTable)
        table.loading = True
        try:
            entries = await list_config(self.ctx)
        finally:
            table.loading = False
        keep = select or (self.selected_entry.key if self.selected_entry else None)
        self._entries = entries
        table.clear()
        for entry in entries:
            value, bounds = plain(entry.value, style="bold"), plain(describe_bounds(entry))
            value.truncate(VALUE_CELL_CHARS, overflow="ellipsis")
            bounds.truncate(BOUNDS_CELL_CHARS, overflow="ellipsis")
            table.add_row(
                entry.key,
                value,
                entry.value_type,
                bounds,
                plain(entry.updated_by or "—"),
                when(entry.updated_at),
                plain(entry.description),
                key=entry.key,
            )
        keys = [e.key for e in entries]
        if keep in keys:
            table.move_cursor(row=keys.index(keep))
        self._show_entry()

    @work(exclusive=True, group="admin-suggestion", exit_on_error=False)
    async def load_suggestion(self) -> None:
        """The suggested thresholds, read apart from the settings: the report reads a month of reviews."""
        report = await calibration_report(self.ctx, Period.last_days(SUGGESTION_DAYS))
        self._suggestion = suggestion_text(report)
        self._show_entry()

    @property
    def selected_user(self) -> UserInfo | None:
        row = self.query_one("#users-table", DataTable).cursor_row
        return self._users[row] if 0 <= row < len(self._users) else None

    @property
    def selected_entry(self) -> ConfigEntry | None:
        row = self.query_one("#config-table", DataTable).cursor_row
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def _show_user(self) -> None:
        """The selected user in full; the keys that apply to them follow the selection."""
        self.refresh_bindings()
        user = self.selected_user
        detail = self.query_one("#user-detail", Static)
        if user is None:
            detail.update("")
            return
        state = Text("active", style="green") if user.is_active else Text("deactivated", style="red")
        if user.is_locked:
            state = Text(f"locked until {when(user.locked_until)} UTC", style="bold red")
        detail.update(
            Text.assemble(
                (user.username, "bold"), shown(f"  {user.full_name} <{user.email}>  "), (user.role, "bold"), "  ", state,
                "\n", ("failed logins in a row ", "dim"), str(user.failed_login_count),
                ("   password set ", "dim"), when(user.password_changed_at),
                ("   created ", "dim"), when(user.created_at), ("   (UTC)", "dim"),
            )
        )  # fmt: skip

    def _show_entry(self) -> None:
        entry = self.selected_entry
        detail = self.query_one("#config-detail", Static)
        if entry is None:
            detail.update("")
            return
        detail.update(
            Text.assemble(
                (entry.key, "bold"), "  ", (shown(entry.description), ""), "\n",
                ("value ", "dim"), shown(entry.value), ("   type ", "dim"), entry.value_type,
                ("   values ", "dim"), shown(describe_bounds(entry)), ("   e or enter edits it", "dim"),
                *(("\n", self._suggestion) if entry.key in THRESHOLD_KEYS and self._suggestion else ()),
            )
        )  # fmt: skip

    @on(DataTable.RowHighlighted, "#users-table")
    def _user_moved(self) -> None:
        self._show_user()

    @on(DataTable.RowHighlighted, "#config-table")
    def _entry_moved(self) -> None:
        self._show_entry()

    @on(DataTable.RowSelected, "#config-table")
    def _entry_chosen(self) -> None:
        self.action_edit_config()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.query_one(TAB_TABLES.get(event.pane.id or "", "#users-table"), DataTable).focus()
        self.refresh_bindings()

    # --- which keys apply --------------------------------------------------------------------------

    @property
    def _tab(self) -> str:
        tabs = self.query(TabbedContent)
        return tabs.first().active if tabs else USERS_TAB

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in USER_ACTIONS:
            if self._tab != USERS_TAB:
                return False
            user = self.selected_user
            if action == "deactivate":
                return user is None or user.is_active
            if action == "reactivate":
                return user is not None and not user.is_active
            return action == "new_user" or user is not None or None
        if action == "edit_config":
            return self._tab == CONFIG_TAB
        return True

    def action_switch_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        order = list(TAB_TABLES)
        tabs.active = (
            order[(order.index(tabs.active) + 1) % len(order)] if tabs.active in order else USERS_TAB
        )

    def action_refresh(self) -> None:
        self.load_users()
        self.load_config()
        self.load_suggestion()
        self.query_one(RulesPane).load()

    # --- users -------------------------------------------------------------------------------------

    def action_new_user(self) -> None:
        self.app.push_screen(NewUserDialog(), callback=self._user_changed("Created {}."))

    def action_change_role(self) -> None:
        if (user := self.selected_user) is not None:
            self.app.push_screen(RoleDialog(user), callback=self._user_changed("{} now has the role {role}."))

    def action_reset_password(self) -> None:
        if (user := self.selected_user) is not None:
            self.app.push_screen(
                PasswordDialog(user),
                callback=self._user_changed("Password of {} reset; give them the temporary one."),
            )

    def _user_changed(self, message: str) -> Callable[[UserInfo | None], None]:
        def done(user: UserInfo | None) -> None:
            if user is not None:
                notify_plain(self, message.format(user.username, role=user.role), timeout=5)
                self.load_users(select=user.username)

        return done

    def action_deactivate(self) -> None:
        self._confirm_then(
            "Deactivate {}?",
            "They can no longer log in and their open sessions end now. Their history stays.",
            "Deactivate",
            "deactivate",
        )

    def action_reactivate(self) -> None:
        self._confirm_then(
            "Reactivate {}?", "They can log in again with their password.", "Reactivate", "reactivate"
        )

    def _confirm_then(self, question: str, detail: str, yes: str, change: str) -> None:
        user = self.selected_user
        if user is None:
            return
        self.app.push_screen(
            ConfirmDialog(question.format(f"{user.username} ({user.full_name})"), detail, yes),
            callback=lambda sure: self._change_user(change, user.username) if sure else None,
        )

    def action_unlock(self) -> None:
        if (user := self.selected_user) is not None:
            self._change_user("unlock", user.username)

    @work(exclusive=True, group="admin-change", exit_on_error=False)
    async def _change_user(self, change: str, username: str) -> None:
        call, done = USER_CHANGES[change]
        user = await call(self.ctx, username)
        notify_plain(self, f"{user.username} {done}.", timeout=5)
        self.load_users(select=user.username)

    # --- configuration -----------------------------------------------------------------------------

    def action_edit_config(self) -> None:
        if (entry := self.selected_entry) is not None:
            self.app.push_screen(ConfigDialog(entry), callback=self._config_changed)

    def _config_changed(self, entry: ConfigEntry | None) -> None:
        if entry is not None:
            self._apply_config(entry)

    @work(exclusive=True, group="admin-settings", exit_on_error=False)
    async def _apply_config(self, entry: ConfigEntry) -> None:
        """The new value takes effect on this workstation at once (the threshold, the idle lock...)."""
        notify_plain(self, f"{entry.key} is now {entry.value}.", timeout=5)
        self.load_config(select=entry.key)
        if entry.key in THRESHOLD_KEYS:
            self.load_suggestion()
        await self.session.refresh_settings()
