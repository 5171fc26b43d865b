"""User administration against real PostgreSQL: rights, guards, session revocation and audit events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from db.database import Database
from services.access import authorize
from services.auth import login
from services.context import ServiceContext
from services.errors import AuthenticationFailed, Forbidden, InvalidInput, NotFound, SessionExpired
from services.permissions import Permission
from services.users import (
    UserInfo,
    change_role,
    create_user,
    deactivate,
    list_users,
    reactivate,
    reset_password,
    unlock,
)
from tests.services.conftest import PASSWORD, MakeContext

ROUNDS = 4
TEMPORARY = "temporary pass 2024"


async def _create(ctx: ServiceContext, username: str = "carol", **fields: str) -> UserInfo:
    values = {
        "email": f"{username}@example.com",
        "full_name": "Carol King",
        "role": "reviewer",
        "password": PASSWORD,
        **fields,
    }
    return await create_user(ctx, username, bcrypt_rounds=ROUNDS, **values)


async def _login(database: Database, username: str, password: str = PASSWORD) -> Any:
    return await login(database, ROUNDS, username, password, ip_address=None, user_agent="tests")


async def _refused(ctx: ServiceContext) -> str:
    """The SessionExpired message the context's next call gets."""
    with pytest.raises(SessionExpired) as refusal:
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)
    return refusal.value.message


async def _events(superuser: asyncpg.Connection) -> list[asyncpg.Record]:
    return await superuser.fetch(
        "SELECT event_type, user_id, session_id, event_data FROM audit_events ORDER BY seq"
    )


