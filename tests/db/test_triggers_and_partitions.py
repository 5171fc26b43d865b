"""updated_at triggers, audit immutability (for every role), and monthly partitions."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database
from tests.db.rows import contract_row, extraction_row, insert, user_row

UPDATED_AT_TABLES = {
    "users": ("full_name", "'Renamed'"),
    "contracts": ("customer_name", "'Customer #99'"),
    "extractions": ("model_version", "'rules-2'"),
    "system_config": ("value", "'81'"),
    "extraction_metrics": ("approved_count", "approved_count"),
}


async def test_every_table_with_updated_at_has_the_trigger(superuser: asyncpg.Connection) -> None:
    tables = set(
        await superuser.fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'updated_at' AND table_name NOT LIKE 'v\\_%'"
        )
    )
    with_trigger = {
        r["relname"]
        for r in await superuser.fetch(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgfoid = 'set_updated_at'::regproc"
        )
    }
    assert {r["table_name"] for r in tables} == with_trigger


@pytest.mark.parametrize("table", sorted(UPDATED_AT_TABLES))
async def test_updated_at_moves_on_update(superuser: asyncpg.Connection, table: str) -> None:
    user = await insert(superuser, "users", user_row())
    contract = await insert(superuser, "contracts", contract_row())
    await insert(superuser, "extractions", extraction_row(contract["contract_id"]))
    await superuser.execute(
        "INSERT INTO extraction_metrics (metric_date, llm_provider, model_version) VALUES ('2026-01-01', 'rules', 'r')"
    )
    where = {
        "users": f"id = '{user['id']}'",
        "contracts": f"contract_id = '{contract['contract_id']}'",
        "extractions": f"contract_id = '{contract['contract_id']}'",
        "system_config": "key = 'confidence_threshold'",
        "extraction_metrics": "true",
    }[table]
    # Make the stored value old, so that "moved" cannot be an accident of timing.
    await superuser.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    await superuser.execute(f"UPDATE {table} SET updated_at = '2000-01-01' WHERE {where}")
    await superuser.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    column, value = UPDATED_AT_TABLES[table]
    await superuser.execute(f"UPDATE {table} SET {column} = {value} WHERE {where}")
    updated = await superuser.fetchval(f"SELECT updated_at FROM {table} WHERE {where}")
    assert updated > dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET event_type = 'logout'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE {partition} SET event_data = '{{}}'",
        "DELETE FROM {partition}",
        "TRUNCATE {partition}",
        "TRUNCATE audit_events_default",
    ],
)
async def test_audit_events_refuse_change_even_for_a_superuser(
    superuser: asyncpg.Connection, statement: str
) -> None:
    await superuser.execute("INSERT INTO audit_events (event_type) VALUES ('login')")
    partition = await superuser.fetchval("SELECT tableoid::regclass::text FROM audit_events LIMIT 1")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await superuser.execute(statement.format(partition=partition))
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 1


async def test_application_role_only_reads_the_audit_log(database: Database) -> None:
    async with database.app.connect() as conn:
        # The services run as a workstation login that inherits the application role.
        assert await conn.scalar(text("SELECT pg_has_role(current_user, 'refund_review_app', 'USAGE')"))
        privileges = await conn.scalar(
            text(
                "SELECT array_agg(p) FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p "
                "WHERE has_table_privilege('refund_review_app', 'audit_events', p)"
            )
        )
        assert sorted(privileges) == ["SELECT"]
        with pytest.raises(DBAPIError, match="permission denied"):
            await conn.execute(text("INSERT INTO audit_events (event_type) VALUES ('login')"))
        await conn.rollback()
        with pytest.raises(DBAPIError, match="permission denied"):
            await conn.execute(text("DELETE FROM audit_events"))


async def test_reporting_role_reads_but_never_writes_or_sees_password_hashes(
    superuser: asyncpg.Connection,
) -> None:
    await superuser.execute("SET ROLE refund_review_reporting")
    assert await superuser.fetchval("SELECT count(*) FROM contracts") == 0
    assert await superuser.fetchval("SELECT count(username) FROM users") == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await superuser.fetchval("SELECT password_hash FROM users")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await superuser.execute("INSERT INTO audit_events (event_type) VALUES ('login')")


async def test_event_lands_in_its_month_and_far_future_in_default(superuser: asyncpg.Connection) -> None:
    await superuser.execute("INSERT INTO audit_events (event_type) VALUES ('login')")
    await superuser.execute(
        "INSERT INTO audit_events (event_type, occurred_at) VALUES ('logout', '2099-05-17')"
    )
    rows = {
        r["event_type"]: r["part"]
        for r in await superuser.fetch(
            "SELECT event_type, tableoid::regclass::text AS part FROM audit_events"
        )
    }
    this_month = dt.datetime.now(dt.UTC).strftime("audit_events_y%Ym%m")
    assert rows == {"login": this_month, "logout": "audit_events_default"}


async def test_partition_created_later_takes_its_events_from_default_without_relinking(
    superuser: asyncpg.Connection,
) -> None:
    await superuser.execute(
        "INSERT INTO audit_events (event_type, occurred_at) VALUES ('login', '2099-05-17')"
    )
    await superuser.execute(
        "INSERT INTO audit_events (event_type, occurred_at) VALUES ('logout', '2099-08-01')"
    )
    before = await superuser.fetch("SELECT seq, hash FROM audit_events ORDER BY seq")
    assert await superuser.fetchval("SELECT create_audit_partition('2099-05-01')") == "audit_events_y2099m05"
    after = await superuser.fetch(
        "SELECT seq, hash, tableoid::regclass::text AS part FROM audit_events ORDER BY seq"
    )
    assert [(r["seq"], r["hash"]) for r in after] == [(r["seq"], r["hash"]) for r in before]
    assert [r["part"] for r in after] == ["audit_events_y2099m05", "audit_events_default"]
    # The new partitions refuse truncation like the others.
    for part in ("audit_events_y2099m05", "audit_events_default"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await superuser.execute(f"TRUNCATE {part}")
    assert await superuser.fetchval("SELECT create_audit_partition('2099-05-01')") is None


async def test_partitions_are_ensured_ahead(superuser: asyncpg.Connection) -> None:
    names = await superuser.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'audit_events'::regclass"
    )
    today = dt.date.today().replace(day=1)
    expected = set()
    for offset in range(4):
        month = (today.month - 1 + offset) % 12 + 1
        year = today.year + (today.month - 1 + offset) // 12
        expected.add(f"audit_events_y{year}m{month:02d}")
    assert expected <= {r["relname"] for r in names}
    assert await superuser.fetchval("SELECT count(*) FROM ensure_audit_partitions(6)") == 3


async def test_concurrent_partition_creation_is_serialized(database: Database) -> None:
    async def create() -> str | None:
        async with database.app.begin() as conn:
            return await conn.scalar(text("SELECT create_audit_partition('2098-01-01')"))

    results = await asyncio.gather(*(create() for _ in range(4)))
    assert results.count("audit_events_y2098m01") == 1
    assert results.count(None) == 3
