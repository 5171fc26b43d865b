"""Checking an audit export offline: the chain recomputed from the file alone, without the database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from services.audit.canonical import canonical_event_text, event_hash
from services.audit.format import EXPORT_COLUMNS
from services.errors import InvalidInput


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
