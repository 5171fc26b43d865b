"""Retention: audit partitions past 7 years are exported, verified, dropped, and the chain re-anchored."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from db.database import Database
from db.engine import create_engine
from services.audit import (
    archive_expired_partitions,
    check_against_database,
    check_export_file,
    run_maintenance,
    verify_audit_chain,
    verify_export,
)
from services.context import ServiceContext
from services.errors import Conflict, Forbidden, InvalidInput, Unavailable
from tests.services.conftest import MakeContext

NOW = dt.datetime(2025, 6, 15, 12, 0, tzinfo=dt.UTC)
OLD_MONTHS = ("2015-01-01", "2015-02-01", "2015-03-01")


async def insert_at(superuser: asyncpg.Connection, when: str, **data: Any) -> None:
    await superuser.execute(
        "INSERT INTO audit_events (event_type, occurred_at, event_data) VALUES ('view', $1::text::timestamptz, $2)",
        when,
        data,
    )


async def partitions(superuser: asyncpg.Connection) -> set[str]:
    rows = await superuser.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'audit_events'::regclass"
    )
    return {r["relname"] for r in rows}


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
async def old_log(superuser: asyncpg.Connection, system: ServiceContext) -> asyncpg.Connection:
    """Three events in January 2015, two in February, none in March, then recent ones (2018 and today)."""
    for month in (*OLD_MONTHS, "2018-06-01"):
        await superuser.execute("SELECT create_audit_partition($1::text::date)", month)
    for when in ("2015-01-05 10:00+00", "2015-01-20 11:00+00", "2015-01-31 23:59:59.999999+00"):
        await insert_at(superuser, when, at=when)
    for when in ("2015-02-01 00:00+00", "2015-02-27 09:00+00"):
        await insert_at(superuser, when, at=when)
    await insert_at(superuser, "2018-06-20 09:00+00", at="within seven years")
    async with system.db.unit_of_work() as uow:
        uow.record(system.actor.event("ingest", at="today"))
        await uow.commit()
    return superuser


async def test_expired_partitions_are_archived_and_the_chain_re_anchored(
    system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    stored = {r["seq"]: r for r in await old_log.fetch("SELECT seq, prev_hash, hash FROM audit_events")}
    archived = await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)

    assert [a.partition for a in archived] == [
        "audit_events_y2015m01",
        "audit_events_y2015m02",
        "audit_events_y2015m03",
    ]
    assert [(a.row_count, a.first_seq, a.last_seq) for a in archived] == [
        (3, 1, 3),
        (2, 4, 5),
        (0, None, None),
    ]
    assert files_in(tmp_path) == sorted(
        f"audit_events_y2015m0{m}.{ext}" for m in (1, 2, 3) for ext in ("jsonl", "manifest.json")
    )
    january = read_json(tmp_path / "audit_events_y2015m01.manifest.json")
    assert january["row_count"] == 3
    assert (january["first_seq"], january["last_seq"]) == (1, 3)
    assert january["first_prev_hash"] == stored[1]["prev_hash"].hex() == "0" * 64
    assert january["last_hash"] == stored[3]["hash"].hex()
    assert (
        january["sha256"]
        == hashlib.sha256((tmp_path / "audit_events_y2015m01.jsonl").read_bytes()).hexdigest()
    )
    assert january["period"]["from"].startswith("2015-01-01T00:00:00")
    assert (
        read_json(tmp_path / "audit_events_y2015m02.manifest.json")["first_prev_hash"]
        == stored[3]["hash"].hex()
    )
    assert all(verify_export(a.file).ok for a in archived)

    remaining = await partitions(old_log)
    assert not remaining & {a.partition for a in archived}
    assert "audit_events_y2018m06" in remaining
    head = await old_log.fetchrow("SELECT anchor_seq, anchor_hash FROM audit_chain_head")
    assert (head["anchor_seq"], head["anchor_hash"]) == (5, stored[5]["hash"])
    assert await old_log.fetchval("SELECT min(seq) FROM audit_events") == 6

    events = await old_log.fetch(
        "SELECT event_data FROM audit_events WHERE event_type = 'partition_archived' ORDER BY seq"
    )
    assert [e["event_data"]["partition"] for e in events] == [a.partition for a in archived]
    assert events[0]["event_data"]["sha256"] == january["sha256"]

    verification = await verify_audit_chain(system)
    assert verification.intact, verification.broken_at
    assert verification.first_seq == 6
    assert verification.events_verified == 2 + 3  # the two recent events and the three archive events


async def test_archiving_again_finds_nothing_to_do(
    system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    assert await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW) == []
    later = await archive_expired_partitions(
        system, archive_dir=tmp_path, retention_years=7, now=NOW.replace(year=2026)
    )
    assert [a.partition for a in later] == ["audit_events_y2018m06"]
    assert (await verify_audit_chain(system)).intact


async def test_retention_comes_from_the_configuration(
    system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    await old_log.execute("UPDATE system_config SET value = '11' WHERE key = 'audit_retention_years'")
    assert await archive_expired_partitions(system, archive_dir=tmp_path, now=NOW) == []
    await old_log.execute("UPDATE system_config SET value = '10' WHERE key = 'audit_retention_years'")
    archived = await archive_expired_partitions(system, archive_dir=tmp_path, now=NOW)
    assert [a.partition for a in archived] == [
        "audit_events_y2015m01",
        "audit_events_y2015m02",
        "audit_events_y2015m03",
    ]


async def assert_nothing_archived(superuser: asyncpg.Connection, tmp_path: Path) -> None:
    assert {"audit_events_y2015m01", "audit_events_y2015m02"} <= await partitions(superuser)
    assert await superuser.fetchval("SELECT anchor_seq FROM audit_chain_head") == 0
    assert files_in(tmp_path) == []
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'partition_archived'")
        == 0
    )


async def test_events_of_an_old_month_without_a_partition_stop_the_archive(
    system: ServiceContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    await insert_at(superuser, "2014-12-24 10:00+00")  # no partition: into audit_events_default
    for month in OLD_MONTHS[:2]:
        await superuser.execute("SELECT create_audit_partition($1::text::date)", month)
    await insert_at(superuser, "2015-01-05 10:00+00")
    with pytest.raises(
        Conflict, match=r"audit_events_y2015m01 cannot be archived.*first event is #2.*continues at #1"
    ):
        await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    await assert_nothing_archived(superuser, tmp_path)


async def test_partitions_overlapping_in_the_chain_are_refused(
    system: ServiceContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    for month in OLD_MONTHS[:2]:
        await superuser.execute("SELECT create_audit_partition($1::text::date)", month)
    await insert_at(superuser, "2015-01-05 10:00+00")
    await insert_at(superuser, "2015-02-05 10:00+00")
    await insert_at(superuser, "2015-01-06 10:00+00")
    with pytest.raises(Conflict, match=r"events #1..#3 are not all in it"):
        await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    await assert_nothing_archived(superuser, tmp_path)


async def test_a_tampered_partition_is_kept(
    system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    await old_log.execute("SET session_replication_role = replica")
    await old_log.execute('UPDATE audit_events SET event_data = \'{"at": "forged"}\' WHERE seq = 2')
    await old_log.execute("SET session_replication_role = DEFAULT")
    with pytest.raises(Conflict, match=r"audit_events_y2015m01 does not verify \(at event #2"):
        await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    await assert_nothing_archived(old_log, tmp_path)


async def test_a_broken_link_to_the_anchor_is_refused(
    system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    await old_log.execute("SET session_replication_role = replica")
    await old_log.execute("UPDATE audit_chain_head SET anchor_hash = sha256('elsewhere')")
    with pytest.raises(Conflict, match="does not link to the chain's anchor"):
        await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    assert files_in(tmp_path) == []


async def test_without_the_owners_rights_nothing_is_archived(
    database: Database, system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    app_only = Database(
        url=database.url,
        owner=create_engine(database.url),
        app=database.app,
        sessions=database.sessions,
        location=database.location,
    )
    try:
        with pytest.raises(Forbidden, match="owner's credentials"):
            await archive_expired_partitions(
                ServiceContext(db=app_only, actor=system.actor),
                archive_dir=tmp_path,
                retention_years=7,
                now=NOW,
            )
    finally:
        await app_only.owner.dispose()
    await assert_nothing_archived(old_log, tmp_path)


async def test_a_busy_audit_log_is_left_alone(
    system: ServiceContext,
    old_log: asyncpg.Connection,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long reader holds the table; archiving gives up instead of stalling every writer behind it."""
    monkeypatch.setattr("services.audit.retention.ARCHIVE_LOCK_TIMEOUT", "200ms")
    async with database.app.connect() as reader:
        await reader.execute(text("SELECT count(*) FROM audit_events"))
        with pytest.raises(Unavailable, match="audit log is busy"):
            await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    await assert_nothing_archived(old_log, tmp_path)


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
async def test_only_admins_and_operators_archive(
    make_context: MakeContext, tmp_path: Path, role: str
) -> None:
    ctx = await make_context(role)
    with pytest.raises(Forbidden, match="database maintenance"):
        await archive_expired_partitions(ctx, archive_dir=tmp_path, now=NOW)


