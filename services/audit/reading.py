"""The audit log for people: pages of it to read.

Reading. `audit_page` lists events newest first, filtered by user, contract,
event types and period, one keyset page at a time (`before` is the cursor of
the last page). Every filter walks an index that exists, newest end first,
and stops after one page, whatever the size of the log and however the
values are spread over the years:

- the whole log, or a period: `audit_events_seq_idx`, by sequence number;
- one contract: `(contract_id, seq)`, by sequence number;
- a person: `(user_id, occurred_at)`, by time then sequence number;
- kinds of event: `(event_type, occurred_at)`, one walk per kind, merged.

Ordering a person's events by sequence number would make PostgreSQL walk
the whole log backwards looking for them: fine for someone active today,
seconds for someone who left years ago (measured: 1.5 s at 10 million
events). Time and sequence order differ only for events that concurrent
transactions wrote within the same milliseconds. A period adds a predicate
on `occurred_at`, the partition key, so only the months asked for are
touched. Each item carries a one-line summary written for a person
("corrected premium 1250.00 → 1150.00 (misread_value)") beside the raw
`event_data`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEvent, User
from services.access import authorize
from services.audit.summaries import summarize_event
from services.context import ServiceContext
from services.errors import InvalidInput, NotFound
from services.input_text import contract_id as checked_contract_id
from services.input_text import has_hidden_characters
from services.permissions import Permission, allowed

# The CHECK list of audit_events.event_type (schema/v0001/02_audit.sql); a test keeps them equal.
EVENT_TYPES: tuple[str, ...] = (
    "login", "login_failed", "logout", "session_expired", "account_locked",
    "password_changed", "password_reset",
    "user_created", "user_updated", "user_deactivated", "user_reactivated", "user_unlocked",
    "search", "view", "claim", "release", "correct", "approve", "reject", "reopen",
    "extract", "extract_failed", "ingest", "chat", "config_changed",
    "audit_verified", "audit_exported", "partition_created", "partition_archived",
    "sessions_cleaned", "metrics_refreshed", "seed",
    "rules_changed", "refund_requested", "refund_approved", "refund_paid", "refunds_exported",  # schema/v0009
    "auto_approve",  # schema/v0010
    "refund_rejected",  # schema/v0012
    "qa_double_check",  # schema/v0013
)  # fmt: skip

MAX_PAGE = 1000
HASH_SHORT = 12


class AuditCursor(BaseModel):
    """Where the next (older) page starts: strictly after this event in the page's order."""

    model_config = ConfigDict(frozen=True)

    seq: int
    occurred_at: dt.datetime


class AuditItem(BaseModel):
    seq: int
    occurred_at: dt.datetime
    event_type: str
    username: str | None
    contract_id: str | None
    ip: str | None
    summary: str
    event_data: dict[str, Any]
    hash: str

    @property
    def hash_short(self) -> str:
        return self.hash[:HASH_SHORT]


class AuditPage(BaseModel):
    items: list[AuditItem]
    next_cursor: AuditCursor | None


async def audit_page(
    ctx: ServiceContext,
    *,
    user: str | uuid.UUID | None = None,
    contract_id: str | None = None,
    event_types: Sequence[str] | None = None,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    before: AuditCursor | None = None,
    limit: int = 100,
) -> AuditPage:
    """One page of the log, newest first; `user` is a username or a user id; `until` is exclusive."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_AUDIT)
        conditions: list[ColumnElement[bool]] = []
        start, end = moment(since), moment(until)
        if start is not None and end is not None and start >= end:
            raise InvalidInput("The period is empty: its start must come before its end.")
        if start is not None:
            conditions.append(AuditEvent.occurred_at >= start)
        if end is not None:
            conditions.append(AuditEvent.occurred_at < end)
        kinds = sorted(set(event_types or ()))
        unknown = [kind for kind in kinds if kind not in EVENT_TYPES]
        if unknown:
            raise InvalidInput(
                f"Unknown event type: {', '.join(unknown)}. Known types: {', '.join(EVENT_TYPES)}."
            )
        if contract_id is not None or user is not None:
            if contract_id is not None:
                conditions.append(AuditEvent.contract_id == _contract_id(contract_id))
            if user is not None:
                conditions.append(AuditEvent.user_id == await _user_id(uow.session, user))
            if kinds:
                conditions.append(AuditEvent.event_type.in_(kinds))
            walks = [conditions]
        elif kinds:
            walks = [[*conditions, AuditEvent.event_type == kind] for kind in kinds]
        else:
            walks = [conditions]
        by_time = contract_id is None and (user is not None or bool(kinds))
        page = await _page(uow.session, walks, before, limit, by_time=by_time, show_ip=True)
        await uow.commit()  # keeps the session's activity clock moving
        return page


async def contract_history(ctx: ServiceContext, contract_id: str, limit: int = 50) -> AuditPage:
    """What happened to one contract, newest first (the review screen's history panel).

    A contract's history is part of the contract, so reviewers may read it
    (VIEW_CONTRACT); the addresses people worked from are shown only to those
    who may read the audit log.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_CONTRACT)
        walk = [AuditEvent.contract_id == _contract_id(contract_id)]
        show_ip = allowed(ctx.actor, Permission.VIEW_AUDIT)
        page = await _page(uow.session, [walk], None, limit, by_time=False, show_ip=show_ip)
        await uow.commit()  # keeps the session's activity clock moving
        return page


