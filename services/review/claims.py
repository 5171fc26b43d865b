"""Claims, the leases that keep reviewers apart: claim the next or a chosen item, release, release all.

A claimed item is skipped by everyone else until its reviewer decides it, releases it or lets the lease
run out. A reviewer holds one item at a time in the normal flow (claim_next hands back the one they hold
before taking another), so the claimed rows a claim has to step over at the head of the queue are at
most one per reviewer at work, not a growing pile.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    Update,
    all_,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from db.models import Extraction
from db.uow import UnitOfWork
from services.access import authorize
from services.context import Actor, ServiceContext
from services.errors import Conflict
from services.permissions import Permission
from services.quality.double_checks import awaiting_other_than, refuse_first_reviewer
from services.review.detail import reload_after_commit
from services.review.queue import NO_FILTER, QUEUE_ORDER, QueueFilter
from services.review.state import claimed_conflict, decided_conflict, load_state
from services.review.statements import ACTOR, IS_PENDING, ITEM, claim_open_to, lease_end
from services.review.types import ExtractionDetail

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
        .order_by(*QUEUE_ORDER)
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
            ~awaiting_other_than(ACTOR),
            ~select(mine.c.id).exists(),
            *wanted.conditions(),
        )
        .order_by(*QUEUE_ORDER)
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
    .where(Extraction.id == ITEM, IS_PENDING, claim_open_to(ACTOR), ~awaiting_other_than(ACTOR))
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
            await refuse_first_reviewer(uow.session, extraction_id, state.contract_id, ctx.actor)
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
