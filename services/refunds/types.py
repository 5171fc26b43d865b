"""The value types of refund decisions: a jurisdiction rule, what a quote needs, and what it answers.

They sit at the bottom of ``services.refunds`` so that the calculation, the rule selection, the
database-backed services and the command line all speak the same validated shapes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.domain import RefundMethod
from services.extraction.types import MAX_AMOUNT
from services.refunds.states import STATE_NAMES, state_code

DEFAULT_STATE = "*"
"""The ``state`` of the rule that applies where no state has one of its own."""

RefundReason = Literal[
    "payoff",
    "refinance",
    "sale",
    "voluntary",
    "total-loss-benefit-paid",
    "total-loss-no-benefit",
    "repossession",
]
REFUND_REASONS: tuple[RefundReason, ...] = get_args(RefundReason)
REASON_LABELS: dict[RefundReason, str] = {
    "payoff": "early payoff",
    "refinance": "refinance",
    "sale": "sale or trade-in",
    "voluntary": "voluntary cancellation",
    "total-loss-benefit-paid": "total loss with a GAP benefit paid",
    "total-loss-no-benefit": "total loss without a GAP benefit",
    "repossession": "repossession or default",
}

# The days a quote can be asked about. A term (at most 600 months) and a payment deadline (at most 3650
# days) counted from them stay far inside what a date can hold: without a bound, a contract dated in the
# year 9999 broke the calculation (a date past the year 9999) instead of getting a sentence.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)

ProRataBasis = Literal["days", "months"]
Verdict = Literal["eligible", "not eligible", "needs information"]


class JurisdictionRule(BaseModel):
    """What one state's law says about GAP refunds, from ``effective_from`` until a later rule replaces it.

    ``methods_allowed`` empty means the rule does not restrict the method; ``fee_cap`` None with
    ``fee_allowed`` means no cap; ``written_request_days`` None means no window applies (for example
    where the refund is automatic on payoff).
    """

    model_config = ConfigDict(frozen=True)

    state: str
    effective_from: dt.date
    free_look_days: int = Field(default=0, ge=0, le=365)
    fee_allowed: bool = True
    fee_cap: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT, decimal_places=2)
    methods_allowed: tuple[RefundMethod, ...] = ()
    pro_rata_basis: ProRataBasis = "days"
    short_rate_factor: Decimal = Field(default=Decimal("0.90"), gt=0, le=1, decimal_places=4)
    written_request_days: int | None = Field(default=None, ge=0, le=3650)
    payment_due_days: int | None = Field(default=None, ge=0, le=3650)
    citation: str = Field(min_length=1, max_length=500)
    is_default: bool = False
    notes: str = Field(default="", max_length=1000)

    @field_validator("state", mode="before")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if isinstance(value, str) and value.strip() == DEFAULT_STATE:
            return DEFAULT_STATE
        return state_code(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.is_default != (self.state == DEFAULT_STATE):
            raise ValueError(f"the default rule, and only it, has the state {DEFAULT_STATE!r}")
        if not self.fee_allowed and self.fee_cap not in (None, Decimal(0)):
            raise ValueError("a rule that forbids a cancellation fee cannot also cap it above $0")
        return self

    @property
    def name(self) -> str:
        """How quotes name the rule's jurisdiction: the state's name, or "the default rule"."""
        return "the default rule" if self.is_default else STATE_NAMES[self.state]


class RefundInputs(BaseModel):
    """Everything a refund quote is computed from: the contract's fields and the request's.

    A field the contract did not yield (``term_months``, ``state``, ``method`` ...) is None, and the
    quote then says what is missing instead of guessing.
    """

    model_config = ConfigDict(frozen=True)

    premium: Decimal | None = Field(ge=0, le=MAX_AMOUNT, decimal_places=2)
    term_months: int | None = Field(default=None, ge=1, le=600)
    contract_date: dt.date
    cancel_date: dt.date
    method: RefundMethod | None
    fee: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT, decimal_places=2)
    state: str | None = None
    reason: RefundReason
    apr: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=4)
    request_date: dt.date | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _known_state(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else state_code(value)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        for name, day in (
            ("contract date", self.contract_date),
            ("cancellation date", self.cancel_date),
            ("request date", self.request_date),
        ):
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                raise ValueError(
                    f"the {name} {day} is outside the years {EARLIEST_DAY.year} to {LATEST_DAY.year}; "
                    "check the date"
                )
        if self.cancel_date < self.contract_date:
            raise ValueError(
                f"the cancellation date {self.cancel_date} is before the contract date {self.contract_date}"
            )
        if self.request_date is not None and self.request_date < self.contract_date:
            raise ValueError(
                f"the request date {self.request_date} is before the contract date {self.contract_date}"
            )
        return self


class Step(BaseModel):
    """One line of a calculation's explanation, with the values it used (as strings, exact)."""

    model_config = ConfigDict(frozen=True)

    text: str
    values: dict[str, str] = Field(default_factory=dict)


class Calculation(BaseModel):
    """A method's unrounded amount and how it was reached; the quote rounds once, at the very end."""

    model_config = ConfigDict(frozen=True)

    exact: Decimal
    steps: tuple[Step, ...]


class RefundQuote(BaseModel):
    """The answer: is a refund owed, how much, by which method, and the steps that show why.

    ``eligible`` is None and ``refund`` None when information is missing (``reasons`` names it);
    ``flags`` are findings a person should look at that do not change the amount.
    """

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    eligible: bool | None
    refund: Decimal | None
    gross_refund: Decimal | None
    fee_applied: Decimal
    method: str | None
    rule: JurisdictionRule | None
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    pay_by: dt.date | None
    steps: tuple[Step, ...]
