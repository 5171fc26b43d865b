"""Keeping the database in shape: audit partitions ahead, expired sessions out, old months archived.

Run by `refund-review maintain` (from cron or a systemd timer) and safe to
run at any time, as often as wanted: every step is idempotent.

Retention. Audit events are kept for 7 years (`audit_retention_years`).
A monthly partition whose whole month lies beyond that is archived: its
events are exported to `<partition>.jsonl` (the JSON Lines export format, so
`refund-review audit verify-export` re-checks it offline) with a
`<partition>.manifest.json` beside it (row count, first and last sequence
number, the first event's prev_hash, the last event's hash, the file's
SHA-256); the file is re-verified from disk; then, in one transaction, the
partition is detached and dropped, the chain's anchor
(`audit_chain_head.anchor_seq/anchor_hash`) is moved to the last archived
event so that `audit verify` starts there, and a `partition_archived` event
is recorded. The partition is dropped rather than kept in another schema:
keeping the rows in the database is what retention is meant to end, and the
verified archive with its manifest is the record. Move the archive directory
to durable, write-once storage (an S3 bucket with object lock, say).

Only whole partitions are archived, oldest first, and only when they
continue the chain exactly where the anchor left it: their events must be
#anchor+1 onwards, all of them in that partition and linked to the anchor.
Otherwise (events of that time sitting in the default partition, a gap, a
broken link) nothing is archived and the reason is given.

Detaching and dropping a partition and moving the anchor need the table
owner's rights, which the application role does not have: archiving runs on
the `Database.owner` engine, so `refund-review maintain --archive-dir DIR`
must run with the owner's credentials (`--database-url` of the owner).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import session_factory
from db.uow import UnitOfWork
from services.access import authorize
from services.audit.anchor_signing import AnchorSigner
from services.audit.anchor_store import AnchorStore
from services.audit.anchors import AnchorResult, anchor_chain
from services.audit.export import write_audit_file
from services.audit.verification import verify_export
from services.context import ServiceContext, translate_database_error
from services.errors import Conflict, Forbidden, InvalidInput, Unavailable
from services.metrics.refresh import refresh_extraction_metrics
from services.permissions import Permission
from services.system_settings import load_system_settings, setting_sql

MIN_PARTITIONS_AHEAD = 3
MIN_RETENTION_YEARS = 7
ARCHIVE_FORMAT_NAME = "refund-review audit archive"
ARCHIVE_VERSION = 1
# Detaching locks the whole audit log; writers queue behind the lock while it waits.
ARCHIVE_LOCK_TIMEOUT = "5s"

_OWNER_NEEDED = (
    "Archiving audit partitions needs the database owner's rights (to detach and drop a partition and "
    "move the chain's anchor). Run `refund-review --database-url <owner URL> maintain --archive-dir DIR` "
    "with the owner's credentials."
)


class ArchivedPartition(BaseModel):
    partition: str
    period_from: dt.datetime
    period_to: dt.datetime
    row_count: int
    first_seq: int | None
    last_seq: int | None
    first_prev_hash: str | None
    last_hash: str | None
    sha256: str
    file: Path
    manifest: Path


class MaintenanceReport(BaseModel):
    partitions_created: list[str]
    sessions_removed: int
    metric_groups_refreshed: int
    partitions_archived: list[ArchivedPartition] = []
    anchor: AnchorResult | None = None


async def ensure_partitions(ctx: ServiceContext, months_ahead: int | None = None) -> list[str]:
    """Create the monthly audit partitions from this month through `months_ahead` (config by default)."""
    async with ctx.db.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MAINTAIN)
        if months_ahead is None:
            configured = await uow.session.scalar(select(setting_sql("audit_partitions_ahead")))
            months_ahead = max(configured, MIN_PARTITIONS_AHEAD)
        created = list(
            (await uow.session.execute(select(func.ensure_audit_partitions(months_ahead)))).scalars()
        )
        for name in created:
            uow.record(ctx.actor.event("partition_created", partition=name))
        await uow.commit()
    return created


async def cleanup_sessions(ctx: ServiceContext) -> int:
    """Remove ended, expired and idle sessions; returns how many."""
    async with ctx.db.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MAINTAIN)
        removed = int(await uow.session.scalar(select(func.cleanup_expired_sessions())) or 0)
        if removed:
            uow.record(ctx.actor.event("sessions_cleaned", removed=removed))
        await uow.commit()
    return removed


async def run_maintenance(
    ctx: ServiceContext,
    months_ahead: int | None = None,
    *,
    archive_dir: Path | None = None,
    anchor_with: tuple[AnchorSigner, AnchorStore] | None = None,
) -> MaintenanceReport:
    """Partitions ahead, then (only when `archive_dir` is given) the archive, then sessions, then
    metrics; last (given a key and a store) an anchor, so that it covers the events of all the rest."""
    created = await ensure_partitions(ctx, months_ahead)
    archived = await archive_expired_partitions(ctx, archive_dir=archive_dir) if archive_dir else []
    report = MaintenanceReport(
        partitions_created=created,
        sessions_removed=await cleanup_sessions(ctx),
        metric_groups_refreshed=await refresh_extraction_metrics(ctx),
        partitions_archived=archived,
    )
    if anchor_with is not None:
        report.anchor = await anchor_chain(ctx, *anchor_with)
    return report


class _Candidate(BaseModel):
    name: str
    lower: dt.datetime
    upper: dt.datetime
    row_count: int
    first_seq: int | None
    last_seq: int | None
    first_prev_hash: str | None
    last_hash: str | None
    anchor_seq: int


_PARTITIONS = text(
    r"""
    SELECT c.relname AS name, b.bounds[1]::timestamptz AS lower, b.bounds[2]::timestamptz AS upper
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                     'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS b(bounds)
     WHERE i.inhparent = 'audit_events'::regclass AND b.bounds IS NOT NULL
       AND b.bounds[2]::timestamptz <= :cutoff
     ORDER BY lower
    """
)
_ANCHOR = text(
    "SELECT anchor_seq, encode(anchor_hash, 'hex') AS anchor_hash FROM audit_chain_head WHERE id = 1"
)
_PARTITION_CHAIN = text(
    """
    WITH p AS (
        SELECT min(seq) AS first_seq, max(seq) AS last_seq, count(*) AS row_count
          FROM audit_events WHERE occurred_at >= :lower AND occurred_at < :upper
    )
    SELECT p.first_seq, p.last_seq, p.row_count,
           (SELECT count(*) FROM audit_events WHERE seq BETWEEN p.first_seq AND p.last_seq) AS in_range,
           (SELECT encode(prev_hash, 'hex') FROM audit_events
             WHERE seq = p.first_seq AND occurred_at >= :lower AND occurred_at < :upper LIMIT 1) AS first_prev_hash,
           (SELECT encode(hash, 'hex') FROM audit_events
             WHERE seq = p.last_seq AND occurred_at >= :lower AND occurred_at < :upper LIMIT 1) AS last_hash
      FROM p
    """
)
_MOVE_ANCHOR = text(
    "UPDATE audit_chain_head SET anchor_seq = :last_seq, anchor_hash = decode(:last_hash, 'hex') "
    "WHERE id = 1 AND anchor_seq = :anchor_seq RETURNING 1"
)


async def archive_expired_partitions(
    ctx: ServiceContext,
    *,
    archive_dir: Path,
    retention_years: int | None = None,
    now: dt.datetime | None = None,
) -> list[ArchivedPartition]:
    """Archive every monthly audit partition older than the retention period, oldest first."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MAINTAIN)
        years = (
            retention_years
            if retention_years is not None
            else (await load_system_settings(uow.session)).audit_retention_years
        )
        if years < MIN_RETENTION_YEARS:
            raise InvalidInput(f"Audit events are kept at least {MIN_RETENTION_YEARS} years, not {years}.")
        cutoff = _years_before(now or dt.datetime.now(dt.UTC), years)
        candidates = await _plan(uow.session, cutoff)
    archived = []
    for candidate in candidates:
        archived.append(await _archive(ctx, candidate, archive_dir, years))
    return archived


