"""Verifying the audit log's hash chain.

The database links every event as it is inserted (trigger
`audit_events_link_chain`); this module walks the chain and recomputes each
link with the same SQL function, so that a row changed, removed, inserted or
reordered behind the application's back (say, by a superuser with triggers
disabled) is found and named. The walk goes in chunks of sequence numbers so
that memory stays flat and progress can be shown on 10 million events.

A walk cannot see a rewrite that recomputed every later hash and the head,
nor trust the head's archive mark: the walk starts where the
`partition_archived` events say archiving ended (services/audit/archive_mark.py),
and, given an anchor store, every signed anchor is checked against the
chain and the events after the last one are counted as not yet anchored
(services/audit/anchors.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import authorize
from services.audit.anchors import AnchorReport, AnchorSource, check_anchors, describe_anchors, read_anchors
from services.audit.archive_mark import check_archive_mark
from services.context import ServiceContext
from services.errors import Unavailable
from services.permissions import Permission

CHUNK = 250_000

_FIND_BREAK = text(
    """
    WITH chunk AS (
        SELECT id, seq, occurred_at, event_type, prev_hash, hash,
               audit_event_hash(prev_hash, id, seq, occurred_at, event_type, user_id, session_id,
                                contract_id, ip_address, user_agent, event_data) AS recomputed,
               lag(hash) OVER w AS lag_hash,
               lag(seq) OVER w AS lag_seq
          FROM audit_events
         WHERE seq > :after AND seq <= :upto
        WINDOW w AS (ORDER BY seq, id)
    )
    SELECT id, seq, occurred_at, event_type,
           CASE WHEN seq <> coalesce(lag_seq, :after) + 1 THEN 'sequence'
                WHEN prev_hash <> coalesce(lag_hash, :carry_hash) THEN 'link'
                ELSE 'content' END AS problem,
           coalesce(lag_seq, :after) AS previous_seq
      FROM chunk
     WHERE recomputed <> hash
        OR prev_hash <> coalesce(lag_hash, :carry_hash)
        OR seq <> coalesce(lag_seq, :after) + 1
     ORDER BY seq, id
     LIMIT 1
    """
)
_CHUNK_END = text(
    "SELECT seq, hash, count(*) OVER () AS n FROM audit_events "
    "WHERE seq > :after AND seq <= :upto ORDER BY seq DESC, id DESC LIMIT 1"
)
_NEXT_SEQ = text("SELECT min(seq) FROM audit_events WHERE seq > :after")
_EVENT_AT = text("SELECT id, occurred_at, event_type FROM audit_events WHERE seq = :seq ORDER BY id LIMIT 1")
_HEAD = text("SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1")

_PROBLEMS = {
    "content": "its content no longer matches its hash: the row was changed",
    "link": "it does not link to the event before it: an earlier event was changed, removed or inserted",
    "sequence": "its sequence number does not follow #{previous}: events were removed, inserted or reordered",
}


class ChainBreak(BaseModel):
    seq: int
    event_id: uuid.UUID | None
    occurred_at: dt.datetime | None
    event_type: str | None
    reason: str

    def describe(self) -> str:
        if self.event_id is None:
            return f"at event #{self.seq}: {self.reason}"
        when = self.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC") if self.occurred_at else "?"
        return f"at event #{self.seq} ({self.event_type}, {when}, id {self.event_id}): {self.reason}"


class ChainVerification(BaseModel):
    events_verified: int
    first_seq: int
    last_seq: int
    head_hash: str
    seconds: float
    broken_at: ChainBreak | None = None
    archive_problems: list[str] = []
    anchors: AnchorReport | None = None

    @property
    def problems(self) -> list[str]:
        """What the archive events and the anchors found, beside the walk's first break."""
        return [*self.archive_problems, *(self.anchors.problems if self.anchors else [])]

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.problems

    def finding_lines(self) -> list[str]:
        """What follows the verdict, for people: each problem, then how far the anchors reach."""
        lines = [f"Problem: {problem}" for problem in self.problems]
        if self.anchors is not None:
            lines.extend(f"Note: {note}" for note in self.anchors.notes)
            lines.append(describe_anchors(self.anchors))
        return lines


