"""Test fixtures: a real PostgreSQL server, a migrated template, a fresh database per test.

The server is the embedded one (started once per test process in a temporary
directory) unless TEST_DATABASE_URL names another server, on which the
suite creates and drops its own databases (the user needs CREATEDB).
Every test database is a copy of a template migrated once, so each test
starts from the real schema in milliseconds.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL

from db.database import APP_ROLE, Database, connect_database
from db.embedded import DEFAULT_SERVER_SETTINGS, start_embedded_server
from db.engine import create_engine
from db.migrate import upgrade
from db.url import asyncpg_connect_args, to_async_url

os.environ.setdefault("REFUND_REVIEW_TESTING", "1")

# Durability buys nothing in a throw-away test cluster.
TEST_SERVER_SETTINGS = {
    **DEFAULT_SERVER_SETTINGS,
    "shared_buffers": "256MB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


async def admin_execute(server: URL, *statements: str) -> None:
    conn = await asyncpg.connect(**asyncpg_connect_args(server.set(database="postgres")))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[URL]:
    """The server's URL (database "postgres")."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield to_async_url(given).set(database="postgres")
        return
    home = Path(tempfile.mkdtemp(prefix="refund-review-tests-"))
    # Registered before the server's own exit handler, so it runs after the server has stopped.
    atexit.register(shutil.rmtree, home, True)
    server = start_embedded_server(home, TEST_SERVER_SETTINGS)
    yield server.url.set(database="postgres")


def _unique(prefix: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def template_database(pg_server: URL) -> Iterator[str]:
    """A database migrated to head, copied for every test."""
    name = _unique("rr_template")

    async def build() -> None:
        await admin_execute(pg_server, f'CREATE DATABASE "{name}"')
        engine = create_engine(pg_server.set(database=name))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(build())
    yield name
    asyncio.run(admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(pg_server: URL, template_database: str) -> AsyncIterator[URL]:
    """A fresh migrated database of its own for one test."""
    name = _unique("rr_test")
    await admin_execute(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield pg_server.set(database=name)
    await admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database(database_url: URL) -> AsyncIterator[Database]:
    """The test's database with its owner and application-role engines."""
    db = connect_database(database_url, app_role=APP_ROLE)
    yield db
    await db.dispose()


@pytest.fixture
async def empty_database_url(pg_server: URL) -> AsyncIterator[URL]:
    """A database with no schema at all (for migration tests)."""
    name = _unique("rr_empty")
    await admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    yield pg_server.set(database=name)
    await admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def superuser(database_url: URL) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection as the login user (a superuser on the embedded server): the tamperer's seat."""
    conn = await asyncpg.connect(**asyncpg_connect_args(database_url))
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    yield conn
    await conn.close()
