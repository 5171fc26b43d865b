"""Logging in and out, login delays, session expiry, screen unlock and password change, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import services.auth
from db.database import Database
from services.access import authorize
from services.auth import (
    LOGIN_FAILED,
    LoginResult,
    change_password,
    login,
    logout,
    unlock_screen,
    validate_session,
)
from services.context import ServiceContext
from services.errors import (
    AccountLocked,
    AuthenticationFailed,
    InvalidInput,
    LoginThrottled,
    SessionExpired,
)
from services.passwords import check_password_policy, hash_password, verify_password
from services.permissions import Permission
from tests.services.conftest import PASSWORD, MakeContext

ROUNDS = 4
IP = "198.51.100.7"
AGENT = "refund-review/tests (tui; xterm; host; Linux)"
NEW_PASSWORD = "a brand new passphrase 2"


async def _login(database: Database, username: str, password: str = PASSWORD) -> LoginResult:
    return await login(database, ROUNDS, username, password, ip_address=IP, user_agent=AGENT)


async def _events(superuser: asyncpg.Connection) -> list[asyncpg.Record]:
    return await superuser.fetch(
        "SELECT event_type, user_id, session_id, host(ip_address) AS ip, user_agent, event_data "
        "FROM audit_events ORDER BY seq"
    )


async def _still_authorized(database: Database, result: LoginResult) -> None:
    ctx = ServiceContext(db=database, actor=result.actor)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The hashes bcrypt checked, one entry per call of verify_password (None: the dummy)."""
    calls: list[str | None] = []

    async def counting(password: str, password_hash: str | None, *, rounds: int) -> bool:
        calls.append(password_hash)
        return await verify_password(password, password_hash, rounds=rounds)

    monkeypatch.setattr(services.auth, "verify_password", counting)
    return calls


