"""The supervisor dashboard: the queue's health, the team's work, accuracy, confidence, cost and volume.

Eight panels, each filled by its own worker (group `panel-<name>`), so that a slow query holds up only
its own panel and a failing one shows its error in place while the others carry on. The period keys
re-query the panels that depend on the period; all of them refresh every REFRESH_SECONDS and on `r`.

One clock, :func:`utc_now`, decides what "today" is, how old the oldest item is and the "as of" time,
so the three always agree (and a test can pin them).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Header, Static
from textual.worker import Worker, WorkerState

from app.caller import report_failure
from app.screens.base import WorkstationScreen
from app.screens.calibration_panel import (
    CALIBRATION_COLUMNS,
    calibration_caption,
    calibration_rows,
    reliability_series,
)
from app.screens.queue import age_text
from app.screens.refund_figures_panel import RefundFiguresView
from services.domain import FIELD_LABELS
from services.errors import ServiceError, SessionExpired
from services.metrics import (
    ConfidenceDistribution,
    CorrectionSummary,
    DailyExtractionStats,
    Period,
    ProviderCost,
    QueueHealth,
    ReviewerActivity,
    confidence_distribution,
    corrections_by_field,
    cost_by_provider,
    daily_extraction_stats,
    queue_health,
    reviewer_activity,
)
from services.permissions import Permission, allowed
from services.quality.reports import CalibrationReport, calibration_report
from services.quality.reviewers import reviewer_performance
from services.refunds.figures import refund_figures
from widgets.big_number import BigNumber, compact_count
from widgets.charts import DailyChart, Histogram, ShareBars
from widgets.confidence import confidence_style
from widgets.key_footer import KeyFooter
from widgets.plain import plain
from widgets.reliability import ReliabilityChart
from widgets.reviewer_performance import ReviewerPerformanceTable
from widgets.sized_table import SizedDataTable
from widgets.values import sentence_case

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
LIVE = "live"  # what the queue panel shows: the queue as it is now, whatever the period


def utc_now() -> dt.datetime:
    """The dashboard's clock."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PeriodChoice:
    label: str
    make: Callable[[dt.date], Period]


PERIODS: dict[str, PeriodChoice] = {
    "today": PeriodChoice("Today", Period.today),
    "week": PeriodChoice("This week", Period.this_week),
    "30_days": PeriodChoice("Last 30 days", lambda today: Period.last_days(30, today)),
    "365_days": PeriodChoice("Last 365 days", lambda today: Period.last_days(365, today)),
}


# --- how figures read ----------------------------------------------------------------------------------


