"""Every service call checks the session (open, not expired, user active) in one place, and what follows from it:
temporary passwords, password changes ending other sessions, logout giving back claims."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from db.database import Database
from db.models import Extraction
from services.access import DEACTIVATED, authorize
from services.audit import cleanup_sessions, ensure_partitions, verify_audit_chain, write_audit_file
from services.auth import change_password, login, logout, validate_session
from services.config import get_system_settings
from services.context import ServiceContext
from services.errors import AuthenticationFailed, Forbidden, PasswordChangeRequired, SessionExpired
from services.permissions import Permission
from services.review import claim_next, queue_page
from services.users import create_user, reset_password, unlock
from tests.services.conftest import PASSWORD, MakeContext

ROUNDS = 4
TEMPORARY = "a temporary passphrase 7"
MINE = "my very own passphrase 8"
AddContract = Callable[..., Awaitable[Extraction]]


async def _login(database: Database, username: str, password: str) -> ServiceContext:
    result = await login(database, ROUNDS, username, password, ip_address=None, user_agent="tests")
    return ServiceContext(db=database, actor=result.actor)


async def test_a_temporary_password_allows_nothing_but_changing_it(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await create_user(admin, "rita", "rita@example.com", "Rita", "reviewer", TEMPORARY, bcrypt_rounds=ROUNDS)
    rita = await _login(database, "rita", TEMPORARY)
    for call in (queue_page(rita), get_system_settings(rita), claim_next(rita)):
        with pytest.raises(PasswordChangeRequired, match="temporary"):
            await call
    await change_password(rita, TEMPORARY, MINE, bcrypt_rounds=ROUNDS)
    assert (await queue_page(rita)).items == []
    assert not await superuser.fetchval("SELECT password_must_change FROM users WHERE username = 'rita'")
    [changed] = await superuser.fetch(
        "SELECT event_data FROM audit_events WHERE event_type = 'password_changed'"
    )
    assert changed["event_data"] == {"was_temporary": True, "sessions_ended": 0}


async def test_a_reset_makes_the_password_temporary_again_and_clears_the_login_delays(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await make_context("reviewer", username="sam")
    await superuser.execute("UPDATE system_config SET value = '1' WHERE key = 'max_failed_logins'")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "sam", "wrong password 1")
    assert await superuser.fetchval("SELECT count(*) FROM login_throttle") == 1
    await reset_password(admin, "sam", TEMPORARY, bcrypt_rounds=ROUNDS)
    assert await superuser.fetchval("SELECT count(*) FROM login_throttle") == 0
    sam = await _login(database, "sam", TEMPORARY)
    with pytest.raises(PasswordChangeRequired):
        await queue_page(sam)


async def test_an_admin_unlock_also_lifts_the_login_delays(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await make_context("reviewer", username="tom")
    with pytest.raises(AuthenticationFailed):
        await _login(database, "tom", "wrong password 1")
    await superuser.execute("UPDATE login_throttle SET failures = 20, retry_at = now() + interval '1 hour'")
    await unlock(admin, "tom")
    await _login(database, "tom", PASSWORD)


async def test_a_password_change_ends_the_other_sessions_only(
    database: Database, make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="uma")
    here = await _login(database, "uma", PASSWORD)
    elsewhere = await _login(database, "uma", PASSWORD)
    await change_password(here, PASSWORD, MINE, bcrypt_rounds=ROUNDS)
    with pytest.raises(SessionExpired, match="ended by an administrator"):
        await queue_page(elsewhere)
    await queue_page(here)
    assert (
        await superuser.fetchval("SELECT end_reason FROM sessions WHERE id = $1", elsewhere.actor.session_id)
        == "revoked"
    )


async def test_authorize_reads_whether_the_user_is_still_active(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    ctx = await make_context("reviewer")
    # Deactivated behind the services' back: the live session must still stop working.
    await superuser.execute("UPDATE users SET is_active = false")
    with pytest.raises(SessionExpired) as refused:
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.VIEW_QUEUE)
    assert refused.value.message == DEACTIVATED
    # The workstation's periodic check sends the person back to the login as well.
    with pytest.raises(SessionExpired, match="deactivated"):
        await validate_session(ctx)


def _export(ctx: ServiceContext) -> Awaitable[Any]:
    today = dt.datetime.now(dt.UTC).date()
    return write_audit_file(
        ctx, io.BytesIO(), fmt="jsonl", since=today - dt.timedelta(days=1), until=today + dt.timedelta(days=1)
    )


CHECKED_CALLS: dict[str, Callable[[ServiceContext], Awaitable[Any]]] = {
    "write_audit_file": _export,
    "verify_audit_chain": verify_audit_chain,
    "ensure_partitions": ensure_partitions,
    "cleanup_sessions": cleanup_sessions,
    "get_system_settings": get_system_settings,
}


@pytest.mark.parametrize("name", list(CHECKED_CALLS))
async def test_calls_that_read_or_maintain_the_whole_log_check_the_session(
    make_context: MakeContext, superuser: asyncpg.Connection, system: ServiceContext, name: str
) -> None:
    call = CHECKED_CALLS[name]
    admin = await make_context("admin")
    await call(admin)
    await superuser.execute("UPDATE sessions SET ended_at = now(), end_reason = 'revoked'")
    with pytest.raises(SessionExpired, match="ended by an administrator"):
        await call(admin)
    # The command line has no session and stays allowed.
    await call(system)


async def test_write_audit_file_checks_the_right_to_export(make_context: MakeContext) -> None:
    reviewer = await make_context("reviewer")
    with pytest.raises(Forbidden, match="export the audit log"):
        await _export(reviewer)


async def test_logout_gives_back_every_claim_in_its_transaction(
    database: Database, make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="vic")
    first, second = await add_contract(), await add_contract()
    vic = await _login(database, "vic", PASSWORD)
    claimed = await claim_next(vic)
    assert claimed is not None
    await superuser.execute(
        "UPDATE extractions SET claimed_by = $1, claimed_at = now(), claim_expires_at = now() + interval '5 minutes'"
        " WHERE id = $2",
        vic.actor.user_id,
        second.id if claimed.extraction_id == first.id else first.id,
    )
    await logout(vic)
    assert await superuser.fetchval("SELECT count(*) FROM extractions WHERE claimed_by IS NOT NULL") == 0
    rows = await superuser.fetch(
        "SELECT event_type, event_data, session_id FROM audit_events WHERE event_type IN ('release', 'logout') "
        "ORDER BY seq"
    )
    assert [row["event_type"] for row in rows] == ["release", "release", "logout"]
    assert {row["event_data"]["reason"] for row in rows[:2]} == {"logout"}
    assert rows[2]["event_data"] == {"claims_released": 2}
    assert {row["session_id"] for row in rows} == {vic.actor.session_id}
