"""The state of one item that a refused write explains itself with, and the refusals themselves.

Every write carries the version the reviewer saw and is refused with a sentence naming who changed the
item and when, so that a stale screen can never overwrite someone else's work.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Select,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import AuditEvent, Extraction, User
from services.context import Actor
from services.domain import FIELD_NAMES, FieldName
from services.errors import Conflict, NotFound
from services.review.statements import ITEM
from services.review.types import clock
from services.system_settings import setting_sql

# Events that change what a reviewer sees; the latest one names who made a screen stale.
_CHANGE_EVENTS = ("correct", "approve", "reject", "reopen", "extract")


@dataclass(frozen=True)
class ItemState:
    """What a refusal needs to explain itself: status, version, claim and last decision of one item."""

    contract_id: str
    status: str
    version: int
    claimed_by: uuid.UUID | None
    claimant: str | None
    claim_expires_at: dt.datetime | None
    claim_live: bool
    reviewed_by: uuid.UUID | None
    reviewer: str | None
    reviewed_at: dt.datetime | None
    values: dict[FieldName, Decimal | str | None]
    require_reason: bool
    as_of: dt.datetime

    def held_by_other(self, user_id: uuid.UUID | None) -> bool:
        return self.claim_live and self.claimed_by != user_id


# Built once: an alias made per call costs more Python than the query's whole round trip.
_CLAIMANT, _REVIEWER = aliased(User), aliased(User)


def _state_statement(*, lock: bool) -> Select[Any]:
    claimant, reviewer = _CLAIMANT, _REVIEWER
    stmt = (
        select(
            Extraction.contract_id,
            Extraction.status,
            Extraction.version,
            Extraction.claimed_by,
            claimant.username.label("claimant"),
            Extraction.claim_expires_at,
            func.coalesce(Extraction.claim_expires_at > func.now(), False).label("claim_live"),
            Extraction.reviewed_by,
            reviewer.username.label("reviewer"),
            Extraction.reviewed_at,
            *(getattr(Extraction, name) for name in FIELD_NAMES),
            setting_sql("require_correction_reason").label("require_reason"),
            func.now().label("as_of"),
        )
        .outerjoin(claimant, claimant.id == Extraction.claimed_by)
        .outerjoin(reviewer, reviewer.id == Extraction.reviewed_by)
        .where(Extraction.id == ITEM)
    )
    return stmt.with_for_update(of=Extraction) if lock else stmt


_STATE = {lock: _state_statement(lock=lock) for lock in (False, True)}


async def load_state(session: AsyncSession, extraction_id: uuid.UUID, *, lock: bool = False) -> ItemState:
    row = (await session.execute(_STATE[lock], {"item": extraction_id})).first()
    if row is None:
        raise NotFound("That extraction does not exist (any more). Reload the queue.")
    return ItemState(
        contract_id=row.contract_id,
        status=row.status,
        version=row.version,
        claimed_by=row.claimed_by,
        claimant=row.claimant,
        claim_expires_at=row.claim_expires_at,
        claim_live=row.claim_live,
        reviewed_by=row.reviewed_by,
        reviewer=row.reviewer,
        reviewed_at=row.reviewed_at,
        values={name: getattr(row, name) for name in FIELD_NAMES},
        require_reason=row.require_reason,
        as_of=row.as_of,
    )


def who(username: str | None, actor: Actor) -> str:
    if username is None:
        return "the system"
    return "you" if username == actor.username else username


def decided_conflict(state: ItemState, actor: Actor) -> Conflict:
    when = f" at {clock(state.reviewed_at)}" if state.reviewed_at else ""
    return Conflict(
        f"{state.contract_id} was already {state.status} by {who(state.reviewer, actor)}{when} "
        "— reload to see the decision."
    )


def claimed_conflict(state: ItemState, actor: Actor) -> Conflict:
    until = clock(state.claim_expires_at) if state.claim_expires_at else "later"
    return Conflict(
        f"{state.contract_id} is being reviewed by {who(state.claimant, actor)} (claimed until {until}); "
        "it stays theirs until they finish, release it or the claim runs out."
    )


async def changed_conflict(session: AsyncSession, state: ItemState, actor: Actor) -> Conflict:
    last = (
        await session.execute(
            select(AuditEvent.occurred_at, User.username)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.contract_id == state.contract_id, AuditEvent.event_type.in_(_CHANGE_EVENTS))
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    ).first()
    if last is None:
        return Conflict(f"{state.contract_id} has changed since you opened it — reload to see the change.")
    return Conflict(
        f"{state.contract_id} was changed by {who(last.username, actor)} at {clock(last.occurred_at)} "
        "— reload to see the change."
    )


async def ensure_writable(
    session: AsyncSession, state: ItemState, actor: Actor, expected_version: int
) -> None:
    """Raise the Conflict that explains why this pending-item write cannot be applied, if any."""
    if state.status != "pending":
        raise decided_conflict(state, actor)
    if state.held_by_other(actor.user_id):
        raise claimed_conflict(state, actor)
    if state.version != expected_version:
        raise await changed_conflict(session, state, actor)
