"""Opening the database: the embedded server or a URL, the same `Database` either way."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.embedded import start_embedded_server
from db.engine import (
    APP_STATEMENT_TIMEOUT_MS,
    OWNER_POOL,
    SERVICE_POOL,
    PoolSize,
    create_engine,
    session_factory,
)
from db.logins import APP_ROLE, WORKSTATION_LOGIN, ensure_login, login_url, workstation_password
from db.uow import UnitOfWork
from db.url import asyncpg_connect_args, redacted, to_async_url

DEFAULT_DATABASE = "refund_review"


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached or used; the message says what to check."""


@dataclass
class Database:
    """Engines and sessions for one database.

    `owner` runs migrations and maintenance as the owner's login; `app` runs
    the services as the workstation's login (`url`), a member of the
    application role only. With one URL for both, the owner's engine simply
    has no more rights than the workstation.
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


def connect_database(
    url: URL, *, owner_url: URL | None = None, location: str | None = None, pool: PoolSize = SERVICE_POOL
) -> Database:
    """Engines for a database that exists (the workstation's `url`, the owner's `owner_url`).

    Nothing is connected until first use. `pool` sizes the services' engine (a workstation's is small).
    """
    owner = create_engine(owner_url or url, pool=OWNER_POOL)
    app = create_engine(url, pool=pool, statement_timeout_ms=APP_STATEMENT_TIMEOUT_MS)
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


async def _embedded_workstation_login(owner_url: URL, home: Path) -> URL:
    """The embedded server's own workstation login, created on first use; its URL.

    The password lives in a file under the data home (0600). The login is
    (re)made when that file is new, or the login or its membership of the
    application role is missing (a new cluster; `db downgrade base` drops the role).
    """
    password, new = await asyncio.to_thread(workstation_password, home)
    conn = await asyncpg.connect(**asyncpg_connect_args(owner_url))
    try:
        member = await conn.fetchval(
            "SELECT EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND g.rolname = $2)",
            WORKSTATION_LOGIN,
            APP_ROLE,
        )
        if new or not member:
            # Another process may make it at the same moment, from the same password file.
            with suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                await ensure_login(conn, WORKSTATION_LOGIN, password)
    finally:
        await conn.close()
    return login_url(owner_url, WORKSTATION_LOGIN, password)


async def connect(
    database_url: str | None,
    home: Path,
    *,
    owner_url: str | None = None,
    database_name: str = DEFAULT_DATABASE,
    pool: PoolSize = SERVICE_POOL,
) -> Database:
    """The database named by `database_url`, or the embedded one under `home`; dispose() when done.

    `database_url` is the workstation login's; `owner_url` the owner's, for
    migrations and maintenance (without it, the same login does both). The
    embedded server is started on demand and stopped when the process exits
    (unless another process still uses it); its owner is the server's
    superuser and its workstation login is made on first use.
    """
    if database_url:
        url = to_async_url(database_url)
        owner = url
        if owner_url:
            owner = to_async_url(owner_url)
            await probe(owner)
        location = redacted(url)
    else:
        if owner_url:
            raise DatabaseUnavailableError(
                "An owner URL was given without a database URL: set DATABASE_URL (the workstation "
                "login's URL) too, or neither to use the embedded server."
            )
        server = await asyncio.to_thread(start_embedded_server, home)
        await ensure_database_exists(server.url, database_name)
        owner = server.url.set(database=database_name)
        await probe(owner)
        url = await _embedded_workstation_login(owner, home)
        location = f"embedded PostgreSQL in {server.pgdata}"
    await probe(url)
    return connect_database(url, owner_url=owner, location=location, pool=pool)
