"""A QA item keeps its confidence from the reviewer until it is decided (issue 16: no anchoring)."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
from services.review import get_detail
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from widgets.field_list import CONFIDENCE_HIDDEN, FieldList


def cards_text(screen: ReviewScreen) -> str:
    fields = screen.query_one(FieldList)
    lines = []
    for index in range(fields.option_count):
        group = fields.get_option_at_index(index).prompt
        lines += [line.plain for line in group.renderables]
    return "\n".join(lines)


async def test_a_qa_item_hides_its_confidence_until_approved(
    workstation: RefundReviewApp, make_context, add_contract, superuser
) -> None:
    await make_context("reviewer", username="rita")
    qa = await add_contract(premium_confidence=97, method_confidence=93, fee_confidence=91, qa_sample=True)
    plain_item = await add_contract(premium_confidence=41, method_confidence=62, fee_confidence=88)
    # The QA item's place is its random key (not its confidence): drawn here after the plain item's 41.
    await superuser.execute("UPDATE extractions SET queue_key = 60 WHERE id = $1", qa.id)
    # Its approval is final here (no double check drawn): undo is what this test exercises.
    await superuser.execute("UPDATE system_config SET value = '0' WHERE key = 'qa_double_check_rate'")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        queue: QueueScreen = workstation.screen  # type: ignore[assignment]
        table = queue.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        qa_row = [str(cell) for cell in table.get_row(str(qa.id))]
        plain_row = [str(cell) for cell in table.get_row(str(plain_item.id))]
        assert "QA" in qa_row
        assert not any(figure in cell for cell in qa_row for figure in ("97", "93", "91"))
        assert "QA" not in plain_row and {"41", "62", "88"} <= {cell.strip() for cell in plain_row}

        # The plain item comes first, so n opens it first: its figures are on show.
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        await wait_until(pilot, lambda: review.detail.extraction_id == plain_item.id)
        cards = cards_text(review)
        assert CONFIDENCE_HIDDEN not in cards
        assert all(figure in cards for figure in ("41", "62", "88"))
        assert "QA" not in str(review.query_one("#review-title", Static).render())

        await pilot.press("n")
        await wait_until(pilot, lambda: review.detail.extraction_id == qa.id)
        cards = cards_text(review)
        assert cards.count(CONFIDENCE_HIDDEN) == 3
        assert not any(figure in cards for figure in ("97", "93", "91", "█"))
        assert "QA" in str(review.query_one("#review-title", Static).render())

        await pilot.press("a")
        await wait_until(pilot, lambda: review.detail.extraction_id == plain_item.id)
        assert CONFIDENCE_HIDDEN not in cards_text(review)

        # Undo brings the QA item back pending: its decision is to be made afresh, so hidden again.
        await pilot.press("u")
        await wait_until(pilot, lambda: review.detail.extraction_id == qa.id)
        assert cards_text(review).count(CONFIDENCE_HIDDEN) == 3

        # Decided, it shows its figures again: approve it once more, then show it as search or history would.
        await pilot.press("a")
        await wait_until(pilot, lambda: review.detail.extraction_id == plain_item.id)
        review.show(await get_detail(workstation.context, qa.id))
        await pilot.pause()
        cards = cards_text(review)
        assert review.detail.status == "approved"
        assert CONFIDENCE_HIDDEN not in cards
        assert all(figure in cards for figure in ("97", "93", "91"))


async def test_the_queue_header_says_which_thresholds_it_counted_against(
    workstation: RefundReviewApp, make_context, add_contract, superuser
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract(method_confidence=75)
    await superuser.execute(
        "UPDATE system_config SET value = '{\"refund_calculation_method\": 70}' WHERE key = 'field_thresholds'"
    )
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        counts = workstation.screen.query_one("#queue-counts", Static)
        await wait_until(pilot, lambda: "below field thresholds 0" in str(counts.render()))
        assert "below threshold (80)" not in str(counts.render())


async def test_a_qa_item_drawn_for_a_double_check_leaves_the_first_reviewer_and_says_so(
    workstation: RefundReviewApp, make_context, add_contract, superuser
) -> None:
    await make_context("reviewer", username="rita")
    qa = await add_contract(premium_confidence=97, method_confidence=93, fee_confidence=91, qa_sample=True)
    await superuser.execute("UPDATE system_config SET value = '1' WHERE key = 'qa_double_check_rate'")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        await wait_until(pilot, lambda: review.detail.extraction_id == qa.id)
        await pilot.press("a")
        await wait_until(
            pilot, lambda: any("drawn for a double check" in n.message for n in workstation._notifications)
        )
        # Nothing of her own to undo: the item waits for someone else, and is not handed back to her.
        assert workstation.session.last_decision is None
        status = await superuser.fetchval("SELECT status FROM extractions WHERE id = $1", qa.id)
        assert status == "pending"
        # n found nothing else for her: the only pending item is the one she may not decide again.
        await wait_until(
            pilot, lambda: any("queue is empty" in n.message for n in workstation._notifications)
        )
