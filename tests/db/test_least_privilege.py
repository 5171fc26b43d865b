"""Least privilege, tried as an attacker holding the workstation's own database credentials.

The workstation connects as a LOGIN role that is a member of refund_review_app
only (tests/conftest.py makes one, as `refund-review db create-login` does).
Every statement that could rewrite history or widen its rights is refused,
and the one way to add audit events, append_audit_events(), neither takes a
time from the client nor lets an event name anyone but its session's user.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import bcrypt
import pytest
from sqlalchemy.engine import URL

from db.database import Database
from db.url import asyncpg_connect_args
from services.auth import unlock_screen
from services.errors import AuthenticationFailed
from tests.db.rows import insert, session_row, user_row
from tests.services.conftest import create_person

APPEND = "SELECT append_audit_events($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::inet[], $6::text[])"
FORGED_IP = "203.0.113.66"


@pytest.fixture
async def workstation(workstation_url: URL) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection as the workstation login: what anyone with its DATABASE_URL can do."""
    conn = await asyncpg.connect(**asyncpg_connect_args(workstation_url))
    yield conn
    await conn.close()


async def _person(superuser: asyncpg.Connection, ip: str, **session: object) -> tuple[uuid.UUID, uuid.UUID]:
    """(user id, session id) of a new reviewer with one session."""
    user = await insert(superuser, "users", user_row(), "id")
    row = session_row(user["id"], ip_address=ip, user_agent=f"agent-of-{ip}", **session)
    created = await insert(superuser, "sessions", row, "id")
    return user["id"], created["id"]


async def _append(conn: asyncpg.Connection, *events: tuple[uuid.UUID | None, str]) -> None:
    """Append (session, event type) pairs, the client claiming a forged address and agent for each."""
    await conn.execute(
        APPEND,
        [session for session, _ in events],
        [event_type for _, event_type in events],
        [None] * len(events),
        [json.dumps({"note": "from the test"})] * len(events),
        [FORGED_IP] * len(events),
        ["forged-agent"] * len(events),
    )


async def _events(superuser: asyncpg.Connection) -> list[asyncpg.Record]:
    return await superuser.fetch(
        "SELECT seq, occurred_at, event_type, user_id, session_id, host(ip_address) AS ip, user_agent "
        "FROM audit_events ORDER BY seq"
    )


async def test_the_workstation_login_holds_the_application_role_and_nothing_more(
    workstation: asyncpg.Connection, workstation_url: URL
) -> None:
    row = await workstation.fetchrow(
        "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolinherit, "
        "ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "      WHERE m.member = r.oid) AS member_of "
        "FROM pg_roles r WHERE r.rolname = current_user"
    )
    assert dict(row) == {
        "rolsuper": False,
        "rolcreaterole": False,
        "rolcreatedb": False,
        "rolbypassrls": False,
        "rolinherit": True,
        "member_of": ["refund_review_app"],
    }
    assert await workstation.fetchval("SELECT current_user") == workstation_url.username


