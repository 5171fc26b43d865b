"""Refund decisions attacked by timing: people and processes acting on the same refunds at the same moment.

Every race runs against the real PostgreSQL on separate connections (one per person), so the row locks
and the SKIP LOCKED of the export are what is tested, not the order of Python's coroutines.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from services.auth import login
from services.context import ServiceContext
from services.errors import Conflict, Forbidden, InvalidInput, ServiceError
from services.refunds.export_file import export_refunds_to_file
from services.refunds.requests import (
    RefundExport,
    RefundRequestInfo,
    approve_refund,
    export_refunds,
    mark_refund_paid,
    reject_refund,
)
from tests.services.conftest import PASSWORD, MakeContext
from tests.services.test_refund_requests import AddContract, _approved_contract, _open

REFUNDS = 12
EXPORTERS = 4


async def _approved(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, count: int
) -> list[RefundRequestInfo]:
    reviewer, supervisor = await make_context("reviewer"), await make_context("supervisor")
    approved = []
    for _ in range(count):
        request = await _open(reviewer, await _approved_contract(add_contract, superuser))
        approved.append(await approve_refund(supervisor, request.id, request.version))
    return approved


async def test_simultaneous_exports_hand_each_approved_refund_over_exactly_once(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    approved = await _approved(make_context, add_contract, superuser, REFUNDS)
    exporters = [await make_context("supervisor") for _ in range(EXPORTERS)]
    start = asyncio.Event()

    async def export(ctx: ServiceContext) -> RefundExport:
        await start.wait()
        return await export_refunds(ctx, fmt="jsonl")

    tasks = [asyncio.ensure_future(export(ctx)) for ctx in exporters]
    start.set()
    exports = await asyncio.gather(*tasks)

    handed = Counter(
        request_id
        for export in exports
        for request_id in (str(item.id) for item in approved)
        if request_id in export.text
    )
    assert handed == Counter({str(item.id): 1 for item in approved})
    assert sum(export.count for export in exports) == REFUNDS
    audited = await superuser.fetch(
        "SELECT (event_data->>'count')::int AS count FROM audit_events WHERE event_type = 'refunds_exported'"
    )
    assert sorted(event["count"] for event in audited) == sorted(export.count for export in exports)
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests WHERE exported_at IS NULL") == 0


async def test_two_approvals_racing_record_one_and_refuse_the_other(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    first, second = await make_context("supervisor"), await make_context("supervisor")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))

    results = await asyncio.gather(
        approve_refund(first, request.id, request.version),
        approve_refund(second, request.id, request.version),
        return_exceptions=True,
    )

    assert sorted(type(result).__name__ for result in results) == ["Conflict", "RefundRequestInfo"]
    row = await superuser.fetchrow("SELECT status, approval_seq, version FROM refund_requests")
    assert (row["status"], row["version"]) == ("approved", request.version + 1)
    approvals = await superuser.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type = 'refund_approved'"
    )
    assert approvals == 1


async def test_reject_racing_approve_leaves_one_decision_and_one_event(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer = await make_context("reviewer")
    approver, rejecter = await make_context("supervisor"), await make_context("supervisor")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))

    results = await asyncio.gather(
        approve_refund(approver, request.id, request.version),
        reject_refund(rejecter, request.id, request.version, "duplicate of another request"),
        return_exceptions=True,
    )

    [done] = [result for result in results if isinstance(result, RefundRequestInfo)]
    assert [type(result) for result in results if not isinstance(result, RefundRequestInfo)] == [Conflict]
    status = await superuser.fetchval("SELECT status FROM refund_requests")
    assert status == done.status and status in ("approved", "rejected")
    events = await superuser.fetch(
        "SELECT event_type FROM audit_events WHERE event_type IN ('refund_approved', 'refund_rejected')"
    )
    assert len(events) == 1


async def test_marking_paid_twice_at_once_records_one_payment(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    [approved] = await _approved(make_context, add_contract, superuser, 1)
    one, other = await make_context("supervisor"), await make_context("supervisor")

    results = await asyncio.gather(
        mark_refund_paid(one, approved.id, approved.version, "ACH-1"),
        mark_refund_paid(other, approved.id, approved.version, "ACH-2"),
        return_exceptions=True,
    )

    assert sum(isinstance(result, RefundRequestInfo) for result in results) == 1
    assert all(isinstance(result, (RefundRequestInfo, Conflict)) for result in results)
    # The same person's second click (with the version they saw) is refused as well.
    with pytest.raises(ServiceError):
        await mark_refund_paid(one, approved.id, approved.version + 1, "ACH-3")
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'refund_paid'") == 1


async def test_one_person_in_two_sessions_cannot_give_both_approvals(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    """Four eyes are two people: a second login of the same user is the same pair of eyes."""
    reviewer, first = await make_context("reviewer"), await make_context("supervisor")
    await superuser.execute("UPDATE system_config SET value = '100' WHERE key = 'refund_four_eyes_amount'")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    halfway = await approve_refund(first, request.id, request.version)
    assert halfway.status == "awaiting_second_approval"
    again = await login(first.db, 4, first.actor.username, PASSWORD, ip_address=None, user_agent="tests")
    second_session = ServiceContext(db=first.db, actor=again.actor)
    assert second_session.actor.session_id != first.actor.session_id

    with pytest.raises(Forbidden, match="second person"):
        await approve_refund(second_session, halfway.id, halfway.version)
    assert await superuser.fetchval("SELECT status FROM refund_requests") == "awaiting_second_approval"


async def test_an_export_never_takes_away_the_partial_file_of_another(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    """Two exports to one name at one moment (two people pressing e in the same second): the one that
    finds the other's partial file steps back with a sentence and leaves it, so the first still puts
    its file in place; before, it deleted it, and the first export's refunds were marked exported with
    no file anywhere."""
    [approved] = await _approved(make_context, add_contract, superuser, 1)
    supervisor = await make_context("supervisor")
    destination = tmp_path / "refunds.csv"
    others = tmp_path / ".refunds.csv.partial"
    await asyncio.to_thread(others.write_text, "another export's rows, being written")

    with pytest.raises(InvalidInput, match="Another export is writing"):
        await export_refunds_to_file(supervisor, fmt="csv", destination=destination)

    assert await asyncio.to_thread(others.read_text) == "another export's rows, being written"
    assert not destination.exists()
    assert (
        await superuser.fetchval("SELECT exported_at FROM refund_requests WHERE id = $1", approved.id) is None
    )


async def test_a_request_opened_while_its_rule_is_corrected_is_decided_under_the_rule_it_names(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    """An admin's correction of Arkansas's fee cap (75 to 10) is in flight when a request for an Arkansas
    contract (fee $50) is opened. Before, the request was computed under the old cap while its rule_id
    named the row that then said 10: an auditor would read a rule the refund was not decided under."""
    reviewer = await make_context("reviewer")
    contract = await _approved_contract(add_contract, superuser)
    correction = superuser.transaction()
    await correction.start()
    await superuser.execute("UPDATE jurisdiction_rules SET fee_cap = 10 WHERE state = 'AR'")

    opening = asyncio.ensure_future(_open(reviewer, contract))
    await asyncio.sleep(0.5)
    await correction.commit()
    request = await opening

    stored = await superuser.fetchrow(
        "SELECT r.fee_applied, j.fee_cap FROM refund_requests r JOIN jurisdiction_rules j ON j.id = r.rule_id"
    )
    assert stored["fee_cap"] == Decimal("10.00")
    assert request.fee_applied == stored["fee_applied"] == Decimal("10.00")


async def test_two_people_opening_a_request_for_one_contract_at_once_get_one_request_and_a_sentence(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    """Before, the loser of the race met the unique index as a database error ("Unexpected error")."""
    contract = await _approved_contract(add_contract, superuser)
    people = [await make_context("reviewer") for _ in range(4)]

    results = await asyncio.gather(*(_open(person, contract) for person in people), return_exceptions=True)

    assert sum(isinstance(result, RefundRequestInfo) for result in results) == 1
    refusals = [result for result in results if not isinstance(result, RefundRequestInfo)]
    assert all(isinstance(refusal, Conflict) and contract in refusal.message for refusal in refusals)
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests") == 1
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'refund_requested'")
        == 1
    )
