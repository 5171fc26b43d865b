"""Exports of a period of the audit log, for auditors.

Exporting. `export_audit` streams a period to CSV, JSON or JSON Lines in
chunks of sequence numbers (constant memory, any size), with every column
including `prev_hash` and `hash`, so that an auditor can recompute the chain
offline with `verify_export` (services/audit/verification.py) (or any program that follows
services/audit/canonical.py). The file opens with a header (period, first
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel
from sqlalchemy import Row, text

from services.access import authorize
from services.audit.format import (
    EXPORT_COLUMNS,
    EXPORT_FORMAT_NAME,
    EXPORT_FORMATS,
    EXPORT_VERSION,
    HASH_RULE,
    ExportFormat,
)
from services.audit.reading import moment
from services.context import ServiceContext
from services.errors import InvalidInput
from services.permissions import Permission
from services.runtime import program_version

EXPORT_CHUNK = 5000
# How far an event's timestamp may trail its place in the chain: the wait for
# the chain's lock, which the application role bounds at 20 seconds.
STRAGGLER_MARGIN = dt.timedelta(hours=1)


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
    start, end = moment(since), moment(until)
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
