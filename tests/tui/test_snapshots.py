"""Snapshots of the reviewer's screens: login, queue, review and the correction dialog (120x40 and 80x24).

pytest-textual-snapshot runs the app in its own event loop, so the data is
made inside `run_before`, on that loop, with fixed numbers and names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import bcrypt
import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import DataTable

from app.screens.queue import REFRESH_SECONDS, QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import make_app
from db.database import connect_database
from services.settings import Settings
from tests.services.conftest import PASSWORD, create_contract, create_person
from tests.tui.pilot import log_in, wait_until

WIDE = (120, 40)
NARROW = (80, 24)


@pytest.fixture
def settings(database_url: URL, workstation_url: URL, tmp_path) -> Settings:
    return Settings(
        database_url=workstation_url.render_as_string(hide_password=False),
        owner_database_url=database_url.render_as_string(hide_password=False), home=tmp_path, testing=True,
        bcrypt_rounds=4,
    )  # fmt: skip


def _world(url: URL) -> Callable[[Pilot], Awaitable[None]]:
    """Rita and four contracts of known confidences, made before she logs in."""

    async def make(pilot: Pilot) -> None:
        db = connect_database(url)
        try:
            hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
            await create_person(db, hashed, "reviewer", "rita")
            for number, confidences in enumerate(
                ((35, 72, 96), (58, 90, 91), (88, 64, 99), (93, 95, 97)), 101
            ):
                await create_contract(db, number=number, premium_confidence=confidences[0],
                                      method_confidence=confidences[1], fee_confidence=confidences[2])  # fmt: skip
        finally:
            await db.dispose()

    return make


def _steps(url: URL, *steps: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        await _world(url)(pilot)
        for step in steps:
            await step(pilot)
        await pilot.pause()

    return run


def _column_width(pilot: Pilot, key: str) -> int:
    table = pilot.app.screen.query_one("#queue-table", DataTable)
    return next(column.content_width for column in table.columns.values() if column.key.value == key)


async def _to_queue(pilot: Pilot) -> None:
    await log_in(pilot, "rita", PASSWORD)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    await wait_until(pilot, lambda: len(pilot.app.screen.query_one("#queue-table").rows) == 4)
    # The table sizes its columns to new rows when it is next idle: wait for the contract ids' width, or a
    # loaded machine draws the snapshot with the column still as wide as its heading.
    await wait_until(pilot, lambda: _column_width(pilot, "contract") >= len("GAP-2024-000101"))
    # Drawn at that width before the queue's own refresh (widgets/sized_table.py), not only after it.
    await wait_until(
        pilot, lambda: "GAP-2024-000101" in pilot.app.export_screenshot(), limit=REFRESH_SECONDS / 2
    )
    await wait_until(pilot, lambda: "Pending" in str(pilot.app.screen.query_one("#queue-counts").render()))


async def _to_review(pilot: Pilot) -> None:
    await _to_queue(pilot)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen))


async def _second_field(pilot: Pilot) -> None:
    await pilot.press("j")


async def _correction_dialog(pilot: Pilot) -> None:
    await pilot.press("e")
    await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "CorrectionDialog")
    await pilot.press(*"1150")


async def _reject_dialog(pilot: Pilot) -> None:
    await pilot.press("x")
    await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ReasonDialog")
    await pilot.press("2")


async def _connected(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.runtime is not None)
    await pilot.pause()
    # The test database has a random name; the layout is what this snapshot is about.
    pilot.app.screen.show_message("Connected to the test database.", error=False)
    await pilot.pause()


def test_login_screen(snap_compare, settings: Settings, database_url: URL) -> None:
    app = make_app(settings)
    assert snap_compare(app, terminal_size=WIDE, run_before=_connected)


SIZES = pytest.mark.parametrize("size", [WIDE, NARROW], ids=["120x40", "80x24"])


@SIZES
def test_queue_screen(snap_compare, settings: Settings, database_url: URL, size: tuple[int, int]) -> None:
    """At 80 columns too: contract, weakest field, confidence, age and holder without scrolling."""
    assert snap_compare(make_app(settings), terminal_size=size, run_before=_steps(database_url, _to_queue))


def test_review_screen_wide(snap_compare, settings: Settings, database_url: URL) -> None:
    run = _steps(database_url, _to_review, _second_field)
    assert snap_compare(make_app(settings), terminal_size=WIDE, run_before=run)


def test_review_screen_narrow(snap_compare, settings: Settings, database_url: URL) -> None:
    assert snap_compare(make_app(settings), terminal_size=NARROW, run_before=_steps(database_url, _to_review))


@SIZES
def test_correction_dialog(
    snap_compare, settings: Settings, database_url: URL, size: tuple[int, int]
) -> None:
    """Docked at the bottom: the highlighted source line stays in view above it, at 80x24 too."""
    run = _steps(database_url, _to_review, _correction_dialog)
    assert snap_compare(make_app(settings), terminal_size=size, run_before=run)


def test_reject_dialog_narrow(snap_compare, settings: Settings, database_url: URL) -> None:
    """The numbered reasons, one picked, at 80x24: nothing clipped."""
    run = _steps(database_url, _to_review, _reject_dialog)
    assert snap_compare(make_app(settings), terminal_size=NARROW, run_before=run)
