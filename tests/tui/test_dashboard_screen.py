"""A supervisor's dashboard: every figure on screen is what the metrics services say for the same period.

The dashboard's clock is pinned to a Wednesday afternoon (FIXED_NOW) and the data are placed around it,
so that "today", "this week" and the ages are known; one test runs on the real clock through the real
review services instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from app.screens import dashboard
from app.screens.calibration_panel import calibration_rows, error_rate
from app.screens.dashboard import DashboardPanel, DashboardScreen
from app.screens.queue import QueueScreen
from app.workstation import RefundReviewApp
from db.models import Extraction
from services.context import ServiceContext
from services.domain import FIELD_LABELS
from services.metrics import (
    Period,
    confidence_distribution,
    corrections_by_field,
    cost_by_provider,
    daily_extraction_stats,
    queue_health,
    refresh_extraction_metrics,
    reviewer_activity,
)
from services.quality.reports import calibration_report
from services.quality.reviewers import reviewer_performance
from services.refunds.figures import refund_figures
from services.review import approve, claim_next, correct_field, reject
from tests.services.conftest import MakeContext
from tests.services.test_metrics import correct, decide
from tests.services.test_refund_figures import insert_refund
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from widgets.big_number import BigNumber
from widgets.charts import DailyChart, Histogram, ShareBars, share_axis
from widgets.reliability import ReliabilityChart

AddContract = Callable[..., Awaitable[Extraction]]
FIXED_NOW = dt.datetime(2024, 5, 15, 14, 30, tzinfo=dt.UTC)  # a Wednesday
TODAY = FIXED_NOW.date()
PANELS = (
    "queue",
    "activity",
    "accuracy",
    "cost",
    "confidence",
    "daily",
    "calibration",
    "refunds",
    "reviewers",
)


def at(days_ago: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(hour), dt.UTC)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "utc_now", lambda: FIXED_NOW)


@dataclass
class Team:
    sue: ServiceContext  # the supervisor whose dashboard it is
    ann: ServiceContext
    bob: ServiceContext


@pytest.fixture
async def team(
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
    system: ServiceContext,
) -> Team:
    """A small week around FIXED_NOW: a queue, decisions and corrections today and earlier, two providers."""
    sue = await make_context("supervisor", username="sue")
    ann = await make_context("reviewer", username="ann")
    bob = await make_context("reviewer", username="bob")
    # The queue: three pending items, the oldest extracted 30 hours before FIXED_NOW, one held by ann.
    await add_contract(premium_confidence=30, extracted_at=FIXED_NOW - dt.timedelta(hours=30))
    await add_contract(method_confidence=60, extracted_at=at(0, 9))
    held = await add_contract(
        premium_confidence=95, method_confidence=92, fee_confidence=97, extracted_at=at(0, 10)
    )
    await superuser.execute(
        "UPDATE extractions SET claimed_by = $2, claimed_at = now(), claim_expires_at = now() + interval '1 hour' "
        "WHERE id = $1",
        held.id,
        ann.actor.user_id,
    )
    # Today: ann decides four items (three approved, one rejected) and corrects three fields of two.
    today = [
        await add_contract(
            provider="anthropic", premium_confidence=confidence, extracted_at=at(0, 8),
            cost_usd=Decimal("0.012"), prompt_tokens=2_000, completion_tokens=150,
        )
        for confidence in (45, 72, 88, 99)
    ]  # fmt: skip
    for item, status, seconds in zip(
        today, ("approved", "approved", "approved", "rejected"), (10, 40, 100, 20), strict=True
    ):
        await decide(superuser, item, status, ann, at=at(0, 11), seconds=seconds)
    await correct(superuser, today[0], "gap_insurance_premium", ann, at=at(0, 11))
    await correct(superuser, today[0], "cancellation_fee", ann, at=at(0, 11))
    await correct(superuser, today[1], "cancellation_fee", ann, at=at(0, 11))
    # Monday of this week: bob approves one item after correcting its method.
    monday = await add_contract(method_confidence=55, extracted_at=at(2, 9))
    await decide(superuser, monday, "approved", bob, at=at(2, 10), seconds=7)
    await correct(superuser, monday, "refund_calculation_method", bob, at=at(2, 10))
    # Ten days ago: bob approves two items.
    for _ in range(2):
        earlier = await add_contract(fee_confidence=65, extracted_at=at(10, 9))
        await decide(superuser, earlier, "approved", bob, at=at(10, 12), seconds=30)
    await superuser.execute(
        """INSERT INTO chat_messages (contract_id, user_id, role, content, llm_provider, model_version,
                                      prompt_tokens, completion_tokens, cost_usd, created_at)
           VALUES ($1, $2, 'assistant', 'It says pro rata.', 'anthropic', 'anthropic-1', 300, 50, 0.004, $3)""",
        today[0].contract_id,
        ann.actor.user_id,
        at(0, 12),
    )
    await refresh_extraction_metrics(system)
    return Team(sue=sue, ann=ann, bob=bob)


@pytest.fixture
async def refunds(team: Team, superuser: asyncpg.Connection) -> None:
    """Three refunds on the team's contracts around FIXED_NOW (the panel counts moments, not contracts).

    Today: one requested, one approved ($300, Rule of 78s, CA), one paid ($50). This week (since Monday
    the 13th) also: the $50 one approved on Monday, and the open one's deadline (Monday) missed.
    """
    contracts = [
        row["contract_id"]
        for row in await superuser.fetch("SELECT contract_id FROM contracts ORDER BY contract_id LIMIT 3")
    ]
    user = team.sue.actor.user_id
    await insert_refund(
        superuser,
        contracts[0],
        user=user,
        status="open",
        requested=at(0, 9),
        amount="100.00",
        pay_by=TODAY - dt.timedelta(days=2),
    )
    await insert_refund(
        superuser,
        contracts[1],
        user=user,
        status="approved",
        requested=at(1, 10),
        amount="300.00",
        method="Rule of 78s",
        state="CA",
        approved=at(0, 11),
        pay_by=TODAY + dt.timedelta(days=30),
    )
    await insert_refund(superuser, contracts[2], user=user, status="paid", requested=at(3, 10), amount="50.00",
                        approved=at(2, 10), paid=at(0, 12), pay_by=TODAY + dt.timedelta(days=20))  # fmt: skip


# --- reading the screen ------------------------------------------------------------------------------------


def text_of(screen: DashboardScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def rows_of(screen: DashboardScreen, selector: str) -> list[list[str]]:
    table: DataTable = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def loaded(screen: DashboardScreen, period: Period) -> bool:
    """Every panel shows figures of this period (the queue: of now) and none is loading."""
    panels = {panel.id: panel for panel in screen.query(DashboardPanel)}
    return len(panels) == len(PANELS) and all(
        panels[f"panel-{name}"].showing == (dashboard.LIVE if name == "queue" else period)
        and not panels[f"panel-{name}"].loading
        for name in PANELS
    )


async def open_dashboard(pilot: Pilot, username: str = "sue") -> DashboardScreen:
    app: RefundReviewApp = pilot.app  # type: ignore[assignment]
    await log_in(pilot, username, PASSWORD)
    await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
    screen: DashboardScreen = app.screen  # type: ignore[assignment]
    await wait_until(pilot, lambda: loaded(screen, screen.period))
    return screen


async def assert_period_panels_match_the_services(
    screen: DashboardScreen, ctx: ServiceContext, period: Period
) -> None:
    """Team table, accuracy, cost, confidence and daily volume as the services give them for `period`."""
    activity = await reviewer_activity(ctx, period)
    assert rows_of(screen, "#activity-table") == [
        [
            row.username, str(row.reviewed), str(row.approved), str(row.rejected), str(row.corrections),
            str(row.corrected), "—" if row.median_review_seconds is None else f"{row.median_review_seconds:.0f}",
        ]
        for row in activity
    ]  # fmt: skip

    summary = await corrections_by_field(ctx, period)
    chart = screen.query_one("#accuracy-chart", ShareBars)
    caption = text_of(screen, "#accuracy-caption")
    if summary.corrections:
        assert caption.startswith(dashboard.plural(summary.corrections, "correction"))
        for row in summary.by_field:
            assert f"{dashboard.sentence_case(FIELD_LABELS[row.field_name])} {row.corrections}" in caption
        assert chart.shares == [
            (
                dashboard.sentence_case(FIELD_LABELS[row.field_name]),
                row.corrections / summary.corrections * 100,
            )
            for row in summary.by_field
            if row.corrections  # only corrected fields get a bar; the caption counts every field
        ]
    else:
        assert caption == "0 corrections"

    costs = await cost_by_provider(ctx, period)
    assert [row[:3] for row in rows_of(screen, "#cost-table")] == [
        [row.llm_provider, row.model_version, str(row.extractions)] for row in costs
    ]
    total = sum(row.total_cost_usd for row in costs)
    assert text_of(screen, "#cost-caption").startswith(f"Total {dashboard.money(total)}")

    distribution = await confidence_distribution(ctx, period)
    assert screen.query_one("#confidence-chart", Histogram).counts == distribution.min_confidence
    assert text_of(screen, "#confidence-caption").startswith(f"{distribution.extractions} extractions")

    daily = await daily_extraction_stats(ctx, period)
    chart_days = screen.query_one("#daily-chart", DailyChart)
    per_day = dict.fromkeys(chart_days.days, 0)
    for row in daily:
        per_day[row.metric_date] += row.extractions_count
    assert chart_days.days[0] == period.first_day and chart_days.days[-1] == period.last_day
    assert chart_days.counts == list(per_day.values())
    made = sum(row.extractions_count for row in daily)
    decided = sum(row.approved_count + row.rejected_count for row in daily)
    corrected = sum(row.corrected_count for row in daily)
    caption = text_of(screen, "#daily-caption")
    assert f"{made} extractions made in {dashboard.plural(len(chart_days.days), 'day')}" in caption
    assert (
        f"of those decided, {corrected} of {decided} have a correction ({corrected / decided:.0%})" in caption
    )


# --- the tests ---------------------------------------------------------------------------------------------


async def test_a_supervisor_lands_on_the_dashboard_and_sees_what_the_services_say(
    workstation: RefundReviewApp, team: Team, frozen_clock: None
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        today = Period.today(TODAY)
        assert screen.period == today

        health = await queue_health(team.sue)
        tiles = {name: screen.query_one(f"#tile-{name}", BigNumber) for name in ("pending", "below", "oldest", "sla", "claimed")}  # fmt: skip
        assert (health.pending, health.below_threshold, health.past_sla, health.claimed_now) == (3, 2, 3, 1)
        assert tiles["pending"].value == str(health.pending)
        assert (tiles["below"].border_title, tiles["below"].value) == (
            "Below threshold",
            str(health.below_threshold),
        )
        assert (tiles["oldest"].value, tiles["oldest"].border_subtitle) == ("30h", "since 14 May")
        assert (tiles["sla"].border_subtitle, tiles["sla"].value) == ("over 24h", str(health.past_sla))
        assert tiles["sla"].has_class("-alert")
        assert tiles["claimed"].value == str(health.claimed_now)
        assert "0-49: 1 · 50-79: 1 · 80-100: 1" in text_of(screen, "#queue-detail")

        totals = text_of(screen, "#activity-totals").splitlines()
        assert [line.split()[0] for line in totals[:2]] == ["Today", "This"]
        assert totals[2] == dashboard.ACTIVITY_LEGEND
        assert "4 decided · 3 approved · 1 rejected · 3 corrections" in totals[0]
        assert "5 decided · 4 approved · 1 rejected · 4 corrections" in totals[1]
        await assert_period_panels_match_the_services(screen, team.sue, today)
        assert rows_of(screen, "#activity-table")[0] == ["ann", "4", "3", "1", "3", "2", "30"]
        # The team's decisions here were written straight into the rows, not the audit log that the
        # performance panel reads: it says there is nothing, rather than showing an empty table.
        assert rows_of(screen, "#reviewers-table") == []
        assert text_of(screen, "#reviewers-caption") == "Nobody decided or corrected anything in this period."


async def test_the_period_keys_re_query_the_period_panels(
    workstation: RefundReviewApp, team: Team, frozen_clock: None
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        for key, period, bob_reviewed in (
            ("w", Period.this_week(TODAY), "1"),
            ("m", Period.last_days(30, TODAY), "3"),
            ("y", Period.last_days(365, TODAY), "3"),
            ("t", Period.today(TODAY), "0"),
        ):
            await pilot.press(key)
            await wait_until(pilot, lambda period=period: loaded(screen, period))
            await assert_period_panels_match_the_services(screen, team.sue, period)
            bob = next(row for row in rows_of(screen, "#activity-table") if row[0] == "bob")
            assert bob[1] == bob_reviewed
            assert screen.panel("daily").border_title.endswith(dashboard.PERIODS[screen.period_key].label)
        bar = text_of(screen, "#dashboard-period")
        assert bar.startswith("Today, Wed 15 May 2024") and "as of 14:30:00 UTC" in bar
        await pilot.press("m")
        await wait_until(pilot, lambda: loaded(screen, Period.last_days(30, TODAY)))
        totals = text_of(screen, "#activity-totals").splitlines()
        assert totals[2].startswith("Last 30 days") and "7 decided" in totals[2]


async def test_the_period_keys_are_in_the_command_palette(
    workstation: RefundReviewApp, team: Team, frozen_clock: None
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"365 days")
        await pilot.pause(0.5)
        await pilot.press("enter")
        year = Period.last_days(365, TODAY)
        await wait_until(pilot, lambda: loaded(screen, year))
        assert screen.period_key == "365_days"


async def test_a_reviewer_stays_where_they_are_and_the_screen_refuses_without_permission(
    workstation: RefundReviewApp, make_context: MakeContext
) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(workstation.screen, QueueScreen)
        assert any("not open to your role" in n.message for n in workstation._notifications)
        # Mounted anyway (by a future path that forgets the check): it says no and asks nothing.
        await workstation.push_screen(DashboardScreen())
        await pilot.pause()
        screen = workstation.screen
        assert "your role (reviewer) cannot open it" in text_of(screen, "#dashboard-refused")  # type: ignore[arg-type]
        assert not screen.query(DashboardPanel)
        assert not [w for w in workstation.workers if w.group.startswith("panel-")]
        assert screen.check_action("refresh", ()) is False
        await pilot.press("r")
        assert not any("see the dashboards" in n.message for n in workstation._notifications)


async def test_a_failing_panel_shows_its_error_in_place_and_the_others_keep_working(
    workstation: RefundReviewApp, team: Team, frozen_clock: None, superuser: asyncpg.Connection
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        await superuser.execute("ALTER VIEW v_daily_extraction_stats RENAME TO v_daily_gone")
        await pilot.press("m")
        month = Period.last_days(30, TODAY)
        daily = screen.panel("daily")
        await wait_until(pilot, lambda: daily.has_class("-failed"))
        assert "could not be loaded" in str(daily.query_one(".panel-error", Static).content)
        assert not screen.query_one("#daily-chart", DailyChart).display
        others = [name for name in PANELS if name != "daily"]
        await wait_until(pilot, lambda: all(not screen.panel(name).loading for name in others))
        period_panels = len(others) - 1
        assert [screen.panel(name).showing for name in others] == [dashboard.LIVE] + [month] * period_panels
        assert not [name for name in others if screen.panel(name).has_class("-failed")]
        assert screen.query_one("#tile-pending", BigNumber).value == "3"
        assert not list(workstation._notifications)

        await superuser.execute("ALTER VIEW v_daily_gone RENAME TO v_daily_extraction_stats")
        await pilot.press("r")
        await wait_until(pilot, lambda: loaded(screen, month))
        assert not daily.has_class("-failed") and screen.query_one("#daily-chart", DailyChart).display
        await assert_period_panels_match_the_services(screen, team.sue, month)


async def test_r_brings_new_figures(
    workstation: RefundReviewApp, team: Team, frozen_clock: None, add_contract: AddContract
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        pending = screen.query_one("#tile-pending", BigNumber)
        assert pending.value == "3"
        await add_contract(extracted_at=at(0, 13))
        await pilot.press("r")
        await wait_until(pilot, lambda: pending.value == "4")


async def test_the_dashboard_refreshes_itself(
    workstation: RefundReviewApp,
    team: Team,
    frozen_clock: None,
    add_contract: AddContract,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dashboard, "REFRESH_SECONDS", 0.5)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        pending = screen.query_one("#tile-pending", BigNumber)
        assert pending.value == "3"
        await add_contract(extracted_at=at(0, 13))
        await wait_until(pilot, lambda: pending.value == "4")


async def test_decisions_made_through_the_review_services_reach_the_dashboard(
    workstation: RefundReviewApp,
    make_context: MakeContext,
    add_contract: AddContract,
    system: ServiceContext,
) -> None:
    sue = await make_context("supervisor", username="sue")
    ann = await make_context("reviewer", username="ann")
    for confidence in (40, 50, 60):
        await add_contract(premium_confidence=confidence)
    first = await claim_next(ann)
    assert first is not None
    corrected = await correct_field(
        ann,
        first.extraction_id,
        first.version,
        "cancellation_fee",
        "75.00",
        "misread_value",
        "the scan says 75",
    )
    await approve(ann, corrected.extraction_id, corrected.version)
    second = await claim_next(ann)
    assert second is not None
    await reject(ann, second.extraction_id, second.version, "unreadable scan")
    await refresh_extraction_metrics(system)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        today = screen.period
        assert today == Period.today()
        await assert_period_panels_match_the_services(screen, sue, today)
        assert rows_of(screen, "#activity-table")[0][:6] == ["ann", "2", "1", "1", "1", "1"]
        assert ("Cancellation fee", 100.0) in screen.query_one("#accuracy-chart", ShareBars).shares
        assert text_of(screen, "#accuracy-caption").startswith("1 correction to 1 contract:")
        # The claim and the decision were moments apart: a real, whole number of seconds, not a blank.
        assert rows_of(screen, "#activity-table")[0][6].isdigit()
        assert screen.query_one("#tile-pending", BigNumber).value == "1"


async def test_the_reviewer_performance_panel_shows_the_report_of_the_period_with_agreement(
    workstation: RefundReviewApp,
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    """ann approves one item and rejects another through the services; one QA item she decided first
    was double-checked by bo, who agreed: 1 of 1 (100%). bo made no decision the log holds: no row."""
    sue = await make_context("supervisor", username="sue")
    ann = await make_context("reviewer", username="ann")
    bo = await make_context("reviewer", username="bo")
    for confidence in (40, 50):
        await add_contract(premium_confidence=confidence)
    for decide_it in (lambda d: approve(ann, d.extraction_id, d.version),
                      lambda d: reject(ann, d.extraction_id, d.version, "unreadable scan")):  # fmt: skip
        detail = await claim_next(ann)
        assert detail is not None
        await decide_it(detail)
    checked = await add_contract(qa_sample=True)
    values = {"gap_insurance_premium": "1250.00"}
    await superuser.execute(
        """INSERT INTO qa_double_checks (extraction_id, extracted_at, first_reviewer, first_decision,
               first_values, second_reviewer, second_decision, second_values, second_decided_at)
           VALUES ($1, $2, $3, 'approved', $5, $4, 'approved', $5, now())""",
        checked.id, checked.extracted_at, ann.actor.user_id, bo.actor.user_id, values,
    )  # fmt: skip
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        rows = rows_of(screen, "#reviewers-table")
        expected = await reviewer_performance(sue, screen.period)
        assert [row[0] for row in rows] == [row.username for row in expected] == ["ann"]
        assert rows[0][:5] == ["ann", "2", "1", "0", "1"]
        assert rows[0][5].isdigit()
        assert rows[0][6:] == ["0", "1", "100%"]
        assert "Agreement" in text_of(screen, "#reviewers-caption")


async def test_the_calibration_panel_shows_the_report_of_the_period(
    workstation: RefundReviewApp, team: Team, frozen_clock: None
) -> None:
    """Today ann approved three items with premiums stated 45 (corrected), 72 and 88, all other fields 90
    (two fees corrected); her rejection says nothing about single fields."""
    async with workstation.run_test(size=(120, 50)) as pilot:
        screen = await open_dashboard(pilot)
        rows = rows_of(screen, "#calibration-table")
        assert rows[:3] == [
            ["all", "GAP premium", "0-49", "1", "0.0%", "0.0%–79.3%"],
            ["", "", "70-79", "1", "100.0%", "20.7%–100.0%"],
            ["", "", "80-89", "1", "100.0%", "20.7%–100.0%"],
        ]
        # Two of the three fees were corrected, but on items below the thresholds (3 extracted today, 2
        # reviewed: weight 1.5 each) while the right one stands for the auto-trusted (3 extracted, 1
        # reviewed: weight 3): weighted accuracy 3 / 6.
        assert ["", "Cancellation fee", "90-100", "3", "50.0%", "11.6%–88.4%"] in rows
        report = await calibration_report(team.sue, screen.period)
        assert rows == [[str(cell) for cell in row] for row in calibration_rows(report)]
        # Each provider and model follows, as the command line lists them: here anthropic alone.
        assert [row[0] for row in rows if row[0]] == ["all", "anthropic", "anthropic-1"]
        # The chart: per field, each bucket's midpoint against its observed accuracy.
        chart = screen.query_one("#calibration-chart", ReliabilityChart)
        premium = next(series for series in chart.series if series.label == "GAP premium")
        assert premium.points == ((24.5, 0.0), (74.5, 100.0), (84.5, 100.0))
        fee = next(series for series in chart.series if series.label == "Cancellation fee")
        assert fee.points == ((95.0, 50.0),)
        caption = text_of(screen, "#calibration-caption")
        assert "Estimated error of auto-trusted values" in caption
        assert f"All fields: {error_rate(report.auto_trusted_error)}" in caption


async def test_the_refunds_panel_shows_the_period_refund_figures(
    workstation: RefundReviewApp, team: Team, refunds: None, frozen_clock: None
) -> None:
    async with workstation.run_test(size=(120, 50)) as pilot:
        screen = await open_dashboard(pilot)

        def tile(name: str) -> BigNumber:
            return screen.query_one(f"#tile-refunds-{name}", BigNumber)

        assert [tile(n).value for n in ("requested", "approved", "paid", "overdue")] == ["1", "1", "1", "0"]
        assert (tile("approved").border_subtitle, tile("paid").border_subtitle) == ("$300.00", "$50.00")
        amounts = text_of(screen, "#refund-amounts")
        assert "By method Rule of 78s $300.00 (1)" in " ".join(amounts.split())
        assert "By state CA $300.00 (1)" in " ".join(amounts.split())

        await pilot.press("w")
        week = Period.this_week(TODAY)
        await wait_until(pilot, lambda: loaded(screen, week))
        assert [tile(n).value for n in ("requested", "approved", "paid", "overdue")] == ["2", "2", "1", "1"]
        assert tile("approved").border_subtitle == "$350.00"
        # The open request's Monday deadline was missed and it is still unpaid: the tile asks for attention.
        assert tile("overdue").border_subtitle == "1 unpaid" and tile("overdue").has_class("-alert")
        amounts = " ".join(text_of(screen, "#refund-amounts").split())
        assert "Rule of 78s $300.00 (1) · Pro-Rata $50.00 (1)" in amounts
        assert "CA $300.00 (1) · AR $50.00 (1)" in amounts
        figures = await refund_figures(team.sue, week)
        assert (figures.requested, figures.approved, figures.paid, figures.overdue) == (2, 2, 1, 1)


# --- snapshots ---------------------------------------------------------------------------------------------


async def settle(pilot: Pilot) -> None:
    await open_dashboard(pilot)
    await pilot.pause()


# 120x80: every panel in sight, reviewer performance and the Refunds panel across the bottom.
@pytest.mark.parametrize("size", [(120, 40), (80, 24), (120, 80)], ids=["120x40", "80x24", "120x80"])
def test_dashboard_snapshot(
    workstation: RefundReviewApp,
    team: Team,
    refunds: None,
    frozen_clock: None,
    snap_compare,
    size: tuple[int, int],
) -> None:
    assert snap_compare(workstation, terminal_size=size, run_before=settle)


# --- the panels agree ----------------------------------------------------------------------------------


async def direct_counts(superuser: asyncpg.Connection, period: Period) -> dict[str, object]:
    """Every figure the dashboard shows for a period, counted straight from the tables."""
    bounds = (period.start, period.end)
    in_period = "corrected_at >= $1 AND corrected_at < $2"
    return {
        "corrections": await superuser.fetchval(
            f"SELECT count(*) FROM corrections WHERE {in_period}", *bounds
        ),
        "corrected": await superuser.fetchval(
            f"SELECT count(DISTINCT extraction_id) FROM corrections WHERE {in_period}", *bounds
        ),
        "by_field": dict(
            await superuser.fetch(
                f"SELECT field_name, count(*) FROM corrections WHERE {in_period} GROUP BY field_name", *bounds
            )
        ),
        "decided": await superuser.fetchval(
            "SELECT count(*) FROM extractions WHERE reviewed_at >= $1 AND reviewed_at < $2", *bounds
        ),
        "per_person": {
            row["username"]: (row["decided"], row["corrections"], row["corrected"], row["median"])
            for row in await superuser.fetch(
                f"""SELECT u.username,
                           (SELECT count(*) FROM extractions x
                             WHERE x.reviewed_by = u.id AND x.reviewed_at >= $1 AND x.reviewed_at < $2) AS decided,
                           (SELECT count(*) FROM corrections c WHERE c.corrected_by = u.id AND {in_period}) AS corrections,
                           (SELECT count(DISTINCT extraction_id) FROM corrections c
                             WHERE c.corrected_by = u.id AND {in_period}) AS corrected,
                           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY review_seconds) FROM extractions x
                             WHERE x.reviewed_by = u.id AND x.reviewed_at >= $1 AND x.reviewed_at < $2) AS median
                      FROM users u""",
                *bounds,
            )
        },
        "extracted": await superuser.fetchval(
            "SELECT count(*) FROM extractions WHERE extracted_at >= $1 AND extracted_at < $2", *bounds
        ),
        "extracted_decided": await superuser.fetchval(
            "SELECT count(*) FROM extractions WHERE extracted_at >= $1 AND extracted_at < $2 AND status <> 'pending'",
            *bounds,
        ),
        "extracted_corrected": await superuser.fetchval(
            """SELECT count(*) FROM extractions e WHERE extracted_at >= $1 AND extracted_at < $2
                 AND status <> 'pending' AND EXISTS (SELECT 1 FROM corrections k WHERE k.extraction_id = e.id)""",
            *bounds,
        ),
    }


async def test_the_panels_agree_with_each_other_and_with_a_direct_count(
    workstation: RefundReviewApp,
    team: Team,
    frozen_clock: None,
    superuser: asyncpg.Connection,
    system: ServiceContext,
) -> None:
    # A correction to an item rejected today: the team's and the per-field figures both count it.
    rejected = await superuser.fetchval("SELECT id FROM extractions WHERE status = 'rejected'")
    await superuser.execute(
        """INSERT INTO corrections (extraction_id, field_name, original_value, corrected_value, reason_code,
                                    corrected_by, corrected_at)
           VALUES ($1, 'gap_insurance_premium', 'old', 'new', 'misread_value', $2, $3)""",
        rejected,
        team.ann.actor.user_id,
        at(0, 11),
    )
    # The volume panel reads the daily aggregates: brought up to date, as `maintain` does.
    await refresh_extraction_metrics(system, full=True)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(pilot)
        for key, period in (("t", Period.today(TODAY)), ("w", Period.this_week(TODAY)),
                            ("m", Period.last_days(30, TODAY))):  # fmt: skip
            await pilot.press(key)
            await wait_until(pilot, lambda period=period: loaded(screen, period))
            direct = await direct_counts(superuser, period)
            totals = text_of(screen, "#activity-totals").splitlines()
            line = next(
                line for line in totals if line.startswith(dashboard.PERIODS[screen.period_key].label)
            )
            assert f"{direct['decided']} decided" in line
            assert f"{direct['corrections']} corrections" in line
            # The team table, person by person, and its columns adding up to the team's line.
            table = {row[0]: row for row in rows_of(screen, "#activity-table")}
            for username, (decided, corrections, corrected, median) in direct["per_person"].items():  # type: ignore[union-attr]
                if username in table:
                    expected = "—" if median is None else f"{median:.0f}"
                    assert table[username][1:] == [str(decided), table[username][2], table[username][3],
                                                   str(corrections), str(corrected), expected]  # fmt: skip
            assert sum(int(row[4]) for row in table.values()) == direct["corrections"]
            # The per-field panel: the same corrections, split by field, to the same contracts.
            caption = text_of(screen, "#accuracy-caption")
            if direct["corrections"]:
                assert caption.startswith(
                    f"{dashboard.plural(direct['corrections'], 'correction')} to "  # type: ignore[arg-type]
                    f"{dashboard.plural(direct['corrected'], 'contract')}:"  # type: ignore[arg-type]
                )
                for field, label in FIELD_LABELS.items():
                    count = direct["by_field"].get(field, 0)  # type: ignore[union-attr]
                    assert f"{dashboard.sentence_case(label)} {count}" in caption
            # Volume and confidence: the period's extractions, by the day each was made.
            assert text_of(screen, "#confidence-caption").startswith(f"{direct['extracted']} extractions")
            daily = text_of(screen, "#daily-caption")
            assert f"{direct['extracted']} extractions made" in daily
            if direct["extracted_decided"]:
                assert (
                    f"{direct['extracted_corrected']} of {direct['extracted_decided']} have a correction"
                    in daily
                )


def test_the_year_long_period_names_the_year_of_both_ends() -> None:
    year = Period.last_days(365, dt.date(2026, 12, 5))
    text = dashboard.period_text(dashboard.PERIODS["365_days"], year)
    assert text == "Last 365 days, Sat 06 Dec 2025 – Sat 05 Dec 2026"
    week = Period.this_week(TODAY)
    assert dashboard.period_text(dashboard.PERIODS["week"], week) == "This week, Mon 13 May – Wed 15 May 2024"


def test_the_largest_share_bar_ends_inside_the_axis() -> None:
    for largest in (0.0, 8.0, 20.0, 33.3, 50.0, 80.0, 100.0):
        upper, step = share_axis(largest)
        assert upper > largest and upper % step == 0
