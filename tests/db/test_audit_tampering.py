"""Tampering behind the triggers' back, as a superuser, against a chain with a signed anchor.

Each case is run twice: inside the anchored history (events #1..#21, the anchor
signs #21) and in the tail after it (#22..#27). Every case in the anchored
history must be caught; in the tail, what the chain alone cannot see must be
named "not yet anchored" with the right count. The table below is the one the
issue's closing note gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from db.database import Database
from db.uow import AuditRecord
from services.audit import (
    AnchorSigner,
    AnchorSource,
    AnchorStatement,
    ChainVerification,
    DirectoryAnchorStore,
    TrustedKeys,
    anchor_chain,
    load_or_create_signer,
    summarize_event,
    verify_audit_chain,
)
from services.context import ServiceContext, system_actor
from services.errors import Conflict

ANCHORED = 21  # the anchor signs event #21
TAIL_END = 27  # six more events follow it


def system(database: Database) -> ServiceContext:
    return ServiceContext(db=database, actor=system_actor("tests"))


async def write_events(database: Database, transactions: int, start: int = 0) -> None:
    for i in range(start, start + transactions):
        async with database.unit_of_work() as uow:
            for part in range(1 + i % 2):
                uow.record(AuditRecord(event_type="ingest", event_data={"i": i, "part": part}))
            await uow.commit()


@pytest.fixture
def signer(tmp_path: Path) -> AnchorSigner:
    return load_or_create_signer(tmp_path / "keys" / "anchor-key.pem")


@pytest.fixture
def source(tmp_path: Path, signer: AnchorSigner) -> AnchorSource:
    return AnchorSource(
        store=DirectoryAnchorStore(tmp_path / "anchors"), trusted=TrustedKeys([signer.public])
    )


@pytest.fixture
async def anchored(
    database: Database, superuser: asyncpg.Connection, signer: AnchorSigner, source: AnchorSource
) -> asyncpg.Connection:
    """21 events, an anchor at #21, 6 events after it; and the superuser who will tamper with them."""
    await write_events(database, 14)
    result = await anchor_chain(system(database), signer, source.store)
    assert result.statement.seq == ANCHORED
    await write_events(database, 4, start=14)
    assert await superuser.fetchval("SELECT max(seq) FROM audit_events") == TAIL_END
    return superuser


async def tamper(superuser: asyncpg.Connection, sql: str) -> None:
    """Run `sql` with the audit tables' own triggers switched off, and on again afterwards (so the
    application's next event, the verification's, is linked as usual)."""
    tables = ("audit_events", "audit_chain_head")
    off = "".join(f"ALTER TABLE {t} DISABLE TRIGGER USER; " for t in tables)
    on = "".join(f"ALTER TABLE {t} ENABLE TRIGGER USER; " for t in tables)
    await superuser.execute(f"BEGIN; {off}{sql}; {on}COMMIT;")


def rewrite_and_rehash(seq: int) -> str:
    """Change event #seq, then recompute its hash, every later link and the chain head."""
    return f"""
    DO $$
    DECLARE r record; prev bytea; h bytea;
    BEGIN
        UPDATE audit_events SET event_type = 'approve', event_data = '{{"forged": true}}' WHERE seq = {seq};
        SELECT prev_hash INTO prev FROM audit_events WHERE seq = {seq};
        FOR r IN SELECT * FROM audit_events WHERE seq >= {seq} ORDER BY seq LOOP
            h := audit_event_hash(prev, r.id, r.seq, r.occurred_at, r.event_type, r.user_id, r.session_id,
                                  r.contract_id, r.ip_address, r.user_agent, r.event_data);
            UPDATE audit_events SET prev_hash = prev, hash = h WHERE id = r.id AND seq = r.seq;
            prev := h;
        END LOOP;
        UPDATE audit_chain_head SET last_hash = prev WHERE id = 1;
    END $$
    """


def cut(from_seq: int, *, roll_head_back: bool) -> str:
    statement = f"DELETE FROM audit_events WHERE seq >= {from_seq};"
    if roll_head_back:
        statement += (
            f" UPDATE audit_chain_head SET last_seq = {from_seq - 1}, "
            f"last_hash = (SELECT hash FROM audit_events WHERE seq = {from_seq - 1}) WHERE id = 1;"
        )
    return statement


