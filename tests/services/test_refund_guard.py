"""The way of a refund request, held by the database against the workstation's own credentials.

Each attack is plain SQL over a raw connection as the workstation login (what anyone holding its
DATABASE_URL can do, with no audit event): every one is refused by the refund_requests_guard trigger
(schema/v0014), while the services, connecting as the same login, still open, approve with four eyes,
pay and export.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import URL

from db.url import asyncpg_connect_args
from services.config import update_config
from services.errors import Conflict
from services.refunds.requests import (
    RefundRequestInfo,
    approve_refund,
    export_refunds,
    mark_refund_paid,
    open_refund_request,
)
from tests.services.conftest import MakeContext
from tests.services.test_refund_requests import AddContract, _approved_contract

CANCEL = dt.date(2026, 1, 15)
APPROVE = (
    "UPDATE refund_requests SET status = 'approved', approved_by = $2, approved_at = now(), "
    "approval_seq = nextval('refund_requests_approval_seq'), version = version + 1 WHERE id = $1"
)


@pytest.fixture
async def workstation(workstation_url: URL) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection as the workstation login."""
    conn = await asyncpg.connect(**asyncpg_connect_args(workstation_url))
    yield conn
    await conn.close()


async def _open(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> RefundRequestInfo:
    """An open request through the service: $749.86 (Pro-Rata on the default contract)."""
    contract_id = await _approved_contract(add_contract, superuser)
    return await open_refund_request(
        await make_context("reviewer"),
        contract_id,
        cancel_date=CANCEL,
        reason="payoff",
        request_date=CANCEL + dt.timedelta(days=5),
        term_months=60,
        state="AR",
    )


async def _refused(conn: asyncpg.Connection, sql: str, *args: object, match: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match=match) as caught:
        await conn.execute(sql, *args)
    assert caught.value.constraint_name == "refund_requests_guard"


async def test_an_approval_above_the_four_eyes_amount_needs_a_first_approval(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    await update_config(await make_context("admin"), "refund_four_eyes_amount", "500")
    supervisor = (await make_context("supervisor")).actor.user_id
    await _refused(workstation, APPROVE, request.id, supervisor, match="need two different people")
    assert await superuser.fetchval("SELECT status FROM refund_requests") == "open"


async def test_only_an_active_supervisor_or_admin_can_be_named_approver(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    reviewer = (await make_context("reviewer")).actor.user_id
    retired = (await make_context("supervisor", is_active=False)).actor.user_id
    for person in (reviewer, retired, uuid.uuid4()):
        await _refused(workstation, APPROVE, request.id, person, match="active supervisor or admin")
    await _refused(
        workstation,
        "UPDATE refund_requests SET status = 'awaiting_second_approval', first_approved_by = $2, "
        "first_approved_at = now() WHERE id = $1",
        request.id,
        reviewer,
        match="active supervisor or admin",
    )
    assert await superuser.fetchval("SELECT (status, approved_by) FROM refund_requests") == ("open", None)


async def test_a_second_approval_is_someone_else_and_approvals_are_not_backdated(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    await update_config(await make_context("admin"), "refund_four_eyes_amount", "500")
    first = await make_context("supervisor")
    halfway = await approve_refund(first, request.id, request.version)
    assert halfway.status == "awaiting_second_approval"
    await _refused(
        workstation,
        "UPDATE refund_requests SET status = 'approved', approved_by = first_approved_by, approved_at = now(), "
        "approval_seq = nextval('refund_requests_approval_seq'), first_approved_by = $2 WHERE id = $1",
        request.id,
        (await make_context("supervisor")).actor.user_id,
        match="first approval is given only",
    )
    await _refused(
        workstation,
        "UPDATE refund_requests SET status = 'approved', approved_by = $2, approved_at = now() - interval '1 day', "
        "approval_seq = nextval('refund_requests_approval_seq') WHERE id = $1",
        request.id,
        (await make_context("supervisor")).actor.user_id,
        match="is given now",
    )
    exported_before = await superuser.fetchval("SELECT nextval('refund_requests_approval_seq')")
    await workstation.execute("SELECT nextval('refund_requests_approval_seq')")
    await _refused(
        workstation,
        "UPDATE refund_requests SET status = 'approved', approved_by = $2, approved_at = now(), "
        "approval_seq = $3 WHERE id = $1",
        request.id,
        (await make_context("supervisor")).actor.user_id,
        exported_before,
        match="next export number",
    )


@pytest.mark.parametrize(
    "change",
    [
        "refund_amount = 99999",
        "steps = '[]'::jsonb",
        "method = 'Rule of 78s'",
        "fee = 0",
        "fee_applied = 0",
        "pay_by = '2030-01-01'",
        "cancel_date = cancel_date - 30",
        "reason = 'voluntary'",
        "rule_id = NULL",
    ],
)
async def test_what_was_decided_never_changes(
    change: str,
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    await _refused(workstation, f"UPDATE refund_requests SET {change}", match="never changes")
    approved = await approve_refund(await make_context("supervisor"), request.id, request.version)
    await _refused(workstation, f"UPDATE refund_requests SET {change}", match="never changes")
    assert await superuser.fetchval("SELECT refund_amount FROM refund_requests") == approved.refund_amount


async def test_an_exported_refund_stays_exported_and_a_paid_one_stays_paid(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    supervisor = await make_context("supervisor")
    approved = await approve_refund(supervisor, request.id, request.version)
    # A forged (past) export time is refused: an export marks the refunds it hands over, at its own time.
    await _refused(
        workstation,
        "UPDATE refund_requests SET exported_at = now() - interval '1 day'",
        match="exported once",
    )
    assert (await export_refunds(supervisor, fmt="csv")).count == 1
    await _refused(workstation, "UPDATE refund_requests SET exported_at = NULL", match="never unmarked")
    assert (await export_refunds(supervisor, fmt="csv")).count == 0
    paid = await mark_refund_paid(supervisor, approved.id, approved.version, "ACH-1")
    await _refused(
        workstation,
        "UPDATE refund_requests SET status = 'approved', paid_by = NULL, paid_at = NULL, payment_reference = NULL",
        match="cannot go from paid to approved",
    )
    await _refused(
        workstation, "UPDATE refund_requests SET payment_reference = 'ACH-2'", match="marked paid only once"
    )
    row = await superuser.fetchrow(
        "SELECT status, payment_reference, exported_at IS NOT NULL AS exported FROM refund_requests"
    )
    assert (row["status"], row["payment_reference"], row["exported"], paid.status) == (
        "paid",
        "ACH-1",
        True,
        "paid",
    )


async def test_payment_needs_an_approved_refund_and_a_supervisor(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    reviewer = (await make_context("reviewer")).actor.user_id
    pay = "UPDATE refund_requests SET status = 'paid', paid_by = $1, paid_at = now(), payment_reference = 'X'"
    await _refused(workstation, pay, reviewer, match="cannot go from open to paid")
    await approve_refund(await make_context("supervisor"), request.id, request.version)
    await _refused(workstation, pay, reviewer, match="active supervisor or admin")


async def test_a_request_starts_open_with_no_decision(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    contract_id = await _approved_contract(add_contract, superuser)
    supervisor = (await make_context("supervisor")).actor.user_id
    columns = "contract_id, cancel_date, reason, request_date, verdict, refund_amount, steps"
    values = "$1, '2026-01-15', 'payoff', '2026-01-20', 'eligible', 5000, '[]'::jsonb"
    await _refused(
        workstation,
        f"INSERT INTO refund_requests ({columns}, status, approved_by, approved_at, approval_seq) "
        f"VALUES ({values}, 'approved', $2, now(), nextval('refund_requests_approval_seq'))",
        contract_id,
        supervisor,
        match="starts open",
    )
    await _refused(
        workstation,
        f"INSERT INTO refund_requests ({columns}, status, exported_at) VALUES ({values}, 'open', now())",
        contract_id,
        match="no approval, payment, rejection or export",
    )
    await _refused(
        workstation,
        f"INSERT INTO refund_requests ({columns}, status, requested_at) VALUES ({values}, 'open', now() - interval '9 days')",
        contract_id,
        match="requested at the time",
    )
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests") == 0


async def test_a_used_rule_can_be_neither_changed_nor_deleted_by_the_workstation(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    workstation: asyncpg.Connection,
) -> None:
    request = await _open(make_context, add_contract, superuser)
    rule_id = await superuser.fetchval("SELECT rule_id FROM refund_requests WHERE id = $1", request.id)
    assert rule_id is not None
    with pytest.raises(asyncpg.CheckViolationError, match="was used by a refund request"):
        await workstation.execute("UPDATE jurisdiction_rules SET fee_cap = 0 WHERE id = $1", rule_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await workstation.execute("DELETE FROM jurisdiction_rules WHERE id = $1", rule_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await workstation.execute("DELETE FROM refund_requests WHERE id = $1", request.id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await workstation.execute("ALTER TABLE refund_requests DISABLE TRIGGER refund_requests_guard")


async def test_a_supervisor_demoted_while_logged_in_is_refused_with_a_sentence(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    request = await _open(make_context, add_contract, superuser)
    supervisor = await make_context("supervisor")
    # The session still says supervisor; the users table no longer does.
    await superuser.execute("UPDATE users SET role = 'reviewer' WHERE id = $1", supervisor.actor.user_id)
    with pytest.raises(Conflict, match="only an active supervisor or admin may approve a refund request"):
        await approve_refund(supervisor, request.id, request.version)
    row = await superuser.fetchrow("SELECT status, version FROM refund_requests")
    assert (row["status"], row["version"]) == ("open", 1)
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'refund_approved'")
        == 0
    )