async def verify_audit_chain(
    ctx: ServiceContext,
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
    anchors: AnchorSource | None = None,
    archive_dir: Path | None = None,
) -> ChainVerification:
    """Walk the whole chain; stop at the first broken event; check the archive mark and, given a
    source, every anchor. Records an `audit_verified` event."""
    started = time.perf_counter()
    # Read before the head: every anchor then names an event the walk will reach.
    signed, unreadable = [], None
    if anchors is not None:
        try:
            signed = await asyncio.to_thread(read_anchors, anchors)
        except Unavailable as exc:
            unreadable = f"{exc.message} The chain was checked without its anchors."
    async with ctx.db.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_AUDIT)
        session = uow.session
        mark = await check_archive_mark(session, archive_dir)
        head_seq, head_hash = (await session.execute(_HEAD)).one()
        carry_seq, carry_hash = mark.seq, bytes.fromhex(mark.hash)
        first_seq = carry_seq + 1
        total = max(head_seq - carry_seq, 0)
        verified = 0
        broken: ChainBreak | None = None
        while broken is None:
            following = (await session.execute(_NEXT_SEQ, {"after": carry_seq})).scalar()
            if following is None:
                # The end of the chain as of now. Reviewers may have appended events since the head was
                # read (each statement sees what is committed by then), and an event is committed with
                # the head that names it: read the head again, and walk on while it has moved past us.
                head_seq, head_hash = (await session.execute(_HEAD)).one()
                if head_seq > carry_seq and (await session.execute(_NEXT_SEQ, {"after": carry_seq})).scalar():
                    continue
                broken = await _compare_with_head(session, carry_seq, carry_hash, head_seq, bytes(head_hash))
                break
            # Start the chunk at the next event that exists, so a gap of any
            # width is reported by that event's sequence check.
            params = {"after": carry_seq, "upto": following - 1 + chunk, "carry_hash": carry_hash}
            row = (await session.execute(_FIND_BREAK, params)).first()
            if row is not None:
                broken = _break_at(row.seq, row, _PROBLEMS[row.problem].format(previous=row.previous_seq))
                break
            end = (await session.execute(_CHUNK_END, {"after": carry_seq, "upto": params["upto"]})).one()
            carry_seq, carry_hash = end.seq, bytes(end.hash)
            verified += end.n
            if progress is not None:
                progress(verified, total)
        report = None
        if anchors is not None:
            report = await check_anchors(session, anchors.store.location, signed, mark.seq)
            report.problems[:0] = [unreadable] if unreadable else []
        result = ChainVerification(
            events_verified=verified,
            first_seq=first_seq,
            last_seq=carry_seq,
            head_hash=carry_hash.hex(),
            seconds=round(time.perf_counter() - started, 3),
            broken_at=broken,
            archive_problems=mark.problems,
            anchors=report,
        )
        uow.record(
            ctx.actor.event(
                "audit_verified",
                intact=result.intact,
                events_verified=verified,
                last_seq=carry_seq,
                head_hash=result.head_hash,
                broken_at=broken.seq if broken else None,
                problems=len(result.problems),
                anchors_confirmed=report.anchors_confirmed if report else None,
                last_anchored_seq=report.last_anchored_seq if report else None,
                not_yet_anchored=report.not_yet_anchored if report else None,
            )
        )
        await uow.commit()
    return result


def _break_at(seq: int, row: Row[Any] | None, reason: str) -> ChainBreak:
    return ChainBreak(
        seq=seq,
        event_id=row.id if row is not None else None,
        occurred_at=row.occurred_at if row is not None else None,
        event_type=row.event_type if row is not None else None,
        reason=reason,
    )


async def _compare_with_head(
    session: AsyncSession, last_seq: int, last_hash: bytes, head_seq: int, head_hash: bytes
) -> ChainBreak | None:
    """The walk ended; the chain head says where it should have ended."""
    if last_seq < head_seq:
        return _break_at(
            last_seq + 1,
            None,
            f"the chain ends at #{last_seq} but the chain head records #{head_seq}: "
            "events at the end were removed",
        )
    if last_seq > head_seq:
        row = (await session.execute(_EVENT_AT, {"seq": head_seq + 1})).first()
        return _break_at(
            head_seq + 1,
            row,
            f"the chain head records #{head_seq} as the last event: "
            "events after it were added behind the application's back",
        )
    if last_hash != head_hash:
        row = (await session.execute(_EVENT_AT, {"seq": last_seq})).first()
        return _break_at(last_seq, row, "the last event does not match the chain head: it was replaced")
    return None
