"""A reviewer's day in miniature: log in, claim, look, correct, approve — checked on screen and in the database."""

from __future__ import annotations

import gc
from decimal import Decimal

import asyncpg
from textual.widgets import Input, Select, Static

from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import COLLECT_AFTER_SECONDS, RefundReviewApp
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from widgets.document_view import DocumentView
from widgets.field_list import FieldList


async def test_wrong_then_right_password(workstation: RefundReviewApp, make_context) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", "not the password")
        message = workstation.screen.query_one("#login-message", Static)
        await wait_until(pilot, lambda: "not right" in str(message.render()))
        assert isinstance(workstation.screen, LoginScreen)
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        assert workstation.context.actor.username == "rita"


async def test_claim_move_across_fields_and_approve(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    weakest = await add_contract(premium_confidence=40, method_confidence=70, fee_confidence=95)
    await add_contract(premium_confidence=90, method_confidence=90, fee_confidence=90)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        screen: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert screen.detail.extraction_id == weakest.id
        document = screen.query_one(DocumentView)
        spans = (
            "GAP Waiver Charge: $1,250.00",
            "refunded on a pro rata basis",
            "A $50 cancellation fee will be retained.",
        )
        for index, expected in enumerate(spans):
            assert screen.query_one(FieldList).highlighted == index
            assert document.highlighted_text == expected
            await pilot.press("j")
        await pilot.press("k")
        assert document.highlighted_text == spans[2]
        await pilot.press("a")
        await wait_until(pilot, lambda: screen.detail.extraction_id != weakest.id)
    status = await superuser.fetchval("SELECT status FROM extractions WHERE id = $1", weakest.id)
    assert status == "approved"
    events = [
        r["event_type"] for r in await superuser.fetch("SELECT event_type FROM audit_events ORDER BY seq")
    ]
    assert events[:1] == ["login"]
    assert "claim" in events and "approve" in events
    assert Decimal(
        await superuser.fetchval("SELECT gap_insurance_premium FROM extractions WHERE id = $1", weakest.id)
    ) == Decimal("1250.00")


async def test_a_correction_needs_a_reason_and_is_saved_with_it(
    workstation: RefundReviewApp,
    make_context,
    add_contract,
    superuser: asyncpg.Connection,
) -> None:
    await make_context("reviewer", username="rita")
    item = await add_contract(premium_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        await pilot.press("e")
        await wait_until(pilot, lambda: type(workstation.screen).__name__ == "CorrectionDialog")
        await pilot.press(*"1150.00", "ctrl+s")
        assert type(workstation.screen).__name__ == "CorrectionDialog"  # no reason chosen: not sent
        await pilot.press("enter", "1")
        # The system requires a note (the default): the digit leads to it instead of saving.
        assert type(workstation.screen).__name__ == "CorrectionDialog"
        assert workstation.screen.focused is workstation.screen.query_one("#note", Input)
        await pilot.press(*"page 2 says 1,150", "enter")
        review_screen: ReviewScreen = workstation.screen  # type: ignore[assignment]
        await wait_until(pilot, lambda: review_screen.detail.field("gap_insurance_premium").corrected)
    row = await superuser.fetchrow(
        "SELECT original_value, corrected_value, reason_code, reason_note FROM corrections WHERE extraction_id = $1",
        item.id,
    )
    assert tuple(row) == ("1250.00", "1150.00", "misread_value", "page 2 says 1,150")
    assert await superuser.fetchval(
        "SELECT gap_insurance_premium FROM extractions WHERE id = $1", item.id
    ) == Decimal("1150.00")


async def test_queue_filter_narrows_and_any_resets(
    workstation: RefundReviewApp,
    make_context,
    add_contract,
) -> None:
    await make_context("reviewer", username="rita")
    low = await add_contract(premium_confidence=30)
    await add_contract(premium_confidence=65)
    await add_contract(premium_confidence=95, method_confidence=95, fee_confidence=95)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        queue: QueueScreen = workstation.screen  # type: ignore[assignment]
        await wait_until(pilot, lambda: len(queue.item_ids()) == 3)
        await pilot.press("slash")
        band = queue.query_one("#filter-band", Select)
        band.value = "0-49"
        await wait_until(pilot, lambda: queue.item_ids() == [low.id])
        band.value = Select.NULL
        await wait_until(pilot, lambda: len(queue.item_ids()) == 3)


async def test_after_logout_the_next_person_starts_clean(
    workstation: RefundReviewApp,
    make_context,
    add_contract,
) -> None:
    """The review screen is reused from item to item; it must not outlive the session that filled it."""
    await make_context("reviewer", username="rita")
    await make_context("reviewer", username="sam")
    first = await add_contract(premium_confidence=30)
    await add_contract(premium_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        assert workstation.screen.detail.extraction_id == first.id  # type: ignore[attr-defined]
        workstation.action_logout()
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        await log_in(pilot, "sam", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert review.detail.extraction_id == first.id  # rita gave her claim back when she logged out
        assert review.detail.claimed_by(workstation.context.actor.user_id)


async def test_an_expired_session_returns_to_the_login_with_the_reason(
    workstation: RefundReviewApp,
    make_context,
    superuser: asyncpg.Connection,
) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await superuser.execute("UPDATE sessions SET last_activity_at = now() - interval '2 hours'")
        workstation._check_session()  # the app runs this every minute
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        message = workstation.screen.query_one("#login-message", Static)
        await wait_until(pilot, lambda: "inactivity" in str(message.render()))
        assert not workstation.logged_in


async def test_the_garbage_is_collected_in_the_pause_after_keys(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    """Full collections happen while the reviewer reads, once per burst of keys, not during keystrokes."""
    await make_context("reviewer", username="rita")
    await add_contract(premium_confidence=30)

    def full_collections() -> int:
        return gc.get_stats()[2]["collections"]

    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        # Counted before the key: on a loaded machine the review screen may take longer to draw than
        # the pause, and the collection then comes before the screen is up. The login's own burst is
        # collected first, so the one counted is the one owed to `n`.
        await pilot.pause(COLLECT_AFTER_SECONDS * 3)
        before_keys = full_collections()
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        await wait_until(pilot, lambda: full_collections() > before_keys, limit=COLLECT_AFTER_SECONDS * 10)
        collected = full_collections()
        await pilot.pause(COLLECT_AFTER_SECONDS * 4)
        assert full_collections() == collected  # no keys since: nothing more is owed
