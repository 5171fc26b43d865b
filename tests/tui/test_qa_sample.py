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
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    qa = await add_contract(premium_confidence=97, method_confidence=93, fee_confidence=91, qa_sample=True)
    plain_item = await add_contract(premium_confidence=41, method_confidence=62, fee_confidence=88)
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

        # The plain item is the weakest, so n opens it first: its figures are on show.
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
