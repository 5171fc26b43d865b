"""Steps a person takes, for Pilot tests to share."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from app.workstation import RefundReviewApp


async def wait_until(pilot: Pilot, condition, limit: float = 30.0) -> None:
    """Let the app run (workers, timers) until `condition()` holds; fail after `limit` seconds."""
    waited = 0.0
    while not condition():
        if waited >= limit:
            raise AssertionError(f"condition not met after {limit} s; {_where(pilot)}")
        await pilot.pause(0.05)
        waited += 0.05


def _where(pilot: Pilot) -> str:
    """What the screen says, so a failed wait explains itself."""
    screen = pilot.app.screen
    message = screen.query("#login-message")
    said = f", saying {str(message.first().render())!r}" if message else ""
    return f"on {type(screen).__name__}{said}"


async def log_in(pilot: Pilot, username: str, password: str) -> None:
    app: RefundReviewApp = pilot.app  # type: ignore[assignment]
    await wait_until(pilot, lambda: app.runtime is not None)
    # A session that just ended is still being cleared away; type once the login screen is settled.
    await wait_until(pilot, lambda: not any(w.group == "session-end" and w.is_running for w in app.workers))
    app.screen.query_one("#username", Input).value = username
    app.screen.query_one("#password", Input).value = password
    app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    # The login runs in a worker; wait for its answer, whatever it is.
    await wait_until(pilot, lambda: not any(w.group == "login" and w.is_running for w in app.workers))
