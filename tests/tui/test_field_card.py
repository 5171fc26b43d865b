"""A field card claims "in text" only when grounding found the quote AND had no doubt about the value in it."""

from rich.console import Console

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
