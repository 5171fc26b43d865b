"""The audit log for people: pages of it to read, and exports of a period for auditors.

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

Exporting. `export_audit` streams a period to CSV, JSON or JSON Lines in
chunks of sequence numbers (constant memory, any size), with every column
including `prev_hash` and `hash`, so that an auditor can recompute the chain
offline with `verify_export` (or any program that follows
services/audit_canonical.py). The file opens with a header (period, first
and last sequence number, the chain anchor: the `prev_hash` of the first
event) and closes with a trailer (count, last sequence number and hash).
The export covers the chain from the first to the last event of the period:
when two writers raced at the period's edge, an event's timestamp and its
place in the chain can disagree by milliseconds, and the few events in
between are included so that the exported chain has no holes.

- JSON Lines: a header line `{"record": "header", ...}`, one event per line,
  a trailer line `{"record": "trailer", ...}`. The format for large periods.
- JSON: `{"header": {...}, "events": [...], "trailer": {...}}`, written one
  event per line; `verify_export` reads it line by line, so it must not be
  reformatted before verification.
- CSV (UTF-8 with a byte-order mark, so spreadsheets detect the encoding):
  header and trailer as `#` lines, `event_data` as its JSON text. For reading
  in a spreadsheet, not for verification: CSV cannot tell an empty text from
  a missing one. Cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage
  return are prefixed with `'`, so that a spreadsheet shows them as text
  instead of running them as formulas (CSV injection: an event's user agent
  or contract id is text an outsider may have chosen).

The `username` column is joined from `users` for readers; it is not part of
the hashed content.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Row, and_, func, or_, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEvent, User
from services.access import authorize
from services.audit_canonical import canonical_event_text, event_hash
from services.context import ServiceContext
from services.errors import InvalidInput, NotFound
from services.extraction.types import FIELD_LABELS
from services.input_text import contract_id as checked_contract_id
from services.input_text import has_hidden_characters
from services.permissions import Permission, allowed
from services.runtime import program_version

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
)  # fmt: skip

MAX_PAGE = 1000
EXPORT_CHUNK = 5000
# How far an event's timestamp may trail its place in the chain: the wait for
# the chain's lock, which the application role bounds at 20 seconds.
STRAGGLER_MARGIN = dt.timedelta(hours=1)
HASH_SHORT = 12
SUMMARY_MAX = 160

ExportFormat = Literal["csv", "json", "jsonl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "jsonl")
EXPORT_FORMAT_NAME = "refund-review audit export"
EXPORT_VERSION = 1
EXPORT_COLUMNS = (
    "seq", "id", "occurred_at", "event_type", "user_id", "username", "session_id",
    "contract_id", "ip_address", "user_agent", "event_data", "prev_hash", "hash",
)  # fmt: skip
HASH_RULE = (
    "hash = sha256(prev_hash || utf8(jsonb_build_array(id, seq, occurred_at, event_type, user_id, "
    "session_id, contract_id, ip_address, user_agent, event_data)::text)); see services/audit_canonical.py"
)


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
        start, end = _moment(since), _moment(until)
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


def _moment(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    """A date means its midnight in UTC; a datetime must say its time zone."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    if value.tzinfo is None:
        raise InvalidInput("Give times with their time zone (for example 2024-01-31T00:00:00Z).")
    return value


# --- one-line summaries -----------------------------------------------------------


def _value(data: dict[str, Any], *keys: str) -> Any:
    """The first of `keys` that the event carries: event shapes grew over time."""
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _with(text: str, detail: Any, template: str = " ({})") -> str:
    return text + template.format(_shown(detail)) if detail not in (None, "") else text


def _change(data: dict[str, Any]) -> str:
    old = _value(data, "old", "old_value", "original_value", "from")
    new = _value(data, "new", "new_value", "corrected_value", "to")
    return f"{_shown(old)} → {_shown(new)}"


def _correct(data: dict[str, Any]) -> str:
    field = _value(data, "field", "field_name")
    label = FIELD_LABELS.get(field, field) if isinstance(field, str) else _shown(field)
    return _with(f"corrected {label} {_change(data)}", _value(data, "reason_code", "reason"))


def _user(data: dict[str, Any]) -> str:
    return _shown(_value(data, "username", "target_username", "user"))