APPEND_FORGED = (
    "INSERT INTO audit_events (id, seq, occurred_at, event_type, event_data, prev_hash, hash) "
    "SELECT i, h.last_seq + 1, now(), 'approve', '{}', h.last_hash, audit_event_hash(h.last_hash, i, "
    "h.last_seq + 1, now(), 'approve', NULL, NULL, NULL, NULL, NULL, '{}') "
    "FROM audit_chain_head h, gen_random_uuid() i; "
    "UPDATE audit_chain_head SET last_seq = e.seq, last_hash = e.hash "
    "FROM (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) e WHERE id = 1"
)


def move_archive_mark(seq: int) -> str:
    return (
        f"UPDATE audit_chain_head SET anchor_seq = {seq}, "
        f"anchor_hash = (SELECT hash FROM audit_events WHERE seq = {seq}) WHERE id = 1"
    )


@dataclass(frozen=True)
class Case:
    """`caught_by` names what finds it; "not yet anchored" means nothing can, and verify says so."""

    sql: str
    caught_by: str
    words: str
    unanchored: int | None = None


CASES: dict[str, Case] = {
    "change an event | anchored": Case(
        "UPDATE audit_events SET event_data = '{\"i\": 99}' WHERE seq = 7", "chain", "was changed"
    ),
    "change an event | tail": Case(
        "UPDATE audit_events SET event_data = '{\"i\": 99}' WHERE seq = 24", "chain", "was changed"
    ),
    "delete one in the middle | anchored": Case("DELETE FROM audit_events WHERE seq = 7", "chain", "removed"),
    "delete one in the middle | tail": Case("DELETE FROM audit_events WHERE seq = 24", "chain", "removed"),
    "insert a forged one | anchored": Case(
        "INSERT INTO audit_events (id, seq, occurred_at, event_type, prev_hash, hash) "
        "SELECT gen_random_uuid(), 9, occurred_at, 'approve', prev_hash, sha256('forged') "
        "FROM audit_events WHERE seq = 9",
        "chain",
        "#9",
    ),
    "insert a forged one | tail": Case(
        "INSERT INTO audit_events (id, seq, occurred_at, event_type, prev_hash, hash) "
        "SELECT gen_random_uuid(), 24, occurred_at, 'approve', prev_hash, sha256('forged') "
        "FROM audit_events WHERE seq = 24",
        "chain",
        "#24",
    ),
    "reorder two | anchored": Case(
        "UPDATE audit_events SET seq = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE seq IN (5, 6)", "chain", "#5"
    ),
    "reorder two | tail": Case(
        "UPDATE audit_events SET seq = CASE seq WHEN 23 THEN 24 ELSE 23 END WHERE seq IN (23, 24)",
        "chain",
        "#23",
    ),
    "cut the tail, head kept | anchored": Case(
        cut(20, roll_head_back=False), "chain", "at the end were removed"
    ),
    "cut the tail, head kept | tail": Case(cut(26, roll_head_back=False), "chain", "at the end were removed"),
    "cut the tail, head rolled back | anchored": Case(
        cut(20, roll_head_back=True), "anchor", "beyond the chain's end at #19: events #20..#21 were cut off"
    ),
    "cut the tail, head rolled back | tail": Case(
        cut(26, roll_head_back=True), "not yet anchored", "", unanchored=4
    ),
    "rewrite and recompute every later hash and the head | anchored": Case(
        rewrite_and_rehash(7), "anchor", "Event #21 no longer has the hash signed"
    ),
    "rewrite and recompute every later hash and the head | tail": Case(
        rewrite_and_rehash(23), "not yet anchored", "", unanchored=6
    ),
    "append a forged event, head updated | tail": Case(APPEND_FORGED, "not yet anchored", "", unanchored=7),
    "move the archive mark forward | anchored": Case(
        move_archive_mark(10), "archive mark", "the archive mark was moved"
    ),
    "move the archive mark forward | tail": Case(
        move_archive_mark(24), "archive mark", "24 events at or below the archive mark #24"
    ),
}


def everything_said(result: ChainVerification) -> str:
    return " ".join([result.broken_at.describe() if result.broken_at else "", *result.problems])


@pytest.mark.parametrize("case", list(CASES))
async def test_tampering_table(
    database: Database, anchored: asyncpg.Connection, source: AnchorSource, case: str
) -> None:
    expected = CASES[case]
    await tamper(anchored, expected.sql)
    result = await verify_audit_chain(system(database), anchors=source)
    assert result.anchors is not None
    said = everything_said(result)
    if expected.caught_by == "not yet anchored":
        assert result.intact, said
        assert result.anchors.last_anchored_seq == ANCHORED
        assert result.anchors.not_yet_anchored == expected.unanchored
        return
    assert not result.intact
    assert expected.words in said, said
    if expected.caught_by == "chain":
        assert result.broken_at is not None
    elif expected.caught_by == "anchor":
        assert any(expected.words in p for p in result.anchors.problems), said
    else:
        assert any(expected.words in p for p in result.archive_problems), said


