"""Many reviewers at once, on the application's engine: claims never overlap, writes never overwrite."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from db.models import Extraction
from services.context import ServiceContext
from services.errors import Conflict
from services.review import approve, claim_next, correct_field, reject
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
REVIEWERS = 16
ITEMS = 200


async def _contracts(add_contract: AddContract, count: int) -> set[uuid.UUID]:
    # Few distinct confidences, so that claimers race for ties at the head of the queue.
    return {(await add_contract(premium_confidence=10 + n % 3)).id for n in range(count)}


@pytest.mark.slow
async def test_sixteen_reviewers_working_the_queue_each_get_every_item_once(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    items = await _contracts(add_contract, ITEMS)
    reviewers = [await make_context("reviewer") for _ in range(REVIEWERS)]
    holder: dict[uuid.UUID, uuid.UUID | None] = {}
    overlaps: list[uuid.UUID] = []
    worked: Counter[uuid.UUID | None] = Counter()

    async def work(ctx: ServiceContext) -> None:
        """Claim, then decide, until the queue is empty: each claim must be an item nobody else holds."""
        while (detail := await claim_next(ctx)) is not None:
            item = detail.extraction_id
            if holder.get(item) not in (None, ctx.actor.user_id):
                overlaps.append(item)
            holder[item] = ctx.actor.user_id
            worked[ctx.actor.user_id] += 1
            if worked[ctx.actor.user_id] % 2:
                await approve(ctx, item, detail.version)
            else:
                await reject(ctx, item, detail.version, "duplicate submission")
            holder[item] = None

    await asyncio.gather(*(work(ctx) for ctx in reviewers))

    assert overlaps == []
    assert sum(worked.values()) == ITEMS
    assert len(worked) > 1
    claims = await superuser.fetch(
        "SELECT e.id, count(*) AS claims, min(a.user_id::text) AS claimer, e.reviewed_by::text AS decider "
        "FROM audit_events a JOIN extractions e ON e.contract_id = a.contract_id "
        "WHERE a.event_type = 'claim' GROUP BY e.id"
    )
    assert {c["id"] for c in claims} == items
    assert all(c["claims"] == 1 and c["claimer"] == c["decider"] for c in claims)
    assert await superuser.fetchval("SELECT count(*) FROM extractions WHERE status = 'pending'") == 0
    decisions = await superuser.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type IN ('approve', 'reject')"
    )
    assert decisions == ITEMS


async def test_a_burst_of_simultaneous_claims_hands_out_distinct_items(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await _contracts(add_contract, REVIEWERS + 4)
    reviewers = [await make_context("reviewer") for _ in range(REVIEWERS)]

    details = await asyncio.gather(*(claim_next(ctx) for ctx in reviewers))

    claimed = [d.extraction_id for d in details if d is not None]
    assert len(claimed) == len(set(claimed)) == REVIEWERS
    rows = await superuser.fetch("SELECT claimed_by FROM extractions WHERE claimed_by IS NOT NULL")
    assert len({r["claimed_by"] for r in rows}) == len(rows) == REVIEWERS


async def test_two_reviewers_approving_the_same_version_one_wins(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    items = await _contracts(add_contract, 10)
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")

    for item in items:
        results = await asyncio.gather(approve(alice, item, 1), approve(bob, item, 1), return_exceptions=True)
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1 and len(losers) == 1
        assert isinstance(losers[0], Conflict)
        assert "already approved by" in losers[0].message
        assert winners[0].decided_by in losers[0].message

    approvals = await superuser.fetch(
        "SELECT contract_id, count(*) AS n FROM audit_events WHERE event_type = 'approve' GROUP BY contract_id"
    )
    assert len(approvals) == len(items) and all(a["n"] == 1 for a in approvals)


async def test_a_correction_racing_an_approval_never_lands_on_a_decided_item(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    items = await _contracts(add_contract, 10)
    alice = await make_context("reviewer")
    bob = await make_context("reviewer")

    for item in items:
        results = await asyncio.gather(
            approve(alice, item, 1),
            correct_field(bob, item, 1, "gap_insurance_premium", "1300", "misread_value", "typo"),
            return_exceptions=True,
        )
        assert sum(isinstance(r, Conflict) for r in results) == 1
        assert not any(isinstance(r, BaseException) and not isinstance(r, Conflict) for r in results)

    # Whichever won, an approved item carries the value its approver saw.
    approved_after_correction = await superuser.fetchval(
        "SELECT count(*) FROM extractions e WHERE status = 'approved' "
        "AND EXISTS (SELECT FROM corrections k WHERE k.extraction_id = e.id)"
    )
    assert approved_after_correction == 0
    events = await superuser.fetch("SELECT event_type, count(*) AS n FROM audit_events GROUP BY event_type")
    assert sum(e["n"] for e in events) == len(items)
