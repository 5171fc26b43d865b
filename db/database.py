"""Opening the database: the embedded server or a URL, the same `Database` either way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.embedded import start_embedded_server
from db.engine import create_engine, session_factory
from db.uow import UnitOfWork
from db.url import asyncpg_connect_args, redacted, to_async_url

APP_ROLE = "refund_review_app"
DEFAULT_DATABASE = "refund_review"
APP_STATEMENT_TIMEOUT_MS = 20_000


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached or used; the message says what to check."""


@dataclass
class Database:
    """Engines and sessions for one database.

    `owner` runs migrations and maintenance as the login user; `app` runs the
    services as the application role.
    """

    url: URL
    owner: AsyncEngine
    app: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    location: str

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def dispose(self) -> None:
        await self.app.dispose()
        await self.owner.dispose()


def connect_database(url: URL, *, app_role: str | None = APP_ROLE, location: str | None = None) -> Database:
    """Engines for a database that exists; nothing is connected until first use."""
    owner = create_engine(url, pool_size=2, max_overflow=4)
    app = create_engine(url, role=app_role, statement_timeout_ms=APP_STATEMENT_TIMEOUT_MS)
    return Database(
        url=url, owner=owner, app=app, sessions=session_factory(app), location=location or redacted(url)
    )


async def ensure_database_exists(server_url: URL, name: str) -> None:
    """Create database `name` on the server if it is missing (for the embedded server and tests)."""
    conn = await asyncpg.connect(**asyncpg_connect_args(server_url.set(database="postgres")))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def probe(url: URL) -> None:
    """Fail early, with a sentence, when the server cannot be reached."""
    try:
        conn = await asyncpg.connect(**asyncpg_connect_args(url), timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailableError(
            f"Cannot connect to the database at {redacted(url)}: {exc}. "
            "Check that the server is running, the host, port and database name are right, "
            "and the user name and password are valid."
        ) from exc
    await conn.close()


async def connect(
    database_url: str | None,
    home: Path,
    *,
    app_role: str | None = APP_ROLE,
    database_name: str = DEFAULT_DATABASE,
) -> Database:
    """The database named by `database_url`, or the embedded one under `home`; dispose() when done.

    The embedded server is started on demand and stopped when the process
    exits (unless another process still uses it).
    """
    if database_url:
        url = to_async_url(database_url)
        location = redacted(url)
    else:
        server = await asyncio.to_thread(start_embedded_server, home)
        await ensure_database_exists(server.url, database_name)
        url = server.url.set(database=database_name)
        location = f"embedded PostgreSQL in {server.pgdata}"
    await probe(url)
    return connect_database(url, app_role=app_role, location=location)


@asynccontextmanager
async def open_database(
    database_url: str | None,
    home: Path,
    *,
    app_role: str | None = APP_ROLE,
    database_name: str = DEFAULT_DATABASE,
) -> AsyncIterator[Database]:
    """`connect` for the life of a block."""
    database = await connect(database_url, home, app_role=app_role, database_name=database_name)
    try:
        yield database
    finally:
        await database.dispose()
