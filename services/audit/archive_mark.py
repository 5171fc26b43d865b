"""Where the chain starts in the database, taken from the archive events instead of trusted.

Retention drops whole monthly partitions and moves `audit_chain_head.anchor_seq`
(the archiving low-water mark) to the last archived event, and `audit verify`
starts there. A row in the head is easy to move, though: moving the mark
forward would hide an edit to every event below it. So the mark is rebuilt
from the `partition_archived` events, which are in the chain themselves: the
archived ranges must follow one another, and the last one's end is where the
walk starts. The head's mark is compared with it, rows still in the database
at or below the mark are named, and, given the archive directory, every
archive event is compared with its manifest and its file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.canonical import ZERO_HASH

_ARCHIVE_EVENTS = text(
    "SELECT seq, event_data FROM audit_events WHERE event_type = 'partition_archived' ORDER BY seq"
)
_HEAD_MARK = text(
    "SELECT anchor_seq, encode(anchor_hash, 'hex') AS anchor_hash FROM audit_chain_head WHERE id = 1"
)
_BELOW = text("SELECT count(*) AS n, min(seq) AS low, max(seq) AS high FROM audit_events WHERE seq <= :mark")
_MANIFEST_FIELDS = ("row_count", "first_seq", "last_seq", "first_prev_hash", "last_hash", "sha256")


class ArchiveMark(BaseModel):
    """The last archived event according to the archive events, and what disagrees with them."""

    seq: int
    hash: str
    problems: list[str]


async def check_archive_mark(session: AsyncSession, archive_dir: Path | None = None) -> ArchiveMark:
    archives = [(row.seq, row.event_data) for row in (await session.execute(_ARCHIVE_EVENTS)).all()]
    problems: list[str] = []
    seq, hash_hex = 0, ZERO_HASH.hex()
    ranges = sorted((a for a in archives if a[1].get("row_count")), key=lambda a: a[1].get("last_seq") or 0)
    for number, (event_seq, data) in enumerate(ranges):
        if number and (data.get("first_seq") != seq + 1 or data.get("first_prev_hash") != hash_hex):
            problems.append(
                f"The archive event #{event_seq} ({data.get('partition')}) archives "
                f"#{data.get('first_seq')}..#{data.get('last_seq')}, which does not continue the archive "
                f"before it (through #{seq})."
            )
        seq, hash_hex = int(data.get("last_seq") or 0), str(data.get("last_hash"))
    head = (await session.execute(_HEAD_MARK)).one()
    if (head.anchor_seq, head.anchor_hash) != (seq, hash_hex):
        backed = f"through #{seq}" if ranges else "nothing"
        problems.append(
            f"The chain head says events through #{head.anchor_seq} were archived, but the "
            f"partition_archived events archive {backed}: the archive mark was moved."
        )
    mark = max(seq, head.anchor_seq)
    below = (await session.execute(_BELOW, {"mark": mark})).one()
    if below.n:
        problems.append(
            f"{below.n:,} events at or below the archive mark #{mark} are still in the database "
            f"(#{below.low}..#{below.high}): they should have been archived and dropped."
        )
    if archive_dir is not None:
        for event_seq, data in archives:
            problems.extend(await asyncio.to_thread(_manifest_problems, archive_dir, event_seq, data))
    return ArchiveMark(seq=seq, hash=hash_hex, problems=problems)


def _manifest_problems(archive_dir: Path, event_seq: int, data: dict[str, Any]) -> list[str]:
    """The archive event against the manifest and the file it names."""
    partition = data.get("partition")
    manifest_path = archive_dir / f"{partition}.manifest.json"
    archive_path = archive_dir / str(data.get("file"))
    where = f"The archive of {partition} (event #{event_seq})"
    if not manifest_path.is_file() or not archive_path.is_file():
        return [f"{where} is not in {archive_dir}: its file or its manifest is missing."]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return [f"{where}: {manifest_path.name} is not JSON."]
    differ = [name for name in _MANIFEST_FIELDS if manifest.get(name) != data.get(name)]
    problems = []
    if differ:
        problems.append(f"{where}: the manifest disagrees with the archive event on {', '.join(differ)}.")
    if file_sha256(archive_path) != data.get("sha256"):
        problems.append(
            f"{where}: {archive_path.name} is not the file that was archived (its SHA-256 differs)."
        )
    return problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
