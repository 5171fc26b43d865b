"""Public types of the extraction service.

They are the contract between providers (rules or LLM), grounding, the database layer and the review screen,
so they validate what each field may hold instead of trusting whoever built them.
"""

from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.domain import FIELD_NAMES, REFUND_METHODS, FieldName, weakest_confidence
from services.refunds.states import STATE_NAMES

AMOUNT_FIELDS: frozenset[FieldName] = frozenset({"gap_insurance_premium", "cancellation_fee"})
# Fields held as a Decimal with two places: the dollar amounts and the APR (a percent, numeric(5,2)).
DECIMAL_FIELDS: frozenset[FieldName] = AMOUNT_FIELDS | {"apr"}
# A GAP contract runs for the loan's term: a month to 50 years bounds any real one (and the CHECK in 0011).
MAX_TERM_MONTHS = 600
MAX_APR = Decimal("99.99")

Alignment = Literal["exact", "fuzzy", "unaligned"]

CENT = Decimal("0.01")
# numeric(10,2) in the database.
MAX_AMOUNT = Decimal("99999999.99")


class SourceSpan(BaseModel):
    """Where a value came from, precise enough for the review screen to highlight it.

    An unaligned span has ``start == end == 0`` (and the page/line of offset 0): it points nowhere, and its
    ``quote`` is what the provider claimed the contract said, kept so that a reviewer can see the claim.
    """

    model_config = ConfigDict(frozen=True)

    page: int = Field(ge=1)
    line: int = Field(ge=1)
    section: str | None
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    quote: str
    alignment: Alignment
    note: str | None = None

    @model_validator(mode="after")
    def _span_is_consistent(self) -> Self:
        if self.alignment == "unaligned":
            if self.start != 0 or self.end != 0:
                raise ValueError("an unaligned span points nowhere: start and end must be 0")
        elif self.end <= self.start:
            raise ValueError("an aligned span must cover at least one character (end > start)")
        return self

    def to_json(self) -> dict[str, Any]:
        """The JSONB shape of ``extractions.*_source``: ``section`` always present, ``note`` only when set."""
        data = self.model_dump(mode="json")
        if self.note is None:
            del data["note"]
        return data


class FieldCandidate(BaseModel):
    """A provider's raw answer for one field, before anything in it is trusted."""

    name: FieldName
    value: str | None
    quote: str | None
    confidence: float = Field(ge=0, le=100)


class FieldResult(BaseModel):
    """One field after normalization and grounding: the shape stored and shown for review."""

    model_config = ConfigDict(frozen=True)

    name: FieldName
    value: Decimal | int | str | None
    confidence: int = Field(ge=0, le=100)
    source: SourceSpan | None = None

    @model_validator(mode="before")
    @classmethod
    def _amounts_from_json(cls, data: Any) -> Any:
        # JSON carries decimals as strings; without this a dumped result would not validate back.
        if (
            isinstance(data, dict)
            and data.get("name") in DECIMAL_FIELDS
            and isinstance(data.get("value"), str)
        ):
            try:
                return {**data, "value": Decimal(data["value"])}
            except InvalidOperation:
                raise ValueError(f"{data['value']!r} is not a decimal amount") from None
        return data

    @model_validator(mode="after")
    def _value_fits_field(self) -> Self:
        if self.value is not None:
            _check_value(self.name, self.value)
        return self


def _check_value(name: FieldName, value: Decimal | int | str) -> None:
    """Refuse a value that the field's column could not hold or that cannot be what the field means."""
    if name in DECIMAL_FIELDS:
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{name} must be a finite Decimal")
        if value.as_tuple().exponent != -2:
            raise ValueError(f"{name} must be quantized to hundredths (0.01)")
        top = MAX_APR if name == "apr" else MAX_AMOUNT
        if not Decimal(0) <= value <= top:
            raise ValueError(f"{name} must be between 0.00 and {top}")
    elif name == "term_months":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TERM_MONTHS:
            raise ValueError(f"term_months must be a whole number of months from 1 to {MAX_TERM_MONTHS}")
    elif name == "governing_state":
        if value not in STATE_NAMES:
            raise ValueError("governing_state must be a US state code (two capital letters, such as OH)")
    elif value not in REFUND_METHODS:
        raise ValueError(f"refund_calculation_method must be one of {', '.join(REFUND_METHODS)}")


class ExtractionResult(BaseModel):
    """The refund fields of one contract plus what it cost to get them (provider, tokens, time)."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    gap_insurance_premium: FieldResult
    refund_calculation_method: FieldResult
    cancellation_fee: FieldResult
    term_months: FieldResult
    governing_state: FieldResult
    apr: FieldResult
    provider: str
    model_version: str
    prompt_version: str
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    processing_ms: int = Field(ge=0)

    @model_validator(mode="after")
    def _fields_in_their_slots(self) -> Self:
        for name in FIELD_NAMES:
            if getattr(self, name).name != name:
                raise ValueError(f"the {name} slot holds a result for {getattr(self, name).name}")
        return self

    def fields(self) -> tuple[FieldResult, ...]:
        return tuple(getattr(self, name) for name in FIELD_NAMES)

    @property
    def min_confidence(self) -> int:
        """The queue orders by the weakest weighed field: one doubtful field is enough to need a reviewer."""
        return weakest_confidence({field.name: field.confidence for field in self.fields()}, self.method)

    @property
    def method(self) -> str | None:
        """The refund method read, which decides whether the APR counts (``services.domain.weighed_fields``)."""
        value = self.refund_calculation_method.value
        return value if isinstance(value, str) else None
