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

from db.database import Database, connect_database
from db.embedded import DEFAULT_SERVER_SETTINGS, start_embedded_server
from db.engine import create_engine
from db.logins import ensure_login, login_url
from db.migrate import upgrade
from db.url import asyncpg_connect_args, to_async_url

os.environ.setdefault("REFUND_REVIEW_TESTING", "1")
# Commands run by the tests keep their anchors, keys, logs and exports in a home of the test run's
# own, never in the user's data directory (whose anchors would describe another database).
_TEST_HOME = Path(tempfile.mkdtemp(prefix="refund-review-home-"))
atexit.register(shutil.rmtree, _TEST_HOME, True)
os.environ.setdefault("REFUND_REVIEW_HOME", str(_TEST_HOME))

# The workstation login the suite's services run as, made once per test server (roles are
# cluster-wide). A fixed password: every test process on a shared server makes the same login.
WORKSTATION = "rr_tests_workstation"
WORKSTATION_PASSWORD = "rr-tests-workstation-password"

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


@pytest.fixture(autouse=True)
def own_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each test's commands get a home of their own: anchors written for one test's database (say, by
    `maintain`) must not be checked against another's. Not inside `tmp_path`, which tests fill with the
    folders they ingest."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REFUND_REVIEW_HOME", str(home))
    return home


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
def workstation_login(pg_server: URL) -> str:
    """A LOGIN role that is a member of the application role only, as a deployment gives a workstation."""

    async def make() -> None:
        conn = await asyncpg.connect(**asyncpg_connect_args(pg_server))
        try:
            await ensure_login(conn, WORKSTATION, WORKSTATION_PASSWORD)
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            pass  # another test process on the same server made it at the same moment
        finally:
            await conn.close()

    asyncio.run(make())
    return WORKSTATION


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
def workstation_url(database_url: URL, workstation_login: str) -> URL:
    """The test's database as the workstation login (what DATABASE_URL holds in a deployment)."""
    return login_url(database_url, workstation_login, WORKSTATION_PASSWORD)


@pytest.fixture
async def database(database_url: URL, workstation_url: URL) -> AsyncIterator[Database]:
    """The test's database: the owner's engine, and the services' engine as the workstation login."""
    db = connect_database(workstation_url, owner_url=database_url)
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
