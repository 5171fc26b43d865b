"""The 300-a-day path, counted: each standard flow driven by key presses only, its keys counted.

A reviewer decides some 300 items a day; every key a flow takes is paid 300 times. These tests press
keys (no widget is set by hand), count them, and check the database afterwards, so a flow that grows a
key, or stops saving what it says, fails here. Typed text (a value, a note) is counted apart from the
keys of the flow itself, since its length is the reviewer's, not the workstation's.

Counted on the code before issue 12: approve and next 1; a correction 7 keys + the value + a note that
the default settings require (e, Tab, Enter, Down, Enter, Tab, ctrl+s); a rejection 2 keys + a reason
typed in words (x, Enter); undo 1.
"""

from __future__ import annotations

import asyncpg
from textual.pilot import Pilot

from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
from services.review import REJECTION_REASONS
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until


class Keyboard:
    """Presses keys on the app and counts them: flow keys and typed characters apart."""

    def __init__(self, pilot: Pilot) -> None:
        self.pilot = pilot
        self.keys = 0
        self.typed = 0

    async def press(self, *keys: str) -> None:
        self.keys += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        self.typed += len(text)
        await self.pilot.press(*text)


async def _review(pilot: Pilot, app: RefundReviewApp) -> ReviewScreen:
    await log_in(pilot, "rita", PASSWORD)
    await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
    return app.screen  # type: ignore[return-value]


async def _no_note_required(superuser: asyncpg.Connection) -> None:
    await superuser.execute(
        "UPDATE system_config SET value = 'false' WHERE key = 'require_correction_reason'"
    )


async def test_approve_and_next_is_one_key_and_undo_is_one_more(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    first = await add_contract(premium_confidence=30)
    second = await add_contract(premium_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        review = await _review(pilot, workstation)
        keyboard = Keyboard(pilot)
        await keyboard.press("a")
        await wait_until(pilot, lambda: review.detail.extraction_id == second.id)
        assert keyboard.keys == 1
        assert (
            await superuser.fetchval("SELECT status FROM extractions WHERE id = $1", first.id) == "approved"
        )

        undo = Keyboard(pilot)
        await undo.press("u")
        await wait_until(pilot, lambda: review.detail.extraction_id == first.id)
        assert undo.keys == 1
        row = await superuser.fetchrow("SELECT status, claimed_by FROM extractions WHERE id = $1", first.id)
        assert row["status"] == "pending" and row["claimed_by"] is not None
        # The item shown before the undo is given back, not left held.
        assert await superuser.fetchval("SELECT claimed_by FROM extractions WHERE id = $1", second.id) is None


async def test_a_correction_is_value_enter_and_the_reasons_digit(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    await _no_note_required(superuser)
    item = await add_contract(premium_confidence=30)
    async with workstation.run_test(size=(120, 40)) as pilot:
        review = await _review(pilot, workstation)
        keyboard = Keyboard(pilot)
        await keyboard.press("e")
        await keyboard.type("1150.00")
        await keyboard.press("enter", "1")  # 1: misread value
        await wait_until(pilot, lambda: review.detail.field("gap_insurance_premium").corrected)
        assert (keyboard.keys, keyboard.typed) == (3, 7)
        assert workstation.screen is review
    row = await superuser.fetchrow(
        "SELECT corrected_value, reason_code, reason_note FROM corrections WHERE extraction_id = $1", item.id
    )
    assert tuple(row) == ("1150.00", "misread_value", None)


async def test_a_correction_with_a_required_note_takes_one_key_more(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")  # require_correction_reason is on by default
    item = await add_contract(premium_confidence=30)
    async with workstation.run_test(size=(120, 40)) as pilot:
        review = await _review(pilot, workstation)
        keyboard = Keyboard(pilot)
        await keyboard.press("e")
        await keyboard.type("1150.00")
        await keyboard.press("enter", "2")  # 2: wrong source
        await keyboard.type("page 2")
        await keyboard.press("enter")
        await wait_until(pilot, lambda: review.detail.field("gap_insurance_premium").corrected)
        assert (keyboard.keys, keyboard.typed) == (4, 13)
    row = await superuser.fetchrow(
        "SELECT corrected_value, reason_code, reason_note FROM corrections WHERE extraction_id = $1", item.id
    )
    assert tuple(row) == ("1150.00", "wrong_source", "page 2")


async def test_a_method_correction_is_two_digits(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    await _no_note_required(superuser)
    item = await add_contract(premium_confidence=95, method_confidence=30, fee_confidence=95)
    async with workstation.run_test(size=(120, 40)) as pilot:
        review = await _review(pilot, workstation)
        # The item opens on its weakest field: the method, no key needed to get there.
        assert review.selected_field.name == "refund_calculation_method"
        keyboard = Keyboard(pilot)
        await keyboard.press("e", "2", "5")  # the second method; 5: method misclassified
        await wait_until(pilot, lambda: review.detail.field("refund_calculation_method").corrected)
        assert keyboard.keys == 3
    row = await superuser.fetchrow(
        "SELECT original_value, corrected_value, reason_code FROM corrections WHERE extraction_id = $1",
        item.id,
    )
    assert row["reason_code"] == "method_misclassified"
    assert row["corrected_value"] != row["original_value"]


async def test_reject_is_x_a_digit_and_enter(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    first = await add_contract(premium_confidence=30)
    second = await add_contract(premium_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        review = await _review(pilot, workstation)
        keyboard = Keyboard(pilot)
        await keyboard.press("x", "2")
        assert await superuser.fetchval("SELECT status FROM extractions WHERE id = $1", first.id) == "pending"
        await keyboard.press("enter")
        await wait_until(pilot, lambda: review.detail.extraction_id == second.id)
        assert keyboard.keys == 3
    row = await superuser.fetchrow("SELECT status, rejection_reason FROM extractions WHERE id = $1", first.id)
    assert tuple(row) == ("rejected", REJECTION_REASONS[1])


async def test_reject_with_a_reason_of_ones_own(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    first = await add_contract(premium_confidence=30)
    await add_contract(premium_confidence=40)
    other = str(len(REJECTION_REASONS) + 1)
    async with workstation.run_test(size=(120, 40)) as pilot:
        review = await _review(pilot, workstation)
        keyboard = Keyboard(pilot)
        await keyboard.press("x", other)
        await keyboard.type("scan cut off")
        await keyboard.press("enter")
        await wait_until(pilot, lambda: review.detail.extraction_id != first.id)
        assert (keyboard.keys, keyboard.typed) == (3, 12)
    assert (
        await superuser.fetchval("SELECT rejection_reason FROM extractions WHERE id = $1", first.id)
        == "scan cut off"
    )


async def test_enter_without_a_reason_rejects_nothing(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    first = await add_contract(premium_confidence=30)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await _review(pilot, workstation)
        await pilot.press("x", "enter")
        assert type(workstation.screen).__name__ == "ReasonDialog"
        assert any("number" in n.message for n in workstation._notifications)
        await pilot.press("escape")
        assert isinstance(workstation.screen, ReviewScreen)
    assert await superuser.fetchval("SELECT status FROM extractions WHERE id = $1", first.id) == "pending"