REFUSED = [
    "SET ROLE {owner}",
    "SET SESSION AUTHORIZATION {owner}",
    "SET ROLE refund_review_reporting",
    "SET session_replication_role = replica",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_link_chain",
    "ALTER TABLE sessions DISABLE TRIGGER sessions_final_once_ended",
    "UPDATE audit_events SET event_type = 'approve'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "INSERT INTO audit_events (event_type, user_id, occurred_at, prev_hash, hash) "
    "VALUES ('approve', NULL, '2020-01-01', '\\x00', '\\x00')",
    "UPDATE audit_chain_head SET last_seq = 0, anchor_seq = 0",
    "DELETE FROM audit_chain_head",
    "TRUNCATE audit_chain_head",
    "TRUNCATE corrections",
    "DELETE FROM sessions",
    "UPDATE sessions SET user_id = user_id",
    "UPDATE sessions SET expires_at = expires_at + interval '1 day'",
    "CREATE TABLE shadow (x int)",
    "CREATE FUNCTION shadow() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE SCHEMA shadow",
    "DROP TABLE corrections",
    "DROP FUNCTION append_audit_events(uuid[], text[], text[], jsonb[], inet[], text[])",
    "ALTER FUNCTION append_audit_events(uuid[], text[], text[], jsonb[], inet[], text[]) SECURITY INVOKER",
    "CREATE OR REPLACE FUNCTION audit_events_link_chain() RETURNS trigger LANGUAGE plpgsql "
    "AS 'BEGIN RETURN NEW; END'",
    "GRANT refund_review_reporting TO {me}",
    "GRANT refund_review_app TO refund_review_reporting",
    "ALTER ROLE {me} SUPERUSER",
    "CREATE ROLE shadow LOGIN",
    "SELECT audit_events_link_chain()",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_a_forbidden_statement_is_refused(
    workstation: asyncpg.Connection, database_url: URL, workstation_url: URL, statement: str
) -> None:
    sql = statement.format(owner=database_url.username, me=workstation_url.username)
    with pytest.raises(asyncpg.PostgresError) as refused:
        await workstation.execute(sql)
    # 42501 insufficient_privilege; a trigger function called directly fails with 0A000 instead.
    assert refused.value.sqlstate in {"42501", "0A000"}, refused.value


async def test_granting_itself_more_on_the_audit_log_grants_nothing(workstation: asyncpg.Connection) -> None:
    # A grant of privileges it does not hold with grant option is only a warning in PostgreSQL.
    await workstation.execute("GRANT INSERT, UPDATE, DELETE ON audit_events, audit_chain_head TO PUBLIC")
    for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
        for table in ("audit_events", "audit_chain_head"):
            assert not await workstation.fetchval("SELECT has_table_privilege($1, $2)", table, privilege)


async def test_an_event_is_its_sessions_users_at_the_servers_time(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection
) -> None:
    await _person(superuser, "192.0.2.1")  # someone else, logged in too
    bob, bobs_session = await _person(superuser, "192.0.2.2")
    before = await superuser.fetchval("SELECT clock_timestamp()")
    # Whatever the client's own clock, time zone or claimed address, the server decides.
    await workstation.execute("SET TIME ZONE 'Pacific/Kiritimati'")
    await _append(workstation, (bobs_session, "approve"))
    after = await superuser.fetchval("SELECT clock_timestamp()")
    [event] = await _events(superuser)
    assert (event["event_type"], event["user_id"], event["session_id"]) == ("approve", bob, bobs_session)
    assert (event["ip"], event["user_agent"]) == ("192.0.2.2", "agent-of-192.0.2.2")
    assert before <= event["occurred_at"] <= after


@pytest.mark.parametrize(
    "session",
    [
        {"ended_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), "end_reason": "logout"},
        {
            "created_at": dt.datetime.now(dt.UTC) - dt.timedelta(hours=9),
            "expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        },
    ],
    ids=["closed", "expired"],
)
async def test_a_closed_or_expired_session_cannot_record_events(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection, session: dict[str, object]
) -> None:
    _, session_id = await _person(superuser, "192.0.2.3", **session)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="has ended or expired"):
        await _append(workstation, (session_id, "approve"))
    assert await _events(superuser) == []


async def test_a_wrong_password_on_a_run_out_sessions_lock_screen_is_still_recorded_as_its_users(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection
) -> None:
    user, session_id = await _person(
        superuser,
        "192.0.2.7",
        ended_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        end_reason="idle",
    )
    await _append(workstation, (session_id, "login_failed"))
    [event] = await _events(superuser)
    assert (event["event_type"], event["user_id"], event["session_id"], event["ip"]) == (
        "login_failed",
        user,
        session_id,
        "192.0.2.7",
    )


async def test_the_lock_screen_of_a_run_out_session_still_answers_a_wrong_password(
    database: Database, superuser: asyncpg.Connection
) -> None:
    ctx = await create_person(database, bcrypt.hashpw(b"the right password", bcrypt.gensalt(4)).decode())
    await superuser.execute(
        "UPDATE sessions SET ended_at = now() - interval '1 minute', end_reason = 'idle' WHERE id = $1",
        ctx.actor.session_id,
    )
    with pytest.raises(AuthenticationFailed):
        await unlock_screen(ctx, 4, "not the password")
    [event] = await _events(superuser)
    assert (event["event_type"], event["user_id"]) == ("login_failed", ctx.actor.user_id)


async def test_an_unknown_session_cannot_record_events(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="does not exist"):
        await _append(workstation, (uuid.uuid4(), "approve"))
    assert await _events(superuser) == []


async def test_a_session_ended_in_the_same_transaction_records_its_last_event(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection
) -> None:
    _, session_id = await _person(superuser, "192.0.2.4")
    _, expired = await _person(
        superuser,
        "192.0.2.5",
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=9),
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    async with workstation.transaction():
        await workstation.execute(
            "UPDATE sessions SET ended_at = now(), end_reason = 'logout' WHERE id = $1", session_id
        )
        await workstation.execute(
            "UPDATE sessions SET ended_at = now(), end_reason = 'expired' WHERE id = $1", expired
        )
        await _append(workstation, (session_id, "logout"), (expired, "session_expired"))
    assert [(e["event_type"], e["session_id"]) for e in await _events(superuser)] == [
        ("logout", session_id),
        ("session_expired", expired),
    ]
    # Once ended, the session is final: it cannot be reopened to record more in its name.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="has ended"):
        await workstation.execute(
            "UPDATE sessions SET ended_at = NULL, end_reason = NULL WHERE id = $1", session_id
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="has ended or expired"):
        await _append(workstation, (session_id, "approve"))


async def test_without_a_session_only_the_listed_types_are_allowed_and_they_are_nobodys(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection
) -> None:
    for person_type in (
        "approve",
        "login",
        "logout",
        "correct",
        "view",
        "password_changed",
        "session_expired",
        "config_changed",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="needs the session"):
            await _append(workstation, (None, person_type))
    await _append(workstation, (None, "login_failed"), (None, "ingest"))
    events = await _events(superuser)
    assert [(e["event_type"], e["user_id"], e["session_id"]) for e in events] == [
        ("login_failed", None, None),
        ("ingest", None, None),
    ]
    # Without a session the address is the caller's own claim, kept as given.
    assert {e["ip"] for e in events} == {FORGED_IP}


async def test_several_events_are_appended_in_order_in_one_call(
    workstation: asyncpg.Connection, superuser: asyncpg.Connection
) -> None:
    _, session_id = await _person(superuser, "192.0.2.6")
    await _append(workstation, (session_id, "claim"), (session_id, "correct"), (session_id, "approve"))
    events = await _events(superuser)
    assert [e["event_type"] for e in events] == ["claim", "correct", "approve"]
    assert [e["seq"] for e in events] == [events[0]["seq"] + i for i in range(3)]


async def test_arrays_of_different_lengths_are_refused(workstation: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InvalidParameterValueError, match="same length"):
        await workstation.execute(APPEND, [None], ["ingest", "seed"], [None], ["{}"], [None], [None])
