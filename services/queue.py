"""The review queue: pending extractions, weakest first, and the claims that keep reviewers apart.

Pages follow the order of the partial index extractions_queue_idx (min_confidence, extracted_at, id)
with a keyset cursor and a LIMIT, so a page costs the same at the head of a 300,000-item queue as at its
tail; the totals are a separate call that the screen refreshes less often.

Claims are leases: a claimed item is skipped by everyone else until its reviewer decides it, releases it
or lets the lease run out. A reviewer holds one item at a time in the normal flow (claim_next hands back
the one they hold before taking another), so the claimed rows a claim has to step over at the head of the
queue are at most one per reviewer at work, not a growing pile.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Collection
from enum import StrEnum
from typing import Any, Literal, TypeGuard, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Update,
    all_,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import aliased

from db.models import Contract, Extraction, User
from db.uow import UnitOfWork
from services.access import authorize
from services.context import Actor, ServiceContext
from services.errors import Conflict, InvalidInput
from services.extraction.types import FIELD_NAMES, FieldName
from services.permissions import Permission
from services.quality.routing import below_thresholds_sql, field_threshold_sql
from services.review import (
    ACTOR,
    IS_PENDING,
    ITEM,
    ExtractionDetail,
    checked_field,
    claim_open_to,
    claimed_conflict,
    decided_conflict,
    lease_end,
    load_state,
    reload_after_commit,
    setting,
)

Provider = Literal["rules", "anthropic", "bedrock", "openai"]
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
MAX_PAGE_SIZE = 200


class ConfidenceBand(StrEnum):
    """Ranges of an item's weakest-field confidence, as the queue filter and the counts show them."""

    LOW = "0-49"
    MEDIUM = "50-79"
    HIGH = "80-100"

    @property
    def bounds(self) -> tuple[int, int]:
        low, high = self.value.split("-")
        return int(low), int(high)


class QueueCursor(BaseModel):
    """Where the next page starts: the sort key of the last item of the previous page."""

    min_confidence: int
    extracted_at: dt.datetime
    extraction_id: uuid.UUID


class QueueItem(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    extraction_id: uuid.UUID
    contract_id: str
    customer_name: str
    min_confidence: int
    lowest_field: FieldName
    confidences: dict[FieldName, int]
    llm_provider: str
    model_version: str
    extracted_at: dt.datetime
    claimed_by: str | None
    claim_expires_at: dt.datetime | None
    version: int

    @property
    def cursor(self) -> QueueCursor:
        return QueueCursor(
            min_confidence=self.min_confidence,
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
    by_band: dict[ConfidenceBand, int]
    claimed_now: int
    # Pending extractions that passed every threshold but were drawn for a person to check (QA sample).
    qa_samples: int = 0


def _lowest(confidences: dict[FieldName, int]) -> FieldName:
    return min(FIELD_NAMES, key=lambda name: confidences[name])


def _confidence(name: FieldName) -> Any:
    return getattr(Extraction, f"{name}_confidence")


def _is_provider(name: str) -> TypeGuard[Provider]:
    return name in PROVIDERS


def _provider(provider: str | None) -> Provider | None:
    if provider is not None and not _is_provider(provider):
        raise InvalidInput(f"Filter by one of the providers {', '.join(PROVIDERS)}.")
    return provider


def _band(band: str | None) -> ConfidenceBand | None:
    try:
        return None if band is None else ConfidenceBand(band)
    except ValueError:
        bands = ", ".join(b.value for b in ConfidenceBand)
        raise InvalidInput(f"Filter by one of the confidence bands {bands}.") from None


# Built once: an alias made per call costs more Python than the query's whole round trip.
_CLAIMANT = aliased(User)


# Queue order: weakest field first, then oldest; the id makes it total (keyset pagination).
_QUEUE_ORDER = (Extraction.min_confidence, Extraction.extracted_at, Extraction.id)


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
            Extraction.llm_provider,
            Extraction.model_version,
            Extraction.extracted_at,
            claimant.username.label("claimed_by"),
            case((live, Extraction.claim_expires_at)).label("claim_expires_at"),
            Extraction.version,
        )
        .join(Contract, Contract.contract_id == Extraction.contract_id)
        .outerjoin(claimant, and_(claimant.id == Extraction.claimed_by, live))
        .where(IS_PENDING)
        .order_by(*_QUEUE_ORDER)
        .limit(bindparam("rows", type_=Integer))
    )