def _changes(data: dict[str, Any]) -> str:
    """`{"role": {"old": "reviewer", "new": "supervisor"}}` as "role reviewer → supervisor"."""
    changes = _value(data, "changes", "changed")
    if not isinstance(changes, dict):
        return _shown(changes)
    return ", ".join(
        f"{name} {_change(change)}" if isinstance(change, dict) else f"{name} {_shown(change)}"
        for name, change in changes.items()
    )


def _reopen(data: dict[str, Any]) -> str:
    if data.get("undo"):
        undone = {"approved": "approval", "rejected": "rejection"}.get(
            data.get("previous_status", ""), "decision"
        )
        return f"undid their {undone}"
    return _with(f"reopened ({_shown(data.get('previous_status'))})", data.get("reason"), ": {}")


def _verified(data: dict[str, Any]) -> str:
    if data.get("intact") is False and data.get("broken_at") is None:
        return f"verified the audit chain: NOT VERIFIED, {_shown(data.get('problems'))} problems"
    if data.get("intact") is False:
        return f"verified the audit chain: BROKEN at #{_shown(data.get('broken_at'))}"
    return f"verified the audit chain: intact, {_shown(data.get('events_verified'))} events"


def _counted(count: Any, one: str, many: str) -> str:
    """`1 result`, `3 results`; a count the event does not carry as a number is shown as it is."""
    return f"{count:,} {one if count == 1 else many}" if isinstance(count, int) else f"{_shown(count)} {many}"


def _searched(data: dict[str, Any]) -> str:
    """The matches the reviewer was told of and the rows shown, which differ when results come in pages."""
    said = f'searched "{_shown(_value(data, "query", "text"))}"'
    matches, shown = data.get("matches"), data.get("results")
    if matches is not None and matches != shown:
        return f"{said} ({_counted(matches, 'match', 'matches')}, {_shown(shown)} shown)"
    return _with(said, None if shown is None else _counted(shown, "result", "results"))


# A question and its answer are two events of one type: each says which it is.
_CHAT_STAGES = {
    "asked": "asked about the contract",
    "answered": "answer given about the contract",
    "failed": "question about the contract not answered",
}


def _chat(data: dict[str, Any]) -> str:
    said = _CHAT_STAGES.get(data.get("stage") or "asked", "asked about the contract")
    return _with(said, _value(data, "question"), ': "{}"')


def _archived(data: dict[str, Any]) -> str:
    count = data.get("row_count")
    seqs = f", #{data.get('first_seq')}..#{data.get('last_seq')}" if count else ""
    return f"archived audit partition {_shown(data.get('partition'))}: {_shown(count)} events{seqs}"


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "login": lambda d: "unlocked the workstation" if d.get("method") == "unlock" else "logged in",
    "login_failed": lambda d: _with(f"failed login as {_user(d)}", _value(d, "reason")),
    "logout": lambda d: _with("logged out", _value(d, "reason")),
    "session_expired": lambda d: _with("session ended", _value(d, "reason")),
    "account_locked": lambda d: _with(
        f"account {_user(d)} locked", _value(d, "failed_count", "failures"), " after {} failed logins"
    ),
    "password_changed": lambda d: "changed the password",
    "password_reset": lambda d: f"reset the password of {_user(d)}",
    "user_created": lambda d: _with(f"created user {_user(d)}", _value(d, "role")),
    "user_updated": lambda d: f"updated user {_user(d)}: {_changes(d)}",
    "user_deactivated": lambda d: f"deactivated user {_user(d)}",
    "user_reactivated": lambda d: f"reactivated user {_user(d)}",
    "user_unlocked": lambda d: f"unlocked user {_user(d)}",
    "search": _searched,
    "view": lambda d: "opened the contract",
    "claim": lambda d: "resumed the review" if d.get("resumed") else "claimed for review",
    "release": lambda d: _with("released the claim", _value(d, "reason")),
    "correct": _correct,
    "approve": lambda d: "approved",
    "reject": lambda d: _with("rejected", _value(d, "reason", "rejection_reason")),
    "reopen": _reopen,
    "extract": lambda d: _with(
        f"extracted with {_shown(_value(d, 'provider', 'llm_provider'))}",
        _value(d, "min_confidence"),
        ", lowest confidence {}",
    ),
    "extract_failed": lambda d: _with(
        f"extraction failed with {_shown(_value(d, 'provider', 'llm_provider'))}", _value(d, "error"), ": {}"
    ),
    "ingest": lambda d: _with("ingested", _value(d, "source", "s3_key", "path"), " {}"),
    "chat": _chat,
    "config_changed": lambda d: f"changed {_shown(d.get('key'))} {_change(d)}",
    "audit_verified": _verified,
    "audit_exported": lambda d: (
        f"exported {_shown(d.get('count'))} events ({_shown(d.get('since'))} – {_shown(d.get('until'))})"
        f" as {_shown(d.get('format'))}"
    ),
    "partition_created": lambda d: f"created audit partition {_shown(d.get('partition'))}",
    "partition_archived": _archived,
    "sessions_cleaned": lambda d: f"removed {_shown(d.get('removed'))} expired sessions",
    "metrics_refreshed": lambda d: _with("refreshed the metrics", _value(d, "days"), " ({} days)"),
    "seed": lambda d: _with("seeded demo data", _value(d, "contracts"), ": {} contracts"),
    "refund_requested": lambda d: (
        f"requested a refund ({_shown(d.get('reason'))}): {_shown(d.get('verdict'))}"
        + (f", {_shown(d.get('refund'))}" if d.get("refund") is not None else "")
    ),
    "refund_approved": lambda d: (
        f"approved the refund of {_shown(d.get('refund'))}"
        + (" (first of two approvals)" if d.get("stage") == "first" else "")
    ),
    "refund_paid": lambda d: _with(
        f"marked the refund of {_shown(d.get('refund'))} paid", _value(d, "reference"), ", reference {}"
    ),
    "refunds_exported": lambda d: (
        f"exported {_shown(d.get('count'))} approved refunds as {_shown(d.get('format'))} (cursor {_shown(d.get('cursor'))})"
    ),
    "auto_approve": lambda d: _with("approved automatically", _value(d, "thresholds"), ", thresholds {}"),
    "rules_changed": lambda d: (
        f"changed the jurisdiction rules from {_shown(d.get('source'))}: "
        f"{len(d.get('added') or [])} added, {len(d.get('changed') or [])} changed"
    ),
}