async def _page(
    session: AsyncSession,
    walks: list[list[ColumnElement[bool]]],
    before: AuditCursor | None,
    limit: int,
    *,
    by_time: bool,
    show_ip: bool,
) -> AuditPage:
    """The newest `limit` events of the union of `walks`, each walk a set of conditions one index serves."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds between 1 and {MAX_PAGE} events, not {limit}.")
    order = (AuditEvent.occurred_at.desc(), AuditEvent.seq.desc()) if by_time else (AuditEvent.seq.desc(),)
    after = [_after(before, by_time)] if before is not None else []
    branches = [
        select(*_PAGE_COLUMNS).where(*walk, *after).order_by(*order).limit(limit + 1).subquery()
        for walk in walks
    ]
    events = branches[0] if len(branches) == 1 else union_all(*(select(*b.c) for b in branches)).subquery()
    newest = (events.c.occurred_at.desc(), events.c.seq.desc()) if by_time else (events.c.seq.desc(),)
    # Users are joined to the page only, after the limit.
    rows = (
        await session.execute(
            select(events, User.username)
            .outerjoin(User, User.id == events.c.user_id)
            .order_by(*newest)
            .limit(limit + 1)
        )
    ).all()
    items = [
        AuditItem(
            seq=row.seq,
            occurred_at=row.occurred_at,
            event_type=row.event_type,
            username=row.username,
            contract_id=row.contract_id,
            ip=row.ip if show_ip else None,
            summary=summarize_event(row.event_type, row.event_data),
            event_data=row.event_data,
            hash=bytes(row.hash).hex(),
        )
        for row in rows[:limit]
    ]
    last = items[-1] if len(rows) > limit else None
    return AuditPage(
        items=items, next_cursor=AuditCursor(seq=last.seq, occurred_at=last.occurred_at) if last else None
    )


_PAGE_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.event_type,
    AuditEvent.user_id,
    AuditEvent.contract_id,
    func.host(AuditEvent.ip_address).label("ip"),
    AuditEvent.event_data,
    AuditEvent.hash,
)


def _after(cursor: AuditCursor, by_time: bool) -> ColumnElement[bool]:
    if not by_time:
        return AuditEvent.seq < cursor.seq
    # `occurred_at <=` is what the time index and partition pruning can use; the rest breaks ties.
    return and_(
        AuditEvent.occurred_at <= cursor.occurred_at,
        or_(AuditEvent.occurred_at < cursor.occurred_at, AuditEvent.seq < cursor.seq),
    )


async def _user_id(session: AsyncSession, user: str | uuid.UUID) -> uuid.UUID:
    if isinstance(user, uuid.UUID):
        return user
    name = user.strip()
    try:
        return uuid.UUID(name)
    except ValueError:
        pass
    found = None
    if not has_hidden_characters(name):
        found = await session.scalar(select(User.id).where(User.username == name))
    if found is None:
        raise NotFound(f"There is no user called {name!r}.")
    return found


def _contract_id(contract_id: str) -> str:
    if not contract_id.strip():
        raise InvalidInput("Give a contract id, such as GAP-2024-001001.")
    return checked_contract_id(contract_id)


def moment(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    """A date means its midnight in UTC; a datetime must say its time zone."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    if value.tzinfo is None:
        raise InvalidInput("Give times with their time zone (for example 2024-01-31T00:00:00Z).")
    return value
