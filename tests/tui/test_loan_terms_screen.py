"""The loan terms on the review screen: cards, the weakest-field start, and a typed correction (Pilot)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from textual.widgets import DataTable, Static

from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from tests.tui.test_qa_sample import cards_text
from widgets.field_list import FieldList

LOAN_TERMS = {
    "term_months": 60,
    "term_months_confidence": 40,
    "governing_state": "OH",
    "governing_state_confidence": 88,
    "apr": None,
    "apr_confidence": 85,
}


async def _open_next(pilot, workstation: RefundReviewApp) -> ReviewScreen:
    await log_in(pilot, "rita", PASSWORD)
    await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
    await pilot.press("n")
    await wait_until(
        pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
    )
    return workstation.screen  # type: ignore[return-value]


async def test_a_doubtful_term_opens_first_and_a_typed_term_in_years_is_saved_in_months(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    item = await add_contract(**LOAN_TERMS)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await _open_next(pilot, workstation)
        # The term (40) is the weakest field: review starts on its card.
        assert screen.detail.fields[screen.query_one(FieldList).highlighted or 0].name == "term_months"
        cards = cards_text(screen)
        assert "Term (months)\n  60 months" in cards and "Governing state\n  OH" in cards
        assert "APR\n  not stated" in cards
        await pilot.press("e")
        await wait_until(pilot, lambda: type(workstation.screen).__name__ == "CorrectionDialog")
        dialog = workstation.screen
        await pilot.press(*"sixty-one")
        preview = dialog.query_one("#correction-preview", Static)
        await wait_until(pilot, lambda: "is not a term" in str(preview.render()))
        await pilot.press(*["backspace"] * len("sixty-one"), *"7 years")
        await wait_until(pilot, lambda: "84 months" in str(preview.render()))
        await pilot.press("enter", "1", *"page 1 says seven years", "enter")
        await wait_until(pilot, lambda: screen.detail.field("term_months").corrected)
        assert screen.detail.field("term_months").value == 84
    row = await superuser.fetchrow(
        "SELECT field_name, original_value, corrected_value FROM corrections WHERE extraction_id = $1",
        item.id,
    )
    assert tuple(row) == ("term_months", "60", "84")
    assert await superuser.fetchval("SELECT term_months FROM extractions WHERE id = $1", item.id) == 84


async def test_an_old_extraction_shows_its_loan_terms_as_not_yet_extracted(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract(premium_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await _open_next(pilot, workstation)
        assert screen.query_one(FieldList).highlighted == 0  # the premium, not a field without confidence
        cards = cards_text(screen)
        assert cards.count("not yet extracted") == 3
        assert cards.count("no confidence: not read by this extraction") == 3


async def test_the_refund_panel_flags_a_fee_above_the_state_cap_and_shows_its_steps(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    flagged = await add_contract(
        fee=Decimal("100.00"),
        refund_flags=["cancellation_fee"],  # as the service stores it for this fee under Arkansas's rule
        **{**LOAN_TERMS, "governing_state": "AR", "term_months_confidence": 90},
    )
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        table = workstation.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        row = [str(cell) for cell in table.get_row(str(flagged.id))]
        assert "⚑ refund check" in row and "cancellation fee" in row
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        screen: ReviewScreen = workstation.screen  # type: ignore[assignment]
        panel = str(screen.query_one("#refund-panel", Static).render())
        # Arkansas caps the fee at $75: the refund keeps $75, and the fee card carries the finding.
        assert (
            panel.startswith("If cancelled today: $")
            and "by Pro-Rata; fee $75.00 (Arkansas cap $75.00)" in panel
        )
        assert "The contract's fee of $100.00 is above the Arkansas cap of $75.00." in cards_text(screen)
        await pilot.press("m")
        await wait_until(pilot, lambda: type(workstation.screen).__name__ == "RefundPreviewDialog")
        steps = str(workstation.screen.query_one("#refund-steps", Static).render())
        assert "Ark. Code §4-90-806" in steps and "capped at $75.00" in steps
        await pilot.press("escape")
        await wait_until(pilot, lambda: workstation.screen is screen)