def money(amount: Decimal) -> str:
    """Dollars: cents once there are whole dollars, tenths of a cent below (an extraction costs ~$0.01)."""
    return f"${amount:,.2f}" if abs(amount) >= 1 else f"${amount:.4f}"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def number(value: int | str) -> Text:
    return Text(f"{value:,}" if isinstance(value, int) else value, justify="right")


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 correction`, `2 corrections`: the count and the word that goes with it."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def team_totals(label: str, rows: Sequence[ReviewerActivity]) -> Text:
    """One line of the team's work in a period: decisions, and correction rows (the per-field panel's
    total for the same period)."""
    line = Text.assemble((f"{label:<14}", "bold"))
    figures = (
        (sum(r.reviewed for r in rows), "decided"),
        (sum(r.approved for r in rows), "approved"),
        (sum(r.rejected for r in rows), "rejected"),
        (sum(r.corrections for r in rows), "corrections"),
    )
    for index, (count, what) in enumerate(figures):
        line.append(" · " if index else "")
        line.append(f"{count:,}", style="bold").append(f" {what}")
    return line


# What two of the team table's columns count, under their headings.
ACTIVITY_LEGEND = "Contracts: with ≥1 correction · Median s: claim to decision"
# The performance table's figures come from the audit log (services/quality/reviewers.py).
REVIEWERS_LEGEND = (
    "From the audit log · Items: approved or rejected · Agreement: with the other reviewer on "
    "double-checked QA items"
)


def period_text(choice: PeriodChoice, period: Period) -> str:
    """The period's days as a person reads them; the first day's year is given when it differs."""
    first, last = period.first_day, period.last_day
    if first == last:
        return f"{choice.label}, {first:%a %d %b %Y}"
    start = f"{first:%a %d %b}" if first.year == last.year else f"{first:%a %d %b %Y}"
    return f"{choice.label}, {start} – {last:%a %d %b %Y}"


# --- the panels ----------------------------------------------------------------------------------------


class DashboardPanel(Vertical):
    """A titled panel that shows a loading state while its worker runs, then its figures or its error."""

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="dashboard-panel")
        self.heading = title
        self.border_title = title
        # What the figures on show are about (a Period, or LIVE); None before the first load.
        self.showing: object = None

    def begin(self, subject: object) -> None:
        """Figures about something else are hidden under a loading indicator; the same ones stay up."""
        if subject == self.showing:
            self.border_subtitle = "refreshing…"
        else:
            self.loading = True

    def shown(self, subject: object) -> None:
        self.showing = subject
        self.loading = False
        self.border_subtitle = ""
        self.remove_class("-failed")

    def failed(self, message: str) -> None:
        self.showing = None
        self.loading = False
        self.border_subtitle = ""
        errors = self.query(".panel-error")
        if errors:
            errors.first(Static).update(plain(message))
        else:
            self.mount(Static(plain(message), classes="panel-error"))
        self.add_class("-failed")

    def retitle(self, detail: str) -> None:
        self.border_title = f"{self.heading} · {detail}"


class DashboardScreen(WorkstationScreen):
    """Supervisors' and admins' view of the queue, the team, accuracy, confidence and cost."""

    BINDINGS = [
        Binding("t", "period('today')", "Today", tooltip="Figures for today", id="dashboard_today"),
        Binding("w", "period('week')", "This week", tooltip="Figures since Monday", id="dashboard_week"),
        Binding("m", "period('30_days')", "30 days", tooltip="Figures for the last 30 days",
                id="dashboard_30_days"),
        Binding("y", "period('365_days')", "365 days", tooltip="Figures for the last 365 days",
                id="dashboard_365_days"),
        Binding("r", "refresh", "Refresh", tooltip="Query every panel again now", id="dashboard_refresh"),
    ]  # fmt: skip
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.period_key = "today"
        self.period = PERIODS["today"].make(utc_now().date())
        # A timer tick while another area was on screen: refresh on return.
        self._missed_refresh = False
        # Decided once for the person the screen is made for: its keys are checked again when the
        # session has ended (logout redraws them), and must not need a session then.
        self.actor = self.ctx.actor
        self.permitted = allowed(self.actor, Permission.VIEW_DASHBOARD)

    def compose(self) -> ComposeResult:
        yield Header()
        if not self.permitted:
            yield Static(
                f"The dashboard shows the whole team's work; your role ({self.actor.role}) cannot open "
                "it. Press f2 for the review queue.",
                id="dashboard-refused",
            )
            yield KeyFooter()
            return
        yield Static(id="dashboard-period")
        with VerticalScroll(id="dashboard"), Grid(id="dashboard-grid"):
            with DashboardPanel("Queue now", id="panel-queue"):
                with Horizontal(id="queue-tiles"):
                    yield BigNumber("Pending", id="tile-pending")
                    yield BigNumber("Below threshold", id="tile-below")
                    yield BigNumber("Oldest", id="tile-oldest")
                    yield BigNumber("Past SLA", id="tile-sla")
                    yield BigNumber("Claimed", id="tile-claimed")
                yield Static(id="queue-detail")
            with DashboardPanel("Team activity", id="panel-activity"):
                yield Static(id="activity-totals")
                yield SizedDataTable(id="activity-table", cursor_type="row", zebra_stripes=True)
            with DashboardPanel("Corrections per field", id="panel-accuracy"):
                yield ShareBars(id="accuracy-chart")
                yield Static(id="accuracy-caption", classes="panel-caption")
            with DashboardPanel("Extractions per day", id="panel-daily"):
                yield DailyChart(id="daily-chart")
                yield Static(id="daily-caption", classes="panel-caption")
            with DashboardPanel("Confidence of new extractions", id="panel-confidence"):
                yield Histogram(id="confidence-chart")
                yield Static(id="confidence-caption", classes="panel-caption")
            with DashboardPanel("Cost by provider and model", id="panel-cost"):
                yield SizedDataTable(id="cost-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="cost-caption", classes="panel-caption")
            with (
                DashboardPanel("Calibration: stated confidence against reviews", id="panel-calibration"),
                Horizontal(id="calibration-body"),
            ):
                with Vertical(id="calibration-main"):
                    yield SizedDataTable(id="calibration-table", cursor_type="row", zebra_stripes=True)
                    yield Static(id="calibration-caption", classes="panel-caption")
                yield ReliabilityChart(id="calibration-chart")
            with DashboardPanel("Reviewer performance", id="panel-reviewers"):
                yield ReviewerPerformanceTable(id="reviewers-table")
                yield Static(id="reviewers-caption", classes="panel-caption")
            with DashboardPanel("Refunds", id="panel-refunds"):
                yield RefundFiguresView(id="refund-figures")
        yield KeyFooter()

    def on_mount(self) -> None:
        if not self.permitted:
            return
        activity: DataTable[str | Text] = self.query_one("#activity-table", DataTable)
        activity.add_column("Reviewer", key="reviewer")
        for label, key in (("Decided", "reviewed"), ("Appr", "approved"), ("Rej", "rejected"),
                           ("Corrections", "corrections"), ("Contracts", "corrected"),
                           ("Median s", "median")):  # fmt: skip
            activity.add_column(Text(label, justify="right"), key=key)
        cost: DataTable[str | Text] = self.query_one("#cost-table", DataTable)
        cost.add_column("Provider", key="provider")
        cost.add_column("Model", key="model")
        for label, key in (("Extractions", "extractions"), ("Tokens in", "prompt_tokens"),
                           ("Tokens out", "completion_tokens"), ("Extraction $", "cost"),
                           ("Chat answers", "chat_answers"), ("Chat $", "chat_cost"), ("Total $", "total")):  # fmt: skip
            cost.add_column(Text(label, justify="right"), key=key)
        calibration: DataTable[str | Text] = self.query_one("#calibration-table", DataTable)
        for label, key, width in CALIBRATION_COLUMNS:
            calibration.add_column(label, key=key, width=width)
        self.query_one("#dashboard", VerticalScroll).focus()
        self.refresh_panels()
        self.set_interval(REFRESH_SECONDS, self._tick)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"period", "refresh"}:
            return self.permitted
        return True

    # --- loading -------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.is_current:
            self.refresh_panels(periodic=True)
        else:
            self._missed_refresh = True

    def on_screen_resume(self) -> None:
        if self._missed_refresh:
            self._missed_refresh = False
            self.refresh_panels()

    def refresh_panels(self, *, periodic: bool = False) -> None:
        """Query every panel again, each in its own worker; the period follows the clock past midnight.

        The timer (`periodic`) leaves a panel whose query is still running alone: restarting it every
        REFRESH_SECONDS would mean a query slower than that never finishes. `r` and the period keys do
        restart it.
        """
        now = utc_now()
        choice = PERIODS[self.period_key]
        self.period = period = choice.make(now.date())
        bar = Text.assemble((period_text(choice, period), "bold"), f"  ·  as of {now:%H:%M:%S} UTC")
        self.query_one("#dashboard-period", Static).update(bar)
        loaders: dict[str, tuple[object, Callable[[], object]]] = {
            "queue": (LIVE, partial(self._load_queue, now)),
            "activity": (period, partial(self._load_activity, period, choice.label, now.date())),
            "accuracy": (period, partial(self._load_accuracy, period)),
            "cost": (period, partial(self._load_cost, period)),
            "confidence": (period, partial(self._load_confidence, period)),
            "daily": (period, partial(self._load_daily, period)),
            "calibration": (period, partial(self._load_calibration, period)),
            "refunds": (period, partial(self._load_refunds, period)),
            "reviewers": (period, partial(self._load_reviewers, period)),
        }
        for name, (subject, load) in loaders.items():
            panel = self.panel(name)
            if subject is period:
                panel.retitle(choice.label)
            if periodic and self._still_loading(name):
                continue
            panel.begin(subject)
            load()

    def _still_loading(self, name: str) -> bool:
        group = f"panel-{name}"
        return any(w.node is self and w.group == group and not w.is_finished for w in self.workers)

    def panel(self, name: str) -> DashboardPanel:
        return self.query_one(f"#panel-{name}", DashboardPanel)

    @work(exclusive=True, group="panel-queue", exit_on_error=False)
    async def _load_queue(self, now: dt.datetime) -> None:
        self._show_queue(await queue_health(self.ctx), now)
        self.panel("queue").shown(LIVE)

    @work(exclusive=True, group="panel-activity", exit_on_error=False)
    async def _load_activity(self, period: Period, label: str, today: dt.date) -> None:
        """The chosen period's table, and the team's totals for today, this week and the chosen period."""
        periods = {"Today": Period.today(today), "This week": Period.this_week(today)}
        if period not in periods.values():
            periods[label] = period
        results: dict[Period, list[ReviewerActivity]] = {}
        for each in periods.values():
            results[each] = await reviewer_activity(self.ctx, each)
        self._show_activity(results[period], {label: results[p] for label, p in periods.items()})
        self.panel("activity").shown(period)

    @work(exclusive=True, group="panel-accuracy", exit_on_error=False)
    async def _load_accuracy(self, period: Period) -> None:
        self._show_accuracy(await corrections_by_field(self.ctx, period))
        self.panel("accuracy").shown(period)

    @work(exclusive=True, group="panel-cost", exit_on_error=False)
    async def _load_cost(self, period: Period) -> None:
        self._show_cost(await cost_by_provider(self.ctx, period))
        self.panel("cost").shown(period)

    @work(exclusive=True, group="panel-confidence", exit_on_error=False)
    async def _load_confidence(self, period: Period) -> None:
        self._show_confidence(await confidence_distribution(self.ctx, period))
        self.panel("confidence").shown(period)

    @work(exclusive=True, group="panel-daily", exit_on_error=False)
    async def _load_daily(self, period: Period) -> None:
        self._show_daily(period, await daily_extraction_stats(self.ctx, period))
        self.panel("daily").shown(period)

    @work(exclusive=True, group="panel-calibration", exit_on_error=False)
    async def _load_calibration(self, period: Period) -> None:
        self._show_calibration(await calibration_report(self.ctx, period))
        self.panel("calibration").shown(period)

    @work(exclusive=True, group="panel-refunds", exit_on_error=False)
    async def _load_refunds(self, period: Period) -> None:
        self.query_one("#refund-figures", RefundFiguresView).show(await refund_figures(self.ctx, period))
        self.panel("refunds").shown(period)

    @work(exclusive=True, group="panel-reviewers", exit_on_error=False)
    async def _load_reviewers(self, period: Period) -> None:
        rows = await reviewer_performance(self.ctx, period)
        self.query_one("#reviewers-table", ReviewerPerformanceTable).show(rows)
        caption = REVIEWERS_LEGEND if rows else "Nobody decided or corrected anything in this period."
        self.query_one("#reviewers-caption", Static).update(caption)
        self.panel("reviewers").shown(period)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A panel's failure stays in that panel (no notification every 30 s); an ended session logs out."""
        group = event.worker.group
        if not group.startswith("panel-"):
            return
        event.prevent_default()
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, SessionExpired):
            report_failure(self, error)
            return
        if isinstance(error, ServiceError):
            message = f"{error.message} Press r to try again."
        else:
            log.exception("a dashboard panel failed", exc_info=error)
            message = (
                f"This panel could not be loaded ({type(error).__name__}); the others are unaffected. "
                "Press r to try again; if it keeps happening, tell your administrator."
            )
        self.query_one(f"#{group}", DashboardPanel).failed(message)

    # --- drawing -------------------------------------------------------------------------------------

    def _show_queue(self, health: QueueHealth, now: dt.datetime) -> None:
        oldest = health.oldest_pending_at
        self.query_one("#tile-pending", BigNumber).show(compact_count(health.pending))
        self.query_one("#tile-below", BigNumber).show(compact_count(health.below_threshold))
        self.query_one("#tile-oldest", BigNumber).show(
            "-" if oldest is None else age_text(oldest, now),
            note="" if oldest is None else f"since {oldest:%d %b}",
        )
        self.query_one("#tile-sla", BigNumber).show(
            compact_count(health.past_sla), note=f"over {health.sla_hours}h", alert=health.past_sla > 0
        )
        self.query_one("#tile-claimed", BigNumber).show(compact_count(health.claimed_now), note="now")
        detail = Text.assemble(("Pending by weakest field  ", "dim"))
        for index, (band, count) in enumerate(health.by_band.items()):
            detail.append(" · " if index else "").append(f"{band.value}: ").append(f"{count:,}", style="bold")
        self.query_one("#queue-detail", Static).update(detail)

    def _show_activity(self, rows: list[ReviewerActivity], totals: dict[str, list[ReviewerActivity]]) -> None:
        self.query_one("#activity-totals", Static).update(
            Text("\n").join(
                [
                    *(team_totals(label, each) for label, each in totals.items()),
                    Text(ACTIVITY_LEGEND, style="dim"),
                ]
            )
        )
        table: DataTable[str | Text] = self.query_one("#activity-table", DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                plain(row.username),
                number(row.reviewed),
                number(row.approved),
                number(row.rejected),
                number(row.corrections),
                number(row.corrected),
                number(seconds(row.median_review_seconds)),
                key=str(row.user_id),
            )

    def _show_accuracy(self, summary: CorrectionSummary) -> None:
        """Each field's share of the period's corrections; the caption gives the counts, which add up
        to the team panel's corrections for the same period."""
        chart = self.query_one("#accuracy-chart", ShareBars)
        caption = self.query_one("#accuracy-caption", Static)
        if not summary.corrections:
            chart.show_message("Nothing was corrected in this period.")
            caption.update("0 corrections")
            return
        # Only the fields corrected in the period get a bar: six fields do not fit the panel's height, and
        # the caption below gives every field's count, zeros included.
        chart.show(
            [(sentence_case(FIELD_LABELS[f.field_name]), f.corrections / summary.corrections * 100)
             for f in summary.by_field if f.corrections]
        )  # fmt: skip
        text = Text.assemble(
            (plural(summary.corrections, "correction"), "bold"),
            " to ",
            plural(summary.corrected, "contract"),
            ":",
        )
        for index, f in enumerate(summary.by_field):
            text.append(" · " if index else " ").append(f"{sentence_case(FIELD_LABELS[f.field_name])} ")
            text.append(f"{f.corrections:,}", style="bold")
        caption.update(text)

    def _show_cost(self, costs: list[ProviderCost]) -> None:
        table: DataTable[str | Text] = self.query_one("#cost-table", DataTable)
        table.clear()
        for row in costs:
            table.add_row(
                plain(row.llm_provider),
                plain(row.model_version),
                number(row.extractions),
                number(row.prompt_tokens),
                number(row.completion_tokens),
                number(money(row.cost_usd)),
                number(row.chat_answers),
                number(money(row.chat_cost_usd)),
                number(money(row.total_cost_usd)),
                key=f"{row.llm_provider}/{row.model_version}",
            )
        caption = self.query_one("#cost-caption", Static)
        if not costs:
            caption.update("No extractions or chat answers in this period.")
            return
        total = sum((row.total_cost_usd for row in costs), Decimal(0))
        tokens = sum(r.prompt_tokens + r.completion_tokens + r.chat_prompt_tokens + r.chat_completion_tokens
                     for r in costs)  # fmt: skip
        caption.update(
            Text.assemble(
                "Total ",
                (money(total), "bold"),
                " · ",
                (f"{tokens:,}", "bold"),
                " tokens",
                (" · extractions as of the last metrics refresh", "dim"),
            )
        )

    def _show_confidence(self, distribution: ConfidenceDistribution) -> None:
        chart = self.query_one("#confidence-chart", Histogram)
        caption = self.query_one("#confidence-caption", Static)
        threshold = self.session.settings.confidence_threshold
        if not distribution.extractions:
            chart.show_message("No extractions were made in this period.")
            caption.update("0 extractions")
            return
        lows = [int(label.split("-")[0]) for label in distribution.buckets]
        chart.show(
            [str(low) for low in lows],
            distribution.min_confidence,
            [confidence_style(low, threshold) for low in lows],
        )
        caption.update(
            Text.assemble(
                (f"{distribution.extractions:,}", "bold"),
                f" extractions by their weakest field's confidence · threshold {threshold}",
            )
        )

    def _show_daily(self, period: Period, rows: list[DailyExtractionStats]) -> None:
        chart = self.query_one("#daily-chart", DailyChart)
        caption = self.query_one("#daily-caption", Static)
        if not rows:
            chart.show_message("No extractions in this period (as of the last metrics refresh).")
            caption.update("0 extractions")
            return
        days = [
            period.first_day + dt.timedelta(days=n)
            for n in range((period.last_day - period.first_day).days + 1)
        ]
        made = dict.fromkeys(days, 0)
        corrected = dict.fromkeys(days, 0)
        decided = dict.fromkeys(days, 0)
        for row in rows:
            made[row.metric_date] += row.extractions_count
            corrected[row.metric_date] += row.corrected_count
            decided[row.metric_date] += row.approved_count + row.rejected_count
        chart.show(
            days,
            [made[day] for day in days],
            [corrected[day] / decided[day] * 100 if decided[day] else None for day in days],
        )
        all_decided, all_corrected = sum(decided.values()), sum(corrected.values())
        # The legend's marks in the chart's own colours (theme variables, hence Content, not rich Text).
        parts: list[str | tuple[str, str]] = [
            ("▆", "$primary"), " ", (f"{sum(made.values()):,}", "bold"),
            f" extractions made in {plural(len(days), 'day')}",
        ]  # fmt: skip
        if all_decided:
            # By the day each was extracted, not the day it was decided or corrected: named so, to be
            # read apart from the team's and the per-field panels' corrections made in the period.
            parts += ["  ", ("━", "$warning"), " of those decided, ", (f"{all_corrected:,}", "bold"),
                      f" of {all_decided:,} have a correction ({all_corrected / all_decided:.0%})"]  # fmt: skip
        parts.append((" · as of the last metrics refresh", "dim"))
        caption.update(Content.assemble(*parts))

    def _show_calibration(self, report: CalibrationReport) -> None:
        table: DataTable[str | Text] = self.query_one("#calibration-table", DataTable)
        table.clear()
        for row in calibration_rows(report):
            table.add_row(*row)
        self.query_one("#calibration-chart", ReliabilityChart).show(reliability_series(report))
        self.query_one("#calibration-caption", Static).update(calibration_caption(report))

    # --- keys ----------------------------------------------------------------------------------------

    def action_period(self, key: str) -> None:
        if key != self.period_key:
            self.period_key = key
            self.refresh_panels()

    def action_refresh(self) -> None:
        self.refresh_panels()
