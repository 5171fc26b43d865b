"""A field card claims "in text" only when grounding found the quote AND had no doubt about the value in it."""

from rich.console import Console
from rich.text import Text

from app.screens.review import field_view
from services.review.types import FieldDetail
from widgets.field_list import FieldList, FieldView


def _rendered(alignment: str, note: str | None) -> str:
    view = FieldView(
        name="gap_insurance_premium",
        label="GAP premium",
        value="$7.00",
        confidence=40,
        threshold=80,
        alignment=alignment,
        note=note,
        corrected=False,
    )
    console = Console(width=120, record=True)
    console.print(FieldList._card(view))
    return console.export_text()


def test_a_doubted_value_in_a_found_quote_is_not_shown_as_in_text() -> None:
    card = _rendered("exact", "amount 7.00 does not appear in the quote as a whole amount")
    assert "in text" not in card
    assert "quote found, value in doubt" in card
    assert "does not appear in the quote as a whole amount" in card


def test_a_value_the_quote_states_is_shown_as_in_text() -> None:
    assert "✓ in text" in _rendered("exact", None)


def _marked_below(confidence: int, threshold: int) -> bool:
    """Whether the review screen's card for a field shows its value as below threshold (reversed)."""
    field = FieldDetail(
        name="refund_calculation_method",
        label="refund calculation method",
        value="Pro-Rata",
        confidence=confidence,
        threshold=threshold,
        below_threshold=confidence < threshold,
        source=None,
        corrected=False,
    )
    value_line = FieldList._card(field_view(field)).renderables[1]
    assert isinstance(value_line, Text)
    return any("reverse" in str(span.style) for span in value_line.spans)


def test_a_card_is_marked_against_its_own_fields_threshold() -> None:
    # refund_calculation_method at 75 with field_thresholds {"refund_calculation_method": 70} passes, though
    # the global threshold is 80; the same confidence against 80 is marked.
    assert not _marked_below(75, 70)
    assert _marked_below(75, 80)
