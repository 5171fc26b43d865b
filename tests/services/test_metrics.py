"""The supervisor dashboard's panels, and the incremental refresh of extraction_metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from db.models import Extraction
from services import metrics
from services.audit import run_maintenance
from services.context import ServiceContext
from services.domain import FIELD_NAMES, ConfidenceBand
from services.errors import Forbidden, InvalidInput
from services.metrics import (
    Period,
    confidence_distribution,
    corrections_by_field,
    cost_by_provider,
    daily_extraction_stats,
    queue_health,
    refresh_extraction_metrics,
    refresh_metrics_for_days,
    reviewer_activity,
)
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
TODAY = Period.today()
AT_TODAY = TODAY.start + dt.timedelta(hours=1)
AT_YESTERDAY = TODAY.start - dt.timedelta(hours=1)


def days_ago(days: int) -> dt.datetime:
    return TODAY.start - dt.timedelta(days=days) + dt.timedelta(hours=12)


async def decide(
    superuser: asyncpg.Connection,
    extraction: Extraction,
    status: str,
    reviewer: ServiceContext,
    *,
    at: dt.datetime = AT_TODAY,
    seconds: int | None = None,
) -> None:
    await superuser.execute(
        """UPDATE extractions SET status = $2, reviewed_by = $3, reviewed_at = $4, review_seconds = $5,
                  rejection_reason = CASE WHEN $2 = 'rejected' THEN 'unreadable scan' END
            WHERE id = $1""",
        extraction.id,
        status,
        reviewer.actor.user_id,
        at,
        seconds,
    )


async def correct(
    superuser: asyncpg.Connection,
    extraction: Extraction,
    field: str,
    by: ServiceContext,
    *,
    at: dt.datetime = AT_TODAY,
) -> None:
    await superuser.execute(
        """INSERT INTO corrections (extraction_id, field_name, original_value, corrected_value, reason_code,
                                    corrected_by, corrected_at)
           VALUES ($1, $2, 'old', 'new', 'misread_value', $3, $4)""",
        extraction.id,
        field,
        by.actor.user_id,
        at,
    )


@pytest.fixture
async def supervisor(make_context: MakeContext) -> ServiceContext:
    return await make_context("supervisor", username="sue")


# --- periods --------------------------------------------------------------------------------------------


def test_periods_are_whole_utc_days() -> None:
    wednesday = dt.date(2024, 5, 15)
    assert Period.this_week(wednesday) == Period(first_day=dt.date(2024, 5, 13), last_day=wednesday)
    assert Period.last_days(7, wednesday).first_day == dt.date(2024, 5, 9)
    day = Period.today(wednesday)
    assert day.end - day.start == dt.timedelta(days=1)
    assert day.start == dt.datetime(2024, 5, 15, tzinfo=dt.UTC)
    with pytest.raises(InvalidInput, match="after the 'to' day"):
        Period.between(dt.date(2024, 5, 2), dt.date(2024, 5, 1))
    with pytest.raises(InvalidInput, match="1 to"):
        Period.last_days(0)


# --- who may see them -----------------------------------------------------------------------------------

PANELS: list[Callable[[ServiceContext], Awaitable[Any]]] = [
    queue_health,
    lambda ctx: reviewer_activity(ctx, TODAY),
    lambda ctx: corrections_by_field(ctx, TODAY),
    confidence_distribution,
    lambda ctx: cost_by_provider(ctx, TODAY),
    lambda ctx: daily_extraction_stats(ctx, TODAY),
]


@pytest.mark.parametrize("panel", PANELS)
async def test_reviewers_are_refused_every_dashboard_panel(
    make_context: MakeContext, panel: Callable[[ServiceContext], Awaitable[Any]]
) -> None:
    with pytest.raises(Forbidden, match="see the dashboards"):
        await panel(await make_context("reviewer"))
    for role in ("supervisor", "admin"):
        await panel(await make_context(role))


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
async def test_only_admins_and_the_operator_refresh_the_metrics(
    make_context: MakeContext, system: ServiceContext, role: str
) -> None:
    with pytest.raises(Forbidden):
        await refresh_extraction_metrics(await make_context(role))
    assert await refresh_extraction_metrics(await make_context("admin")) == 0
    assert await refresh_extraction_metrics(system) == 0


# --- queue ----------------------------------------------------------------------------------------------


async def test_queue_health_counts_depth_bands_age_sla_and_claims(
    supervisor: ServiceContext,
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    now = dt.datetime.now(dt.UTC)
    oldest = now - dt.timedelta(hours=30)
    await add_contract(premium_confidence=30, extracted_at=oldest)
    await add_contract(method_confidence=60)
    claimed = await add_contract(fee_confidence=85)
    stale_claim = await add_contract(premium_confidence=95, method_confidence=95, fee_confidence=95)
    decided = await add_contract(premium_confidence=10, extracted_at=now - dt.timedelta(days=5))
    await decide(superuser, decided, "approved", supervisor)
    reviewer = await make_context("reviewer")
    for extraction, expires in (
        (claimed, "now() + interval '5 minutes'"),
        (stale_claim, "now() - interval '1 minute'"),
    ):
        await superuser.execute(
            f"UPDATE extractions SET claimed_by = $2, claimed_at = now() - interval '20 minutes', "
            f"claim_expires_at = {expires} WHERE id = $1",
            extraction.id,
            reviewer.actor.user_id,
        )

    health = await queue_health(supervisor)

    assert health.pending == 4
    assert health.by_band == {ConfidenceBand.LOW: 1, ConfidenceBand.MEDIUM: 1, ConfidenceBand.HIGH: 2}
    assert health.below_threshold == 2
    assert health.oldest_pending_at == oldest
    assert health.oldest_pending_age is not None
    assert dt.timedelta(hours=30) <= health.oldest_pending_age < dt.timedelta(hours=31)
    assert (health.sla_hours, health.past_sla) == (24, 1)
    assert health.claimed_now == 1


async def test_an_empty_queue_is_all_zeros(supervisor: ServiceContext) -> None:
    health = await queue_health(supervisor)
    assert health.pending == 0 and health.past_sla == 0 and health.claimed_now == 0
    assert health.oldest_pending_at is None and health.oldest_pending_age is None
    assert set(health.by_band.values()) == {0}


# --- reviewers ------------------------------------------------------------------------------------------


async def test_reviewer_activity_counts_each_persons_decisions_corrections_and_median(
    supervisor: ServiceContext,
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    ann = await make_context("reviewer", username="ann")
    bob = await make_context("reviewer", username="bob")
    await make_context("reviewer", username="gone", is_active=False)
    items = [await add_contract() for _ in range(6)]
    for item, seconds in zip(items[:3], (10, 40, 100), strict=True):
        await decide(superuser, item, "approved", ann, seconds=seconds)
    await decide(superuser, items[3], "rejected", ann, seconds=20)
    await decide(superuser, items[4], "approved", bob, at=AT_YESTERDAY, seconds=7)
    await correct(superuser, items[0], "gap_insurance_premium", ann)
    await correct(superuser, items[0], "cancellation_fee", ann)
    await correct(superuser, items[5], "cancellation_fee", ann)
    await correct(superuser, items[4], "cancellation_fee", bob, at=AT_YESTERDAY)

    today = {row.username: row for row in await reviewer_activity(supervisor, TODAY)}

    assert list(today) == ["ann", "bob", "sue"]
    assert (today["ann"].reviewed, today["ann"].approved, today["ann"].rejected) == (4, 3, 1)
    assert (today["ann"].corrected, today["ann"].corrections) == (2, 3)
    assert today["ann"].median_review_seconds == 30.0
    assert (today["bob"].reviewed, today["bob"].corrections, today["bob"].median_review_seconds) == (
        0,
        0,
        None,
    )
    two_days = {row.username: row for row in await reviewer_activity(supervisor, Period.last_days(2))}
    assert (two_days["bob"].reviewed, two_days["bob"].corrected) == (1, 1)
    assert two_days["bob"].median_review_seconds == 7.0


# --- corrections per field -----------------------------------------------------------------------------


async def test_corrections_by_field_counts_the_periods_correction_rows_and_their_contracts(
    supervisor: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    approved = [await add_contract() for _ in range(3)]
    for item in approved:
        await decide(superuser, item, "approved", supervisor)
    await correct(superuser, approved[0], "gap_insurance_premium", supervisor)
    await correct(superuser, approved[1], "refund_calculation_method", supervisor)
    await correct(superuser, approved[1], "cancellation_fee", supervisor)
    await correct(superuser, approved[2], "cancellation_fee", supervisor)
    await correct(superuser, approved[2], "cancellation_fee", supervisor)
    rejected, earlier = await add_contract(), await add_contract()
    await decide(superuser, rejected, "rejected", supervisor)
    await correct(superuser, rejected, "gap_insurance_premium", supervisor)
    await decide(superuser, earlier, "approved", supervisor, at=AT_YESTERDAY)
    await correct(superuser, earlier, "gap_insurance_premium", supervisor, at=AT_YESTERDAY)

    summary = await corrections_by_field(supervisor, TODAY)

    # Rows, whatever became of the extraction (the rejected one's correction counts too); not yesterday's.
    assert (summary.corrections, summary.corrected) == (6, 4)
    assert {row.field_name: (row.corrections, row.corrected) for row in summary.by_field} == {
        "gap_insurance_premium": (2, 2),
        "refund_calculation_method": (1, 1),
        "cancellation_fee": (3, 2),
        "term_months": (0, 0),
        "governing_state": (0, 0),
        "apr": (0, 0),
    }
    assert sum(row.corrections for row in summary.by_field) == summary.corrections
    team = sum(row.corrections for row in await reviewer_activity(supervisor, TODAY))
    assert team == summary.corrections
    nothing = await corrections_by_field(supervisor, Period.today(dt.date(2001, 1, 1)))
    assert (nothing.corrections, nothing.corrected) == (0, 0)
    assert [(row.corrections, row.corrected) for row in nothing.by_field] == [(0, 0)] * len(FIELD_NAMES)


# --- confidence -----------------------------------------------------------------------------------------


async def test_confidence_histogram_of_the_periods_extractions(
    supervisor: ServiceContext, add_contract: AddContract
) -> None:
    await add_contract(premium_confidence=5, method_confidence=50, fee_confidence=99)
    await add_contract(premium_confidence=15, method_confidence=55, fee_confidence=99)
    await add_contract(premium_confidence=100, method_confidence=95, fee_confidence=100)
    await add_contract(premium_confidence=90, method_confidence=100, fee_confidence=95)
    await add_contract(premium_confidence=0, extracted_at=days_ago(40))

    histogram = await confidence_distribution(supervisor)

    assert histogram.period == Period.last_days(30)
    assert histogram.extractions == 4
    assert histogram.buckets[0] == "0-9" and histogram.buckets[-1] == "90-100"
    assert histogram.min_confidence == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert histogram.by_field["gap_insurance_premium"] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert histogram.by_field["refund_calculation_method"] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    assert histogram.by_field["cancellation_fee"] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    old = await confidence_distribution(
        supervisor, Period.today((TODAY.start - dt.timedelta(days=40)).date())
    )
    assert old.extractions == 1 and old.min_confidence[0] == 1


# --- cost and daily statistics --------------------------------------------------------------------------


async def test_cost_by_provider_and_model_with_chat(
    supervisor: ServiceContext,
    system: ServiceContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    for cost in ("0.010000", "0.020000", "0.030000"):
        await add_contract(
            provider="anthropic", cost_usd=Decimal(cost), prompt_tokens=1000, completion_tokens=200
        )
    await add_contract(fallback_from="anthropic", fallback_reason="timeout")
    asked = await add_contract(provider="openai", extracted_at=days_ago(3), cost_usd=Decimal("0.5"))
    for created, cost in ((AT_TODAY, "0.004"), (AT_TODAY, "0.006"), (days_ago(3), "9")):
        await superuser.execute(
            """INSERT INTO chat_messages (contract_id, user_id, role, content, llm_provider, model_version,
                                          prompt_tokens, completion_tokens, cost_usd, created_at)
               VALUES ($1, $2, 'assistant', 'It says pro rata.', 'anthropic', 'anthropic-1', 300, 50, $3, $4)""",
            asked.contract_id,
            supervisor.actor.user_id,
            Decimal(cost),
            created,
        )
    await refresh_extraction_metrics(system)

    costs = {row.llm_provider: row for row in await cost_by_provider(supervisor, TODAY)}

    assert set(costs) == {"anthropic", "rules"}
    claude = costs["anthropic"]
    assert (claude.model_version, claude.extractions, claude.prompt_tokens, claude.completion_tokens) == (
        "anthropic-1",
        3,
        3000,
        600,
    )
    assert claude.cost_usd == Decimal("0.06")
    assert claude.cost_per_extraction_usd == Decimal("0.02")
    assert (claude.chat_answers, claude.chat_prompt_tokens, claude.chat_cost_usd) == (2, 600, Decimal("0.01"))
    assert claude.total_cost_usd == Decimal("0.07")
    assert (costs["rules"].extractions, costs["rules"].fallbacks, costs["rules"].cost_usd) == (1, 1, 0)
    week = {row.llm_provider: row for row in await cost_by_provider(supervisor, Period.last_days(7))}
    assert week["openai"].cost_usd == Decimal("0.5")
    assert week["anthropic"].chat_cost_usd == Decimal("9.01")


async def test_daily_statistics_are_the_views_rows_for_the_period(
    supervisor: ServiceContext,
    system: ServiceContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    weak = await add_contract(premium_confidence=40)
    corrected = await add_contract()
    await add_contract(extracted_at=days_ago(2))
    await decide(superuser, weak, "rejected", supervisor)
    await decide(superuser, corrected, "approved", supervisor)
    await correct(superuser, corrected, "cancellation_fee", supervisor)
    await refresh_extraction_metrics(system)

    rows = await daily_extraction_stats(supervisor, TODAY)

    assert len(rows) == 1
    row = rows[0]
    assert (row.metric_date, row.llm_provider, row.model_version) == (TODAY.first_day, "rules", "rules-1")
    assert (row.extractions_count, row.pending_count, row.approved_count, row.rejected_count) == (2, 0, 1, 1)
    assert (row.corrected_count, row.below_threshold_count) == (1, 1)
    assert row.correction_rate == Decimal("0.5") and row.review_rate == Decimal("0.5")
    assert row.avg_min_confidence == Decimal("65.00")
    three_days = await daily_extraction_stats(supervisor, Period.last_days(3))
    assert [r.metric_date for r in three_days] == [TODAY.first_day - dt.timedelta(days=2), TODAY.first_day]


# --- refreshing extraction_metrics ----------------------------------------------------------------------


async def metric_rows(superuser: asyncpg.Connection) -> dict[tuple[dt.date, str], asyncpg.Record]:
    rows = await superuser.fetch("SELECT * FROM extraction_metrics")
    return {(row["metric_date"], row["llm_provider"]): row for row in rows}


@pytest.fixture
def no_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """No transaction is left open in these tests, so the refresh need not look back."""
    monkeypatch.setattr(metrics.refresh, "REFRESH_MARGIN", dt.timedelta(0))


@pytest.mark.usefixtures("no_margin")
async def test_incremental_refresh_recomputes_only_what_changed(
    system: ServiceContext,
    supervisor: ServiceContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    first = [await add_contract(extracted_at=days_ago(n)) for n in (3, 2, 2, 1)]
    assert await refresh_extraction_metrics(system) == 3
    before = await metric_rows(superuser)
    day2 = (days_ago(2).date(), "rules")
    assert before[day2]["extractions_count"] == 2 and before[day2]["pending_count"] == 2

    await decide(superuser, first[1], "approved", supervisor)
    assert await refresh_extraction_metrics(system) == 1

    after = await metric_rows(superuser)
    assert (after[day2]["pending_count"], after[day2]["approved_count"]) == (1, 1)
    assert after[day2]["updated_at"] > before[day2]["updated_at"]
    for key in before.keys() - {day2}:
        assert after[key]["updated_at"] == before[key]["updated_at"]
        assert after[key]["extractions_count"] == before[key]["extractions_count"]
    event = await superuser.fetchrow(
        "SELECT user_id, event_data FROM audit_events WHERE event_type = 'metrics_refreshed' ORDER BY seq DESC"
    )
    assert event["event_data"]["full"] is False
    assert (event["event_data"]["days"], event["event_data"]["groups_changed"]) == (1, 1)
    assert event["user_id"] is None


async def test_a_re_extraction_moves_its_figures_and_empty_groups_go(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    only = await add_contract(extracted_at=days_ago(1))
    await refresh_extraction_metrics(system)
    await superuser.execute(
        "UPDATE extractions SET llm_provider = 'openai', model_version = 'gpt-4o-mini' WHERE id = $1", only.id
    )
    assert await refresh_extraction_metrics(system) == 2
    rows = await metric_rows(superuser)
    assert list(rows) == [(days_ago(1).date(), "openai")]
    assert rows[(days_ago(1).date(), "openai")]["model_version"] == "gpt-4o-mini"


@pytest.mark.usefixtures("no_margin")
async def test_full_refresh_repairs_what_leaves_no_trace(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await add_contract(extracted_at=days_ago(5))
    removed = await add_contract(extracted_at=days_ago(4))
    await refresh_extraction_metrics(system)
    await superuser.execute("DELETE FROM contracts WHERE contract_id = $1", removed.contract_id)
    await superuser.execute(
        "UPDATE extraction_metrics SET cost_usd = 99 WHERE metric_date = $1", days_ago(5).date()
    )
    assert await refresh_extraction_metrics(system) == 0
    assert await refresh_extraction_metrics(system, full=True) == 2
    rows = await metric_rows(superuser)
    assert list(rows) == [(days_ago(5).date(), "rules")]
    assert rows[(days_ago(5).date(), "rules")]["cost_usd"] == Decimal(0)


@pytest.mark.usefixtures("no_margin")
async def test_a_writer_refreshes_the_days_it_touched_in_its_own_transaction(
    system: ServiceContext,
    supervisor: ServiceContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    item = await add_contract(extracted_at=days_ago(2))
    other = await add_contract(extracted_at=days_ago(1))
    await refresh_extraction_metrics(system)
    await decide(superuser, item, "approved", supervisor)
    await decide(superuser, other, "approved", supervisor)
    async with system.unit_of_work() as uow:
        assert await refresh_metrics_for_days(uow.session, [days_ago(2).date()] * 2) == 1
        await uow.commit()
    rows = await metric_rows(superuser)
    assert rows[(days_ago(2).date(), "rules")]["approved_count"] == 1
    assert rows[(days_ago(1).date(), "rules")]["approved_count"] == 0
    # The targeted refresh does not move the watermark: the next refresh still sees the other change.
    assert await refresh_extraction_metrics(system) == 1
    assert (await metric_rows(superuser))[(days_ago(1).date(), "rules")]["approved_count"] == 1


async def test_maintenance_refreshes_the_metrics(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await add_contract(provider="bedrock")
    report = await run_maintenance(system)
    assert report.metric_groups_refreshed == 1
    refreshed = await superuser.fetchrow("SELECT llm_provider, updated_at FROM extraction_metrics")
    assert refreshed["llm_provider"] == "bedrock"
    # The next run looks back over the same extraction (the margin) but finds nothing to change.
    assert (await run_maintenance(system)).metric_groups_refreshed == 0
    assert await superuser.fetchval("SELECT updated_at FROM extraction_metrics") == refreshed["updated_at"]


async def test_the_watermark_looks_back_for_transactions_still_open(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await add_contract()
    await refresh_extraction_metrics(system)
    watermark = await superuser.fetchval(
        "SELECT (event_data ->> 'watermark')::timestamptz FROM audit_events WHERE event_type = 'metrics_refreshed'"
    )
    refreshed_at = await superuser.fetchval("SELECT max(updated_at) FROM extraction_metrics")
    assert refreshed_at - watermark == metrics.REFRESH_MARGIN
