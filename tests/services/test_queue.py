"""The review queue: order, keyset pages, filters, counts, and claims."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from db.models import Extraction
from services.errors import Conflict, InvalidInput
from services.review import (
    ConfidenceBand,
    QueueFilter,
    QueueItem,
    approve,
    claim_extraction,
    claim_next,
    queue_counts,
    queue_page,
    release,
)
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
T0 = dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC)


async def _all_pages(ctx: Any, limit: int, **filters: Any) -> tuple[list[QueueItem], int]:
    items: list[QueueItem] = []
    page = await queue_page(ctx, limit=limit, **filters)
    pages = 1
    items += page.items
    while page.next_cursor is not None:
        page = await queue_page(ctx, after=page.next_cursor, limit=limit, **filters)
        items += page.items
        pages += 1
    return items, pages


async def test_pages_follow_confidence_then_age_then_id_across_ties(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    made = []
    # Three items share (40, T0) and two share (40, T0+1m): page boundaries must fall inside the ties.
    for premium, minutes in [(40, 0), (40, 0), (40, 0), (40, 1), (40, 1), (12, 5), (95, 0), (60, 0), (12, 2)]:
        made.append(
            await add_contract(premium_confidence=premium, extracted_at=T0 + dt.timedelta(minutes=minutes))
        )
    decided = await add_contract(premium_confidence=1)
    reviewer = await make_context("reviewer")
    await approve(reviewer, decided.id, 1)
    expected = sorted(made, key=lambda e: (min(e.gap_insurance_premium_confidence, 90), e.extracted_at, e.id))

    items, pages = await _all_pages(reviewer, limit=2)

    assert [i.extraction_id for i in items] == [e.id for e in expected]
    assert pages == 5
    assert decided.id not in {i.extraction_id for i in items}
    assert [i.min_confidence for i in items] == [12, 12, 40, 40, 40, 40, 40, 60, 90]


async def test_an_item_shows_its_weakest_field_and_a_live_claim_only(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    weak_fee = await add_contract(fee_confidence=20, method_confidence=55)
    other = await add_contract(premium_confidence=30)
    alice = await make_context("reviewer", username="alice")
    viewer = await make_context("reviewer")
    await claim_extraction(alice, weak_fee.id)
    await claim_extraction(alice, other.id)
    await superuser.execute(
        "UPDATE extractions SET claim_expires_at = now() - interval '1 second' WHERE id = $1", other.id
    )

    first, second = (await queue_page(viewer)).items

    assert first.extraction_id == weak_fee.id
    assert first.lowest_field == "cancellation_fee"
    assert first.confidences == {
        "gap_insurance_premium": 90,
        "refund_calculation_method": 55,
        "cancellation_fee": 20,
        # Not yet extracted (an extraction older than migration 0011): no confidence, no place in the order.
        "term_months": None,
        "governing_state": None,
        "apr": None,
    }
    assert first.customer_name.startswith("Customer #")
    assert (first.llm_provider, first.model_version, first.version) == ("rules", "rules-1", 1)
    assert first.claimed_by == "alice"
    assert first.claim_expires_at is not None and first.claim_expires_at > dt.datetime.now(dt.UTC)
    assert second.lowest_field == "gap_insurance_premium"
    assert (second.claimed_by, second.claim_expires_at) == (None, None)


async def test_filters_by_field_below_threshold_provider_and_band(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    low_fee = await add_contract(fee_confidence=30)
    low_premium = await add_contract(premium_confidence=70, provider="anthropic")
    borderline_fee = await add_contract(fee_confidence=80, provider="anthropic")
    confident = await add_contract(provider="openai")
    reviewer = await make_context("reviewer")

    async def ids(**filters: Any) -> set[uuid.UUID]:
        return {i.extraction_id for i in (await _all_pages(reviewer, limit=1, **filters))[0]}

    assert await ids(field="cancellation_fee") == {low_fee.id}
    assert await ids(field="gap_insurance_premium") == {low_premium.id}
    assert await ids(field="refund_calculation_method") == set()
    assert await ids(provider="anthropic") == {low_premium.id, borderline_fee.id}
    assert await ids(band=ConfidenceBand.LOW) == {low_fee.id}
    assert await ids(band="50-79") == {low_premium.id}
    assert await ids(band=ConfidenceBand.HIGH) == {borderline_fee.id, confident.id}
    assert await ids(band="80-100", provider="anthropic") == {borderline_fee.id}


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ({"field": "premium"}, "no field"),
        ({"provider": "skynet"}, "one of the providers"),
        ({"band": "10-20"}, "confidence bands"),
        ({"limit": 0}, "1 to 200"),
        ({"limit": 201}, "1 to 200"),
    ],
)
async def test_bad_filters_are_refused(
    make_context: MakeContext, filters: dict[str, Any], words: str
) -> None:
    reviewer = await make_context("reviewer")
    with pytest.raises(InvalidInput, match=words):
        await queue_page(reviewer, **filters)


async def test_counts_follow_the_threshold_and_live_claims(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    for confidence in (10, 49, 50, 79, 80, 100):
        await add_contract(method_confidence=confidence, premium_confidence=100, fee_confidence=100)
    approved = await add_contract(premium_confidence=5)
    reviewer = await make_context("reviewer")
    await approve(reviewer, approved.id, 1)
    holder = await make_context("reviewer")
    await claim_next(holder)
    lapsed = await make_context("reviewer")
    lapsed_item = await claim_next(lapsed)
    assert lapsed_item is not None
    await superuser.execute(
        "UPDATE extractions SET claim_expires_at = now() - interval '1 minute' WHERE id = $1",
        lapsed_item.extraction_id,
    )

    counts = await queue_counts(reviewer)

    assert counts.total_pending == 6
    assert (counts.threshold, counts.below_threshold) == (80, 4)
    assert counts.by_band == {ConfidenceBand.LOW: 2, ConfidenceBand.MEDIUM: 2, ConfidenceBand.HIGH: 2}
    assert counts.claimed_now == 1
    await superuser.execute("UPDATE system_config SET value = '50' WHERE key = 'confidence_threshold'")
    assert (await queue_counts(reviewer)).below_threshold == 2


async def test_claim_next_takes_the_head_and_resumes_the_reviewers_own_claim(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    second = await add_contract(premium_confidence=30)
    head = await add_contract(premium_confidence=10)
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")

    mine = await claim_next(alice)
    assert mine is not None and mine.extraction_id == head.id
    assert mine.claimed_by(alice.actor.user_id)
    lease = mine.claim.expires_at - mine.claim.claimed_at  # type: ignore[union-attr]
    assert lease == dt.timedelta(minutes=15)
    again = await claim_next(alice)
    assert again is not None and again.extraction_id == head.id
    assert again.claim.claimed_at == mine.claim.claimed_at  # type: ignore[union-attr]
    theirs = await claim_next(bob)
    assert theirs is not None and theirs.extraction_id == second.id
    assert await claim_next(await make_context("reviewer")) is None

    events = await superuser.fetch(
        "SELECT user_id, event_data FROM audit_events WHERE event_type = 'claim' ORDER BY seq"
    )
    assert [(e["user_id"], e["event_data"]["resumed"]) for e in events] == [
        (alice.actor.user_id, False),
        (alice.actor.user_id, True),
        (bob.actor.user_id, False),
    ]
    assert [h.event_type for h in theirs.history] == ["claim"]


async def test_claim_next_takes_the_head_of_the_filtered_queue_the_list_shows(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    await add_contract(premium_confidence=10)
    by_method = await add_contract(method_confidence=40)
    on_bedrock = await add_contract(fee_confidence=60, provider="bedrock")
    reviewer = await make_context("reviewer")
    for wanted, expected in (
        (QueueFilter.checked(field="refund_calculation_method"), by_method),
        (QueueFilter.checked(provider="bedrock"), on_bedrock),
        (QueueFilter.checked(band="50-79"), on_bedrock),
    ):
        listed = await queue_page(reviewer, **wanted.model_dump(mode="json"))
        assert [item.extraction_id for item in listed.items] == [expected.id]
        detail = await claim_next(reviewer, wanted=wanted)
        assert detail is not None and detail.extraction_id == expected.id
        await release(reviewer, detail.extraction_id)
    with pytest.raises(InvalidInput, match="providers"):
        QueueFilter.checked(provider="skynet")


async def test_lease_length_comes_from_the_configuration(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await add_contract()
    await superuser.execute("UPDATE system_config SET value = '40' WHERE key = 'claim_lease_minutes'")
    detail = await claim_next(await make_context("reviewer"))
    assert detail is not None and detail.claim is not None
    assert detail.claim.expires_at - detail.claim.claimed_at == dt.timedelta(minutes=40)


async def test_an_expired_lease_makes_the_item_claimable_again(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    item = await add_contract()
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")
    await claim_next(alice)
    assert await claim_next(bob) is None
    with pytest.raises(Conflict, match="being reviewed by alice"):
        await claim_extraction(bob, item.id)

    await superuser.execute("UPDATE extractions SET claim_expires_at = now() - interval '1 second'")

    taken = await claim_next(bob)
    assert taken is not None and taken.extraction_id == item.id
    assert taken.claimed_by(bob.actor.user_id)
    with pytest.raises(Conflict, match="being reviewed by bob"):
        await release(alice, item.id)
    with pytest.raises(Conflict, match="being reviewed by bob"):
        await approve(alice, item.id, 1)


async def test_release_returns_the_item_and_skip_keeps_it_away_from_the_releaser(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    head = await add_contract(premium_confidence=10)
    later = await add_contract(premium_confidence=20)
    alice = await make_context("reviewer")
    bob = await make_context("reviewer")
    await claim_next(alice)
    with pytest.raises(Conflict):
        await release(bob, head.id)

    assert await release(alice, head.id) is True
    assert await release(alice, head.id) is False

    assert (await queue_page(bob)).items[0].claimed_by is None
    skipped = await claim_next(alice, skip=[head.id])
    assert skipped is not None and skipped.extraction_id == later.id
    back = await claim_next(bob)
    assert back is not None and back.extraction_id == head.id
    events = await superuser.fetch("SELECT event_type, user_id FROM audit_events ORDER BY seq")
    assert [(e["event_type"], e["user_id"]) for e in events] == [
        ("claim", alice.actor.user_id),
        ("release", alice.actor.user_id),
        ("claim", alice.actor.user_id),
        ("claim", bob.actor.user_id),
    ]


async def test_claiming_a_chosen_item(make_context: MakeContext, add_contract: AddContract) -> None:
    await add_contract(premium_confidence=10)
    chosen = await add_contract(premium_confidence=70)
    alice = await make_context("reviewer")
    detail = await claim_extraction(alice, chosen.id)
    assert detail.extraction_id == chosen.id and detail.claimed_by(alice.actor.user_id)
    # Holding a claim, claim_next resumes it rather than taking the head.
    resumed = await claim_next(alice)
    assert resumed is not None and resumed.extraction_id == chosen.id
    await approve(alice, chosen.id, 1)
    with pytest.raises(Conflict, match="already approved by you"):
        await claim_extraction(alice, chosen.id)
