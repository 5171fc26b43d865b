"""Snapshots of what a session leaves on screen: the lock screen over a contract, and the login after a
logout (120x40 and 80x24)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot

from app.screens.lock import LockScreen
from app.screens.login import LoginScreen
from app.workstation import make_app
from services.settings import Settings
from tests.tui.pilot import wait_until
from tests.tui.test_snapshots import NARROW, WIDE, _steps, _to_queue, _to_review, settings

__all__ = ["settings"]  # the fixture, shared with the reviewer's snapshots

SIZES = pytest.mark.parametrize("size", [WIDE, NARROW], ids=["120x40", "80x24"])


async def _locked(pilot: Pilot) -> None:
    await pilot.press("f12")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LockScreen))


async def _logged_out(pilot: Pilot) -> None:
    await pilot.press("ctrl+l")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    await wait_until(pilot, lambda: not pilot.app.logged_in)


@SIZES
def test_lock_screen_hides_the_contract(
    snap_compare, settings: Settings, database_url: URL, size: tuple[int, int]
) -> None:
    """Locked over a review: the whole screen is the lock, nothing of the contract shows around it."""
    run = _steps(database_url, _to_review, _locked)
    assert snap_compare(make_app(settings), terminal_size=size, run_before=run)


@SIZES
def test_login_after_logout(
    snap_compare, settings: Settings, database_url: URL, size: tuple[int, int]
) -> None:
    """After ctrl+l: the login form, empty, with the focus in the username box and the logout said."""
    run = _steps(database_url, _to_queue, _logged_out)
    assert snap_compare(make_app(settings), terminal_size=size, run_before=run)
