"""A reviewer's day in miniature: log in, claim, look, correct, approve — checked on screen and in the database."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from textual.widgets import Static

from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
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
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
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