async def test_login_opens_a_session_and_records_it(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("supervisor", username="alice")
    result = await _login(database, "  ALICE ")
    assert (result.actor.username, result.actor.role, result.user.email) == (
        "alice",
        "supervisor",
        "alice@example.com",
    )
    assert result.actor.session_id == result.session.id
    row = await superuser.fetchrow(
        "SELECT host(ip_address) AS ip, user_agent, expires_at - created_at AS lasts, ended_at "
        "FROM sessions WHERE id = $1",
        result.session.id,
    )
    assert (row["ip"], row["user_agent"], row["lasts"], row["ended_at"]) == (
        IP,
        AGENT,
        dt.timedelta(hours=4),
        None,
    )
    assert result.session.idle_expires_at - result.session.last_activity_at == dt.timedelta(minutes=30)
    assert await superuser.fetchval("SELECT last_login_at IS NOT NULL FROM users WHERE username = 'alice'")
    [event] = await _events(superuser)
    assert (event["event_type"], event["user_id"], event["session_id"], event["ip"], event["user_agent"]) == (
        "login",
        result.actor.user_id,
        result.session.id,
        IP,
        AGENT,
    )
    await _still_authorized(database, result)


async def test_unknown_user_wrong_password_deactivated_and_locked_accounts_look_the_same(
    database: Database,
    make_context: MakeContext,
    superuser: asyncpg.Connection,
    verify_calls: list[str | None],
) -> None:
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob", is_active=False)
    carol = await make_context(
        "reviewer", username="carol", locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    answers = []
    tries = [("nobody", PASSWORD), ("alice", "wrong password 1"), ("bob", PASSWORD), ("carol", "wrong pw 9")]
    for username, password in tries:
        before = len(verify_calls)
        with pytest.raises(AuthenticationFailed) as failure:
            await _login(database, username, password)
        answers.append((type(failure.value), failure.value.message))
        # One bcrypt check each, whether or not there was a user: the same time for all four.
        assert len(verify_calls) == before + 1
    assert answers == [(AuthenticationFailed, LOGIN_FAILED)] * 4
    assert verify_calls[0] is None and all(verify_calls[1:])
    events = await _events(superuser)
    # Without a session an event is nobody's (append_audit_events): no user_id, whoever was named.
    assert [(e["event_type"], e["user_id"], e["event_data"]["reason"]) for e in events] == [
        ("login_failed", None, "unknown_user"),
        ("login_failed", None, "wrong_password"),
        ("login_failed", None, "inactive"),
        ("login_failed", None, "wrong_password"),
    ]
    assert [e["event_data"].get("user_id") for e in events] == [
        None,
        str(alice.actor.user_id),
        str(bob.actor.user_id),
        str(carol.actor.user_id),
    ]
    assert all(e["ip"] == IP and e["user_agent"] == AGENT and e["session_id"] is None for e in events)
    # The same work for every answer: each known account's counter moves, and nobody is locked out.
    counts = dict(await superuser.fetch("SELECT username, failed_login_count FROM users"))
    assert counts == {"alice": 1, "bob": 1, "carol": 1}
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE locked_until > now()") == 1


async def test_a_failed_login_records_a_keyed_hash_of_the_typed_name_never_the_text(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    typed = "My Secret Passw0rd!"  # a password typed into the username box
    with pytest.raises(AuthenticationFailed):
        await _login(database, typed, "anything at all")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "alice", "wrong password 1")
    unknown, known = await _events(superuser)
    everything = json.dumps([dict(unknown["event_data"]), dict(known["event_data"])])
    assert typed.lower() not in everything.lower() and "alice" not in everything
    assert set(known["event_data"]) == {"attempt", "reason", "failed_count", "user_id"}
    # HMAC-SHA256 of the trimmed, lower-case text, with a key only the database owner can read.
    inner_pad = await superuser.fetchval("SELECT inner_pad FROM auth_secret")
    key = bytes(byte ^ 0x36 for byte in inner_pad).rstrip(b"\x00")
    expected = hmac.new(key, typed.lower().encode(), hashlib.sha256).hexdigest()
    assert unknown["event_data"]["username_digest"] == expected
    assert len(key) == 32


async def test_the_application_role_reads_neither_the_key_nor_the_password_hashes(
    database: Database, make_context: MakeContext
) -> None:
    await make_context("reviewer", username="alice")
    for statement in ("SELECT password_hash FROM users", "SELECT * FROM users", "SELECT * FROM auth_secret"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with database.unit_of_work() as uow:
                await uow.session.execute(text(statement))
    async with database.unit_of_work() as uow:
        names = (await uow.session.execute(text("SELECT username, password_must_change FROM users"))).all()
        digest = await uow.session.scalar(text("SELECT auth_username_digest('Alice ')"))
    assert names == [("alice", False)]
    assert len(digest) == 64


async def test_the_reporting_role_cannot_compute_digests(superuser: asyncpg.Connection) -> None:
    await superuser.execute("SET ROLE refund_review_reporting")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await superuser.fetchval("SELECT auth_username_digest('alice')")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await superuser.fetchval("SELECT auth_password_hash(gen_random_uuid())")


async def test_a_right_password_also_costs_one_check(
    database: Database, make_context: MakeContext, verify_calls: list[str | None]
) -> None:
    await make_context("reviewer", username="alice")
    await _login(database, "alice")
    assert len(verify_calls) == 1


async def _throttle(superuser: asyncpg.Connection) -> list[tuple[int, float]]:
    """(failures, seconds until the next attempt) of every throttled username."""
    rows = await superuser.fetch(
        "SELECT failures, extract(epoch FROM retry_at - now())::float AS wait FROM login_throttle ORDER BY failures"
    )
    return [(row["failures"], row["wait"]) for row in rows]


async def test_repeated_failures_make_the_username_wait_longer_each_time(
    database: Database,
    make_context: MakeContext,
    superuser: asyncpg.Connection,
    verify_calls: list[str | None],
) -> None:
    await make_context("reviewer", username="alice")
    await superuser.execute("UPDATE system_config SET value = '3' WHERE key = 'max_failed_logins'")
    answers = {}
    for username in ("alice", "nobody"):
        for _ in range(3):
            with pytest.raises(AuthenticationFailed, match="not right"):
                await _login(database, username, "wrong password 1")
        # The next attempt waits, even with the right password, without a bcrypt check.
        before = len(verify_calls)
        with pytest.raises(LoginThrottled) as throttled:
            await _login(database, username)
        assert len(verify_calls) == before
        answers[username] = throttled.value.message
    # The answer is the same whether the username is someone's or nobody's.
    assert (
        answers["alice"]
        == answers["nobody"]
        == ("Too many failed logins with this username. Try again in 1 second.")
    )
    throttle = await _throttle(superuser)
    assert len(throttle) == 2 and all(failures == 3 and 0 < wait <= 1 for failures, wait in throttle)
    # Each further failure doubles the wait.
    for expected in (2, 4, 8):
        await superuser.execute("UPDATE login_throttle SET retry_at = now()")
        with pytest.raises(AuthenticationFailed, match="not right"):
            await _login(database, "alice", "wrong password 1")
        with pytest.raises(LoginThrottled, match=f"Try again in {expected} seconds"):
            await _login(database, "alice")
    # Nobody is locked out: once the wait is over, the right password works and the count goes.
    await superuser.execute("UPDATE login_throttle SET retry_at = now()")
    await _login(database, "alice")
    assert [failures for failures, _ in await _throttle(superuser)] == [3]  # "nobody" still waits
    assert await superuser.fetchval("SELECT locked_until FROM users") is None
    reasons = [e["event_data"].get("reason") for e in await _events(superuser)]
    assert reasons.count("throttled") == 5


async def test_the_wait_never_exceeds_the_configured_longest(
    database: Database, superuser: asyncpg.Connection
) -> None:
    await superuser.execute("UPDATE system_config SET value = '60' WHERE key = 'login_delay_max_seconds'")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "nobody", "wrong password 1")
    await superuser.execute("UPDATE login_throttle SET failures = 40")
    await superuser.execute("UPDATE login_throttle SET retry_at = now()")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "nobody", "wrong password 1")
    [(failures, wait)] = await _throttle(superuser)
    assert failures == 41 and 59 < wait <= 60


async def test_failures_older_than_a_day_are_forgotten(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "alice", "wrong password 1")
    await superuser.execute(
        "UPDATE login_throttle SET failures = 30, retry_at = now() + interval '1 hour', "
        "last_failure_at = now() - interval '25 hours'"
    )
    # Names nobody has tried for a day are cleared away as new failures come.
    await superuser.execute(
        "INSERT INTO login_throttle (username_digest, failures, last_failure_at) "
        "SELECT md5(n::text) || md5(n::text), 3, now() - interval '2 days' FROM generate_series(1, 5) n"
    )
    with pytest.raises(AuthenticationFailed, match="not right"):
        await _login(database, "alice", "wrong password 1")
    assert [failures for failures, _ in await _throttle(superuser)] == [1]


async def test_a_burst_of_parallel_guesses_gets_one_check_per_wait(
    database: Database,
    make_context: MakeContext,
    superuser: asyncpg.Connection,
    verify_calls: list[str | None],
) -> None:
    await make_context("reviewer", username="alice")
    await superuser.execute("UPDATE system_config SET value = '1' WHERE key = 'max_failed_logins'")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "alice", "wrong password 1")
    await superuser.execute("UPDATE login_throttle SET retry_at = now()")
    before = len(verify_calls)
    outcomes = await asyncio.gather(
        *[_login(database, "alice", f"wrong password {i}") for i in range(6)], return_exceptions=True
    )
    assert len(verify_calls) == before + 1
    assert sum(isinstance(outcome, LoginThrottled) for outcome in outcomes) == 5


