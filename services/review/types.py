"""What the review screens are shown and handed back: the detail of one extraction, its fields, decisions.

Plain values with no database access, so that every module of the package (and the screens) can import
them without pulling in a statement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict

from services.domain import FIELD_NAMES, ExtractionStatus, FieldName, value_text
from services.errors import InvalidInput
from services.extraction.types import SourceSpan
from services.refunds.preview import RefundPreview

# What a screen shows, and a reviewer types, for a cancellation fee the contract does not mention (NULL).
NOT_STATED = "not stated"
# What a screen shows for a field the extraction predates (migration 0011: NULL confidence); extracting the
# contract again fills it.
NOT_YET_EXTRACTED = "not yet extracted"


class CorrectionReason(StrEnum):
    """The reason codes allowed by corrections_reason_code_valid."""

    MISREAD_VALUE = "misread_value"
    WRONG_SOURCE = "wrong_source"
    MISSING_VALUE = "missing_value"
    NOT_IN_CONTRACT = "not_in_contract"
    METHOD_MISCLASSIFIED = "method_misclassified"
    DOCUMENT_QUALITY = "document_quality"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class FieldDetail(BaseModel):
    name: FieldName
    label: str
    value: Decimal | int | str | None
    # None: not yet extracted (the extraction predates the field); a value then was typed by a reviewer.
    confidence: int | None
    # The field's own threshold (field_thresholds, else confidence_threshold), as the routing applies it.
    threshold: int
    # Below its threshold and weighed (services.domain.weighed_fields): what sends the item to a person.
    below_threshold: bool
    # Whether its confidence counts in the item's weakest-field order (the APR only for Actuarial).
    weighed: bool = True
    # Where the value was read from, as the extraction stored it (extractions.*_source).
    source: SourceSpan | None
    corrected: bool

    @property
    def extracted(self) -> bool:
        """False for a field the extraction predates and nobody has filled in since."""
        return self.confidence is not None or self.value is not None

    @property
    def display_value(self) -> str:
        return display_value(self.value) if self.extracted else NOT_YET_EXTRACTED


class ClaimInfo(BaseModel):
    user_id: uuid.UUID
    username: str
    claimed_at: dt.datetime
    expires_at: dt.datetime


class CorrectionEntry(BaseModel):
    field: FieldName
    old: str | None
    new: str | None
    reason: CorrectionReason
    note: str | None
    by: str
    at: dt.datetime


class HistoryEntry(BaseModel):
    event_type: str
    by: str | None
    at: dt.datetime
    summary: str
    data: dict[str, Any]


class ExtractionDetail(BaseModel):
    """Everything the review screen shows for one extraction, read in one statement."""

    model_config = ConfigDict(protected_namespaces=())

    extraction_id: uuid.UUID
    contract_id: str
    account_number: str
    customer_name: str
    contract_type: str
    contract_date: dt.date | None
    vehicle_info: dict[str, Any]
    page_count: int | None
    document_text: str | None
    fields: list[FieldDetail]
    min_confidence: int
    llm_provider: str
    model_version: str
    prompt_version: str
    fallback_from: str | None
    fallback_reason: str | None
    processing_time_ms: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    extracted_at: dt.datetime
    status: ExtractionStatus
    version: int
    # Drawn for QA although every field passed its threshold (routing.py): its confidence is kept from the
    # reviewer until it is decided, so that the QA outcome measures the values, not the stated figure.
    qa_sample: bool
    # When its first decision was made, while a QA item waits for its second reviewer (double_checks.py):
    # that decision and its corrections are then left out of `corrections` and `history`.
    double_check_since: dt.datetime | None = None
    claim: ClaimInfo | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_seconds: int | None
    rejection_reason: str | None
    corrections: list[CorrectionEntry]
    history: list[HistoryEntry]
    as_of: dt.datetime
    # The refund if cancelled today and the checks of the fields against the state's rule (None without a
    # contract date); services/refunds/preview.py.
    refund: RefundPreview | None = None

    def field(self, name: FieldName) -> FieldDetail:
        return next(f for f in self.fields if f.name == name)

    @property
    def confidence_hidden(self) -> bool:
        """A pending QA item: the reviewer must judge the values without the figure that would anchor them.

        Once decided the figures show again (history, reopening, search); after an undo the item is
        pending again and its decision is to be made afresh, so they are hidden again.
        """
        return self.qa_sample and self.status == "pending"

    def claimed_by(self, user_id: uuid.UUID | None) -> bool:
        return self.claim is not None and self.claim.user_id == user_id


class Decision(BaseModel):
    """The outcome of approve, reject, or reopen; `undo_until` tells the screen how long undo is offered."""

    extraction_id: uuid.UUID
    contract_id: str
    status: ExtractionStatus
    version: int
    decided_by: str
    decided_at: dt.datetime
    review_seconds: int | None = None
    reason: str | None = None
    undo_until: dt.datetime | None = None
    # A QA item's first decision drawn for a double check: it is back in the queue for someone else.
    double_check: bool = False


def display_value(value: Decimal | int | str | None) -> str:
    shown = value_text(value)
    return NOT_STATED if shown is None else shown


def clock(moment: dt.datetime) -> str:
    """A time for a sentence, in the reader's local time: "14:02", or "2024-05-01 14:02" if not today."""
    local = moment.astimezone()
    if local.date() == dt.datetime.now().astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def is_field(name: str) -> TypeGuard[FieldName]:
    return name in FIELD_NAMES


def checked_field(field: str) -> FieldName:
    if not is_field(field):
        raise InvalidInput(f"There is no field {field!r}; choose one of {', '.join(FIELD_NAMES)}.")
    return field
