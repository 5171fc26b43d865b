"""`refund-review user ...` against a real database, through click's CliRunner."""

from __future__ import annotations

import asyncio

import asyncpg
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from db.database import Database
from services.auth import login
from services.errors import AuthenticationFailed

PASSWORD = "a long pass phrase 1"
# Cheap hashes for the suite; REFUND_REVIEW_TESTING (set by tests/conftest.py) allows them.
_ENV = {"REFUND_REVIEW_BCRYPT_ROUNDS": "4"}


def _cli(url: URL, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--database-url", url.render_as_string(hide_password=False), *args], input=stdin, env=_ENV
    )
    return result.exit_code, result.stdout, result.stderr


async def _run(url: URL, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    return await asyncio.to_thread(_cli, url, *args, stdin=stdin)


async def _can_log_in(database: Database, username: str, password: str) -> bool:
    try:
        await login(database, 4, username, password, ip_address=None, user_agent="tests")
    except AuthenticationFailed:
        return False
    return True


async def test_create_then_list(database: Database, database_url: URL, superuser: asyncpg.Connection) -> None:
    create = ("user", "create", "Alice", "--email", "alice@example.com", "--full-name", "Alice Smith")
    code, out, err = await _run(
        database_url, *create, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert (code, err) == (0, "")
    assert (
        out
        == "Created admin alice <alice@example.com>. They choose their own password at their first login.\n"
    )
    # A hidden, confirmed prompt when no --password-stdin: the password never appears in the output.
    code, out, _ = await _run(
        database_url,
        *("user", "create", "bob", "--email", "bob@example.com", "--full-name", "Bob Jones"),
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert code == 0
    assert "Password" in out and PASSWORD not in out
    assert "Created reviewer bob" in out

    code, out, _ = await _run(database_url, "user", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "USERNAME",
        "ROLE",
        "STATUS",
        "LAST",
        "LOGIN",
        "(UTC)",
        "EMAIL",
        "FULL",
        "NAME",
    ]
    assert lines[1].split() == ["alice", "admin", "active", "never", "alice@example.com", "Alice", "Smith"]
    assert lines[2].split() == ["bob", "reviewer", "active", "never", "bob@example.com", "Bob", "Jones"]

    assert await _can_log_in(database, "alice", PASSWORD)
    events = await superuser.fetch(
        "SELECT event_type, user_id, user_agent, event_data FROM audit_events ORDER BY seq"
    )
    assert [e["event_type"] for e in events] == ["user_created", "user_created", "login"]
    # Done by the operator, not by a user: no user id, and the agent says which tool.
    assert events[0]["user_id"] is None and "(user;" in events[0]["user_agent"]
    assert PASSWORD not in str([e["event_data"] for e in events])


async def test_mistakes_are_sentences_with_exit_codes(
    database_url: URL, superuser: asyncpg.Connection
) -> None:
    create = ("user", "create", "alice", "--email", "alice@example.com", "--full-name", "Alice Smith")
    assert (await _run(database_url, *create, "--password-stdin", stdin=PASSWORD))[0] == 0
    code, _, err = await _run(database_url, *create, "--password-stdin", stdin=PASSWORD)
    assert code == 2
    assert err == "Error: The username 'alice' is already taken; choose another.\n"
    code, _, err = await _run(
        database_url,
        *("user", "create", "carol", "--email", "carol@example.com", "--full-name", "Carol"),
        "--password-stdin",
        stdin="weak\n",
    )
    assert (code, err) == (2, "Error: A password needs at least 12 characters.\n")
    code, _, err = await _run(database_url, "user", "unlock", "nobody")
    assert (code, err) == (3, "Error: There is no user called 'nobody'.\n")
    assert await superuser.fetchval("SELECT count(*) FROM users") == 1


async def test_role_deactivation_unlock_and_reset(
    database: Database, database_url: URL, superuser: asyncpg.Connection
) -> None:
    for name in ("alice", "bob"):
        create = ("user", "create", name, "--email", f"{name}@example.com", "--full-name", name.title())
        assert (await _run(database_url, *create, "--role", "admin", "--password-stdin", stdin=PASSWORD))[
            0
        ] == 0

    assert await _run(database_url, "user", "set-role", "bob", "supervisor") == (
        0,
        "bob is a supervisor.\n",
        "",
    )
    code, _, err = await _run(database_url, "user", "deactivate", "alice")
    assert (code, err) == (2, "Error: alice is the last active admin; make another user an admin first.\n")
    assert (await _run(database_url, "user", "deactivate", "bob"))[0] == 0
    assert not await _can_log_in(database, "bob", PASSWORD)
    assert (await _run(database_url, "user", "reactivate", "bob"))[0] == 0
    assert await _can_log_in(database, "bob", PASSWORD)

    await superuser.execute(
        "UPDATE users SET failed_login_count = 9, locked_until = now() + interval '1 hour'"
    )
    code, out, _ = await _run(database_url, "user", "list")
    assert "locked" in out
    assert (await _run(database_url, "user", "unlock", "alice"))[0] == 0
    assert await _can_log_in(database, "alice", PASSWORD)

    code, out, _ = await _run(
        database_url, "user", "reset-password", "bob", stdin="temporary pass 99\ntemporary pass 99\n"
    )
    assert code == 0
    assert "temporary pass 99" not in out
    assert await _can_log_in(database, "bob", "temporary pass 99")
    assert [
        r["event_type"]
        for r in await superuser.fetch(
            "SELECT event_type FROM audit_events WHERE user_id IS NULL AND event_type <> 'login_failed' "
            "ORDER BY seq"
        )
    ] == [
        "user_created",
        "user_created",
        "user_updated",
        "user_deactivated",
        "user_reactivated",
        "user_unlocked",
        "password_reset",
    ]
