"""The review queue: pending extractions, weakest first, a page at a time, and its totals.

Pages follow the order of the partial index extractions_rank_queue_idx (queue_rank, extracted_at, id)
with a keyset cursor and a LIMIT, so a page costs the same at the head of a 300,000-item queue as at its
tail; the totals are a separate call that the screen refreshes less often.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import aliased

from db.models import Contract, Extraction, User
from services.access import authorize
from services.context import ServiceContext
from services.domain import (
    FIELD_NAMES,
    PROVIDER_NAMES,
    ConfidenceBand,
    FieldName,
    ProviderName,
    weighed_fields,
)
from services.errors import InvalidInput
from services.permissions import Permission
from services.quality.routing import (
    below_thresholds_sql,
    field_threshold_sql,
    own_thresholds_sql,
    weighed_below_sql,
)
from services.review.statements import IS_PENDING
from services.review.types import checked_field
from services.system_settings import setting_sql

MAX_PAGE_SIZE = 200


class QueueCursor(BaseModel):
    """Where the next page starts: the sort key of the last item of the previous page."""

    queue_rank: int
    extracted_at: dt.datetime
    extraction_id: uuid.UUID


class QueueItem(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    extraction_id: uuid.UUID
    contract_id: str
    customer_name: str
    min_confidence: int
    lowest_field: FieldName
    # None: the field was not yet extracted (an extraction older than migration 0011).
    confidences: dict[FieldName, int | None]
    llm_provider: str
    model_version: str
    extracted_at: dt.datetime
    claimed_by: str | None
    claim_expires_at: dt.datetime | None
    version: int
    # A QA sample: the queue shows "QA" instead of its confidence (see ExtractionDetail.qa_sample).
    qa_sample: bool = False
    # Its place in the queue: the weakest field's confidence, or for a QA sample a random key (QUEUE_ORDER).
    queue_rank: int = 0
    # Fields the refund checks flag (services/refunds/field_checks.py): min_confidence is then 0.
    refund_flags: list[FieldName] = []

    @property
    def cursor(self) -> QueueCursor:
        return QueueCursor(
            queue_rank=self.queue_rank,
            extracted_at=self.extracted_at,
            extraction_id=self.extraction_id,
        )


class QueuePage(BaseModel):
    items: list[QueueItem]
    # None on the last page.
    next_cursor: QueueCursor | None


class QueueCounts(BaseModel):
    total_pending: int
    below_threshold: int
    threshold: int
    # Whether some field (or provider) has a threshold of its own (field_thresholds): then `threshold`, the
    # global one, is not what `below_threshold` was counted against, and the header must not say it is.
    own_thresholds: bool = False
    by_band: dict[ConfidenceBand, int]
    claimed_now: int
    # Pending extractions that passed every threshold but were drawn for a person to check (QA sample).
    qa_samples: int = 0


def _lowest(confidences: dict[FieldName, int | None], method: str | None) -> FieldName:
    """The weighed field (``services.domain.weighed_fields``) that gives the item its place in the queue."""
    scored = [name for name in weighed_fields(method) if confidences[name] is not None]
    return min(scored, key=lambda name: confidences[name] or 0)


def _confidence(name: FieldName) -> Any:
    return getattr(Extraction, f"{name}_confidence")


def _is_provider(name: str) -> TypeGuard[ProviderName]:
    return name in PROVIDER_NAMES


def _provider(provider: str | None) -> ProviderName | None:
    if provider is not None and not _is_provider(provider):
        raise InvalidInput(f"Filter by one of the providers {', '.join(PROVIDER_NAMES)}.")
    return provider


def _band(band: str | None) -> ConfidenceBand | None:
    try:
        return None if band is None else ConfidenceBand(band)
    except ValueError:
        bands = ", ".join(b.value for b in ConfidenceBand)
        raise InvalidInput(f"Filter by one of the confidence bands {bands}.") from None


# Built once: an alias made per call costs more Python than the query's whole round trip.
_CLAIMANT = aliased(User)


# Queue order: weakest field first, then oldest; the id makes it total (keyset pagination). A QA sample's
# rank is a random key drawn when it was made (schema/v0013), not its confidence, which the reviewer must
# not learn from where it sits among the others.
QUEUE_ORDER = (Extraction.queue_rank, Extraction.extracted_at, Extraction.id)


def _page_head() -> Select[Any]:
    """The queue in its order, `limit` + 1 rows (the extra one says whether there is a next page)."""
    claimant = _CLAIMANT
    live = Extraction.claim_expires_at > func.now()
    return (
        select(
            Extraction.id,
            Extraction.contract_id,
            Contract.customer_name,
            Extraction.min_confidence,
            *(_confidence(name) for name in FIELD_NAMES),
            Extraction.refund_calculation_method,
            Extraction.llm_provider,
            Extraction.model_version,
            Extraction.extracted_at,
            claimant.username.label("claimed_by"),
            case((live, Extraction.claim_expires_at)).label("claim_expires_at"),
            Extraction.version,
            Extraction.qa_sample,
            Extraction.queue_rank,
            Extraction.refund_flags,
        )
        .join(Contract, Contract.contract_id == Extraction.contract_id)
        .outerjoin(claimant, and_(claimant.id == Extraction.claimed_by, live))
        .where(IS_PENDING)
        .order_by(*QUEUE_ORDER)
        .limit(bindparam("rows", type_=Integer))
    )


# Built once, as the claim statements are: the first page, and a page after a cursor.
_PAGE_HEAD = _page_head()
_PAGE_AFTER = _PAGE_HEAD.where(
    tuple_(*QUEUE_ORDER)
    > tuple_(
        bindparam("after_rank", type_=Integer),
        bindparam("after_extracted_at", type_=Extraction.extracted_at.type),
        bindparam("after_id", type_=PG_UUID(as_uuid=True)),
    )
)


class QueueFilter(BaseModel):
    """What the reviewer narrowed the queue to; the list and `claim_next` apply the same conditions."""

    model_config = ConfigDict(frozen=True)

    field: FieldName | None = None
    provider: ProviderName | None = None
    band: ConfidenceBand | None = None

    @classmethod
    def checked(
        cls, field: str | None = None, provider: str | None = None, band: str | None = None
    ) -> QueueFilter:
        """A filter from what a screen or a caller typed, refused with a sentence when it names nothing known."""
        return cls(
            field=None if field is None else checked_field(field),
            provider=_provider(provider),
            band=_band(band),
        )

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.field, self.provider, self.band))

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of this filter over `extractions`."""
        conditions: list[ColumnElement[bool]] = []
        if self.field is not None:
            threshold = field_threshold_sql(self.field)
            # The second condition is implied by the first; it bounds the index scan.
            conditions += [weighed_below_sql(self.field), Extraction.min_confidence < threshold]
        if self.provider is not None:
            conditions.append(Extraction.llm_provider == self.provider)
        if self.band is not None:
            low, high = self.band.bounds
            conditions.append(Extraction.min_confidence.between(low, high))
        return conditions