async def test_less_than_seven_years_is_refused(system: ServiceContext, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="at least 7 years"):
        await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=5, now=NOW)


async def test_maintenance_archives_only_when_asked(
    system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path
) -> None:
    report = await run_maintenance(system)
    assert report.partitions_archived == []
    assert "audit_events_y2015m01" in await partitions(old_log)
    report = await run_maintenance(system, archive_dir=tmp_path / "archive")
    assert [a.partition for a in report.partitions_archived] == [
        "audit_events_y2015m01",
        "audit_events_y2015m02",
        "audit_events_y2015m03",
        "audit_events_y2018m06",
    ]
    assert "audit_events_y2015m01.jsonl" in files_in(tmp_path / "archive")


def cut_last_event(archive: Path) -> None:
    """What a tamperer does to an archive: drop the last event, rewrite header and trailer to match."""
    lines = archive.read_text(encoding="utf-8").splitlines()
    header, events, trailer = json.loads(lines[0]), lines[1:-2], json.loads(lines[-1])
    last = json.loads(events[-1])
    header["last_seq"] = last["seq"]
    trailer.update(count=len(events), last_seq=last["seq"], last_hash=last["hash"])
    archive.write_text("\n".join([json.dumps(header), *events, json.dumps(trailer)]) + "\n", encoding="utf-8")


