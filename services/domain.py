"""Small domain types that several capabilities share, at the bottom of services/.

They live here, not in the big module that first needed them, so that a module wanting a name of a
provider or a confidence band does not pull in the queue or the review logic with it. This module
imports nothing from services/ (an import-linter contract keeps it so).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args

# The three refund fields an extraction reads from a contract, and how screens and summaries name them.
FieldName = Literal["gap_insurance_premium", "refund_calculation_method", "cancellation_fee"]
FIELD_NAMES: tuple[FieldName, ...] = get_args(FieldName)
FIELD_LABELS: dict[str, str] = {
    "gap_insurance_premium": "GAP premium",
    "refund_calculation_method": "refund method",
    "cancellation_fee": "cancellation fee",
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
