"""Refund requests against the real database: open, verdict, four-eyes approval, payment, incremental export."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from db.models import Extraction
from services.config import update_config
from services.context import ServiceContext
from services.errors import Conflict, Forbidden, InvalidInput
from services.refunds.export_file import export_refunds_to_file
from services.refunds.requests import (
    RefundRequestInfo,
    approve_refund,
    export_refunds,
    list_open_refunds,
    mark_refund_paid,
    open_refund_request,
    reject_refund,
)
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
CONTRACT_DATE = dt.date(2024, 1, 15)
CANCEL = dt.date(2026, 1, 15)


async def _approved_contract(
    add_contract: AddContract, superuser: asyncpg.Connection, **fields: object
) -> str:
    """A contract dated 2024-01-15 whose fields (premium $1,250, Pro-Rata, fee $50 by default) are approved."""
    extraction = await add_contract(**fields)
    await superuser.execute(
        "UPDATE extractions SET status = 'approved', reviewed_at = now(), "
        "reviewed_by = (SELECT id FROM users ORDER BY created_at LIMIT 1) WHERE id = $1",
        extraction.id,
    )
    await superuser.execute(
        "UPDATE contracts SET contract_date = $2 WHERE contract_id = $1",
        extraction.contract_id,
        CONTRACT_DATE,
    )
    return extraction.contract_id


async def _open(ctx: ServiceContext, contract_id: str, **changes: object) -> RefundRequestInfo:
    values: dict[str, object] = {
        "cancel_date": CANCEL,
        "reason": "payoff",
        "request_date": CANCEL + dt.timedelta(days=5),
        "term_months": 60,
        "state": "AR",
    }
    values.update(changes)
    return await open_refund_request(ctx, contract_id, **values)  # type: ignore[arg-type]


async def _events(superuser: asyncpg.Connection) -> list[asyncpg.Record]:
    return await superuser.fetch(
        "SELECT event_type, user_id, contract_id, event_data FROM audit_events ORDER BY seq"
    )


async def test_a_request_is_computed_from_the_approved_fields_and_the_rule_in_force(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    contract_id = await _approved_contract(add_contract, superuser)
    request = await _open(reviewer, contract_id)
    # Pro-Rata on days: 1250 × 1096 ÷ 1827 = 749.863… → 749.86; the $50 fee is under Arkansas's $75 cap.
    assert (request.status, request.verdict) == ("open", "eligible")
    assert (request.refund_amount, request.fee_applied, request.method_used) == (
        Decimal("699.86"),
        Decimal("50.00"),
        "Pro-Rata",
    )
    assert any("Ark. Code §4-90-806" in step.text for step in request.steps)
    assert request.requested_by == reviewer.actor.username
    stored = await superuser.fetchrow(
        "SELECT r.premium, r.method, r.fee, j.state AS rule_state FROM refund_requests r "
        "JOIN jurisdiction_rules j ON j.id = r.rule_id"
    )
    assert tuple(stored) == (Decimal("1250.00"), "Pro-Rata", Decimal("50.00"), "AR")
    [event] = await _events(superuser)
    assert (event["event_type"], event["user_id"], event["contract_id"]) == (
        "refund_requested",
        reviewer.actor.user_id,
        contract_id,
    )
    assert event["event_data"]["refund"] == "699.86"


async def test_unreviewed_fields_are_refused_and_missing_information_is_not_payable(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    supervisor = await make_context("supervisor")
    pending = await add_contract()
    with pytest.raises(InvalidInput, match="not approved yet"):
        await _open(reviewer, pending.contract_id)

    unknown = await _approved_contract(add_contract, superuser, method="Unknown")
    request = await _open(reviewer, unknown)
    assert (request.status, request.verdict, request.refund_amount) == (
        "not_payable",
        "needs information",
        None,
    )
    assert request.reasons == ("the refund method",)
    with pytest.raises(InvalidInput, match="needs information"):
        await approve_refund(supervisor, request.id, request.version)
    # A request that cannot be paid does not block another; a live one does.
    again = await _open(reviewer, unknown, term_months=None)
    assert again.reasons == ("the term in months", "the refund method")
    payable = await _approved_contract(add_contract, superuser)
    await _open(reviewer, payable)
    with pytest.raises(Conflict, match="already has a refund request \\(open\\)"):
        await _open(reviewer, payable)
    with pytest.raises(InvalidInput, match="before the contract date"):
        await _open(
            reviewer, await _approved_contract(add_contract, superuser), cancel_date=dt.date(2023, 1, 1)
        )


async def test_four_eyes_above_the_configured_amount(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer, first, second = [await make_context(role) for role in ("reviewer", "supervisor", "supervisor")]
    small = await _open(
        reviewer, await _approved_contract(add_contract, superuser, premium=Decimal("500.00"))
    )
    approved = await approve_refund(first, small.id, small.version)
    assert (approved.status, approved.approved_by, approved.first_approved_by) == (
        "approved",
        first.actor.username,
        None,
    )

    await update_config(await make_context("admin"), "refund_four_eyes_amount", "300")
    large = await _open(reviewer, await _approved_contract(add_contract, superuser))
    halfway = await approve_refund(first, large.id, large.version)
    assert (halfway.status, halfway.first_approved_by, halfway.approval_seq) == (
        "awaiting_second_approval",
        first.actor.username,
        None,
    )
    with pytest.raises(Forbidden, match="need a second person"):
        await approve_refund(first, halfway.id, halfway.version)
    with pytest.raises(Conflict, match="Reload"):
        await approve_refund(second, halfway.id, large.version)
    done = await approve_refund(second, halfway.id, halfway.version)
    assert (done.status, done.approved_by) == ("approved", second.actor.username)
    assert done.approval_seq is not None and done.approval_seq > (approved.approval_seq or 0)
    stages = [
        e["event_data"]["stage"] for e in await _events(superuser) if e["event_type"] == "refund_approved"
    ]
    assert stages == ["only", "first", "second"]
    # The database holds the rule too, whatever a service might do.
    with pytest.raises(asyncpg.CheckViolationError):
        await superuser.execute(
            "UPDATE refund_requests SET approved_by = first_approved_by WHERE id = $1", done.id
        )


async def test_marking_paid_needs_an_approved_refund_and_a_reference(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer, supervisor = await make_context("reviewer"), await make_context("supervisor")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    with pytest.raises(InvalidInput, match="Only an approved refund"):
        await mark_refund_paid(supervisor, request.id, request.version, "ACH-1")
    approved = await approve_refund(supervisor, request.id, request.version)
    with pytest.raises(InvalidInput, match="reference"):
        await mark_refund_paid(supervisor, approved.id, approved.version, "  ")
    # The reference is typed text like any other: a broken character is refused, never stored.
    with pytest.raises(InvalidInput, match="payment's reference"):
        await mark_refund_paid(supervisor, approved.id, approved.version, "ACH-\ud800")
    paid = await mark_refund_paid(supervisor, approved.id, approved.version, " ACH-2026-0042 ")
    assert (paid.status, paid.payment_reference) == ("paid", "ACH-2026-0042")
    assert paid.paid_at is not None
    assert (await _events(superuser))[-1]["event_data"]["reference"] == "ACH-2026-0042"
    assert await list_open_refunds(supervisor) == []


async def test_open_refunds_list_those_past_their_deadline_first(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    today = dt.date.today()
    # California: payment due 60 days after the request.
    no_deadline = await _open(reviewer, await _approved_contract(add_contract, superuser))
    due_later = await _open(
        reviewer, await _approved_contract(add_contract, superuser), state="CA", request_date=today
    )
    overdue = await _open(
        reviewer,
        await _approved_contract(add_contract, superuser),
        state="CA",
        cancel_date=today - dt.timedelta(days=100),
        request_date=today - dt.timedelta(days=90),
    )
    listed = await list_open_refunds(reviewer)
    assert [item.id for item in listed] == [overdue.id, due_later.id, no_deadline.id]
    assert [item.overdue for item in listed] == [True, False, False]
    assert overdue.pay_by == today - dt.timedelta(days=30)


async def test_export_hands_each_approved_refund_over_once(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer, supervisor = await make_context("reviewer"), await make_context("supervisor")
    approved = []
    for _ in range(2):
        request = await _open(reviewer, await _approved_contract(add_contract, superuser))
        approved.append(await approve_refund(supervisor, request.id, request.version))
    await _open(
        reviewer, await _approved_contract(add_contract, superuser)
    )  # open, not approved: not exported

    first = await export_refunds(supervisor, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert [row["request_id"] for row in rows] == [str(item.id) for item in approved]
    assert rows[0]["refund_amount"] == "699.86"
    assert (first.count, first.cursor) == (2, approved[-1].approval_seq)

    again = await export_refunds(supervisor, fmt="csv")
    assert (again.count, again.cursor) == (0, first.cursor)

    third_request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    third = await approve_refund(supervisor, third_request.id, third_request.version)
    paid = await mark_refund_paid(supervisor, approved[0].id, approved[0].version, "ACH-1")
    later = await export_refunds(supervisor, fmt="jsonl")
    assert later.count == 1 and str(third.id) in later.text and later.cursor == third.approval_seq
    # A payment system that lost a file asks again from its last cursor: paid ones included.
    replay = await export_refunds(supervisor, fmt="jsonl", since=0)
    assert replay.count == 3 and str(paid.id) in replay.text
    exports = [e["event_data"] for e in await _events(superuser) if e["event_type"] == "refunds_exported"]
    assert [(e["count"], e["since"]) for e in exports] == [(2, None), (0, None), (1, None), (3, 0)]


async def test_reviewers_open_requests_but_do_not_approve_pay_or_export(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    with pytest.raises(Forbidden):
        await approve_refund(reviewer, request.id, request.version)
    with pytest.raises(Forbidden):
        await mark_refund_paid(reviewer, request.id, request.version, "ACH-1")
    with pytest.raises(Forbidden):
        await export_refunds(reviewer, fmt="csv")
    assert await superuser.fetchval("SELECT status FROM refund_requests") == "open"


async def test_a_supervisor_rejects_a_request_with_a_reason_and_it_is_never_exported(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer, supervisor = await make_context("reviewer"), await make_context("supervisor")
    contract_id = await _approved_contract(add_contract, superuser)
    request = await _open(reviewer, contract_id)
    with pytest.raises(Forbidden, match="reject refund requests"):
        await reject_refund(reviewer, request.id, request.version, "duplicate")
    with pytest.raises(InvalidInput, match="reason for rejecting"):
        await reject_refund(supervisor, request.id, request.version, " \t ")
    with pytest.raises(InvalidInput, match="reason for rejecting"):
        await reject_refund(supervisor, request.id, request.version, "bad \ud800")
    rejected = await reject_refund(
        supervisor, request.id, request.version, "  Customer  withdrew\nthe request "
    )
    assert (rejected.status, rejected.rejected_by, rejected.rejection_reason) == (
        "rejected",
        supervisor.actor.username,
        "Customer withdrew the request",
    )
    assert rejected.rejected_at is not None and rejected.version == request.version + 1
    event = (await _events(superuser))[-1]
    assert (event["event_type"], event["user_id"], event["contract_id"]) == (
        "refund_rejected",
        supervisor.actor.user_id,
        contract_id,
    )
    assert event["event_data"]["reason"] == "Customer withdrew the request"
    assert event["event_data"]["request_id"] == str(request.id)
    assert await list_open_refunds(supervisor) == []
    with pytest.raises(InvalidInput, match="not yet approved"):
        await reject_refund(supervisor, rejected.id, rejected.version, "again")
    with pytest.raises(Conflict, match="already"):
        await approve_refund(supervisor, rejected.id, rejected.version)
    # Never exported, not even when a payment system asks again from the start.
    assert (await export_refunds(supervisor, fmt="csv")).count == 0
    assert (await export_refunds(supervisor, fmt="csv", since=0)).count == 0
    # A rejected request does not block a new one for the same contract.
    again = await _open(reviewer, contract_id)
    assert again.status == "open"


async def test_an_approved_refund_cannot_be_rejected(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    supervisor = await make_context("supervisor")
    request = await _open(supervisor, await _approved_contract(add_contract, superuser))
    approved = await approve_refund(supervisor, request.id, request.version)
    with pytest.raises(InvalidInput, match="this one is approved"):
        await reject_refund(supervisor, approved.id, approved.version, "too late")
    assert await superuser.fetchval("SELECT status FROM refund_requests") == "approved"
    # The database holds it too: an approved refund (it has an export cursor) is never marked rejected.
    with pytest.raises(asyncpg.CheckViolationError):
        await superuser.execute(
            "UPDATE refund_requests SET status = 'rejected', rejected_by = approved_by, "
            "rejected_at = now(), rejection_reason = 'x'"
        )


async def test_an_export_to_a_file_that_cannot_be_written_marks_nothing_exported(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    supervisor = await make_context("supervisor")
    request = await _open(supervisor, await _approved_contract(add_contract, superuser))
    approved = await approve_refund(supervisor, request.id, request.version)
    blocker = tmp_path / "not-a-folder"
    await asyncio.to_thread(blocker.write_text, "a file where a folder is wanted")
    with pytest.raises(InvalidInput, match="Nothing was exported"):
        await export_refunds_to_file(supervisor, fmt="csv", destination=blocker / "refunds.csv")
    with pytest.raises(InvalidInput, match="never overwritten"):
        await export_refunds_to_file(supervisor, fmt="csv", destination=blocker)
    assert await superuser.fetchval("SELECT exported_at FROM refund_requests") is None
    assert not [e for e in await _events(superuser) if e["event_type"] == "refunds_exported"]
    done = await export_refunds_to_file(supervisor, fmt="jsonl", destination=tmp_path / "out" / "r.jsonl")
    assert (done.count, done.cursor) == (1, approved.approval_seq)
    assert str(approved.id) in await asyncio.to_thread(done.path.read_text, encoding="utf-8")


async def test_the_reviewed_term_state_and_apr_are_used_and_a_contradiction_is_refused(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    loan_terms = {
        "method": "Actuarial",
        "term_months": 60,
        "term_months_confidence": 95,
        "governing_state": "AR",
        "governing_state_confidence": 90,
        "apr": Decimal("7.90"),
        "apr_confidence": 93,
    }
    contract_id = await _approved_contract(add_contract, superuser, **loan_terms)
    with pytest.raises(InvalidInput, match=r"reviewed term \(months\) of .* is 60, not 72"):
        await _open(reviewer, contract_id, term_months=72)
    request = await _open(reviewer, contract_id, term_months=None, state=None)
    stored = await superuser.fetchrow("SELECT term_months, state, apr FROM refund_requests")
    assert tuple(stored) == (60, "AR", Decimal("7.90"))
    # The Actuarial method needs the APR: taken from the extraction, the verdict is not "needs APR".
    assert (request.verdict, request.method_used) == ("eligible", "Actuarial")
