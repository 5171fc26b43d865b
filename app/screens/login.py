"""The login screen: the first thing everyone sees, drawn before the database is even reached."""

from __future__ import annotations

import logging

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from app.screens.base import WorkstationScreen
from services.auth import login
from services.errors import AccountLocked, AuthenticationFailed, ServiceError, Unavailable
from services.runtime import client_ip, served_to_others, user_agent
from widgets.key_footer import KeyFooter
from widgets.plain import plain

log = logging.getLogger(__name__)


def _where(location: str) -> str:
    """The database's location as the login screen says it: in full on a terminal of the host's users,
    who hold its settings anyway; to a browser tab or an SSH login served by the host, nothing of its
    address or login."""
    return "the host's database" if served_to_others() else location


class Connected(Message):
    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location


class ConnectionFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class UsernameInput(Input):
    """The username box, whose Enter moves to the password box before the next key is read.

    People type "name, Enter, password, Enter" in one burst, and a browser tab or an SSH link delivers it
    in one packet. Input's own Enter only posts a message, and a focus change made by its handler comes
    after keys already waiting: the first letters of the password landed in the username. A priority
    binding runs while the app reads the Enter, so the keys after it go to the password box.
    """

    BINDINGS = [Binding("enter", "to_password", show=False, priority=True)]

    def action_to_password(self) -> None:
        self.screen.set_focus(self.screen.query_one("#password", Input))


class LoginScreen(WorkstationScreen):
    """Username and password; clear messages for every way a login can fail."""

    BINDINGS = [
        Binding("ctrl+r", "reconnect", "Reconnect", id="reconnect"),
    ]

    def compose(self) -> ComposeResult:
        with Center(id="login-box"), Vertical(id="login-form"):
            yield Static("[b]Refund Review[/b]\nGAP contract extraction review", id="login-title")
            yield Label("Username")
            yield UsernameInput(placeholder="username", id="username", max_length=64)
            yield Label("Password")
            yield Input(placeholder="password", password=True, id="password", max_length=200)
            yield Button("Log in", id="login-button", variant="primary", disabled=True)
            yield Static("Connecting to the database…", id="login-message")
            if self.workstation.demo_logins:
                yield Static(self._demo_text(), id="demo-logins")
        yield KeyFooter()

    def _demo_text(self) -> str:
        lines = ["[b]Demo logins[/b]"]
        lines += [
            f"{user:<12} {password:<24} {role}" for user, password, role in self.workstation.demo_logins
        ]
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()
        if self.workstation.runtime is not None:
            self._ready(self.workstation.runtime.db.location)

    def _ready(self, location: str) -> None:
        self.query_one("#login-button", Button).disabled = False
        self.show_message(f"Connected to {_where(location)}.", error=False)

    def on_connected(self, message: Connected) -> None:
        self._ready(message.location)

    def on_connection_failed(self, message: ConnectionFailed) -> None:
        self.query_one("#login-button", Button).disabled = True
        reason = message.reason
        if served_to_others():
            log.warning("cannot connect to the database: %s", reason)
            reason = "Cannot reach the database; if it lasts, tell your administrator (the host's error log says why)."
        self.show_message(f"{reason}\nPress ctrl+r to try again.")

    def action_reconnect(self) -> None:
        if self.workstation.runtime is None:
            self.show_message("Connecting to the database…", error=False)
            self.workstation.connect()

    def start_again(self, message: str) -> None:
        """After a session ended: an empty form, focused on the username, for whoever logs in next."""
        self.query_one("#username", Input).value = ""
        self.show_message(message)
        self.set_focus(self.query_one("#username", Input))

    def show_message(self, text: str, *, error: bool = True) -> None:
        message = self.query_one("#login-message", Static)
        message.update(plain(text))
        message.set_class(error, "error")
        self.query_one("#password", Input).value = ""

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login-button")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if self.workstation.runtime is None:
            self.show_message("Still connecting to the database; try again in a moment (ctrl+r reconnects).")
            return
        if not username.strip() or not password:
            self.show_message("Type your username and your password.")
            return
        self.query_one("#login-button", Button).disabled = True
        self.show_message("Checking…", error=False)
        self._log_in(username, password)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _log_in(self, username: str, password: str) -> None:
        runtime = self.workstation.runtime
        assert runtime is not None
        try:
            result = await login(
                runtime.db,
                self.workstation.settings.bcrypt_rounds,
                username,
                password,
                ip_address=client_ip(),
                user_agent=user_agent("workstation"),
            )
        except (AuthenticationFailed, AccountLocked) as exc:
            self.show_message(exc.message)
            self.query_one("#password", Input).focus()
            return
        except Unavailable as exc:
            self.show_message(f"{exc.message}\nDatabase: {_where(runtime.db.location)}")
            return
        except ServiceError as exc:
            self.show_message(exc.message)
            return
        finally:
            self.query_one("#login-button", Button).disabled = False
        self.show_message("", error=False)
        await self.workstation.signed_in(result)
