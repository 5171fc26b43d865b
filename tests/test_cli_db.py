"""`refund-review db create-login` and `db status` against a real database, through click's CliRunner."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from db.url import asyncpg_connect_args, to_async_url
from tests.conftest import admin_execute

_ENV = {"REFUND_REVIEW_BCRYPT_ROUNDS": "4"}


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


async def _cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    def invoke() -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), input=stdin, env=_ENV)
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(invoke)


@pytest.fixture
async def login_name(pg_server: URL) -> AsyncIterator[str]:
    """A login name of the test's own; roles are cluster-wide, so it is dropped afterwards."""
    name = f"rr_cli_{uuid.uuid4().hex[:10]}"
    yield name
    await admin_execute(pg_server, f'DROP ROLE IF EXISTS "{name}"')


async def _who(url: str) -> str:
    conn = await asyncpg.connect(**asyncpg_connect_args(to_async_url(url)))
    try:
        return await conn.fetchval("SELECT current_user")
    finally:
        await conn.close()


def _printed_url(out: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith("Give the workstation")]
    return line.rsplit(" ", 1)[1]


async def _stored_password(superuser: asyncpg.Connection, name: str) -> str:
    return await superuser.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", name)


async def test_create_login_makes_a_workstation_login_and_prints_its_url_once(
    database_url: URL, workstation_url: URL, login_name: str, superuser: asyncpg.Connection
) -> None:
    as_owner = ("--database-url", _url(workstation_url), "--owner-url", _url(database_url))
    code, out, err = await _cli(
        *as_owner, "db", "create-login", login_name, "--password-stdin", stdin="s3cret-pass\n"
    )
    assert (code, err) == (0, "")
    assert f"Created workstation login {login_name}" in out
    url = _printed_url(out)
    assert url.startswith(f"postgresql://{login_name}:s3cret-pass@")
    assert out.count("s3cret-pass") == 1
    assert await _who(url) == login_name
    # Its status: a workstation login, no warning.
    code, out, err = await _cli("--database-url", url, "db", "status")
    assert code == 0, err
    assert f"Connected:  as {login_name} (workstation login)" in out
    assert "Warning" not in err

    # Again without a password: one is generated, printed once, and replaces the old one.
    before = await _stored_password(superuser, login_name)
    code, out, err = await _cli(*as_owner, "db", "create-login", login_name)
    assert (code, err) == (0, "")
    assert f"Updated workstation login {login_name}" in out and "generated" in out
    new_url = _printed_url(out)
    password = to_async_url(new_url).password
    assert password and len(password) >= 32 and out.count(password) == 1
    assert await _who(new_url) == login_name
    # (The test server trusts local connections, so the old password is checked in the catalogue.)
    assert await _stored_password(superuser, login_name) not in {None, before}


async def test_create_login_needs_the_owner_and_refuses_to_take_over_a_role(
    database_url: URL, workstation_url: URL, login_name: str
) -> None:
    code, _, err = await _cli("--database-url", _url(workstation_url), "db", "create-login", login_name)
    assert code == 4
    assert "needs the database owner's credentials" in err and "--owner-url" in err
    as_owner = ("--database-url", _url(workstation_url), "--owner-url", _url(database_url))
    code, _, err = await _cli(*as_owner, "db", "create-login", str(database_url.username))
    assert code == 2
    assert "superuser or owns database objects" in err
    code, _, err = await _cli(*as_owner, "db", "create-login", "Robert'); DROP TABLE users;--")
    assert code == 2
    assert "cannot be a login name" in err


async def test_status_warns_when_the_workstation_connects_as_a_superuser(database_url: URL) -> None:
    code, out, err = await _cli("--database-url", _url(database_url), "db", "status")
    assert code == 0
    assert f"Connected:  as {database_url.username} (superuser)" in out
    assert "Warning: the workstation's connection is the database superuser" in err
    assert "db create-login" in err


async def test_maintenance_without_archiving_runs_as_the_workstation_login(
    workstation_url: URL, superuser: asyncpg.Connection
) -> None:
    # Partitions ahead and session cleanup go through the owner's definer functions.
    user = await superuser.fetchval(
        "INSERT INTO users (username, email, full_name, password_hash, role) "
        "VALUES ('gone', 'gone@example.com', 'Gone User', $1, 'reviewer') RETURNING id",
        "$2b$04$" + "a" * 53,
    )
    await superuser.execute(
        "INSERT INTO sessions (user_id, user_agent, created_at, expires_at) "
        "VALUES ($1, 'tests', now() - interval '9 hours', now() - interval '1 hour')",
        user,
    )
    code, out, err = await _cli("--database-url", _url(workstation_url), "maintain")
    assert code == 0, err
    assert "Expired sessions removed: 1" in out
    assert await superuser.fetchval("SELECT count(*) FROM sessions") == 0
