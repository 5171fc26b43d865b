"""`refund-review report calibration` and `refund-review report reviewers`: quality figures for a period.

The period is the last N days (``--period 30d``, today included, UTC days, as the dashboard counts them).
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from app.cli.runner import CliState, echo, run
from services.domain import FIELD_LABELS
from services.metrics import MAX_PERIOD_DAYS, Period
from services.quality.reports import CalibrationReport, RateView, calibration_report
from services.quality.reviewers import (
    REVIEWER_FORMATS,
    ReviewerFormat,
    ReviewerPerformance,
    render_performance,
    reviewer_performance,
)
from services.runtime import Runtime


class PeriodType(click.ParamType):
    """The last N days: "30d" (or "30"), 1 to MAX_PERIOD_DAYS."""

    name = "period"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Period:
        if isinstance(value, Period):
            return value
        match = re.fullmatch(r"\s*(\d{1,4})\s*d?\s*", str(value))
        if match is None or not 1 <= int(match[1]) <= MAX_PERIOD_DAYS:
            self.fail(f"{value!r} is not a period; give a number of days, for example 30d.", param, ctx)
        return Period.last_days(int(match[1]))


PERIOD = click.option(
    "--period", type=PeriodType(), default="30d", show_default=True, help="The last N days, e.g. 7d, 90d."
)


@click.group()
def report() -> None:
    """Quality reports: confidence calibration, reviewer performance."""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _rate(rate: RateView) -> str:
    if rate.rate is None:
        return "no reviewed values"
    return (
        f"{_percent(rate.rate)} [{_percent(rate.low)}, {_percent(rate.high)}] ({rate.errors} of {rate.count})"
    )


def _print_calibration(result: CalibrationReport) -> None:
    """The report for a person at a terminal; provider and model names are data, written through echo."""
    echo(
        f"Calibration, extractions of {result.first_day} to {result.last_day}: {result.extractions} extractions, "
        f"{result.auto_trusted} at or above their thresholds ({result.auto_trusted_reviewed} reviewed, "
        f"{result.qa_samples} QA samples; each stands for {result.weight_auto_trusted:.1f})."
    )
    echo(f"Estimated error of auto-trusted values: {_rate(result.auto_trusted_error)}")
    for field in result.fields:
        label = FIELD_LABELS[field.field]
        suggestion = "none proven" if field.suggested_threshold is None else str(field.suggested_threshold)
        echo(
            f"\n{label} — {field.provider} / {field.model}: threshold {field.threshold}, suggested "
            f"{suggestion} for ≤ {_percent(result.target_error_rate)} errors; "
            f"auto-trusted error {_rate(field.auto_trusted_error)}"
        )
        echo(f"  {'stated':>8}  {'values':>7}  {'errors':>6}  {'mean':>5}  {'observed':>8}  95% interval")
        for bucket in field.buckets:
            mean = "" if bucket.mean_confidence is None else f"{bucket.mean_confidence:.0f}"
            interval = "" if bucket.low is None else f"[{_percent(bucket.low)}, {_percent(bucket.high)}]"
            echo(
                f"  {bucket.bucket:>8}  {bucket.count:>7}  {bucket.errors:>6}  {mean:>5}  "
                f"{_percent(bucket.accuracy) if bucket.count else '':>8}  {interval}"
            )


@report.command("calibration")
@PERIOD
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def calibration_command(state: CliState, period: Period, as_json: bool) -> None:
    """Stated confidence against observed accuracy, per field, provider and model; suggested thresholds."""

    async def body(runtime: Runtime) -> CalibrationReport:
        return await calibration_report(runtime.system_context("report"), period)

    result = run(state, body)
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    _print_calibration(result)


@report.command("reviewers")
@PERIOD
@click.option("--format", "fmt", type=click.Choice(REVIEWER_FORMATS), default="csv", show_default=True)
@click.pass_obj
def reviewers_command(state: CliState, period: Period, fmt: ReviewerFormat) -> None:
    """Per reviewer: items, approvals, corrections, rejections, median seconds per item, QA agreement."""

    async def body(runtime: Runtime) -> list[ReviewerPerformance]:
        return await reviewer_performance(runtime.system_context("report"), period)

    click.echo(render_performance(run(state, body), fmt), nl=False)