# Built once, as the claim statements are: the first page, and a page after a cursor.
_PAGE_HEAD = _page_head()
_PAGE_AFTER = _PAGE_HEAD.where(
    tuple_(*_QUEUE_ORDER)
    > tuple_(
        bindparam("after_confidence", type_=Integer),
        bindparam("after_extracted_at", type_=Extraction.extracted_at.type),
        bindparam("after_id", type_=PG_UUID(as_uuid=True)),
    )
)


class QueueFilter(BaseModel):
    """What the reviewer narrowed the queue to; the list and `claim_next` apply the same conditions."""

    model_config = ConfigDict(frozen=True)

    field: FieldName | None = None
    provider: Provider | None = None
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
            conditions += [_confidence(self.field) < threshold, Extraction.min_confidence < threshold]
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
                "after_confidence": after.min_confidence,
                "after_extracted_at": after.extracted_at,
                "after_id": after.extraction_id,
            }
        rows = (await uow.session.execute(stmt, parameters)).all()
        await uow.commit()
    items = []
    for row in rows[:limit]:
        confidences: dict[FieldName, int] = {name: getattr(row, f"{name}_confidence") for name in FIELD_NAMES}
        items.append(
            QueueItem(
                extraction_id=row.id,
                contract_id=row.contract_id,
                customer_name=row.customer_name,
                min_confidence=row.min_confidence,
                lowest_field=_lowest(confidences),
                confidences=confidences,
                llm_provider=row.llm_provider,
                model_version=row.model_version,
                extracted_at=row.extracted_at,
                claimed_by=row.claimed_by,
                claim_expires_at=row.claim_expires_at,
                version=row.version,
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
    threshold = setting("confidence_threshold", Integer)
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
        by_band={band: getattr(row, band.name) for band in ConfidenceBand},
        claimed_now=row.claimed,
        qa_samples=row.qa_samples,
    )


# The claim statements are built once, with the reviewer (ACTOR) and the item (ITEM) as bind parameters.


def _claim(user_id: Any) -> dict[Any, Any]:
    """The SET of a claim; a reviewer taking back their own live claim keeps its start (for review_seconds)."""
    own_live = and_(Extraction.claimed_by == user_id, Extraction.claim_expires_at > func.now())
    return {
        Extraction.claimed_by: user_id,
        Extraction.claimed_at: case((own_live, Extraction.claimed_at), else_=func.now()),
        Extraction.claim_expires_at: lease_end(),
    }


# claimed_at is now() exactly when the claim is new: now() is the start of this transaction.
_CLAIMED = (
    Extraction.id,
    Extraction.contract_id,
    (Extraction.claimed_at < func.now()).label("resumed"),
    Extraction.claim_expires_at,
)


@functools.lru_cache(maxsize=64)
def _claim_next_statement(wanted: QueueFilter = NO_FILTER) -> Update:
    """One UPDATE: the reviewer's own live claim if any (renewed), else the first free item in queue order
    that `wanted` lets through. Built once per filter: building one costs more than running it.

    SKIP LOCKED lets concurrent claimers pass over each other's rows instead of waiting on them; a row
    that someone else claimed and committed meanwhile is re-checked after locking and passed over.
    """
    mine = (
        select(Extraction.id)
        .where(Extraction.claimed_by == ACTOR, IS_PENDING, Extraction.claim_expires_at > func.now())
        .order_by(*_QUEUE_ORDER)
        .limit(1)
        .with_for_update()
        .cte("mine")
    )
    free = (
        select(Extraction.id)
        .where(
            IS_PENDING,
            or_(Extraction.claimed_by.is_(None), Extraction.claim_expires_at <= func.now()),
            Extraction.id != all_(bindparam("skip", type_=ARRAY(PG_UUID(as_uuid=True)))),
            ~select(mine.c.id).exists(),
            *wanted.conditions(),
        )
        .order_by(*_QUEUE_ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .cte("free")
    )
    picked = union_all(select(mine.c.id), select(free.c.id)).cte("picked")
    return (
        update(Extraction)
        .where(Extraction.id == picked.c.id)
        .values(_claim(ACTOR))
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    )


_CLAIM_ONE = (
    update(Extraction)
    .where(Extraction.id == ITEM, IS_PENDING, claim_open_to(ACTOR))
    .values(_claim(ACTOR))
    .returning(*_CLAIMED)
    .execution_options(synchronize_session=False)
)
_RELEASE = (
    update(Extraction)
    .where(Extraction.id == ITEM, Extraction.claimed_by == ACTOR, IS_PENDING)
    .values(claimed_by=None, claimed_at=None, claim_expires_at=None)
    .returning(Extraction.contract_id)
    .execution_options(synchronize_session=False)
)


async def _claimed(ctx: ServiceContext, uow: UnitOfWork, row: Any) -> ExtractionDetail:
    uow.record(
        ctx.actor.event(
            "claim",
            contract_id=row.contract_id,
            extraction_id=str(row.id),
            resumed=row.resumed,
            expires_at=row.claim_expires_at.isoformat(),
        )
    )
    await uow.commit()
    # Read after the commit so that the history shown includes this claim.
    return await reload_after_commit(uow.session, row.id, f"{row.contract_id} is yours to review.")


async def claim_next(
    ctx: ServiceContext, *, skip: Collection[uuid.UUID] = (), wanted: QueueFilter = NO_FILTER
) -> ExtractionDetail | None:
    """The item this reviewer works on next: the one they already hold, else the head of the queue.

    `skip` lists items the reviewer has just released and does not want straight back (a released item
    returns to its place at the head). `wanted` is the queue filter the reviewer works through: the
    next item is the head of the filtered list they see. None when nothing is left to claim.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.CLAIM)
        row = (
            await uow.session.execute(
                _claim_next_statement(wanted), {"actor": ctx.actor.user_id, "skip": list(skip)}
            )
        ).first()
        if row is None:
            await uow.commit()
            return None
        return await _claimed(ctx, uow, row)


async def claim_extraction(ctx: ServiceContext, extraction_id: uuid.UUID) -> ExtractionDetail:
    """Claim one chosen item (opened from the queue list); renews the lease when the reviewer holds it."""
    uid = ctx.actor.user_id
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.CLAIM)
        row = (await uow.session.execute(_CLAIM_ONE, {"actor": uid, "item": extraction_id})).first()
        if row is None:
            state = await load_state(uow.session, extraction_id)
            if state.status != "pending":
                raise decided_conflict(state, ctx.actor)
            if state.held_by_other(uid):
                raise claimed_conflict(state, ctx.actor)
            raise Conflict(f"{state.contract_id} changed while you were claiming it — try again.")
        return await _claimed(ctx, uow, row)


async def release(ctx: ServiceContext, extraction_id: uuid.UUID) -> bool:
    """Give back a claim so that others may take the item; False when the reviewer held none on it."""
    uid = ctx.actor.user_id
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.CLAIM)
        contract_id = await uow.session.scalar(_RELEASE, {"actor": uid, "item": extraction_id})
        if contract_id is None:
            state = await load_state(uow.session, extraction_id)
            if state.status == "pending" and state.held_by_other(uid):
                raise claimed_conflict(state, ctx.actor)
            await uow.commit()
            return False
        uow.record(ctx.actor.event("release", contract_id=contract_id, extraction_id=str(extraction_id)))
        await uow.commit()
    return True


_RELEASE_ALL = (
    update(Extraction)
    .where(Extraction.claimed_by == ACTOR, IS_PENDING)
    .values(claimed_by=None, claimed_at=None, claim_expires_at=None)
    .returning(Extraction.id, Extraction.contract_id)
    .execution_options(synchronize_session=False)
)


async def release_all_claims(uow: UnitOfWork, actor: Actor, *, reason: str) -> int:
    """Give back every item the actor holds, in the caller's transaction, each with its `release` event.

    For logging out: the caller has checked who the actor is. Returns how many were released.
    """
    rows = (await uow.session.execute(_RELEASE_ALL, {"actor": actor.user_id})).all()
    for row in rows:
        uow.record(
            actor.event("release", contract_id=row.contract_id, extraction_id=str(row.id), reason=reason)
        )
    return len(rows)
