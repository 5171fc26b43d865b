"""Reviewing extractions: the queue, claims, the detail of one item, corrections and decisions.

The screens, the commands and the benchmarks import from here; modules inside services/ import from the
precise submodule instead, so that nothing goes round through this file.
"""

from services.domain import ConfidenceBand
from services.review.claims import claim_extraction, claim_next, release, release_all_claims
from services.review.corrections import correct_field, parse_field_value
from services.review.decisions import REJECTION_REASONS, approve, reject, reopen, undo_last_decision
from services.review.detail import get_detail, get_detail_by_contract
from services.review.queue import (
    NO_FILTER,
    QueueCounts,
    QueueCursor,
    QueueFilter,
    QueueItem,
    QueuePage,
    queue_counts,
    queue_page,
)
from services.review.types import (
    NOT_STATED,
    ClaimInfo,
    CorrectionEntry,
    CorrectionReason,
    Decision,
    ExtractionDetail,
    FieldDetail,
    HistoryEntry,
    clock,
    display_value,
)

__all__ = [
    "NOT_STATED",
    "NO_FILTER",
    "REJECTION_REASONS",
    "ClaimInfo",
    "ConfidenceBand",
    "CorrectionEntry",
    "CorrectionReason",
    "Decision",
    "ExtractionDetail",
    "FieldDetail",
    "HistoryEntry",
    "QueueCounts",
    "QueueCursor",
    "QueueFilter",
    "QueueItem",
    "QueuePage",
    "approve",
    "claim_extraction",
    "claim_next",
    "clock",
    "correct_field",
    "display_value",
    "get_detail",
    "get_detail_by_contract",
    "parse_field_value",
    "queue_counts",
    "queue_page",
    "reject",
    "release",
    "release_all_claims",
    "reopen",
    "undo_last_decision",
]
