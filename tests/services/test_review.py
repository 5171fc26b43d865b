"""Reviewing one extraction: the detail, corrections, decisions, reopen and undo, and who may do what."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from db.database import Database
from db.models import Extraction
from services.context import ROLES, ServiceContext
from services.errors import Conflict, Forbidden, InvalidInput, NotFound, SessionExpired
from services.permissions import ROLE_PERMISSIONS, Permission
from services.review import (
    approve,
    claim_extraction,
    claim_next,
    correct_field,
    get_detail,
    get_detail_by_contract,
    queue_counts,
    queue_page,
    reject,
    release,
    reopen,
    undo_last_decision,
)
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
PREMIUM = "gap_insurance_premium"
METHOD = "refund_calculation_method"
FEE = "cancellation_fee"


async def _events(superuser: asyncpg.Connection) -> list[asyncpg.Record]:
    return await superuser.fetch(
        "SELECT event_type, user_id, session_id, contract_id, host(ip_address) AS ip, user_agent, event_data "
        "FROM audit_events ORDER BY seq"
    )


async def _snapshot(superuser: asyncpg.Connection) -> tuple[Any, ...]:
    """Everything a refused call must leave as it was."""
    return (
        [dict(r) for r in await superuser.fetch("SELECT * FROM extractions ORDER BY id")],
        await superuser.fetchval("SELECT count(*) FROM corrections"),
        await superuser.fetchval("SELECT count(*) FROM audit_events"),
    )


async def test_the_detail_shows_fields_sources_text_corrections_and_history(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract(premium_confidence=40, fee_confidence=85)
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")
    await claim_next(alice)
    await correct_field(alice, item.id, 1, PREMIUM, "1,300", "misread_value", "OCR dropped a digit")

    detail = await get_detail(bob, item.id)

    assert (detail.contract_id, detail.status, detail.version) == (item.contract_id, "pending", 2)
    premium, method, fee, *loan_terms = detail.fields
    # An extraction older than migration 0011: the loan terms are not yet extracted.
    assert [field.extracted for field in loan_terms] == [False, False, False]
    assert [f.name for f in detail.fields] == [PREMIUM, METHOD, FEE, "term_months", "governing_state", "apr"]
    assert (premium.value, premium.confidence, premium.below_threshold, premium.corrected) == (
        Decimal("1300.00"),
        40,
        True,
        True,
    )
    assert (method.value, method.corrected) == ("Pro-Rata", False)
    assert (fee.value, fee.below_threshold) == (Decimal("50.00"), False)
    assert detail.document_text is not None
    for field in (premium, method, fee):
        source = field.source
        assert source is not None
        assert detail.document_text[source.start : source.end] == source.quote
        assert source.page >= 1 and source.line >= 1 and source.alignment == "exact"
    assert detail.claim is not None and detail.claim.username == "alice"
    assert [f.threshold for f in detail.fields] == [80] * 6 and detail.min_confidence == 40
    [correction] = detail.corrections
    assert (correction.field, correction.old, correction.new, correction.by) == (
        PREMIUM,
        "1250.00",
        "1300.00",
        "alice",
    )
    assert correction.note == "OCR dropped a digit"
    assert [(h.event_type, h.by) for h in detail.history] == [("correct", "alice"), ("claim", "alice")]
    assert detail.history[0].summary == "corrected GAP premium 1250.00 → 1300.00 (misread_value)"

    by_contract = await get_detail_by_contract(bob, item.contract_id)
    assert by_contract.extraction_id == item.id
    # The second view sees the first one in the history.
    assert [h.event_type for h in by_contract.history][:1] == ["view"]
    views = [e for e in await _events(superuser) if e["event_type"] == "view"]
    assert [(e["user_id"], e["contract_id"]) for e in views] == [(bob.actor.user_id, item.contract_id)] * 2


async def test_a_missing_extraction_is_not_found(make_context: MakeContext) -> None:
    reviewer = await make_context("reviewer")
    with pytest.raises(NotFound):
        await get_detail(reviewer, uuid.uuid4())
    with pytest.raises(NotFound):
        await get_detail_by_contract(reviewer, "GAP-0000-NOPE")
    with pytest.raises(NotFound):
        await approve(reviewer, uuid.uuid4(), 1)


@pytest.mark.parametrize(
    ("field", "typed", "stored", "as_text"),
    [
        (PREMIUM, "$1,300.5", Decimal("1300.50"), "1300.50"),
        (FEE, "", None, None),
        (FEE, "  Not   Stated ", None, None),
        (FEE, "0", Decimal("0.00"), "0.00"),
        (METHOD, "78s", "Rule of 78s", "Rule of 78s"),
        (METHOD, "short rate", "Short-Rate", "Short-Rate"),
    ],
)
async def test_a_correction_stores_the_value_and_keeps_the_original(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    field: str,
    typed: str,
    stored: Any,
    as_text: str | None,
) -> None:
    item = await add_contract()
    reviewer = await make_context("reviewer")
    detail = await correct_field(reviewer, item.id, 1, field, typed, "misread_value", "checked page 3")
    assert detail.field(field).value == stored  # type: ignore[arg-type]
    assert detail.version == 2
    row = await superuser.fetchrow(
        f"SELECT {field} AS value, version FROM extractions WHERE id = $1", item.id
    )
    assert (row["value"], row["version"]) == (stored, 2)
    correction = await superuser.fetchrow("SELECT * FROM corrections")
    assert correction["corrected_value"] == as_text
    assert correction["original_value"] == {PREMIUM: "1250.00", FEE: "50.00", METHOD: "Pro-Rata"}[field]
    assert correction["corrected_by"] == reviewer.actor.user_id


@pytest.mark.parametrize(
    ("field", "typed", "reason", "note", "words"),
    [
        (PREMIUM, "12.345", "misread_value", "n", "^GAP premium: .*two decimal places"),
        (PREMIUM, "-5", "misread_value", "n", "negative"),
        (PREMIUM, "abc", "misread_value", "n", "in digits"),
        (PREMIUM, "1.250,00", "misread_value", "n", "point for cents"),
        (PREMIUM, "", "misread_value", "n", "must be an amount"),
        (PREMIUM, "not stated", "misread_value", "n", "must be an amount"),
        (FEE, "none", "misread_value", "n", "ambiguous"),
        (FEE, "-1", "misread_value", "n", "negative"),
        (METHOD, "monthly", "method_misclassified", "n", "Type a refund method"),
        (METHOD, " ", "method_misclassified", "n", "Type a refund method"),
        ("premium", "1300", "misread_value", "n", "no field"),
        (PREMIUM, "1300", "typo", "n", "Choose a reason"),
        (PREMIUM, "1300", "misread_value", None, "Add a note"),
        (PREMIUM, "1300", "misread_value", "   ", "Add a note"),
        (PREMIUM, "1300", "misread_value", "x" * 2001, "at most 2,000"),
        (PREMIUM, "1,250.00", "misread_value", "n", "already 1250.00"),
        (METHOD, "pro rata", "method_misclassified", "n", "already Pro-Rata"),
    ],
)
async def test_a_bad_correction_is_refused_and_changes_nothing(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    field: str,
    typed: str,
    reason: str,
    note: str | None,
    words: str,
) -> None:
    item = await add_contract()
    reviewer = await make_context("reviewer")
    before = await _snapshot(superuser)
    with pytest.raises(InvalidInput, match=words):
        await correct_field(reviewer, item.id, 1, field, typed, reason, note)
    assert await _snapshot(superuser) == before


async def test_the_note_is_optional_when_configured_so_except_for_other(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    await superuser.execute(
        "UPDATE system_config SET value = 'false' WHERE key = 'require_correction_reason'"
    )
    reviewer = await make_context("reviewer")
    detail = await correct_field(reviewer, item.id, 1, PREMIUM, "1300", "misread_value", None)
    assert detail.corrections[0].note is None
    with pytest.raises(InvalidInput, match="Add a note"):
        await correct_field(reviewer, item.id, 2, FEE, "0", "other", "")


async def test_a_stale_screen_cannot_overwrite_someone_elses_change(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")
    await correct_field(alice, item.id, 1, PREMIUM, "1300", "misread_value", "typo")
    before = await _snapshot(superuser)

    with pytest.raises(Conflict, match=rf"{item.contract_id} was changed by alice at \d\d:\d\d — reload"):
        await correct_field(bob, item.id, 1, PREMIUM, "1400", "misread_value", "mine")
    with pytest.raises(Conflict, match="changed by alice"):
        await approve(bob, item.id, 1)
    with pytest.raises(Conflict, match="changed by you"):
        await reject(alice, item.id, 1, "wrong contract")
    assert await _snapshot(superuser) == before


async def test_decided_or_claimed_items_refuse_corrections(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    claimed, decided = await add_contract(), await add_contract()
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")
    await claim_extraction(alice, claimed.id)
    await approve(alice, decided.id, 1)

    with pytest.raises(Conflict, match=r"is being reviewed by alice \(claimed until \d\d:\d\d\)"):
        await correct_field(bob, claimed.id, 1, FEE, "0", "misread_value", "n")
    with pytest.raises(Conflict, match="already approved by alice"):
        await correct_field(bob, decided.id, 2, FEE, "0", "misread_value", "n")
    with pytest.raises(Conflict, match="already approved by alice"):
        await reject(bob, decided.id, 2, "no")


async def test_approve_after_a_claim_records_the_review_time_and_ends_the_claim(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    claimed, unclaimed = await add_contract(), await add_contract(premium_confidence=99)
    reviewer = await make_context("reviewer")
    await claim_next(reviewer)
    await superuser.execute(
        "UPDATE extractions SET claimed_at = claimed_at - interval '90 seconds' WHERE id = $1", claimed.id
    )

    decision = await approve(reviewer, claimed.id, 1)

    assert (decision.status, decision.version, decision.decided_by) == (
        "approved",
        2,
        reviewer.actor.username,
    )
    assert decision.review_seconds is not None and 90 <= decision.review_seconds < 150
    assert decision.undo_until == decision.decided_at + dt.timedelta(minutes=10)
    row = await superuser.fetchrow("SELECT * FROM extractions WHERE id = $1", claimed.id)
    assert (row["status"], row["reviewed_by"], row["review_seconds"]) == (
        "approved",
        reviewer.actor.user_id,
        decision.review_seconds,
    )
    assert (row["claimed_by"], row["claimed_at"], row["claim_expires_at"]) == (None, None, None)
    assert (await approve(reviewer, unclaimed.id, 1)).review_seconds is None
    assert (await queue_counts(reviewer)).total_pending == 0


async def test_reject_needs_a_reason_of_reasonable_length(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    reviewer = await make_context("reviewer")
    before = await _snapshot(superuser)
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput):
            await reject(reviewer, item.id, 1, reason)
    assert await _snapshot(superuser) == before

    decision = await reject(reviewer, item.id, 1, "  Not a GAP   contract ")

    assert (decision.status, decision.reason) == ("rejected", "Not a GAP contract")
    assert await superuser.fetchval("SELECT rejection_reason FROM extractions") == "Not a GAP contract"
    [rejected] = await _events(superuser)
    assert rejected["event_data"]["reason"] == "Not a GAP contract"


async def test_approval_needs_a_premium_and_a_method(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract(premium=None, method=None, fee=None)
    reviewer = await make_context("reviewer")
    with pytest.raises(InvalidInput, match="no GAP premium and no refund method"):
        await approve(reviewer, item.id, 1)
    await correct_field(reviewer, item.id, 1, PREMIUM, "995", "missing_value", "page 2")
    await correct_field(reviewer, item.id, 2, METHOD, "Unknown", "missing_value", "not stated")
    decision = await approve(reviewer, item.id, 3)
    assert decision.status == "approved"
    assert await superuser.fetchval("SELECT cancellation_fee FROM extractions") is None


async def test_claim_correct_approve_leaves_exactly_its_audit_trail(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract(premium_confidence=35)
    reviewer = await make_context("reviewer")
    actor = reviewer.actor

    detail = await claim_next(reviewer)
    assert detail is not None
    detail = await correct_field(
        reviewer, detail.extraction_id, detail.version, PREMIUM, "1,275.00", "misread_value", "page 2, line 2"
    )
    decision = await approve(reviewer, detail.extraction_id, detail.version)

    events = await _events(superuser)
    assert [e["event_type"] for e in events] == ["claim", "correct", "approve"]
    for e in events:
        assert (e["user_id"], e["session_id"], e["contract_id"]) == (
            actor.user_id,
            actor.session_id,
            item.contract_id,
        )
        assert (e["ip"], e["user_agent"]) == (actor.ip_address, actor.user_agent)
        assert e["event_data"]["extraction_id"] == str(item.id)
    claim, correct, approved = (e["event_data"] for e in events)
    assert claim["resumed"] is False
    assert {k: correct[k] for k in ("field", "old", "new", "reason", "note", "version")} == {
        "field": PREMIUM,
        "old": "1250.00",
        "new": "1275.00",
        "reason": "misread_value",
        "note": "page 2, line 2",
        "version": 2,
    }
    assert approved["version"] == decision.version == 3
    assert approved["review_seconds"] == decision.review_seconds
    assert await superuser.fetchval("SELECT gap_insurance_premium FROM extractions") == Decimal("1275.00")


async def test_a_supervisor_reopens_a_decision_and_a_reviewer_may_not(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    reviewer = await make_context("reviewer")
    supervisor = await make_context("supervisor")
    with pytest.raises(Conflict, match="no decision to reopen"):
        await reopen(supervisor, item.id, 1, "check")
    decision = await reject(reviewer, item.id, 1, "Unreadable scan")
    with pytest.raises(Forbidden, match="may not reopen"):
        await reopen(reviewer, item.id, decision.version, "I changed my mind")
    with pytest.raises(InvalidInput):
        await reopen(supervisor, item.id, decision.version, " ")
    with pytest.raises(Conflict, match="changed by"):
        await reopen(supervisor, item.id, 1, "rescanned")

    reopened = await reopen(supervisor, item.id, decision.version, "The document was rescanned")

    assert (reopened.status, reopened.version) == ("pending", 3)
    row = await superuser.fetchrow("SELECT * FROM extractions")
    assert (row["status"], row["reviewed_by"], row["rejection_reason"], row["claimed_by"]) == (
        "pending",
        None,
        None,
        None,
    )
    last = (await _events(superuser))[-1]
    assert (last["event_type"], last["user_id"]) == ("reopen", supervisor.actor.user_id)
    assert last["event_data"]["previous_status"] == "rejected"
    assert last["event_data"]["reason"] == "The document was rescanned"
    assert [i.extraction_id for i in (await queue_page(reviewer)).items] == [item.id]


async def test_a_reviewer_undoes_their_own_recent_decision(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")
    await claim_next(alice)
    decision = await approve(alice, item.id, 1)
    with pytest.raises(Forbidden, match="decided by alice; you can undo only your own"):
        await undo_last_decision(bob, item.id, decision.version)

    detail = await undo_last_decision(alice, item.id, decision.version)

    assert (detail.status, detail.version, detail.reviewed_by) == ("pending", 3, None)
    assert detail.claimed_by(alice.actor.user_id)
    assert detail.history[0].summary == "undid their approval"
    last = (await _events(superuser))[-1]
    assert (last["event_type"], last["user_id"]) == ("reopen", alice.actor.user_id)
    assert last["event_data"]["undo"] is True
    # Claimed by alice again, so nobody else is handed it meanwhile.
    assert await claim_next(bob) is None
    with pytest.raises(Conflict, match="not decided any more"):
        await undo_last_decision(alice, item.id, 3)


async def test_undo_closes_after_ten_minutes(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    reviewer = await make_context("reviewer")
    decision = await reject(reviewer, item.id, 1, "duplicate")
    await superuser.execute("UPDATE extractions SET reviewed_at = now() - interval '11 minutes'")
    before = await _snapshot(superuser)
    with pytest.raises(Forbidden, match="ask a supervisor to reopen"):
        await undo_last_decision(reviewer, item.id, decision.version)
    assert await _snapshot(superuser) == before


# --- who may call what ------------------------------------------------------------------------------

Call = Callable[[ServiceContext, Extraction], Awaitable[object]]
# Each call with the permission it needs and whether the item must already be decided by the caller.
CALLS: dict[str, tuple[Permission, bool, Call]] = {
    "queue_page": (Permission.VIEW_QUEUE, False, lambda c, e: queue_page(c)),
    "queue_counts": (Permission.VIEW_QUEUE, False, lambda c, e: queue_counts(c)),
    "claim_next": (Permission.CLAIM, False, lambda c, e: claim_next(c)),
    "claim_extraction": (Permission.CLAIM, False, lambda c, e: claim_extraction(c, e.id)),
    "release": (Permission.CLAIM, False, lambda c, e: release(c, e.id)),
    "get_detail": (Permission.VIEW_CONTRACT, False, lambda c, e: get_detail(c, e.id)),
    "get_detail_by_contract": (
        Permission.VIEW_CONTRACT,
        False,
        lambda c, e: get_detail_by_contract(c, e.contract_id),
    ),
    "correct_field": (
        Permission.CORRECT,
        False,
        lambda c, e: correct_field(c, e.id, 1, PREMIUM, "1300", "misread_value", "typo"),
    ),
    "approve": (Permission.DECIDE, False, lambda c, e: approve(c, e.id, 1)),
    "reject": (Permission.DECIDE, False, lambda c, e: reject(c, e.id, 1, "not GAP")),
    "reopen": (Permission.REOPEN, True, lambda c, e: reopen(c, e.id, 2, "rescanned")),
    "undo_last_decision": (Permission.DECIDE, True, lambda c, e: undo_last_decision(c, e.id, 2)),
}


async def _ready(superuser: asyncpg.Connection, ctx: ServiceContext, item: Extraction, decided: bool) -> None:
    if decided:
        await superuser.execute(
            "UPDATE extractions SET status = 'approved', reviewed_by = $2, reviewed_at = now(), version = 2 "
            "WHERE id = $1",
            item.id,
            ctx.actor.user_id,
        )


@pytest.mark.parametrize("name", CALLS)
async def test_every_role_gets_exactly_the_calls_its_permissions_allow(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, name: str
) -> None:
    permission, decided, call = CALLS[name]
    refused = []
    for role in ROLES:
        ctx = await make_context(role)
        item = await add_contract()
        await _ready(superuser, ctx, item, decided)
        if permission in ROLE_PERMISSIONS[role]:
            await call(ctx, item)
        else:
            before = await _snapshot(superuser)
            with pytest.raises(Forbidden):
                await call(ctx, item)
            assert await _snapshot(superuser) == before
            refused.append(role)
    # Reviewers do the whole triage loop; reopening someone's decision is for supervisors and admins.
    assert refused == (["reviewer"] if name == "reopen" else [])


@pytest.mark.parametrize("name", CALLS)
async def test_every_call_checks_its_own_permission(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    permission, decided, call = CALLS[name]
    ctx = await make_context("admin")
    item = await add_contract()
    await _ready(superuser, ctx, item, decided)
    monkeypatch.setitem(ROLE_PERMISSIONS, "admin", frozenset(Permission) - {permission})
    with pytest.raises(Forbidden, match=permission.value):
        await call(ctx, item)


@pytest.mark.parametrize("name", CALLS)
async def test_every_call_refuses_an_ended_session_and_changes_nothing(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection, name: str
) -> None:
    _, decided, call = CALLS[name]
    ctx = await make_context("admin")
    item = await add_contract()
    await _ready(superuser, ctx, item, decided)
    await superuser.execute("UPDATE sessions SET ended_at = now(), end_reason = 'logout'")
    before = await _snapshot(superuser)
    with pytest.raises(SessionExpired):
        await call(ctx, item)
    assert await _snapshot(superuser) == before


# --- the hot path stays a few statements --------------------------------------------------------------


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(database.app.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(database.app.sync_engine, "before_cursor_execute", count)


async def test_the_triage_loop_takes_a_handful_of_statements_per_call(
    database: Database, make_context: MakeContext, add_contract: AddContract
) -> None:
    for confidence in (10, 20, 30):
        await add_contract(premium_confidence=confidence)
    reviewer = await make_context("reviewer")
    # authorize + the work + the audit insert; no per-row or per-field queries.
    with _statements(database) as seen:
        page = await queue_page(reviewer)
    assert len(seen) == 2
    with _statements(database) as seen:
        detail = await claim_next(reviewer)
    assert detail is not None and len(seen) == 4
    with _statements(database) as seen:
        await get_detail(reviewer, page.items[1].extraction_id)
    assert len(seen) == 3
    with _statements(database) as seen:
        await approve(reviewer, detail.extraction_id, detail.version)
    assert len(seen) == 3


async def test_a_re_extraction_starts_the_fields_uncorrected(make_context, add_contract, system) -> None:
    from services.extractions import extract_contracts

    reviewer = await make_context("reviewer")
    item = await add_contract(premium_confidence=40)
    detail = await get_detail(reviewer, item.id)
    detail = await correct_field(reviewer, item.id, detail.version, "gap_insurance_premium", "1150.00",
                                 "misread_value", "checked page 2")  # fmt: skip
    assert detail.field("gap_insurance_premium").corrected
    await extract_contracts(system, contract_ids=[item.contract_id], provider="rules")
    detail = await get_detail(reviewer, item.id)
    assert not detail.field("gap_insurance_premium").corrected
    assert [c.new for c in detail.corrections] == ["1150.00"]
