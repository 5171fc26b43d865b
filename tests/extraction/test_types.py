"""The public types refuse values that do not fit their field, and survive a JSON round trip."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.extraction.types import ExtractionResult, FieldResult, SourceSpan


def _span(**changes: object) -> SourceSpan:
    fields: dict[str, object] = {
        "page": 3,
        "line": 12,
        "section": "4. CANCELLATION AND REFUNDS",
        "start": 5120,
        "end": 5178,
        "quote": "A $50.00 cancellation fee will be retained.",
        "alignment": "exact",
    }
    return SourceSpan.model_validate({**fields, **changes})


def _result(**changes: object) -> ExtractionResult:
    fields: dict[str, object] = {
        "gap_insurance_premium": FieldResult(
            name="gap_insurance_premium", value=Decimal("1250.00"), confidence=94
        ),
        "refund_calculation_method": FieldResult(
            name="refund_calculation_method", value="Pro-Rata", confidence=71
        ),
        "cancellation_fee": FieldResult(name="cancellation_fee", value=None, confidence=85),
        "term_months": FieldResult(name="term_months", value=72, confidence=92),
        "governing_state": FieldResult(name="governing_state", value="OH", confidence=86),
        "apr": FieldResult(name="apr", value=None, confidence=40),
        "provider": "rules",
        "model_version": "rules-1.0",
        "prompt_version": "n/a",
        "processing_ms": 3,
    }
    return ExtractionResult.model_validate({**fields, **changes})


def test_source_span_json_has_the_stored_shape() -> None:
    assert _span().to_json() == {
        "page": 3,
        "line": 12,
        "section": "4. CANCELLATION AND REFUNDS",
        "start": 5120,
        "end": 5178,
        "quote": "A $50.00 cancellation fee will be retained.",
        "alignment": "exact",
    }
    assert _span(note="amount 75.00 does not appear in the quote").to_json()["note"].startswith("amount")
    assert _span(section=None).to_json()["section"] is None


def test_an_unaligned_span_points_nowhere() -> None:
    assert _span(start=0, end=0, alignment="unaligned").start == 0
    with pytest.raises(ValidationError):
        _span(alignment="unaligned")
    with pytest.raises(ValidationError):
        _span(start=10, end=10)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("gap_insurance_premium", Decimal("1250")),
        ("gap_insurance_premium", Decimal("-5.00")),
        ("cancellation_fee", Decimal("100000000.00")),
        ("cancellation_fee", Decimal("NaN")),
        ("refund_calculation_method", "pro rata"),
        ("refund_calculation_method", Decimal("1.00")),
        ("term_months", 0),
        ("term_months", 601),
        ("governing_state", "Ohio"),
        ("governing_state", "XX"),
        ("apr", Decimal("7.9")),
        ("apr", Decimal("100.00")),
    ],
)
def test_field_values_must_fit_their_field(name: str, value: object) -> None:
    with pytest.raises(ValidationError):
        FieldResult.model_validate({"name": name, "value": value, "confidence": 50})


def test_an_amount_read_back_from_json_must_be_a_decimal() -> None:
    with pytest.raises(ValidationError):
        FieldResult.model_validate_json('{"name": "cancellation_fee", "value": "fifty", "confidence": 50}')


def test_confidence_is_an_integer_from_0_to_100() -> None:
    with pytest.raises(ValidationError):
        FieldResult(name="cancellation_fee", value=None, confidence=101)


def test_extraction_result_round_trips_through_json() -> None:
    result = _result(
        cancellation_fee=FieldResult(
            name="cancellation_fee", value=Decimal("50.00"), confidence=92, source=_span()
        ),
        apr=FieldResult(name="apr", value=Decimal("7.99"), confidence=93),
    )
    assert ExtractionResult.model_validate_json(result.model_dump_json()) == result


def test_fields_come_in_order_and_the_weakest_sets_the_confidence() -> None:
    result = _result()
    assert [field.name for field in result.fields()] == [
        "gap_insurance_premium",
        "refund_calculation_method",
        "cancellation_fee",
        "term_months",
        "governing_state",
        "apr",
    ]
    # The APR (40) counts only for the Actuarial method (services.domain.weighed_fields).
    assert result.min_confidence == 71
    actuarial = FieldResult(name="refund_calculation_method", value="Actuarial", confidence=90)
    assert _result(refund_calculation_method=actuarial).min_confidence == 40


def test_a_field_in_the_wrong_slot_is_refused() -> None:
    with pytest.raises(ValidationError):
        _result(cancellation_fee=FieldResult(name="gap_insurance_premium", value=None, confidence=10))