def _years_before(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


async def _plan(session: AsyncSession, cutoff: dt.datetime) -> list[_Candidate]:
    """The expired partitions, each checked to continue the chain where the one before ends."""
    anchor = (await session.execute(_ANCHOR)).one()
    next_seq, next_prev = anchor.anchor_seq + 1, anchor.anchor_hash
    candidates = []
    for part in (await session.execute(_PARTITIONS, {"cutoff": cutoff})).all():
        chain = (await session.execute(_PARTITION_CHAIN, {"lower": part.lower, "upper": part.upper})).one()
        refused = f"Audit partition {part.name} cannot be archived, so nothing was archived:"
        if chain.row_count and chain.first_seq != next_seq:
            raise Conflict(
                f"{refused} its first event is #{chain.first_seq}, but the chain continues at #{next_seq}. "
                "Events of that time may sit in another partition (such as audit_events_default); "
                "create the missing monthly partitions with create_audit_partition() and run again."
            )
        if chain.row_count and chain.in_range != chain.row_count:
            raise Conflict(
                f"{refused} events #{chain.first_seq}..#{chain.last_seq} are not all in it (it holds "
                f"{chain.row_count} of the {chain.in_range} events in that range): partitions overlap in the chain."
            )
        if chain.row_count and chain.row_count != chain.last_seq - chain.first_seq + 1:
            raise Conflict(
                f"{refused} events are missing between #{chain.first_seq} and #{chain.last_seq}. "
                "Run `refund-review audit verify`."
            )
        if chain.row_count and chain.first_prev_hash != next_prev:
            raise Conflict(
                f"{refused} its first event #{chain.first_seq} does not link to the chain's anchor. "
                "Run `refund-review audit verify`."
            )
        candidates.append(
            _Candidate(
                name=part.name,
                lower=part.lower,
                upper=part.upper,
                row_count=chain.row_count,
                first_seq=chain.first_seq,
                last_seq=chain.last_seq,
                first_prev_hash=chain.first_prev_hash,
                last_hash=chain.last_hash,
                anchor_seq=next_seq - 1,
            )
        )
        if chain.row_count:
            next_seq, next_prev = chain.last_seq + 1, chain.last_hash
    return candidates


async def _archive(ctx: ServiceContext, part: _Candidate, archive_dir: Path, years: int) -> ArchivedPartition:
    """Export and verify from disk; then drop the partition and move the anchor in one transaction."""
    archived = await _export_partition(ctx, part, archive_dir, years)
    committing = False
    try:
        async with _as_owner(ctx) as uow:
            session = uow.session
            await session.execute(text(f"SET LOCAL lock_timeout = '{ARCHIVE_LOCK_TIMEOUT}'"))
            table = session.bind.dialect.identifier_preparer.quote(part.name)
            await session.execute(text(f"ALTER TABLE audit_events DETACH PARTITION {table}"))
            await session.execute(text(f"DROP TABLE {table}"))
            if part.row_count:
                moved = await session.scalar(
                    _MOVE_ANCHOR,
                    {"last_seq": part.last_seq, "last_hash": part.last_hash, "anchor_seq": part.anchor_seq},
                )
                if moved is None:
                    raise Conflict(
                        "Someone else archived audit partitions at the same time; nothing more was archived."
                    )
            uow.record(
                ctx.actor.event(
                    "partition_archived",
                    partition=part.name,
                    period_from=part.lower.isoformat(),
                    period_to=part.upper.isoformat(),
                    row_count=part.row_count,
                    first_seq=part.first_seq,
                    last_seq=part.last_seq,
                    first_prev_hash=part.first_prev_hash,
                    last_hash=part.last_hash,
                    sha256=archived.sha256,
                    file=archived.file.name,
                )
            )
            committing = True
            await uow.commit()
    except BaseException:
        # Once COMMIT is on its way the partition may be gone: then the files are its only copy.
        if not committing:
            _remove(archived.file, archived.manifest)
        raise
    return archived


async def _export_partition(
    ctx: ServiceContext, part: _Candidate, archive_dir: Path, years: int
) -> ArchivedPartition:
    """The partition's events in a JSON Lines export with its manifest, both verified and on disk."""
    file = archive_dir / f"{part.name}.jsonl"
    manifest = archive_dir / f"{part.name}.manifest.json"
    try:
        summary = await write_audit_file(ctx, file, fmt="jsonl", since=part.lower, until=part.upper)
        check = await asyncio.to_thread(verify_export, file)
        if not check.ok or summary.count != part.row_count or summary.last_hash != part.last_hash:
            raise Conflict(
                f"The archive of audit partition {part.name} does not verify "
                f"(at event #{check.first_broken_seq}: {check.reason}), so the partition was kept. "
                "Run `refund-review audit verify`."
            )
        archived = ArchivedPartition(
            partition=part.name,
            period_from=part.lower,
            period_to=part.upper,
            row_count=part.row_count,
            first_seq=part.first_seq,
            last_seq=part.last_seq,
            first_prev_hash=part.first_prev_hash,
            last_hash=part.last_hash,
            sha256=summary.sha256,
            file=file,
            manifest=manifest,
        )
        await asyncio.to_thread(_write_manifest, archived, ctx, years)
    except BaseException:
        _remove(file, manifest)
        raise
    return archived


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _write_manifest(part: ArchivedPartition, ctx: ServiceContext, years: int) -> None:
    document = {
        "format": ARCHIVE_FORMAT_NAME,
        "version": ARCHIVE_VERSION,
        "partition": part.partition,
        "period": {"from": part.period_from.isoformat(), "to": part.period_to.isoformat()},
        "file": part.file.name,
        "sha256": part.sha256,
        "row_count": part.row_count,
        "first_seq": part.first_seq,
        "last_seq": part.last_seq,
        "first_prev_hash": part.first_prev_hash,
        "last_hash": part.last_hash,
        "retention_years": years,
        "archived_at": dt.datetime.now(dt.UTC).isoformat(),
        "archived_by": ctx.actor.username,
        "user_agent": ctx.actor.user_agent,
        "verify_with": f"refund-review audit verify-export {part.file.name}",
    }
    partial = part.manifest.with_name(part.manifest.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(part.manifest)


@asynccontextmanager
async def _as_owner(ctx: ServiceContext) -> AsyncIterator[UnitOfWork]:
    """A unit of work on the owner's engine, its failures turned into sentences."""
    try:
        async with UnitOfWork(session_factory(ctx.db.owner)) as uow:
            yield uow
    except DBAPIError as exc:
        original = getattr(exc.orig, "__cause__", None) or exc.orig
        if isinstance(original, asyncpg.InsufficientPrivilegeError):
            raise Forbidden(_OWNER_NEEDED) from exc
        if isinstance(original, asyncpg.LockNotAvailableError):
            raise Unavailable(
                "The audit log is busy (an export or a verification is reading it), so no partition was "
                "archived. Run maintenance again later."
            ) from exc
        raise translate_database_error(exc) from exc
