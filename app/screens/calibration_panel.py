"""What the dashboard's Calibration panel shows of the calibration report (services/quality/reports.py).

Kept apart from the dashboard screen, which only places the panel and loads the report in its worker.
The table: per field, all providers together first, then each provider and model as the command line
lists them — the stated-confidence buckets that have reviewed values, with their observed accuracy and
95% interval. The chart: each field's buckets (all providers) at their midpoint against the observed
accuracy. The caption: the estimated error rate of each field's auto-trusted values.
"""

from __future__ import annotations

from rich.text import Text

from services.domain import FIELD_LABELS
from services.quality.reports import CalibrationReport, FieldCalibration, RateView
from widgets.plain import plain
from widgets.reliability import ReliabilitySeries
from widgets.values import sentence_case

# How wide the provider column is: a model's name (up to 40 characters for Bedrock) is cut to it.
SOURCE_WIDTH = 11
# The panel's table columns: (heading, key, width or None to fit the cells).
CALIBRATION_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("Provider", "provider", SOURCE_WIDTH),
    ("Field", "field", None),
    ("Bucket", "bucket", None),
    ("Reviewed", "reviewed", None),
    ("Accuracy", "accuracy", None),
    ("95% interval", "interval", None),
)


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{percent(low)}–{percent(high)}"


def error_rate(rate: RateView) -> str:
    """`0.4% (0.1%–2.2%, 1 of 250)`, or why there is no figure."""
    if rate.rate is None:
        return "no reviewed auto-trusted values"
    return f"{percent(rate.rate)} ({interval(rate.low, rate.high)}, {rate.errors:,} of {rate.count:,})"


def overall(report: CalibrationReport) -> list[FieldCalibration]:
    """The report's per-field rows for all providers and models together."""
    return [f for f in report.fields if f.provider == "all"]


def calibration_rows(report: CalibrationReport) -> list[tuple[str | Text, ...]]:
    """One row per bucket with reviewed values, all providers first (the report's order). The field is
    named on its first row; the provider on the first row of its own, its model (dim, cut to the column)
    on the second, as the command line's `provider / model` would not fit beside the chart."""
    rows: list[tuple[str | Text, ...]] = []
    previous: tuple[str, str] | None = None
    source_row = 0
    for field in report.fields:
        name = sentence_case(FIELD_LABELS[field.field])
        for bucket in (b for b in field.buckets if b.count):
            whose = (field.provider, field.model)
            source_row = source_row + 1 if whose == previous else 0
            previous = whose
            rows.append(
                (
                    _source_cell(field, source_row),
                    Text(name, style="bold"),
                    bucket.bucket,
                    Text(f"{bucket.count:,}", justify="right"),
                    Text(percent(bucket.accuracy), justify="right"),
                    interval(bucket.low, bucket.high),
                )
            )
            name = ""
    return rows


def _source_cell(field: FieldCalibration, row: int) -> Text:
    """The provider on a source's first row, its model on the second, nothing after."""
    if row == 0:
        return plain(field.provider)
    if row == 1 and field.provider != "all":
        model = plain(field.model, style="dim")
        model.truncate(SOURCE_WIDTH, overflow="ellipsis")
        return model
    return Text("")


def reliability_series(report: CalibrationReport) -> list[ReliabilitySeries]:
    """Per field, all providers together: each bucket with an accuracy, at its midpoint, in percent."""
    return [
        ReliabilitySeries(
            label=sentence_case(FIELD_LABELS[field.field]),
            points=tuple(
                (midpoint(bucket.bucket), 100 * bucket.accuracy)
                for bucket in field.buckets
                if bucket.accuracy is not None
            ),
        )
        for field in overall(report)
    ]


def midpoint(bucket: str) -> float:
    """The stated confidence a bucket ("80-89") stands for on the chart: the middle of its bounds."""
    low, high = bucket.split("-")
    return (int(low) + int(high)) / 2


def calibration_caption(report: CalibrationReport) -> Text:
    """The estimated error rate of auto-trusted values, per field and in all, and how it was weighted."""
    fields = overall(report)
    if not fields:
        return Text("No reviewed values in this period: nothing to calibrate against yet.")
    caption = Text("Estimated error of auto-trusted values", style="bold")
    for field in fields:
        label = sentence_case(FIELD_LABELS[field.field])
        caption.append(f"\n{label} ≥ {field.threshold}: ").append(error_rate(field.auto_trusted_error))
    caption.append("\nAll fields: ").append(error_rate(report.auto_trusted_error), style="bold")
    caption.append(
        f" · {report.qa_samples:,} QA samples, each weighted {report.weight_auto_trusted:.1f}", style="dim"
    )
    return caption