async def test_untouched_chain_counts_what_is_not_yet_anchored(
    database: Database, anchored: asyncpg.Connection, source: AnchorSource
) -> None:
    result = await verify_audit_chain(system(database), anchors=source)
    assert result.intact, everything_said(result)
    assert result.anchors is not None
    assert (result.anchors.anchors_read, result.anchors.anchors_confirmed) == (1, 1)
    assert result.anchors.last_anchored_seq == ANCHORED
    assert result.anchors.not_yet_anchored == TAIL_END - ANCHORED
    recorded = await anchored.fetchrow("SELECT event_data FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert recorded["event_data"]["not_yet_anchored"] == TAIL_END - ANCHORED


async def test_a_forged_or_altered_anchor_is_reported(
    database: Database, anchored: asyncpg.Connection, source: AnchorSource, tmp_path: Path
) -> None:
    """A tamperer who rewrote history writes an anchor of their own; neither key nor edit passes."""
    await tamper(anchored, rewrite_and_rehash(7))
    head = await anchored.fetchrow("SELECT last_seq, encode(last_hash, 'hex') AS h FROM audit_chain_head")
    intruder = load_or_create_signer(tmp_path / "intruder.pem")
    await anchor_chain(system(database), intruder, source.store)
    genuine = (tmp_path / "anchors").glob(f"anchor-{ANCHORED:015d}-*.json")
    original = next(iter(genuine))
    altered = original.read_text().replace(original.read_text().split('"hash": "')[1][:64], head["h"])
    (tmp_path / "anchors" / original.name.replace("anchor-", "anchor-altered-")).write_text(altered)

    result = await verify_audit_chain(system(database), anchors=source)
    said = everything_said(result)
    assert not result.intact
    assert f"signed by key {intruder.key_id}, which is not a trusted anchor key" in said
    assert "its signature does not verify" in said
    assert "Event #21 no longer has the hash signed" in said
    assert result.anchors is not None and result.anchors.anchors_read == 3
    recorded = await anchored.fetchrow("SELECT event_data FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert summarize_event("audit_verified", recorded["event_data"]) == (
        "verified the audit chain: NOT VERIFIED, 3 problems"
    )


async def test_anchoring_again_without_new_events_writes_nothing(
    database: Database, signer: AnchorSigner, source: AnchorSource, tmp_path: Path
) -> None:
    await write_events(database, 2)
    first = await anchor_chain(system(database), signer, source.store)
    again = await anchor_chain(system(database), signer, source.store)
    assert first.written and not again.written
    assert again.statement == first.statement
    files = list((tmp_path / "anchors").iterdir())
    assert [f.name for f in files] == [first.statement.file_name()]
    assert files[0].stat().st_mode & 0o777 == 0o444
    assert AnchorStatement.model_validate(first.statement.model_dump()).seq == 3


async def test_a_head_that_does_not_match_its_event_is_not_anchored(
    database: Database, superuser: asyncpg.Connection, signer: AnchorSigner, source: AnchorSource
) -> None:
    await write_events(database, 2)
    await tamper(superuser, "UPDATE audit_chain_head SET last_hash = sha256('x') WHERE id = 1")
    with pytest.raises(Conflict, match="nothing was anchored"):
        await anchor_chain(system(database), signer, source.store)
    assert source.store.names() == []


async def test_an_unreadable_store_is_a_problem_but_the_chain_is_still_walked(
    database: Database, anchored: asyncpg.Connection, source: AnchorSource, tmp_path: Path
) -> None:
    (tmp_path / "anchors" / "anchor-not-a-file.json").mkdir()
    await tamper(anchored, "UPDATE audit_events SET event_data = '{}' WHERE seq = 3")
    result = await verify_audit_chain(system(database), anchors=source)
    assert result.broken_at is not None and result.broken_at.seq == 3
    assert result.anchors is not None
    assert result.problems[0].startswith(f"The anchor store {tmp_path / 'anchors'} cannot be read: ")
    assert result.problems[0].endswith("The chain was checked without its anchors.")
    assert result.anchors.not_yet_anchored == TAIL_END
