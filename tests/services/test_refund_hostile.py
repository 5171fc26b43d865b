"""Refund decisions attacked through their inputs and their callers: hostile text and dates, wrong roles,
dead sessions. Each refusal is a sentence, and nothing is written or audited by a refused call."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from services.context import ServiceContext
from services.errors import Forbidden, InvalidInput, SessionExpired
from services.refunds.export_file import export_refunds_to_file
from services.refunds.jurisdictions import starter_rules
from services.refunds.requests import (
    approve_refund,
    export_refunds,
    list_open_refunds,
    mark_refund_paid,
    reject_refund,
)
from services.refunds.rules import add_rule_version, correct_rule, import_rules, list_rules
from tests.hostile import ESCAPES, MARKUP, hidden_characters
from tests.services.conftest import MakeContext
from tests.services.test_refund_requests import AddContract, _approved_contract, _open

HOSTILE = "".join(ESCAPES) + "\u202e\x00" + MARKUP[2] + MARKUP[4]


async def _count(superuser: asyncpg.Connection, table: str) -> int:
    return await superuser.fetchval(f"SELECT count(*) FROM {table}")


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"cancel_date": dt.date(9999, 12, 31)}, "the cancellation date 9999-12-31 is outside the years"),
        ({"request_date": dt.date(1, 1, 1)}, "the request date 0001-01-01 is outside the years"),
        ({"request_date": dt.date.today() + dt.timedelta(days=2)}, "cannot have been received after today"),
        ({"term_months": 10**9}, "term_months: Input should be less than or equal to 600"),
        ({"state": HOSTILE * 1000}, "is not a US state code"),
    ],
)
async def test_a_request_with_impossible_dates_or_hostile_fields_is_refused_and_nothing_is_stored(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    changes: dict[str, Any],
    sentence: str,
) -> None:
    """A request received in the future would push its payment deadline out and keep a late refund off
    the overdue list; a date past the year 9999 broke the calculation. Both are a sentence now."""
    reviewer = await make_context("reviewer")
    contract = await _approved_contract(add_contract, superuser)
    with pytest.raises(InvalidInput, match=sentence) as refused:
        await _open(reviewer, contract, **changes)
    assert len(refused.value.message) < 400 and hidden_characters(refused.value.message) == []
    assert await _count(superuser, "refund_requests") == 0
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type LIKE 'refund%'") == 0


async def test_hostile_reasons_and_references_are_stored_clean_and_audited_clean(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    reviewer, supervisor = await make_context("reviewer"), await make_context("supervisor")
    rejected = await _open(reviewer, await _approved_contract(add_contract, superuser))
    done = await reject_refund(supervisor, rejected.id, rejected.version, f"dup {HOSTILE}")
    paid = await _open(reviewer, await _approved_contract(add_contract, superuser))
    paid = await approve_refund(supervisor, paid.id, paid.version)
    paid = await mark_refund_paid(supervisor, paid.id, paid.version, f"ACH {HOSTILE}")
    for stored in (done.rejection_reason or "", paid.payment_reference or ""):
        assert hidden_characters(stored) == [] and "\u202e" not in stored
    audited = await superuser.fetch("SELECT event_data::text AS data FROM audit_events")
    assert all("\\u001b" not in event["data"] and "\\u202e" not in event["data"] for event in audited)
    with pytest.raises(InvalidInput, match="at most 200 characters"):
        await mark_refund_paid(supervisor, paid.id, paid.version, "A" * 10**6)


Call = Callable[[ServiceContext], Awaitable[object]]


def _calls(request_id: uuid.UUID, tmp_export: str) -> dict[str, Call]:
    """Every refund and rules service call that changes something, on one request."""
    rule = starter_rules()[0].model_copy(update={"effective_from": dt.date(2031, 1, 1)})
    return {
        "approve": lambda ctx: approve_refund(ctx, request_id, 1),
        "reject": lambda ctx: reject_refund(ctx, request_id, 1, "no"),
        "mark paid": lambda ctx: mark_refund_paid(ctx, request_id, 1, "ACH-1"),
        "export": lambda ctx: export_refunds(ctx, fmt="csv"),
        "export to a file": lambda ctx: export_refunds_to_file(ctx, fmt="csv", destination=tmp_export),
        "import rules": lambda ctx: import_rules(ctx, [rule], source="t.csv"),
        "add a rule version": lambda ctx: add_rule_version(ctx, rule),
        "correct a rule": lambda ctx: correct_rule(ctx, starter_rules()[0]),
    }


async def test_a_reviewer_may_open_requests_and_nothing_more(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, tmp_path: Any
) -> None:
    reviewer = await make_context("reviewer")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    events = await _count(superuser, "audit_events")
    for name, call in _calls(request.id, str(tmp_path / "r.csv")).items():
        with pytest.raises(Forbidden, match=r"Your role \(reviewer\) may not"):
            await call(reviewer)
        assert await _count(superuser, "audit_events") == events, name
    supervisor = await make_context("supervisor")
    for name in ("import rules", "add a rule version", "correct a rule"):
        with pytest.raises(Forbidden, match=r"Your role \(supervisor\) may not change the system"):
            await _calls(request.id, "")[name](supervisor)
    assert await superuser.fetchval("SELECT status FROM refund_requests") == "open"


async def test_a_logged_out_session_cannot_act_on_refunds_or_rules(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    tmp_path: Any,
) -> None:
    """Every call checks the session in its own transaction: a desk left logged out (or revoked) is not a
    way in, even an admin's."""
    reviewer, person = await make_context("reviewer"), await make_context("admin")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    await superuser.execute(
        "UPDATE sessions SET ended_at = now(), end_reason = 'logout' WHERE id = $1", person.actor.session_id
    )
    events = await _count(superuser, "audit_events")
    calls = {
        **_calls(request.id, str(tmp_path / "r.csv")),
        "list requests": list_open_refunds,
        "list rules": list_rules,
        "open a request": lambda ctx: _open(ctx, request.contract_id),
    }
    for name, call in calls.items():
        with pytest.raises(SessionExpired, match="logged out"):
            await call(person)
        assert await _count(superuser, "audit_events") == events, name
    assert await superuser.fetchval("SELECT (status, version) FROM refund_requests") == ("open", 1)


async def test_a_hostile_export_path_is_a_sentence_and_nothing_is_exported(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, tmp_path: Any
) -> None:
    """A NUL in the path raised Python's ValueError, a name too long an OSError: both reached the person
    as "Unexpected error". A dangling link at the destination was found only after the refunds were
    marked exported (the link refused to be replaced); now it is refused before."""
    reviewer, supervisor = await make_context("reviewer"), await make_context("supervisor")
    request = await _open(reviewer, await _approved_contract(add_contract, superuser))
    await approve_refund(supervisor, request.id, request.version)
    dangling = tmp_path / "link.csv"
    dangling.symlink_to(tmp_path / "nowhere" / "target.csv")
    attempts = {
        str(tmp_path / "a\x00b.csv"): "control or invisible character",
        str(tmp_path / "\x1b[2J\u202e.csv"): "control or invisible character",
        str(tmp_path / ("a" * 5000 + ".csv")): "File name too long",
        str(dangling): "exists already",
    }
    for destination, sentence in attempts.items():
        with pytest.raises(InvalidInput, match=sentence) as refused:
            await export_refunds_to_file(supervisor, fmt="csv", destination=destination)
        assert len(refused.value.message) < 300
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests WHERE exported_at IS NOT NULL") == 0
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'refunds_exported'")
        == 0
    )
