"""Checking an export or an archive against what was recorded when it was written.

`verify_export` recomputes the chain inside a file, and a file is consistent
with itself even after its last events are cut and its header and trailer
rewritten to match. What the cut cannot change is what was recorded
elsewhere when the file was written: the manifest beside an archive (event
count, first and last sequence number and hash, the file's SHA-256), and
the audit event in the chain (`partition_archived` for an archive,
`audit_exported` for an export, both with the SHA-256). So the file is
checked against the manifest when one is beside it, and against the events
when a database is at hand; a file that neither vouches for is reported as
checked against itself only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text

from services.access import authorize
from services.audit.archive_mark import file_sha256
from services.audit.verification import ExportVerification, verify_export
from services.context import ServiceContext
from services.permissions import Permission

MANIFEST_SUFFIX = ".manifest.json"
_RECORDED_FIELDS = ("row_count", "first_seq", "last_seq", "first_prev_hash", "last_hash", "sha256")


class ExportCheck(BaseModel):
    """The chain inside the file, and what the manifest and the audit events say of it."""

    chain: ExportVerification
    sha256: str
    manifest: Path | None = None
    recorded_by: str | None = None
    problems: list[str] = []

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


def check_export_file(path: Path, progress: Callable[[int, int], None] | None = None) -> ExportCheck:
    """The chain in the file, then (when the chain holds) its manifest when one lies beside it."""
    check = ExportCheck(chain=verify_export(path, progress=progress), sha256=file_sha256(path))
    manifest = manifest_path(path)
    if check.chain.ok and manifest.is_file():
        check.manifest = manifest
        check.problems.extend(
            _disagreements(f"its manifest {manifest.name}", _manifest(manifest), path, check)
        )
    return check


def manifest_path(path: Path) -> Path:
    return path.with_name(path.stem + MANIFEST_SUFFIX)


def _manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def _what_the_file_holds(check: ExportCheck) -> dict[str, Any]:
    result = check.chain
    count = result.events_verified
    return {
        "row_count": count,
        "first_seq": result.first_seq,
        "last_seq": result.first_seq + count - 1 if result.first_seq is not None and count else None,
        "first_prev_hash": result.anchor_hash if count else None,
        "last_hash": result.last_hash if count else None,
        "sha256": check.sha256,
    }


def _disagreements(source: str, recorded: dict[str, Any], path: Path, check: ExportCheck) -> list[str]:
    if not recorded:
        return [f"{path.name} has {source} beside it, but it cannot be read."]
    if recorded.get("file") not in (None, path.name):
        return [f"{source} describes {recorded.get('file')}, not {path.name}."]
    holds = _what_the_file_holds(check)
    differ = [
        f"{name} {recorded.get(name)!r} recorded, {holds[name]!r} in the file"
        for name in _RECORDED_FIELDS
        if recorded.get(name) != holds[name]
    ]
    if not differ:
        return []
    return [
        f"{path.name} is not the file {source} describes ({'; '.join(differ)}): events were cut or changed."
    ]


_EVENTS_FOR = text(
    """
    SELECT seq, event_type, event_data FROM audit_events
     WHERE event_type IN ('partition_archived', 'audit_exported')
       AND (event_data->>'sha256' = :sha256 OR event_data->>'file' = :name)
     ORDER BY seq DESC
    """
)


async def check_against_database(ctx: ServiceContext, path: Path, check: ExportCheck) -> ExportCheck:
    """The archive event naming this file must agree with it; any other file must have its SHA-256
    recorded by an export or archive event."""
    if not check.chain.ok:
        return check
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_AUDIT)
        rows = (await uow.session.execute(_EVENTS_FOR, {"sha256": check.sha256, "name": path.name})).all()
        await uow.commit()
    archived = [
        r for r in rows if r.event_type == "partition_archived" and r.event_data.get("file") == path.name
    ]
    if archived:
        event = archived[0]
        source = f"the partition_archived event #{event.seq}"
        problems = _disagreements(source, event.event_data, path, check)
        check.problems.extend(problems)
        if not problems:
            check.recorded_by = source
        return check
    matching = [r for r in rows if r.event_data.get("sha256") == check.sha256]
    if matching:
        check.recorded_by = f"the {matching[0].event_type} event #{matching[0].seq}"
    else:
        check.problems.append(
            f"No export or archive event records a file with the SHA-256 of {path.name}: "
            "it was changed after it was written, or refund-review did not write it."
        )
    return check
