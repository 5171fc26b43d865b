"""Steps a person takes, for Pilot tests to share."""

from __future__ import annotations

from typing import TypeVar

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input

from app.workstation import LOGIN_MODE, RefundReviewApp
from tests.tui.conftest import PASSWORD

S = TypeVar("S", bound=Screen)


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


async def open_area(pilot: Pilot, username: str, key: str, screen_type: type[S], table_id: str) -> S:
    """Log in, press the area's key, and wait until its screen has rows in `table_id`."""
    app: RefundReviewApp = pilot.app  # type: ignore[assignment]
    await log_in(pilot, username, PASSWORD)
    await wait_until(pilot, lambda: app.logged_in and app.current_mode != LOGIN_MODE)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, screen_type))
    screen: S = app.screen  # type: ignore[assignment]
    await wait_until(pilot, lambda: screen.query_one(f"#{table_id}", DataTable).row_count > 0)
    return screen
