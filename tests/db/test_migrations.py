"""Migrations run up from empty and down again, and the models match the migrated database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL

from db.database import Database
from db.engine import create_engine
from db.migrate import current_revision, downgrade, head_revision, upgrade
from db.models import Base, ViewBase
from db.schema_compare import describe, include_name

EXPECTED_TABLES = {
    "users",
    "sessions",
    "contracts",
    "extractions",
    "corrections",
    "audit_events",
    "system_config",
    "chat_messages",
    "extraction_metrics",
}


async def _tables(engine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
            )
        )
        return set(rows.scalars())


async def test_upgrade_from_empty_then_downgrade_to_base_then_up_again(empty_database_url: URL) -> None:
    engine = create_engine(empty_database_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        assert await _tables(engine) >= EXPECTED_TABLES

        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        assert await _tables(engine) == {"alembic_version"}

        await upgrade(engine)
        assert await _tables(engine) >= EXPECTED_TABLES
    finally:
        await engine.dispose()


async def test_models_match_the_migrated_database(database: Database) -> None:
    def compare(connection: Connection) -> list:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": include_name, "compare_type": True, "compare_server_default": True},
        )
        return compare_metadata(context, Base.metadata)

    async with database.owner.connect() as conn:
        diff = await conn.run_sync(compare)
    assert diff == [], describe(diff)


async def test_covering_index_columns_match_the_models(database: Database) -> None:
    """Alembic's comparison does not look at INCLUDE columns; covering indexes are only worth their INCLUDE."""

    def included(connection: Connection) -> dict[str, list[str]]:
        inspector = inspect(connection)
        return {
            index["name"]: list(index.get("dialect_options", {}).get("postgresql_include") or [])
            for table in Base.metadata.tables
            for index in inspector.get_indexes(table)
        }

    async with database.owner.connect() as conn:
        actual = await conn.run_sync(included)
    expected = {
        index.name: list(index.dialect_options["postgresql"]["include"] or [])
        for table in Base.metadata.tables.values()
        for index in table.indexes
    }
    assert {name: actual.get(name) for name in expected} == expected
    assert actual["extractions_reviewed_by_idx"] == ["status", "review_seconds"]


async def test_view_models_match_the_views(database: Database) -> None:
    def view_columns(connection: Connection) -> dict[str, list[str]]:
        inspector = inspect(connection)
        return {name: [c["name"] for c in inspector.get_columns(name)] for name in ViewBase.metadata.tables}

    async with database.owner.connect() as conn:
        actual = await conn.run_sync(view_columns)
    expected = {name: [c.name for c in table.columns] for name, table in ViewBase.metadata.tables.items()}
    assert actual == expected


async def test_schema_has_at_least_25_indexes_and_every_foreign_key_is_indexed(database: Database) -> None:
    async with database.owner.connect() as conn:
        count = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename !~ '^audit_events_(default|y[0-9]{4}m[0-9]{2})$'"
            )
        )
        unindexed = (
            await conn.execute(
                text(
                    """
                    SELECT c.conrelid::regclass::text || '.' || a.attname
                      FROM pg_constraint c
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                     WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
                       AND c.conrelid::regclass::text !~ '^audit_events_'
                       AND NOT EXISTS (
                           SELECT 1 FROM pg_index i
                            WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
                    """
                )
            )
        ).scalars()
        unindexed_list = list(unindexed)
    assert count >= 25
    assert unindexed_list == []
