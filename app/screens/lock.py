"""The lock screen: after the idle timeout (or f12) the workstation asks for the password again.

It is a full, opaque screen rather than a dialog: a dialog lets the screen
beneath show through around its box, and the review screen beneath holds a
contract, its customer, account number and VIN. Nothing of the workstation is
drawn while it is on show.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from app.caller import ServiceCaller
from services.auth import LoginResult, unlock_screen
from services.errors import AccountLocked, AuthenticationFailed, ServiceError, SessionExpired
from widgets.plain import plain


class LockScreen(ServiceCaller, Screen[LoginResult | None]):
    """Nothing behind it can be seen or used until the password is typed."""

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box"):
            yield Static(Text.assemble(("Locked", "bold"), "\n", plain(self.ctx.actor.username), ", type your password to carry on."))  # fmt: skip
            yield Input(password=True, id="lock-password", placeholder="password", max_length=200)
            yield Static("", id="lock-message")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.input.value = ""
        self._unlock(event.value)

    @work(exclusive=True, group="unlock", exit_on_error=False)
    async def _unlock(self, password: str) -> None:
        message = self.query_one("#lock-message", Static)
        try:
            result = await unlock_screen(self.ctx, self.workstation.settings.bcrypt_rounds, password)
        except (AuthenticationFailed, AccountLocked) as exc:
            message.update(plain(exc.message))
            return
        except SessionExpired as exc:
            self.dismiss(None)
            self.session.end(exc.message)
            return
        except ServiceError as exc:
            message.update(plain(exc.message))
            return
        self.dismiss(result)