async def test_admin_creates_a_user_who_can_log_in(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    user = await create_user(
        admin,
        " Carol ",
        "Carol.King@Example.COM ",
        "  Carol   King ",
        "Reviewer",
        "a good long passphrase",
        bcrypt_rounds=ROUNDS,
    )
    assert (user.username, user.email, user.full_name, user.role, user.is_active, user.is_locked) == (
        "carol",
        "carol.king@example.com",
        "Carol King",
        "reviewer",
        True,
        False,
    )
    logged_in = await _login(database, "CAROL", "a good long passphrase")
    assert logged_in.user.id == user.id
    [created, _] = await _events(superuser)
    assert (created["event_type"], created["user_id"], created["session_id"]) == (
        "user_created",
        admin.actor.user_id,
        admin.actor.session_id,
    )
    assert created["event_data"] == {
        "target_user_id": str(user.id),
        "username": "carol",
        "email": "carol.king@example.com",
        "full_name": "Carol King",
        "role": "reviewer",
        "temporary_password": True,
    }
    # The admin chose the password: Carol's first login must replace it before anything else.
    assert user.password_must_change and logged_in.must_change_password
    stored_hash = await superuser.fetchval("SELECT password_hash FROM users WHERE username = 'carol'")
    assert stored_hash.startswith("$2b$04$")
    assert "passphrase" not in json.dumps(created["event_data"])


async def test_a_taken_username_or_email_is_refused_with_a_sentence(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await _create(admin, "carol")
    with pytest.raises(InvalidInput, match="username 'carol' is already taken"):
        await _create(admin, "CAROL", email="other@example.com")
    with pytest.raises(
        InvalidInput, match=r"carol@example\.com is already the email address of another user"
    ):
        await _create(admin, "carol2", email="Carol@Example.com")
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE username LIKE 'carol%'") == 1
    assert [e["event_type"] for e in await _events(superuser)] == ["user_created"]


async def test_two_admins_creating_the_same_user_at_once_get_one_user_and_one_sentence(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    first, second = await make_context("admin"), await make_context("admin")
    outcomes = await asyncio.gather(_create(first, "dave"), _create(second, "dave"), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["InvalidInput", "UserInfo"]
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE username = 'dave'") == 1


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"username": "x"}, "A username is a letter"),
        ({"username": "9lives"}, "A username is"),
        ({"username": "carol\x00"}, "A username is"),
        ({"username": "c" * 10_000}, "A username is"),
        ({"username": "robert'); DROP TABLE users;--"}, "A username is"),
        ({"email": "not-an-address"}, "is not an email address"),
        ({"email": "carol\x00@example.com"}, "is not an email address"),
        ({"email": "c" * 10_000 + "@example.com"}, "is not an email address"),
        ({"full_name": "   "}, "A full name is 1 to 200"),
        ({"full_name": "x" * 201}, "A full name is 1 to 200"),
        ({"full_name": "Carol\x00King"}, "without control characters"),
        ({"role": "root"}, "A role is one of reviewer, supervisor, admin"),
        ({"password": "short"}, "at least 12 characters"),
        ({"password": "onlylowercaseletters"}, "two kinds of character"),
        ({"password": "Carol.Example"}, "same as the username"),
        ({"password": "p" * 10_000 + "1"}, "at most 72 bytes"),
        ({"password": "pass\x00word-1234"}, "control characters"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    make_context: MakeContext, superuser: asyncpg.Connection, fields: dict[str, str], words: str
) -> None:
    admin = await make_context("admin")
    values = {
        "username": "carol.example",
        "email": "carol@example.com",
        "full_name": "Carol King",
        "role": "reviewer",
        "password": PASSWORD,
        **fields,
    }
    with pytest.raises(InvalidInput, match=words):
        await create_user(admin, bcrypt_rounds=ROUNDS, **values)
    assert await superuser.fetchval("SELECT count(*) FROM users") == 1
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0


USER_CALLS: dict[str, Callable[[ServiceContext], Awaitable[Any]]] = {
    "list_users": list_users,
    "create_user": lambda ctx: _create(ctx, "zed"),
    "change_role": lambda ctx: change_role(ctx, "target", "admin"),
    "deactivate": lambda ctx: deactivate(ctx, "target"),
    "reactivate": lambda ctx: reactivate(ctx, "target"),
    "unlock": lambda ctx: unlock(ctx, "target"),
    "reset_password": lambda ctx: reset_password(ctx, "target", TEMPORARY, bcrypt_rounds=ROUNDS),
}


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
@pytest.mark.parametrize("call", USER_CALLS)
async def test_only_admins_manage_users(
    make_context: MakeContext, superuser: asyncpg.Connection, role: str, call: str
) -> None:
    await make_context("reviewer", username="target", is_active=False)
    ctx = await make_context(role)
    before = await superuser.fetch("SELECT * FROM users ORDER BY username")
    with pytest.raises(Forbidden, match=f"Your role \\({role}\\) may not manage users"):
        await USER_CALLS[call](ctx)
    assert await superuser.fetch("SELECT * FROM users ORDER BY username") == before
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0


async def test_a_role_change_applies_at_once_and_says_what_changed(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    reviewer = await make_context("reviewer", username="erin")
    user = await change_role(admin, "ERIN", "supervisor")
    assert user.role == "supervisor"
    # The old session carried the old role: it ends, and the next login has the new one.
    assert "ended by an administrator" in await _refused(reviewer)
    assert (await _login(database, "erin")).actor.role == "supervisor"
    [event, _] = await _events(superuser)
    assert (event["event_type"], event["user_id"], event["session_id"]) == (
        "user_updated",
        admin.actor.user_id,
        admin.actor.session_id,
    )
    assert event["event_data"] == {
        "target_user_id": str(user.id),
        "username": "erin",
        "changes": {"role": {"old": "reviewer", "new": "supervisor"}},
        "sessions_ended": 1,
    }
    # Giving the role someone already has changes nothing and records nothing.
    await change_role(admin, "erin", "supervisor")
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 2


async def test_admins_cannot_demote_deactivate_or_reset_themselves(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin", username="root.admin")
    await make_context("admin")
    with pytest.raises(Forbidden, match="your own role"):
        await change_role(admin, "root.admin", "reviewer")
    with pytest.raises(Forbidden, match="deactivate yourself"):
        await deactivate(admin, "root.admin")
    with pytest.raises(Forbidden, match="Change your own password"):
        await reset_password(admin, "root.admin", TEMPORARY, bcrypt_rounds=ROUNDS)
    assert await superuser.fetchval("SELECT role FROM users WHERE username = 'root.admin'") == "admin"
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0


async def test_the_last_active_admin_stays_an_admin(
    system: ServiceContext, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="only.admin")
    await make_context("admin", username="gone.admin", is_active=False)
    with pytest.raises(InvalidInput, match=r"only\.admin is the last active admin"):
        await deactivate(system, "only.admin")
    with pytest.raises(InvalidInput, match="last active admin"):
        await change_role(system, "only.admin", "supervisor")
    await make_context("admin", username="second.admin")
    await change_role(system, "only.admin", "supervisor")
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE role = 'admin' AND is_active") == 1


async def test_two_admins_removed_at_the_same_moment_leave_one(
    system: ServiceContext, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ann")
    await make_context("admin", username="ben")
    outcomes = await asyncio.gather(
        deactivate(system, "ann"), deactivate(system, "ben"), return_exceptions=True
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["InvalidInput", "UserInfo"]
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE role = 'admin' AND is_active") == 1


async def test_deactivation_ends_sessions_and_logins_until_reactivated(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    frank = await make_context("reviewer", username="frank")
    second_session = await _login(database, "frank")
    user = await deactivate(admin, "frank")
    assert not user.is_active
    assert "ended by an administrator" in await _refused(frank)
    assert (
        await superuser.fetchval(
            "SELECT count(*) FROM sessions WHERE user_id = $1 AND end_reason = 'revoked'", user.id
        )
        == 2
    )
    with pytest.raises(AuthenticationFailed, match="The username or password is not right"):
        await _login(database, "frank")
    with pytest.raises(InvalidInput, match="already deactivated"):
        await deactivate(admin, "frank")
    assert (await reactivate(admin, "frank")).is_active
    with pytest.raises(InvalidInput, match="already active"):
        await reactivate(admin, "frank")
    await _login(database, "frank")
    events = [(e["event_type"], e["event_data"]) for e in await _events(superuser)]
    about = {"target_user_id": str(user.id), "username": "frank"}
    assert events[0][0] == "login" and events[0][1] == {"method": "password"}
    assert events[1:4] == [
        ("user_deactivated", {**about, "sessions_ended": 2}),
        (
            "login_failed",
            {"attempt": "login", "reason": "inactive", "failed_count": 1, "user_id": str(user.id)},
        ),
        ("user_reactivated", about),
    ]
    assert second_session.session.id != frank.actor.session_id


async def test_unlock_lifts_a_lock_out(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await make_context("reviewer", username="gina")
    await superuser.execute(
        "UPDATE users SET failed_login_count = 5, locked_until = now() + interval '15 minutes' "
        "WHERE username = 'gina'"
    )
    [gina] = [u for u in await list_users(admin) if u.username == "gina"]
    assert gina.is_locked
    user = await unlock(admin, "gina")
    assert (user.is_locked, user.failed_login_count, user.locked_until) == (False, 0, None)
    await _login(database, "gina")
    [event, _] = await _events(superuser)
    assert (event["event_type"], event["event_data"]) == (
        "user_unlocked",
        {"target_user_id": str(user.id), "username": "gina", "was_locked": True, "failed_login_count": 5},
    )


async def test_reset_password_sets_a_temporary_one_and_ends_the_old_sessions(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    hal = await make_context("reviewer", username="hal")
    await superuser.execute(
        "UPDATE users SET failed_login_count = 5, locked_until = now() + interval '15 minutes' "
        "WHERE username = 'hal'"
    )
    user = await reset_password(admin, "hal", TEMPORARY, bcrypt_rounds=ROUNDS)
    assert not user.is_locked
    assert "ended by an administrator" in await _refused(hal)
    with pytest.raises(AuthenticationFailed):
        await _login(database, "hal")
    assert (await _login(database, "hal", TEMPORARY)).must_change_password
    [event, *_] = await _events(superuser)
    assert (event["event_type"], event["event_data"]) == (
        "password_reset",
        {
            "target_user_id": str(user.id),
            "username": "hal",
            "was_locked": True,
            "sessions_ended": 1,
            "temporary_password": True,
        },
    )
    everything = json.dumps([dict(e["event_data"]) for e in await _events(superuser)])
    assert TEMPORARY not in everything and "$2b$" not in everything


async def test_reset_password_applies_the_policy(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await make_context("reviewer", username="ivan.petrov1")
    before = await superuser.fetchval("SELECT password_hash FROM users WHERE username = 'ivan.petrov1'")
    with pytest.raises(InvalidInput, match="same as the username"):
        await reset_password(admin, "ivan.petrov1", "IVAN.PETROV1", bcrypt_rounds=ROUNDS)
    assert (
        await superuser.fetchval("SELECT password_hash FROM users WHERE username = 'ivan.petrov1'") == before
    )


@pytest.mark.parametrize("call", ["change_role", "deactivate", "reactivate", "unlock", "reset_password"])
async def test_an_unknown_username_is_named_in_the_answer(system: ServiceContext, call: str) -> None:
    with pytest.raises(NotFound, match="There is no user called 'target'"):
        await USER_CALLS[call](system)


async def test_list_users_shows_everyone_in_order(make_context: MakeContext) -> None:
    admin = await make_context("admin", username="zoe")
    await make_context("reviewer", username="adam", is_active=False)
    await make_context("supervisor", username="mia")
    users = await list_users(admin)
    assert [(u.username, u.role, u.is_active) for u in users] == [
        ("adam", "reviewer", False),
        ("mia", "supervisor", True),
        ("zoe", "admin", True),
    ]
