"""The audit log's hash chain: one unbroken chain under concurrency, and every kind of tampering found."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.cli import main
from db.database import Database
from db.uow import AuditRecord
from db.url import asyncpg_connect_args
from services.audit import verify_audit_chain
from services.context import ServiceContext, system_actor

_SEQS = text("SELECT seq FROM audit_events ORDER BY seq")


@pytest.fixture(autouse=True)
def own_anchor_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's commands sign with a key of its own into a store of its own, never the user's."""
    monkeypatch.setenv("REFUND_REVIEW_ANCHOR_KEY", str(tmp_path / "anchor-key.pem"))
    monkeypatch.setenv("REFUND_REVIEW_ANCHOR_STORE", str(tmp_path / "anchors"))
    return tmp_path / "anchors"


def system(database: Database) -> ServiceContext:
    return ServiceContext(db=database, actor=system_actor("tests"))


async def _write_events(database: Database, writer: int, count: int) -> None:
    for i in range(count):
        async with database.unit_of_work() as uow:
            # Some transactions carry two events, as a correction with its view does (sessionless
            # ingest events here: the writers are the command-line operator).
            for part in range(1 + i % 2):
                uow.record(
                    AuditRecord(event_type="ingest", event_data={"writer": writer, "i": i, "part": part})
                )
            await uow.commit()


async def test_concurrent_writers_build_one_unbroken_chain(database: Database) -> None:
    await asyncio.gather(*(_write_events(database, writer, 30) for writer in range(8)))
    result = await verify_audit_chain(system(database), chunk=7)
    assert result.intact, result.broken_at
    assert result.events_verified == 8 * 45
    async with database.unit_of_work() as uow:
        seqs = (await uow.session.execute(_SEQS)).scalars().all()
    # The verification itself was recorded as the next link.
    assert seqs == list(range(1, 8 * 45 + 2))


async def test_events_appended_while_the_walk_runs_are_not_tampering(
    database: Database, database_url: URL
) -> None:
    """Reviewers keep working while `audit verify` walks: an event committed after the walk began is
    the head's as well, and not one "added behind the application's back"."""
    await _write_events(database, 0, 10)  # 15 events
    appended: list[int] = []

    async def append() -> None:
        conn = await asyncpg.connect(**asyncpg_connect_args(database_url))
        try:
            await conn.execute(
                "SELECT append_audit_events(ARRAY[NULL]::uuid[], ARRAY['ingest'], ARRAY[NULL]::text[], "
                "ARRAY['{}']::jsonb[], ARRAY[NULL]::inet[], ARRAY[NULL]::text[])"
            )
        finally:
            await conn.close()

    def meanwhile(done: int, total: int) -> None:
        # Called between two chunks of the walk: another client commits an event right then.
        if not appended:
            appended.append(done)
            writer = threading.Thread(target=asyncio.run, args=(append(),))
            writer.start()
            writer.join()

    result = await verify_audit_chain(system(database), chunk=4, progress=meanwhile)
    assert appended == [4]
    assert result.intact, result.broken_at
    assert result.events_verified == 16


@pytest.fixture
async def chain(database: Database, superuser: asyncpg.Connection) -> asyncpg.Connection:
    """Twenty events, then a superuser with triggers switched off: the tamperer."""
    await _write_events(database, 0, 14)  # 14 transactions, 21 events
    await superuser.execute("SET session_replication_role = replica")
    return superuser


TAMPERING = {
    "a row is changed": (
        "UPDATE audit_events SET event_data = '{\"writer\": 9}' WHERE seq = 7",
        7,
        "changed",
    ),
    "a row is deleted": ("DELETE FROM audit_events WHERE seq = 7", 8, "removed"),
    "two rows are swapped": (
        "UPDATE audit_events SET seq = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE seq IN (5, 6)",
        5,
        "changed",
    ),
    "a forged row is inserted": (
        "INSERT INTO audit_events (id, seq, occurred_at, event_type, prev_hash, hash) "
        "SELECT gen_random_uuid(), 9, occurred_at, 'approve', prev_hash, sha256('forged') "
        "FROM audit_events WHERE seq = 9",
        9,
        "",
    ),
    "a row is rewritten with a recomputed hash": (
        "UPDATE audit_events SET event_type = 'approve', hash = audit_event_hash(prev_hash, id, seq, occurred_at, "
        "'approve', user_id, session_id, contract_id, ip_address, user_agent, event_data) WHERE seq = 12",
        13,
        "does not link",
    ),
    "the last rows are cut off": ("DELETE FROM audit_events WHERE seq >= 20", 20, "at the end were removed"),
    "a well-forged row is appended": (
        "INSERT INTO audit_events (id, seq, occurred_at, event_type, event_data, prev_hash, hash) "
        "SELECT i, 22, now(), 'approve', '{}', h.last_hash, audit_event_hash(h.last_hash, i, 22, now(), 'approve', "
        "NULL, NULL, NULL, NULL, NULL, '{}') FROM audit_chain_head h, gen_random_uuid() i",
        22,
        "added behind",
    ),
}


@pytest.mark.parametrize("chunk", [4, 250_000])
@pytest.mark.parametrize("case", list(TAMPERING))
async def test_tampering_is_found_at_the_right_event(
    database: Database, chain: asyncpg.Connection, case: str, chunk: int
) -> None:
    statement, broken_seq, words = TAMPERING[case]
    await chain.execute(statement)
    result = await verify_audit_chain(system(database), chunk=chunk)
    assert not result.intact
    assert result.broken_at is not None
    assert result.broken_at.seq == broken_seq, result.broken_at.describe()
    assert words in result.broken_at.reason


async def test_verification_is_itself_audited(database: Database, superuser: asyncpg.Connection) -> None:
    await _write_events(database, 0, 2)
    result = await verify_audit_chain(system(database))
    row = await superuser.fetchrow(
        "SELECT event_type, event_data FROM audit_events ORDER BY seq DESC LIMIT 1"
    )
    assert row["event_type"] == "audit_verified"
    data = row["event_data"]
    assert data["intact"] is True
    assert data["events_verified"] == result.events_verified == 3


def _cli(url: URL, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, ["--database-url", url.render_as_string(hide_password=False), *args])
    return result.exit_code, result.stdout, result.stderr


async def test_cli_audit_verify_exit_codes(
    database: Database, database_url: URL, superuser: asyncpg.Connection
) -> None:
    await _write_events(database, 0, 4)
    code, out, _ = await asyncio.to_thread(_cli, database_url, "audit", "verify")
    assert code == 0
    assert "6 events verified" in out
    await superuser.execute("SET session_replication_role = replica")
    await superuser.execute("UPDATE audit_events SET event_data = '{}' WHERE seq = 3")
    code, _, err = await asyncio.to_thread(_cli, database_url, "audit", "verify")
    assert code == 1
    assert "BROKEN at event #3 (ingest" in err
    assert "was changed" in err