NO_FILTER = QueueFilter()


async def queue_page(
    ctx: ServiceContext,
    *,
    after: QueueCursor | None = None,
    limit: int = 50,
    field: str | None = None,
    provider: str | None = None,
    band: str | None = None,
) -> QueuePage:
    """One page of pending extractions, lowest confidence first, then oldest."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"A queue page holds 1 to {MAX_PAGE_SIZE} items.")
        base = _PAGE_HEAD if after is None else _PAGE_AFTER
        stmt = base.where(*QueueFilter.checked(field, provider, band).conditions())
        parameters: dict[str, Any] = {"rows": limit + 1}
        if after is not None:
            parameters |= {
                "after_rank": after.queue_rank,
                "after_extracted_at": after.extracted_at,
                "after_id": after.extraction_id,
            }
        rows = (await uow.session.execute(stmt, parameters)).all()
        await uow.commit()
    items = []
    for row in rows[:limit]:
        confidences: dict[FieldName, int | None] = {
            name: getattr(row, f"{name}_confidence") for name in FIELD_NAMES
        }
        items.append(
            QueueItem(
                extraction_id=row.id,
                contract_id=row.contract_id,
                customer_name=row.customer_name,
                min_confidence=row.min_confidence,
                lowest_field=(
                    row.refund_flags[0]
                    if row.refund_flags
                    else _lowest(confidences, row.refund_calculation_method)
                ),
                confidences=confidences,
                llm_provider=row.llm_provider,
                model_version=row.model_version,
                extracted_at=row.extracted_at,
                claimed_by=row.claimed_by,
                claim_expires_at=row.claim_expires_at,
                version=row.version,
                qa_sample=row.qa_sample,
                queue_rank=row.queue_rank,
                refund_flags=row.refund_flags,
            )
        )
    return QueuePage(items=items, next_cursor=items[-1].cursor if len(rows) > limit else None)


async def queue_counts(ctx: ServiceContext) -> QueueCounts:
    """Totals for the queue header, in one statement.

    Every pending count reads only the field confidences and the QA flag, which extractions_routing_idx
    holds (migration 0010: per-field thresholds need each field, not just the weakest), so PostgreSQL can
    answer from the index alone (an index-only scan) rather than visiting 300,000 table rows; the live
    claims are counted through the small claimed_by index.
    """
    threshold = setting_sql("confidence_threshold")
    bands = [
        func.count().filter(Extraction.min_confidence.between(*band.bounds)).label(band.name)
        for band in ConfidenceBand
    ]
    claimed = (
        select(func.count())
        .where(
            Extraction.claimed_by.is_not(None),
            Extraction.claim_expires_at > func.now(),
            IS_PENDING,
        )
        .scalar_subquery()
    )
    stmt = select(
        func.count().label("total"),
        func.count().filter(below_thresholds_sql()).label("below"),
        func.count().filter(Extraction.qa_sample).label("qa_samples"),
        *bands,
        threshold.label("threshold"),
        own_thresholds_sql().label("own_thresholds"),
        claimed.label("claimed"),
    ).where(IS_PENDING)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)
        row = (await uow.session.execute(stmt)).one()
        await uow.commit()
    return QueueCounts(
        total_pending=row.total,
        below_threshold=row.below,
        threshold=row.threshold,
        own_thresholds=row.own_thresholds,
        by_band={band: getattr(row, band.name) for band in ConfidenceBand},
        claimed_now=row.claimed,
        qa_samples=row.qa_samples,
    )
