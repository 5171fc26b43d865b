"""What the dashboard's Calibration panel shows of the calibration report (services/quality/reports.py).

Kept apart from the dashboard screen, which only places the panel and loads the report in its worker.
Per field, all providers together: the stated-confidence buckets that have reviewed values, with their
observed accuracy and 95% interval, then the estimated error rate of the field's auto-trusted values.
"""

from __future__ import annotations

from rich.text import Text

from services.domain import FIELD_LABELS
from services.quality.reports import CalibrationReport, FieldCalibration, RateView
from widgets.values import sentence_case

# The panel's table columns: (heading, key).
CALIBRATION_COLUMNS = (
    ("Field", "field"),
    ("Bucket", "bucket"),
    ("Reviewed", "reviewed"),
    ("Accuracy", "accuracy"),
    ("95% interval", "interval"),
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
    """One row per bucket with reviewed values; the field is named on its first row only."""
    rows: list[tuple[str | Text, ...]] = []
    for field in overall(report):
        name = sentence_case(FIELD_LABELS[field.field])
        for bucket in (b for b in field.buckets if b.count):
            rows.append(
                (
                    Text(name, style="bold"),
                    bucket.bucket,
                    Text(f"{bucket.count:,}", justify="right"),
                    Text(percent(bucket.accuracy), justify="right"),
                    interval(bucket.low, bucket.high),
                )
            )
            name = ""
    return rows


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
