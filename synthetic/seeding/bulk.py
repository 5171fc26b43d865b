"""Bulk-loading helpers: COPY on the owner's raw connection, and index rebuilds around a load.

Loading a million rows into a table whose dozen indexes are maintained row
by row is several times slower than loading it bare and building each index
once, sorted, with parallel workers. The definitions are read from the
catalog (pg_get_indexdef), so whatever the migrations created is rebuilt
exactly as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

# Bulk work wants memory for sorts and every core for index builds.
BULK_SETTINGS = (
    "SET maintenance_work_mem = '1GB'",
    "SET max_parallel_maintenance_workers = 2",
    "SET synchronous_commit = off",
    "SET statement_timeout = 0",
)


@asynccontextmanager
async def raw_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """The asyncpg connection under a pooled SQLAlchemy one, for COPY."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
        for statement in BULK_SETTINGS:
            await driver.execute(statement)
        yield driver


async def copy_rows(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    await conn.copy_records_to_table(table, columns=list(columns), records=rows)


async def secondary_indexes(conn: asyncpg.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the indexes on `tables` that no constraint owns.

    For a partitioned table only the parent's indexes are listed: dropping a
    parent index drops its partitions' copies, and creating it again builds
    them all. pg_get_indexdef spells a parent index `ON ONLY`, which would
    create it on the parent alone (invalid, with no partition indexes), so
    the statement is given without ONLY.
    """
    rows = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl
          FROM pg_index i
          JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
         ORDER BY 1
        """,
        list(tables),
    )
    return [(r["name"], r["ddl"].replace(" ON ONLY ", " ON ", 1)) for r in rows]