def summarize_event(event_type: str, data: dict[str, Any]) -> str:
    """One line for a person; unknown shapes fall back to the event's own keys and values."""
    summary = _SUMMARIES.get(event_type)
    line = (
        summary(data)
        if summary
        else event_type.replace("_", " ") + "".join(f" {k}={_shown(v)}" for k, v in data.items())
    )
    line = " ".join(line.split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


# --- export -------------------------------------------------------------------------


class ExportSummary(BaseModel):
    format: ExportFormat
    since: dt.datetime
    until: dt.datetime
    count: int
    first_seq: int | None
    last_seq: int | None
    anchor_hash: str | None
    last_hash: str | None
    sha256: str
    bytes: int
    path: Path | None


ExportProgress = Callable[[int, int], None]

_SPAN = text(
    """
    SELECT f.seq AS first_seq, encode(f.prev_hash, 'hex') AS anchor_hash,
           (SELECT seq FROM audit_events WHERE occurred_at >= :since AND occurred_at < :until
             ORDER BY seq DESC LIMIT 1) AS last_seq
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT seq, prev_hash FROM audit_events
                          WHERE occurred_at >= :since AND occurred_at < :until
                          ORDER BY seq LIMIT 1) AS f ON true
    """
)
_CHUNK = text(
    """
    SELECT e.seq, e.id::text AS id,
           to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
           e.event_type, e.user_id::text AS user_id, u.username, e.session_id::text AS session_id,
           e.contract_id, e.ip_address::text AS ip_address, e.user_agent, e.event_data::text AS event_data,
           encode(e.prev_hash, 'hex') AS prev_hash, encode(e.hash, 'hex') AS hash
      FROM audit_events e LEFT JOIN users u ON u.id = e.user_id
     WHERE e.seq > :after AND e.seq <= :last AND e.occurred_at >= :low AND e.occurred_at < :high
     ORDER BY e.seq
     LIMIT :chunk
    """
)


def export_path(folder: Path, first: dt.date, last: dt.date, fmt: ExportFormat) -> Path:
    """`audit-FIRST_LAST.FORMAT` in `folder`, or `…-2`, `…-3` when taken: an export is evidence, and an
    earlier one is never overwritten."""
    path = folder / f"audit-{first}_{last}.{fmt}"
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


async def export_audit(
    ctx: ServiceContext,
    *,
    since: dt.datetime | dt.date,
    until: dt.datetime | dt.date,
    fmt: ExportFormat,
    destination: Path | BinaryIO,
    progress: ExportProgress | None = None,
) -> ExportSummary:
    """Export the events of [since, until) for auditors; records an `audit_exported` event.

    A file is written beside `destination` and renamed into place when
    complete, and removed again if the event cannot be recorded: an export
    on disk always has its event in the log.
    """
    summary = await write_audit_file(ctx, destination, fmt=fmt, since=since, until=until, progress=progress)
    try:
        async with ctx.unit_of_work() as uow:
            uow.record(
                ctx.actor.event(
                    "audit_exported",
                    since=summary.since.isoformat(),
                    until=summary.until.isoformat(),
                    format=fmt,
                    count=summary.count,
                    first_seq=summary.first_seq,
                    last_seq=summary.last_seq,
                    sha256=summary.sha256,
                    file=summary.path.name if summary.path else None,
                )
            )
            await uow.commit()
    except BaseException:
        if summary.path is not None:
            summary.path.unlink(missing_ok=True)
        raise
    return summary


async def write_audit_file(
    ctx: ServiceContext,
    destination: Path | BinaryIO,
    *,
    fmt: ExportFormat,
    since: dt.datetime | dt.date,
    until: dt.datetime | dt.date,
    progress: ExportProgress | None = None,
) -> ExportSummary:
    """Write the period's events; the caller records what it is for.

    It checks the actor's right and session itself: the file holds every
    event of the period, addresses included.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"Export formats are {', '.join(EXPORT_FORMATS)}; {fmt!r} is not one.")
    start, end = _moment(since), _moment(until)
    if start is None or end is None or start >= end:
        raise InvalidInput("The period is empty: its start must come before its end.")
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.EXPORT_AUDIT)
        span = (await uow.session.execute(_SPAN, {"since": start, "until": end})).one()
    path: Path | None = None
    partial: Path | None = None
    if isinstance(destination, Path):
        path, partial = destination, destination.with_name(destination.name + ".partial")
        stream = _open_for_writing(partial)
    else:
        stream = destination
    writer = _WRITERS[fmt](stream)
    try:
        writer.header(
            {
                "format": EXPORT_FORMAT_NAME,
                "version": EXPORT_VERSION,
                "generator": f"refund-review {program_version()}",
                "exported_at": dt.datetime.now(dt.UTC).isoformat(),
                "exported_by": ctx.actor.username,
                "period": {"from": start.isoformat(), "to": end.isoformat()},
                "first_seq": span.first_seq,
                "last_seq": span.last_seq,
                "anchor_hash": span.anchor_hash,
                "columns": list(EXPORT_COLUMNS),
                "hash_rule": HASH_RULE,
            }
        )
        count, last_seq, last_hash = 0, None, None
        if span.first_seq is not None:
            window = (start - STRAGGLER_MARGIN, end + STRAGGLER_MARGIN)
            count, last_seq, last_hash = await _write_events(ctx, writer, span, window, progress)
        writer.trailer(
            {"count": count, "first_seq": span.first_seq, "last_seq": last_seq, "last_hash": last_hash}
        )
        if partial is not None and path is not None:
            _close_durably(stream)
            partial.replace(path)
    except BaseException:
        if partial is not None:
            stream.close()
            partial.unlink(missing_ok=True)
        raise
    return ExportSummary(
        format=fmt,
        since=start,
        until=end,
        count=count,
        first_seq=span.first_seq if count else None,
        last_seq=last_seq,
        anchor_hash=span.anchor_hash if count else None,
        last_hash=last_hash,
        sha256=writer.sha256.hexdigest(),
        bytes=writer.size,
        path=path,
    )


async def _write_events(
    ctx: ServiceContext,
    writer: _ExportWriter,
    span: Row[Any],
    window: tuple[dt.datetime, dt.datetime],
    progress: ExportProgress | None,
) -> tuple[int, int | None, str | None]:
    """Events first_seq..last_seq in chunks; returns the count and the last event's seq and hash.

    Each chunk is read in a short transaction of its own: the rows never
    change and the range of sequence numbers is fixed, so the file is
    consistent without holding one snapshot (and a lock that would stall
    archiving) for the length of a 10-million-row export. The time window
    keeps partition pruning while letting in the edge's stragglers.
    """
    total = span.last_seq - span.first_seq + 1
    count, after, last_hash = 0, span.first_seq - 1, None
    while after < span.last_seq:
        params = {
            "after": after,
            "last": span.last_seq,
            "low": window[0],
            "high": window[1],
            "chunk": EXPORT_CHUNK,
        }
        async with ctx.unit_of_work() as uow:
            rows = (await uow.session.execute(_CHUNK, params)).all()
        if not rows:
            break
        await asyncio.to_thread(writer.events, rows)
        count += len(rows)
        after, last_hash = rows[-1].seq, rows[-1].hash
        if progress is not None:
            progress(count, total)
    return count, (after if count else None), last_hash


def _open_for_writing(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _close_durably(stream: BinaryIO) -> None:
    """An export or an archive is evidence: it must be on disk before anyone relies on it."""
    stream.flush()
    os.fsync(stream.fileno())
    stream.close()


class _ExportWriter:
    """Writes one format and keeps the SHA-256 and size of every byte written."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def _emit(self, chunk: str) -> None:
        data = chunk.encode("utf-8")
        self.sha256.update(data)
        self.size += len(data)
        self._stream.write(data)

    def header(self, header: dict[str, Any]) -> None:
        raise NotImplementedError

    def events(self, rows: Sequence[Row[Any]]) -> None:
        raise NotImplementedError

    def trailer(self, trailer: dict[str, Any]) -> None:
        raise NotImplementedError


def _json_event(row: Row[Any]) -> str:
    # event_data is spliced in as PostgreSQL rendered it, so that its numbers keep their exact text.
    return (
        "{"
        + ", ".join(
            f'"{column}": '
            + (
                row.event_data
                if column == "event_data"
                else json.dumps(getattr(row, column), ensure_ascii=False)
            )
            for column in EXPORT_COLUMNS
        )
        + "}"
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _JsonLinesWriter(_ExportWriter):
    def header(self, header: dict[str, Any]) -> None:
        self._emit(_json({"record": "header", **header}) + "\n")

    def events(self, rows: Sequence[Row[Any]]) -> None:
        self._emit("".join(_json_event(row) + "\n" for row in rows))

    def trailer(self, trailer: dict[str, Any]) -> None:
        self._emit(_json({"record": "trailer", **trailer}) + "\n")


class _JsonWriter(_ExportWriter):
    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self._first = True

    def header(self, header: dict[str, Any]) -> None:
        self._emit('{"header": ' + _json(header) + ', "events": [\n')

    def events(self, rows: Sequence[Row[Any]]) -> None:
        lines = ",\n".join(_json_event(row) for row in rows)
        self._emit(lines if self._first else ",\n" + lines)
        self._first = False

    def trailer(self, trailer: dict[str, Any]) -> None:
        self._emit(("" if self._first else "\n") + '], "trailer": ' + _json(trailer) + "}\n")


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a `'` before it."""
    if value is None:
        return ""
    cell = str(value)
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


class _CsvWriter(_ExportWriter):
    def _rows(self, rows: Sequence[Sequence[Any]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([[csv_cell(v) for v in row] for row in rows])
        self._emit(buffer.getvalue())

    def header(self, header: dict[str, Any]) -> None:
        self._emit("\ufeff")
        period = header["period"]
        self._rows(
            [
                [
                    f"# {header['format']} v{header['version']} by {header['exported_by']} at {header['exported_at']}"
                ],
                [f"# period from {period['from']} to {period['to']} (end excluded)"],
                [f"# first_seq {header['first_seq']}; last_seq {header['last_seq']}"],
                [f"# anchor_hash {header['anchor_hash']}"],
                ["# cells starting with = + - @ tab or CR are prefixed with ' (spreadsheet formula guard)"],
                list(EXPORT_COLUMNS),
            ]
        )

    def events(self, rows: Sequence[Row[Any]]) -> None:
        self._rows([[getattr(row, column) for column in EXPORT_COLUMNS] for row in rows])

    def trailer(self, trailer: dict[str, Any]) -> None:
        self._rows(
            [
                [
                    f"# count {trailer['count']}; last_seq {trailer['last_seq']}; last_hash {trailer['last_hash']}"
                ]
            ]
        )


_WRITERS: dict[str, type[_ExportWriter]] = {"csv": _CsvWriter, "json": _JsonWriter, "jsonl": _JsonLinesWriter}


# --- offline verification -------------------------------------------------------------


class ExportVerification(NamedTuple):
    """`ok, first_broken_seq, *_ = verify_export(path)`; the rest is for people and for chaining periods."""

    ok: bool
    first_broken_seq: int | None
    events_verified: int
    reason: str
    anchor_hash: str | None = None
    last_hash: str | None = None
    first_seq: int | None = None


def verify_export(path: Path, progress: Callable[[int, int], None] | None = None) -> ExportVerification:
    """Recompute the chain of a JSON or JSON Lines export, without the database.

    Checks that the events follow one another from the header's first
    sequence number, that the first links to the header's anchor and each to
    its predecessor, that every hash matches the event's content, and that
    the trailer closes the file with the right count and last hash. The
    anchor itself is the last hash of the period before: chain exports by
    comparing it with the previous export's `last_hash` (or with the database).
    `progress` receives bytes read and the file's size.
    """
    total = path.stat().st_size
    with path.open("rb") as handle:
        records = _export_records(handle, total, progress)
        kind, header = next(records, ("end", None))
        if kind != "header" or not isinstance(header, dict):
            raise InvalidInput(
                f"{path} is not a JSON or JSON Lines audit export (CSV exports are for reading, not verifying)."
            )
        anchor = header.get("anchor_hash")
        expected, carry = header.get("first_seq"), anchor
        verified = 0
        for kind, record in records:
            if kind == "trailer":
                return _check_trailer(record, verified, expected, carry, anchor)._replace(
                    first_seq=header.get("first_seq") if verified else None
                )
            seq = record.get("seq") if isinstance(record, dict) else None
            problem = _event_problem(record, expected, carry)
            if problem is not None:
                broken = seq if isinstance(seq, int) else expected
                return ExportVerification(False, broken, verified, problem, anchor)
            verified += 1
            expected, carry = seq + 1, record["hash"]  # type: ignore[operator]
    return ExportVerification(
        False, expected, verified, "the file ends before its trailer: it was cut short", anchor
    )


def _check_trailer(
    trailer: Any, verified: int, expected: int | None, carry: str | None, anchor: str | None
) -> ExportVerification:
    if not isinstance(trailer, dict) or trailer.get("count") != verified:
        counted = trailer.get("count") if isinstance(trailer, dict) else None
        reason = f"the trailer counts {counted} events but the file holds {verified}"
        return ExportVerification(False, expected, verified, reason, anchor)
    if verified and trailer.get("last_hash") != carry:
        reason = "the trailer's last hash is not the last event's hash"
        return ExportVerification(False, expected, verified, reason, anchor)
    return ExportVerification(True, None, verified, f"{verified} events verified", anchor, carry)


def _event_problem(record: Any, expected: int | None, carry: str | None) -> str | None:
    if not isinstance(record, dict) or not set(EXPORT_COLUMNS) <= record.keys():
        return "the line is not an exported event"
    if record["seq"] != expected:
        return f"its sequence number does not follow #{(expected or 1) - 1}: events were removed, inserted or reordered"
    if record["prev_hash"] != carry:
        return "it does not link to the event before it"
    try:
        canonical = canonical_event_text(
            id=record["id"],
            seq=record["seq"],
            occurred_at=record["occurred_at"],
            event_type=record["event_type"],
            user_id=record["user_id"],
            session_id=record["session_id"],
            contract_id=record["contract_id"],
            ip_address=record["ip_address"],
            user_agent=record["user_agent"],
            event_data=record["event_data"],
        )
        recomputed = event_hash(bytes.fromhex(record["prev_hash"]), canonical).hex()
    except (ValueError, TypeError) as exc:
        return f"its content cannot be read: {exc}"
    if recomputed != record["hash"]:
        return "its content no longer matches its hash: the event was changed"
    return None


def _export_records(
    handle: BinaryIO, total: int, progress: Callable[[int, int], None] | None
) -> Iterator[tuple[str, Any]]:
    """("header" | "event" | "trailer", record) for both layouts, one line at a time."""
    done = 0
    for number, raw in enumerate(handle):
        done += len(raw)
        if progress is not None and number % 10_000 == 0:
            progress(done, total)
        line = raw.decode("utf-8").strip()
        if not line:
            continue
        if line.startswith('{"header": ') and line.endswith(', "events": ['):
            yield "header", _loads(line[len('{"header": ') : -len(', "events": [')])
        elif line.startswith('], "trailer": ') and line.endswith("}"):
            yield "trailer", _loads(line[len('], "trailer": ') : -1])
        else:
            record = _loads(line.removesuffix(","))
            kind = record.get("record", "event") if isinstance(record, dict) else "event"
            yield kind, record
    if progress is not None:
        progress(done, total)


def _loads(text: str) -> Any:
    # Non-integer numbers as Decimal: the canonical text needs their exact digits.
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        return None
