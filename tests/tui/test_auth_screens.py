"""Passwords and leaving the workstation: a temporary password first, f9 / the palette, the lock screen, logout."""

from __future__ import annotations

import html
import re

import asyncpg
from textual import events
from textual.command import CommandPalette
from textual.widgets import Input

from app.dialogs.change_password_dialog import ChangePasswordDialog
from app.screens.lock import LockScreen
from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import LOGIN_MODE, RefundReviewApp
from db.database import Database
from services.auth import login
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until

NEW_PASSWORD = "my own new passphrase 5"


async def _type_new_password(pilot, dialog: ChangePasswordDialog, current: str) -> None:
    dialog.query_one("#current-password", Input).value = current
    dialog.query_one("#new-password", Input).value = NEW_PASSWORD
    dialog.query_one("#new-password-again", Input).value = NEW_PASSWORD
    await pilot.press("ctrl+s")


async def _logs_in_with(database: Database, username: str, password: str) -> bool:
    try:
        await login(database, 4, username, password, ip_address=None, user_agent="tests")
    except Exception:
        return False
    return True


def _screen_text(app: RefundReviewApp) -> str:
    """Everything drawn in the terminal right now (every layer, as a person would see it), as plain text."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_a_temporary_password_is_changed_before_anything_else(
    workstation: RefundReviewApp, make_context, database: Database, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita", password_must_change=True)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, ChangePasswordDialog))
        dialog: ChangePasswordDialog = workstation.screen  # type: ignore[assignment]
        assert "temporary" in _screen_text(workstation)
        # No area opens: not by its key, not from the palette.
        for key in ("f2", "f3", "f12"):
            await pilot.press(key)
        await pilot.pause(0.2)
        assert workstation.screen is dialog and workstation.current_mode == LOGIN_MODE
        titles = [command.title for command in workstation.get_system_commands(workstation.screen)]
        assert "Review queue" not in titles and "Search" not in titles and "Log out" in titles
        await _type_new_password(pilot, dialog, PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
    assert not await superuser.fetchval("SELECT password_must_change FROM users WHERE username = 'rita'")
    assert await _logs_in_with(database, "rita", NEW_PASSWORD)


async def test_escape_from_a_temporary_password_logs_out(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita", password_must_change=True)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, ChangePasswordDialog))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        assert not workstation.logged_in
    assert await superuser.fetchval("SELECT end_reason FROM sessions WHERE ended_at IS NOT NULL") == "logout"


async def test_change_password_from_the_palette(
    workstation: RefundReviewApp, make_context, database: Database
) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(workstation.screen, CommandPalette))
        await pilot.press(*"change password")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ChangePasswordDialog))
        await _type_new_password(pilot, workstation.screen, PASSWORD)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        assert workstation.logged_in  # this session goes on; only the others end
    assert await _logs_in_with(database, "rita", NEW_PASSWORD)
    assert not await _logs_in_with(database, "rita", PASSWORD)


async def test_f9_opens_the_change_and_a_wrong_current_password_stays_in_the_form(
    workstation: RefundReviewApp, make_context, database: Database
) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ChangePasswordDialog))
        dialog: ChangePasswordDialog = workstation.screen  # type: ignore[assignment]
        await _type_new_password(pilot, dialog, "not my password")
        await wait_until(pilot, lambda: "not right" in _screen_text(workstation))
        assert workstation.screen is dialog
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
    assert await _logs_in_with(database, "rita", PASSWORD)


async def test_the_lock_screen_hides_the_contract(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract(number=4242)
    secrets = ("Customer #4242", "4400004242", "1HGCM82633A004242", "GAP-2024-004242")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        await pilot.pause(0.2)
        shown = _screen_text(workstation)
        assert all(secret in shown for secret in secrets)  # the contract is on screen before
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(workstation.screen, LockScreen))
        await pilot.pause(0.2)
        locked = _screen_text(workstation)
        assert "Locked" in locked and "rita" in locked
        assert not any(secret in locked for secret in secrets)
        workstation.screen.query_one("#lock-password", Input).value = PASSWORD
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))


async def test_logout_releases_the_claim(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    item = await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        assert await superuser.fetchval(
            "SELECT claimed_by IS NOT NULL FROM extractions WHERE id = $1", item.id
        )
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(workstation.screen, CommandPalette))
        await pilot.press(*"log out")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
    row = await superuser.fetchrow(
        "SELECT claimed_by, claimed_at, claim_expires_at FROM extractions WHERE id = $1", item.id
    )
    assert tuple(row) == (None, None, None)
    events = [
        r["event_type"] for r in await superuser.fetch("SELECT event_type FROM audit_events ORDER BY seq")
    ]
    assert events[-2:] == ["release", "logout"]


async def test_username_enter_password_typed_in_one_burst_logs_in(
    workstation: RefundReviewApp, make_context
) -> None:
    """A browser tab or an SSH link delivers a fast typist's keys together: none may land in the wrong box."""
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: workstation.runtime is not None)
        burst = [*"rita", "enter", *PASSWORD, "enter"]
        for key in burst:  # posted together, not one at a time as Pilot.press would (it waits for each)
            workstation.post_message(events.Key(key, key if len(key) == 1 else None))
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        assert workstation.logged_in
