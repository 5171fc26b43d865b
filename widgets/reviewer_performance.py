"""A table of reviewer performance for a period: decisions, corrections, speed and agreement on double checks.

It shows the figures it is given (one row per person, as ``refund-review report reviewers`` computes them)
and fetches nothing; the dashboard loads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.text import Text
from textual.widgets import DataTable

from widgets.plain import plain


class ReviewerFigures(Protocol):
    """What one row needs: the fields of services.quality.reviewers.ReviewerPerformance."""

    username: str
    items: int
    approvals: int
    corrections: int
    rejections: int
    median_seconds: float | None
    qa_items: int
    qa_double_checked: int
    qa_agreement: float | None


# (heading, key) of each column after the reviewer's name; all right-aligned figures.
COLUMNS = (
    ("Items", "items"),
    ("Approved", "approvals"),
    ("Corrections", "corrections"),
    ("Rejected", "rejections"),
    ("Median s", "median"),
    ("QA items", "qa_items"),
    ("Double-checked", "double_checked"),
    ("Agreement", "agreement"),
)


def agreement_text(row: ReviewerFigures) -> str:
    """`75%`, or `—` when none of their QA items was double-checked in the period."""
    return "—" if row.qa_agreement is None else f"{100 * row.qa_agreement:.0f}%"


def seconds_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


class ReviewerPerformanceTable(DataTable[str | Text]):
    """One row per person who decided or corrected something in the period, by username."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_column("Reviewer", key="reviewer")
        for label, key in COLUMNS:
            self.add_column(Text(label, justify="right"), key=key)

    def show(self, rows: Sequence[ReviewerFigures]) -> None:
        self.clear()
        for row in rows:
            self.add_row(
                plain(row.username),
                *(
                    Text(value, justify="right")
                    for value in (
                        f"{row.items:,}",
                        f"{row.approvals:,}",
                        f"{row.corrections:,}",
                        f"{row.rejections:,}",
                        seconds_text(row.median_seconds),
                        f"{row.qa_items:,}",
                        f"{row.qa_double_checked:,}",
                        agreement_text(row),
                    )
                ),
                key=row.username,
            )