async def test_a_locked_account_hears_why_only_after_the_right_password(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    alice = await make_context(
        "reviewer", username="alice", locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    )
    with pytest.raises(AuthenticationFailed) as wrong:
        await _login(database, "alice", "wrong password 1")
    assert wrong.value.message == LOGIN_FAILED
    with pytest.raises(AccountLocked, match=r"locked until \d\d:\d\d UTC"):
        await _login(database, "alice")
    events = await _events(superuser)
    assert [(e["event_data"]["user_id"], e["event_data"]["reason"]) for e in events] == [
        (str(alice.actor.user_id), "wrong_password"),
        (str(alice.actor.user_id), "locked"),
    ]
    # The right password is no failure: it adds nothing to the count.
    assert [failures for failures, _ in await _throttle(superuser)] == [1]
    # When the lock-out has run out, the right password works and the counts start again.
    await superuser.execute("UPDATE users SET locked_until = now() - interval '1 second'")
    await _login(database, "alice")
    assert await superuser.fetchrow("SELECT failed_login_count, locked_until FROM users") == (0, None)
    assert await _throttle(superuser) == []


async def test_a_successful_login_resets_the_failure_count(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await _login(database, "alice", "wrong password 1")
    assert await superuser.fetchval("SELECT failed_login_count FROM users") == 4
    await _login(database, "alice")
    assert await superuser.fetchval("SELECT failed_login_count FROM users") == 0
    assert await _throttle(superuser) == []


HOSTILE = [
    ("alice\x00", PASSWORD),
    ("a" * 10_000, PASSWORD),
    ("alice' OR '1'='1", PASSWORD),
    ("alice'; DROP TABLE users; --", PASSWORD),
    ("\ud800alice", PASSWORD),
    ("alice", PASSWORD + "\x00"),
    ("alice", "\x00" * 10_000),
    ("alice", "p" * 10_000),
    ("alice", "' OR 1=1; --"),
    ("alice", "\ud800" * 20),
    ("alice", PASSWORD + "x" * 60),  # longer than bcrypt reads
    ("", ""),
]


@pytest.mark.parametrize(("username", "password"), HOSTILE)
async def test_hostile_credentials_get_the_ordinary_answer(
    database: Database,
    make_context: MakeContext,
    superuser: asyncpg.Connection,
    verify_calls: list[str | None],
    username: str,
    password: str,
) -> None:
    await make_context("reviewer", username="alice")
    with pytest.raises(AuthenticationFailed) as failure:
        await _login(database, username, password)
    assert failure.value.message == LOGIN_FAILED
    assert len(verify_calls) == 1
    assert await superuser.fetchval("SELECT count(*) FROM users") == 1
    [event] = await _events(superuser)
    assert event["event_type"] == "login_failed"
    assert "username" not in event["event_data"]


async def test_a_strange_address_or_user_agent_does_not_stop_a_login(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    result = await login(
        database, ROUNDS, "alice", PASSWORD, ip_address="not-an-ip\x00", user_agent="x\x00y" * 5_000
    )
    row = await superuser.fetchrow(
        "SELECT ip_address, user_agent FROM sessions WHERE id = $1", result.session.id
    )
    assert row["ip_address"] is None
    assert row["user_agent"] == ("xy" * 250)
    ipv6 = await login(database, ROUNDS, "alice", PASSWORD, ip_address="fe80::1%eth0", user_agent=AGENT)
    assert ipv6.session.ip_address == "fe80::1"


async def test_validate_session_answers_without_refreshing_the_idle_clock(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    result = await _login(database, "alice")
    await superuser.execute("UPDATE sessions SET last_activity_at = now() - interval '10 minutes'")
    before = await superuser.fetchval(
        "SELECT last_activity_at FROM sessions WHERE id = $1", result.session.id
    )
    info = await validate_session(ServiceContext(db=database, actor=result.actor))
    assert info.id == result.session.id
    assert info.last_activity_at == before
    assert info.idle_expires_at == before + dt.timedelta(minutes=30)
    assert (
        await superuser.fetchval("SELECT last_activity_at FROM sessions WHERE id = $1", result.session.id)
        == before
    )


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (
            "UPDATE sessions SET created_at = now() - interval '5 hours', expires_at = now() - interval '1 minute'",
            "expired",
            "has expired",
        ),
        ("UPDATE sessions SET last_activity_at = now() - interval '31 minutes'", "idle", "inactivity"),
    ],
)
async def test_validate_session_ends_a_timed_out_session_once(
    database: Database,
    make_context: MakeContext,
    superuser: asyncpg.Connection,
    change: str,
    reason: str,
    words: str,
) -> None:
    ctx = await make_context("reviewer")
    await superuser.execute(change)
    for _ in range(2):
        with pytest.raises(SessionExpired, match=words):
            await validate_session(ctx)
    assert await superuser.fetchval("SELECT end_reason FROM sessions") == reason
    events = await _events(superuser)
    assert [(e["event_type"], e["session_id"], e["event_data"]) for e in events] == [
        ("session_expired", ctx.actor.session_id, {"reason": reason})
    ]
    # Every other service call now gives the same reason.
    with pytest.raises(SessionExpired, match=words):
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)


async def test_logout_ends_the_session_once(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    result = await _login(database, "alice")
    ctx = ServiceContext(db=database, actor=result.actor)
    await logout(ctx)
    await logout(ctx)
    assert (
        await superuser.fetchval(
            "SELECT end_reason FROM sessions WHERE id = $1 AND ended_at IS NOT NULL", result.session.id
        )
        == "logout"
    )
    assert [(e["event_type"], e["session_id"]) for e in await _events(superuser)] == [
        ("login", result.session.id),
        ("logout", result.session.id),
    ]
    with pytest.raises(SessionExpired, match="logged out"):
        await validate_session(ctx)
    with pytest.raises(SessionExpired, match="logged out"):
        await _still_authorized(database, result)


async def test_change_password_needs_the_current_one(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    result = await _login(database, "alice")
    ctx = ServiceContext(db=database, actor=result.actor)
    hash_before = await superuser.fetchval("SELECT password_hash FROM users")
    with pytest.raises(AuthenticationFailed, match="current password is not right"):
        await change_password(ctx, "not my password", NEW_PASSWORD, bcrypt_rounds=ROUNDS)
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        await change_password(ctx, PASSWORD, "short1", bcrypt_rounds=ROUNDS)
    with pytest.raises(InvalidInput, match="different from the current one"):
        await change_password(ctx, PASSWORD, PASSWORD, bcrypt_rounds=ROUNDS)
    assert await superuser.fetchval("SELECT password_hash FROM users") == hash_before
    # The wrong current password counted as a failed login: the change screen is no way round the lock-out.
    assert await superuser.fetchval("SELECT failed_login_count FROM users") == 1

    info = await change_password(ctx, PASSWORD, NEW_PASSWORD, bcrypt_rounds=ROUNDS)
    assert info.password_changed_at > result.user.password_changed_at
    with pytest.raises(AuthenticationFailed):
        await _login(database, "alice")
    await _login(database, "alice", NEW_PASSWORD)
    events = await _events(superuser)
    assert [(e["event_type"], e["session_id"]) for e in events] == [
        ("login", result.session.id),
        ("login_failed", result.session.id),
        ("password_changed", result.session.id),
        ("login_failed", None),
        ("login", events[-1]["session_id"]),
    ]
    assert events[1]["event_data"]["attempt"] == "change_password"
    everything = json.dumps([dict(e["event_data"]) for e in events])
    assert PASSWORD not in everything and NEW_PASSWORD not in everything and "$2b$" not in everything


async def test_unlock_screen_continues_a_live_session(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    result = await _login(database, "alice")
    await superuser.execute("UPDATE sessions SET last_activity_at = now() - interval '5 minutes'")
    unlocked = await unlock_screen(ServiceContext(db=database, actor=result.actor), ROUNDS, PASSWORD)
    assert unlocked.actor == result.actor
    assert unlocked.session.id == result.session.id
    assert await superuser.fetchval(
        "SELECT now() - last_activity_at < interval '5 seconds' FROM sessions WHERE id = $1",
        result.session.id,
    )
    assert await superuser.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1", result.user.id) == 2
    [_, event] = await _events(superuser)
    assert (event["event_type"], event["session_id"], event["event_data"]) == (
        "login",
        result.session.id,
        {"method": "unlock", "continued_session": True},
    )


async def test_unlock_screen_after_an_idle_timeout_opens_a_new_session(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    result = await _login(database, "alice")
    ctx = ServiceContext(db=database, actor=result.actor)
    await superuser.execute("UPDATE sessions SET last_activity_at = now() - interval '31 minutes'")
    with pytest.raises(SessionExpired, match="inactivity"):
        await validate_session(ctx)
    unlocked = await unlock_screen(ctx, ROUNDS, PASSWORD)
    assert unlocked.actor.session_id != result.session.id
    assert unlocked.actor.user_id == result.actor.user_id
    await _still_authorized(database, unlocked)
    events = await _events(superuser)
    assert [(e["event_type"], e["session_id"]) for e in events] == [
        ("login", result.session.id),
        ("session_expired", result.session.id),
        ("login", unlocked.session.id),
    ]
    assert events[-1]["event_data"] == {"method": "unlock", "previous_session_id": str(result.session.id)}


@pytest.mark.parametrize(
    ("end_reason", "words"), [("logout", "logged out"), ("revoked", "ended by an administrator")]
)
async def test_unlock_screen_never_revives_a_session_ended_on_purpose(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection, end_reason: str, words: str
) -> None:
    ctx = await make_context("reviewer")
    await superuser.execute("UPDATE sessions SET ended_at = now(), end_reason = $1", end_reason)
    with pytest.raises(SessionExpired, match=words):
        await unlock_screen(ctx, ROUNDS, PASSWORD)
    assert await superuser.fetchval("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 0


async def test_a_wrong_password_on_the_lock_screen_counts_as_a_failed_login(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    ctx = await make_context("reviewer")
    with pytest.raises(AuthenticationFailed, match="The password is not right"):
        await unlock_screen(ctx, ROUNDS, "not my password")
    assert await superuser.fetchval("SELECT failed_login_count FROM users") == 1
    [event] = await _events(superuser)
    assert (event["event_type"], event["session_id"], event["event_data"]["attempt"]) == (
        "login_failed",
        ctx.actor.session_id,
        "unlock",
    )


async def test_a_working_day_leaves_exactly_its_events(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("supervisor", username="alice")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "alice", "wrong password 1")
    result = await _login(database, "Alice")
    ctx = ServiceContext(db=database, actor=result.actor)
    await change_password(ctx, PASSWORD, NEW_PASSWORD, bcrypt_rounds=ROUNDS)
    await logout(ctx)
    events = await _events(superuser)
    assert [(e["event_type"], e["user_id"], e["session_id"], e["ip"]) for e in events] == [
        ("login_failed", None, None, IP),
        ("login", result.user.id, result.session.id, IP),
        ("password_changed", result.user.id, result.session.id, IP),
        ("logout", result.user.id, result.session.id, IP),
    ]


async def test_failed_attempts_from_many_places_at_once_are_all_counted(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="alice")
    await superuser.execute("UPDATE system_config SET value = '100' WHERE key = 'max_failed_logins'")
    attempts: list[Awaitable[Any]] = [_login(database, "alice", f"wrong password {i}") for i in range(8)]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    assert all(isinstance(outcome, AuthenticationFailed) for outcome in outcomes)
    assert await superuser.fetchval("SELECT failed_login_count FROM users") == 8


@given(st.text(max_size=90))
def test_any_password_the_policy_accepts_can_be_stored_and_checked(password: str) -> None:
    try:
        check_password_policy(password, username="alice")
    except InvalidInput:
        return
    run: Callable[[Awaitable[Any]], Any] = asyncio.run
    stored = run(hash_password(password, rounds=ROUNDS))
    assert run(verify_password(password, stored, rounds=ROUNDS))
    assert not run(verify_password(password + "x", stored, rounds=ROUNDS))


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short Pw1", "at least 12"),
        ("alllowercaseletters", "two kinds"),
        ("Alice.Smith1", "same as the username"),
        ("tab\there is bad", "control characters"),
        ("é" * 37, "at most 72 bytes"),
    ],
)
def test_the_password_policy_says_what_to_change(password: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        check_password_policy(password, username="alice.smith1")


@pytest.mark.parametrize("password", ["x1" * 37, "secret\x00" * 3, "\ud800" * 12])
async def test_what_bcrypt_cannot_take_whole_is_never_hashed(password: str) -> None:
    # bcrypt would silently cut a long password at 72 bytes: refusing keeps every character significant.
    with pytest.raises(InvalidInput):
        await hash_password(password, rounds=ROUNDS)
