"""QA sampling and automatic approval at extraction time; per-field thresholds in routing and the queue."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal

import asyncpg
import pytest

from db.database import Database
from db.models import Extraction
from services.config import SystemSettings, update_config
from services.context import ServiceContext
from services.errors import InvalidInput
from services.extraction.types import FIELD_NAMES, FieldName
from services.extractions import extract_contracts
from services.metrics.panels import queue_health
from services.quality import routing
from services.quality.routing import route
from services.review import get_detail, get_detail_by_contract, queue_counts, queue_page
from tests.services.conftest import DOCUMENT, MakeContext
from tests.services.test_extractions import add_document

AddContract = Callable[..., Awaitable[Extraction]]
PASSING: dict[FieldName, int] = {
    "gap_insurance_premium": 94,
    "refund_calculation_method": 93,
    "cancellation_fee": 92,
}


def test_the_qa_share_of_10000_passing_extractions_is_within_binomial_bounds_of_the_rate() -> None:
    settings = SystemSettings(qa_sample_rate=Decimal("0.05"), auto_approve=True)
    rng = random.Random(20261205)
    trials = 10_000
    drawn = sum(route(PASSING, settings, rng).qa_sample for _ in range(trials))
    sigma = math.sqrt(0.05 * 0.95 / trials)
    assert abs(drawn / trials - 0.05) <= 4 * sigma
    # The same seed draws the same extractions: the sample can be reproduced in a test.
    again = random.Random(20261205)
    assert drawn == sum(route(PASSING, settings, again).qa_sample for _ in range(trials))


def test_only_passing_extractions_are_drawn_and_the_rest_are_auto_approved_when_on() -> None:
    settings = SystemSettings(qa_sample_rate=Decimal("0.2"), auto_approve=True)
    rng = random.Random(7)
    low = {**PASSING, "cancellation_fee": 79}
    routes = [route(low, settings, rng).route for _ in range(1000)]
    assert set(routes) == {"review"}
    passing = [route(PASSING, settings, rng).route for _ in range(1000)]
    assert set(passing) == {"qa_sample", "auto_approve"}
    assert (
        0.2 - 4 * math.sqrt(0.16 / 1000)
        <= passing.count("qa_sample") / 1000
        <= 0.2 + 4 * math.sqrt(0.16 / 1000)
    )
    off = SystemSettings(qa_sample_rate=Decimal("0"), auto_approve=False)
    assert route(PASSING, off, rng).route == "passes"
    always = SystemSettings(qa_sample_rate=Decimal("1"), auto_approve=True)
    assert route(PASSING, always, rng).route == "qa_sample"


def test_a_missing_needed_value_is_never_approved_automatically() -> None:
    settings = SystemSettings(qa_sample_rate=Decimal("0"), auto_approve=True, confidence_threshold=50)
    decided = route({**PASSING, "gap_insurance_premium": 60}, settings, missing=("gap_insurance_premium",))
    assert decided.route == "review"
    assert decided.reason == "every field passes but there is no GAP premium: a person decides"


def test_per_field_thresholds_change_which_items_are_routed() -> None:
    confidences: dict[FieldName, int] = {**PASSING, "refund_calculation_method": 75}
    overall = SystemSettings(qa_sample_rate=Decimal("0"))
    decided = route(confidences, overall)
    assert decided.route == "review"
    assert decided.reason == "below its threshold: refund method 75 < 80"
    lenient = SystemSettings(qa_sample_rate=Decimal("0"), field_thresholds={"refund_calculation_method": 70})
    assert route(confidences, lenient).route == "passes"
    strict = SystemSettings(qa_sample_rate=Decimal("0"), field_thresholds={"gap_insurance_premium": 95})
    assert route(PASSING, strict).reason == "below its threshold: GAP premium 94 < 95"
    assert strict.thresholds() == {
        "gap_insurance_premium": 95,
        "refund_calculation_method": 80,
        "cancellation_fee": 80,
        "term_months": 80,
        "governing_state": 80,
        "apr": 80,
    }


# The services' test contract with the term and the governing state a refund needs: without them (they count
# in the weakest-field rule since migration 0011) every extraction would go to a person.
PASSING_DOCUMENT = DOCUMENT + "Term: 72 months\nThis Addendum is governed by the laws of the State of Ohio.\n"


async def _passing_document(database: Database) -> str:
    return await add_document(database, PASSING_DOCUMENT.format(n=0))


async def _settings(superuser: asyncpg.Connection, **values: str) -> None:
    for key, value in values.items():
        await superuser.execute("UPDATE system_config SET value = $2 WHERE key = $1", key, value)


async def test_auto_approve_approves_passing_extractions_by_the_system_with_an_audited_event(
    system: ServiceContext, database: Database, superuser: asyncpg.Connection
) -> None:
    await _settings(superuser, auto_approve="true", qa_sample_rate="0")
    contract_id = await _passing_document(database)
    batch = await extract_contracts(system, contract_ids=[contract_id], provider="rules")
    assert (batch.extracted, batch.auto_approved) == (1, 1)
    row = await superuser.fetchrow("SELECT * FROM extractions WHERE contract_id = $1", contract_id)
    assert (row["status"], row["reviewed_by"], row["qa_sample"]) == ("approved", None, False)
    assert row["reviewed_at"] is not None
    assert row["version"] == 2
    events = await superuser.fetch(
        "SELECT event_type, user_id, event_data FROM audit_events WHERE contract_id = $1 ORDER BY seq",
        contract_id,
    )
    assert [e["event_type"] for e in events] == ["extract", "auto_approve"]
    extract_data, approve_data = (e["event_data"] for e in events)
    assert extract_data["route"] == "auto_approve"
    assert events[1]["user_id"] is None
    assert approve_data["thresholds"] == dict.fromkeys(FIELD_NAMES, 80)
    assert approve_data["extraction_id"] == str(row["id"])
    assert approve_data["version"] == 2
    assert approve_data["extraction_run_by"] == "system"


async def test_a_qa_sample_stays_pending_flagged_and_counted_in_the_queue(
    system: ServiceContext, make_context: MakeContext, database: Database, superuser: asyncpg.Connection
) -> None:
    await _settings(superuser, auto_approve="true", qa_sample_rate="1")
    contract_id = await _passing_document(database)
    batch = await extract_contracts(system, contract_ids=[contract_id], provider="rules")
    assert (batch.qa_samples, batch.auto_approved, batch.below_threshold) == (1, 0, 0)
    row = await superuser.fetchrow(
        "SELECT status, qa_sample FROM extractions WHERE contract_id = $1", contract_id
    )
    assert (row["status"], row["qa_sample"]) == ("pending", True)
    data = await superuser.fetchval(
        "SELECT event_data FROM audit_events WHERE contract_id = $1 AND event_type = 'extract'", contract_id
    )
    assert (data["route"], data["route_reason"]) == ("qa_sample", "every field passes; drawn for QA (rate 1)")
    assert not await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'auto_approve'")
    reviewer = await make_context("reviewer")
    counts = await queue_counts(reviewer)
    assert (counts.total_pending, counts.below_threshold, counts.qa_samples) == (1, 0, 1)
    # The reviewer is not told its confidence while it is pending, not even by its history.
    detail = await get_detail_by_contract(reviewer, contract_id)
    assert detail.qa_sample and detail.confidence_hidden
    extracted = next(h for h in detail.history if h.event_type == "extract")
    assert "confidence" not in extracted.summary and "min_confidence" not in extracted.data
    # A re-extraction draws again: with the rate at 0 and auto_approve on, the same contract is approved.
    await _settings(superuser, qa_sample_rate="0")
    await extract_contracts(system, contract_ids=[contract_id], provider="rules")
    row = await superuser.fetchrow(
        "SELECT status, qa_sample FROM extractions WHERE contract_id = $1", contract_id
    )
    assert (row["status"], row["qa_sample"]) == ("approved", False)


async def test_the_draw_at_extraction_uses_the_seedable_generator(
    system: ServiceContext, database: Database, superuser: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _settings(superuser, qa_sample_rate="0.5")
    seed = 3
    reference = random.Random(seed)
    expected = [reference.random() < 0.5 for _ in range(6)]
    assert len(set(expected)) == 2  # the seed draws both ways, so the test tells them apart
    monkeypatch.setattr(routing, "QA_RANDOM", random.Random(seed))
    routes = []
    for _ in expected:
        batch = await extract_contracts(
            system, contract_ids=[await _passing_document(database)], provider="rules"
        )
        routes.append(batch.qa_samples == 1)
    assert routes == expected


async def test_per_field_thresholds_change_the_queue(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await add_contract(method_confidence=75)
    await add_contract(premium_confidence=85)
    reviewer = await make_context("reviewer")
    assert (await queue_counts(reviewer)).below_threshold == 1
    assert len((await queue_page(reviewer, field="refund_calculation_method")).items) == 1
    admin = await make_context("admin")
    await update_config(
        admin, "field_thresholds", '{"refund_calculation_method": 70, "gap_insurance_premium": 90}'
    )
    assert (await queue_counts(reviewer)).below_threshold == 1
    assert (await queue_page(reviewer, field="refund_calculation_method")).items == []
    assert len((await queue_page(reviewer, field="gap_insurance_premium")).items) == 1
    with pytest.raises(InvalidInput, match="field_thresholds"):
        await update_config(admin, "field_thresholds", '{"premium": 70}')
    with pytest.raises(InvalidInput, match="field_thresholds"):
        await update_config(admin, "field_thresholds", '{"cancellation_fee": 170}')


async def test_each_detail_field_and_the_dashboard_use_the_fields_own_threshold(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    method_at_75 = await add_contract(method_confidence=75)
    premium_at_75 = await add_contract(premium_confidence=75)
    await add_contract(fee_confidence=60)
    await add_contract()
    reviewer = await make_context("reviewer")
    # A decided item below the thresholds is not in the queue, so neither count has it.
    decided = await add_contract(method_confidence=20, fee_confidence=20)
    await superuser.execute(
        """UPDATE extractions SET status = 'rejected', rejection_reason = 'unreadable scan',
                  reviewed_by = $2, reviewed_at = now(), review_seconds = 30
            WHERE id = $1""",
        decided.id,
        reviewer.actor.user_id,
    )
    admin = await make_context("admin")
    await update_config(admin, "field_thresholds", '{"refund_calculation_method": 70}')

    method_detail = await get_detail(reviewer, method_at_75.id)
    thresholds = {f.name: f.threshold for f in method_detail.fields}
    assert thresholds == {
        "gap_insurance_premium": 80,
        "refund_calculation_method": 70,
        "cancellation_fee": 80,
        "term_months": 80,
        "governing_state": 80,
        "apr": 80,
    }
    method = next(f for f in method_detail.fields if f.name == "refund_calculation_method")
    assert (method.confidence, method.below_threshold) == (75, False)
    premium_detail = await get_detail(reviewer, premium_at_75.id)
    premium = next(f for f in premium_detail.fields if f.name == "gap_insurance_premium")
    assert (premium.confidence, premium.threshold, premium.below_threshold) == (75, 80, True)

    # The premium at 75 and the fee at 60 are below their thresholds; the method at 75 is not, although
    # its lowest confidence is under the global 80: the dashboard counts what the queue counts.
    counts = await queue_counts(reviewer)
    health = await queue_health(await make_context("supervisor"))
    assert counts.below_threshold == 2
    assert health.below_threshold == counts.below_threshold


async def test_a_pending_qa_sample_is_placed_by_its_random_key_not_by_its_confidence(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    weak = await add_contract(premium_confidence=40)
    middling = await add_contract(premium_confidence=70)
    confident = await add_contract(premium_confidence=99, method_confidence=98, fee_confidence=97)
    sampled = await add_contract(premium_confidence=99, method_confidence=98, fee_confidence=97)
    # Drawn for QA with the key 55: between the items at 40 and 70, where its 97 would never sit.
    await superuser.execute(
        "UPDATE extractions SET qa_sample = true, queue_key = 55 WHERE id = $1", sampled.id
    )
    reviewer = await make_context("reviewer")
    items = (await queue_page(reviewer)).items
    assert [item.extraction_id for item in items] == [weak.id, sampled.id, middling.id, confident.id]
    assert [item.queue_rank for item in items] == [40, 55, 70, 97]
    # Page by page, the keyset cursor follows the same order.
    first = await queue_page(reviewer, limit=2)
    rest = await queue_page(reviewer, after=first.next_cursor, limit=2)
    assert [i.extraction_id for i in first.items + rest.items] == [i.extraction_id for i in items]
    # Every extraction draws its key when it is made, spread over 0-99.
    keys = await superuser.fetchval("SELECT count(DISTINCT queue_key) FROM extractions")
    assert keys > 1


async def test_the_queue_header_names_the_thresholds_it_counted_against(
    make_context: MakeContext, add_contract: AddContract
) -> None:
    from app.screens.queue import below_label

    await add_contract(method_confidence=75)
    reviewer = await make_context("reviewer")
    counts = await queue_counts(reviewer)
    assert (below_label(counts), counts.below_threshold) == ("below threshold (80)", 1)
    await update_config(await make_context("admin"), "field_thresholds", '{"refund_calculation_method": 70}')
    counts = await queue_counts(reviewer)
    assert (below_label(counts), counts.below_threshold) == ("below field thresholds", 0)


def test_a_providers_own_threshold_wins_over_the_fields_which_wins_over_the_global_one() -> None:
    settings = SystemSettings(
        qa_sample_rate=Decimal("0"),
        field_thresholds={"gap_insurance_premium": 85, "anthropic": {"gap_insurance_premium": 95}},
    )
    assert settings.field_threshold("gap_insurance_premium") == 85
    assert settings.field_threshold("gap_insurance_premium", "rules") == 85
    assert settings.field_threshold("gap_insurance_premium", "anthropic") == 95
    assert settings.field_threshold("cancellation_fee", "anthropic") == 80
    assert settings.providers_with_thresholds() == ["anthropic"]
    # The same confidences pass for one provider and go to a person for the other.
    assert route(PASSING, settings, provider="rules").route == "passes"
    decided = route(PASSING, settings, provider="anthropic")
    assert decided.reason == "below its threshold: GAP premium 94 < 95"


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ('{"premium": 70}', "field_thresholds: 'premium' is neither a field (gap_insurance_premium"),
        (
            '{"cancellation_fee": 170}',
            "The threshold of cancellation_fee is a whole number from 0 to 100, not 170",
        ),
        (
            '{"cancellation_fee": true}',
            "The threshold of cancellation_fee is a whole number from 0 to 100, not True",
        ),
        (
            '{"anthropic": 90}',
            "The thresholds of the provider anthropic are an object of fields and thresholds",
        ),
        ('{"openai": {"fee": 90}}', "The provider openai names 'fee', which is not a field: use one of"),
        (
            '{"openai": {"cancellation_fee": -1}}',
            "The threshold of openai cancellation_fee is a whole number",
        ),
        ("[80]", "field_thresholds: type a JSON object such as"),
    ],
)
async def test_field_thresholds_are_refused_with_a_sentence_that_says_what_to_type(
    make_context: MakeContext, value: str, sentence: str
) -> None:
    admin = await make_context("admin")
    with pytest.raises(InvalidInput) as refused:
        await update_config(admin, "field_thresholds", value)
    assert sentence in refused.value.message


async def test_per_provider_thresholds_change_the_queue_the_detail_and_the_calibration_report(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    from services.metrics import Period
    from services.quality.reports import calibration_report

    by_rules = await add_contract(provider="rules", premium_confidence=88)
    by_anthropic = await add_contract(provider="anthropic", premium_confidence=88)
    reviewer = await make_context("reviewer")
    assert (await queue_counts(reviewer)).below_threshold == 0
    admin = await make_context("admin")
    await update_config(admin, "field_thresholds", '{"anthropic": {"gap_insurance_premium": 90}}')
    counts = await queue_counts(reviewer)
    assert (counts.below_threshold, counts.own_thresholds) == (1, True)
    filtered = await queue_page(reviewer, field="gap_insurance_premium")
    assert [item.extraction_id for item in filtered.items] == [by_anthropic.id]
    health = await queue_health(await make_context("supervisor"))
    assert health.below_threshold == 1
    premium = {
        item.id: next(
            f for f in (await get_detail(reviewer, item.id)).fields if f.name == "gap_insurance_premium"
        )
        for item in (by_rules, by_anthropic)
    }
    assert (premium[by_rules.id].threshold, premium[by_rules.id].below_threshold) == (80, False)
    assert (premium[by_anthropic.id].threshold, premium[by_anthropic.id].below_threshold) == (90, True)
    # The report's rows name the threshold each provider's values are trusted by; the anthropic item is
    # no longer auto-trusted, the rules one still is.
    from tests.services.test_metrics import decide

    for item in (by_rules, by_anthropic):
        await decide(superuser, item, "approved", reviewer, at=dt.datetime.now(dt.UTC))
    report = await calibration_report(await make_context("supervisor"), Period.last_days(30))
    thresholds = {(f.provider, f.field): f.threshold for f in report.fields}
    assert (report.extractions, report.auto_trusted, report.thresholds["gap_insurance_premium"]) == (2, 1, 80)
    assert thresholds[("anthropic", "gap_insurance_premium")] == 90
    assert thresholds[("rules", "gap_insurance_premium")] == 80
    assert thresholds[("all", "gap_insurance_premium")] == 80