@pytest.fixture
async def archived(system: ServiceContext, old_log: asyncpg.Connection, tmp_path: Path) -> Path:
    await archive_expired_partitions(system, archive_dir=tmp_path, retention_years=7, now=NOW)
    return tmp_path / "audit_events_y2015m01.jsonl"


async def test_a_cut_archive_with_its_header_and_trailer_rewritten_fails(
    system: ServiceContext, archived: Path
) -> None:
    untouched = check_export_file(archived)
    assert untouched.ok and untouched.manifest == archived.with_name("audit_events_y2015m01.manifest.json")
    assert (await check_against_database(system, archived, untouched)).recorded_by is not None

    cut_last_event(archived)
    assert verify_export(archived).ok  # consistent with itself: the chain inside cannot tell
    check = check_export_file(archived)
    assert not check.ok
    assert "is not the file its manifest audit_events_y2015m01.manifest.json describes" in check.problems[0]
    assert "row_count 3 recorded, 2 in the file" in check.problems[0]
    assert "last_seq 3 recorded, 2 in the file" in check.problems[0]

    archived.with_name("audit_events_y2015m01.manifest.json").unlink()
    alone = check_export_file(archived)
    assert alone.ok and alone.manifest is None  # nothing beside it: only the database can tell now
    against_events = await check_against_database(system, archived, alone)
    assert not against_events.ok
    assert "is not the file the partition_archived event #" in against_events.problems[0]


async def test_an_unrecorded_export_is_named(system: ServiceContext, archived: Path) -> None:
    other = archived.with_name("copy.jsonl")
    cut_last_event(archived)
    shutil.copyfile(archived, other)
    check = await check_against_database(system, other, check_export_file(other))
    assert check.problems == [
        "No export or archive event records a file with the SHA-256 of copy.jsonl: "
        "it was changed after it was written, or refund-review did not write it."
    ]


async def test_verify_checks_the_archive_events_against_their_manifests(
    system: ServiceContext, archived: Path, old_log: asyncpg.Connection
) -> None:
    assert (await verify_audit_chain(system, archive_dir=archived.parent)).intact
    cut_last_event(archived)
    result = await verify_audit_chain(system, archive_dir=archived.parent)
    assert not result.intact and result.broken_at is None
    assert result.archive_problems == [
        "The archive of audit_events_y2015m01 (event #8): audit_events_y2015m01.jsonl is not the file "
        "that was archived (its SHA-256 differs)."
    ]
    archived.with_name("audit_events_y2015m02.manifest.json").unlink()
    result = await verify_audit_chain(system, archive_dir=archived.parent)
    assert any("audit_events_y2015m02" in p and "missing" in p for p in result.archive_problems)
