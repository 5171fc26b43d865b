"""Small domain types that several capabilities share, at the bottom of services/.

They live here, not in the big module that first needed them, so that a module wanting a name of a
provider or a confidence band does not pull in the queue or the review logic with it. This module
imports nothing from services/ (an import-linter contract keeps it so).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Literal, get_args

# The refund fields an extraction reads from a contract, and how screens and summaries name them. The last
# three (migration 0011) came later: an extraction made before them has NULL in their confidence, shown as
# "not yet extracted" until the contract is extracted again.
FieldName = Literal[
    "gap_insurance_premium",
    "refund_calculation_method",
    "cancellation_fee",
    "term_months",
    "governing_state",
    "apr",
]
FIELD_NAMES: tuple[FieldName, ...] = get_args(FieldName)
LATER_FIELDS: tuple[FieldName, ...] = ("term_months", "governing_state", "apr")
FIELD_LABELS: dict[str, str] = {
    "gap_insurance_premium": "GAP premium",
    "refund_calculation_method": "refund method",
    "cancellation_fee": "cancellation fee",
    "term_months": "term (months)",
    "governing_state": "governing state",
    "apr": "APR",
}
RefundMethod = Literal["Pro-Rata", "Rule of 78s", "Actuarial", "Short-Rate", "Unknown"]
REFUND_METHODS: tuple[RefundMethod, ...] = get_args(RefundMethod)

# Who produced an extraction: the offline rules, or one of the LLM providers.
ProviderName = Literal["rules", "anthropic", "bedrock", "openai"]
LLMProviderName = Literal["anthropic", "bedrock", "openai"]
PROVIDER_NAMES: tuple[ProviderName, ...] = get_args(ProviderName)

# Where an extraction stands in review (extractions_status_valid).
ExtractionStatus = Literal["pending", "approved", "rejected"]


class ConfidenceBand(StrEnum):
    """Ranges of an item's weakest-field confidence, as the queue filter and the counts show them."""

    LOW = "0-49"
    MEDIUM = "50-79"
    HIGH = "80-100"

    @property
    def bounds(self) -> tuple[int, int]:
        low, high = self.value.split("-")
        return int(low), int(high)


# A field that counts in the weakest-field rule only under one refund method (see ``weighed_fields``).
COUNTS_ONLY_FOR_METHOD: dict[FieldName, RefundMethod] = {"apr": "Actuarial"}


def weighed_fields(method: str | None) -> tuple[FieldName, ...]:
    """The fields whose confidence decides whether an extraction needs a person (its weakest field).

    A wrong term or state changes the refund as much as a wrong premium, so they count like the first three.
    The APR only enters the Actuarial calculation, and most contracts rightly state none: it counts only
    when the method is Actuarial, so that "APR not stated" does not send every other contract to review.
    A field not yet extracted (NULL confidence on an extraction older than migration 0011) never counts.
    The generated column ``extractions.min_confidence`` (schema/v0011) is the same rule in SQL, and there
    also 0 for an item whose fields the refund checks flag (services/refunds/field_checks.py).
    """
    return tuple(name for name in FIELD_NAMES if COUNTS_ONLY_FOR_METHOD.get(name, method) == method)


def weakest_confidence(confidences: Mapping[FieldName, int | None], method: str | None) -> int:
    """The confidence the queue orders by: the lowest of the weighed fields that have been extracted."""
    return min(c for name in weighed_fields(method) if (c := confidences.get(name)) is not None)


def value_text(value: Decimal | int | str | None) -> str | None:
    """A field's value as corrections and double checks keep it: text, decimals in plain notation (never
    an exponent), None when the contract states none."""
    if value is None:
        return None
    return format(value, "f") if isinstance(value, Decimal) else str(value)
