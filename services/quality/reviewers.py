"""Reviewer performance for a period, exportable: what each person decided, corrected, and how fast.

Read from the audit log, not from the extraction rows: a row keeps only its latest decision (a reopened or
re-extracted item forgets the earlier one), while the log keeps every ``approve``, ``reject`` and
``correct`` event with its author. "Seconds per item" is ``review_seconds`` of the decision events: the
time from the reviewer's claim to their decision, which the decision statement computes from
``claimed_at`` (absent when a supervisor decided an item they had not claimed).

Agreement on QA items: a share of decided QA samples is decided again, blind, by a second reviewer
(``qa_double_check_rate``, services/quality/double_checks.py). A reviewer's ``qa_double_checked`` counts the
double checks completed in the period (second decision in it) where they made the first or the second
decision, ``qa_agreement`` the share of those where both agreed — both rejected, or both approved with
every field left at the same value; None (an empty CSV cell) when there were none.
An event that names no extraction (older or imported events) counts as an item of its own.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import text

from services.access import authorize
from services.audit.export import csv_cell
from services.context import ServiceContext
from services.metrics.period import Period
from services.permissions import Permission

ReviewerFormat = Literal["csv", "json"]
REVIEWER_FORMATS: tuple[ReviewerFormat, ...] = ("csv", "json")

_PERFORMANCE = text(
    """
    SELECT u.username, u.full_name, u.role,
           count(DISTINCT coalesce(a.event_data->>'extraction_id', a.id::text))
               FILTER (WHERE a.event_type IN ('approve', 'reject')) AS items,
           count(*) FILTER (WHERE a.event_type = 'approve') AS approvals,
           count(*) FILTER (WHERE a.event_type = 'correct') AS corrections,
           count(DISTINCT coalesce(a.event_data->>'extraction_id', a.id::text))
               FILTER (WHERE a.event_type = 'correct') AS corrected_items,
           count(*) FILTER (WHERE a.event_type = 'reject') AS rejections,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (a.event_data->>'review_seconds')::numeric)
               FILTER (WHERE a.event_type IN ('approve', 'reject') AND a.event_data ? 'review_seconds')
               AS median_seconds,
           count(DISTINCT e.id) FILTER (WHERE a.event_type IN ('approve', 'reject') AND e.qa_sample)
               AS qa_items
      FROM audit_events a
      JOIN users u ON u.id = a.user_id
      LEFT JOIN extractions e ON e.id = (a.event_data->>'extraction_id')::uuid
     WHERE a.occurred_at >= :start AND a.occurred_at < :end
       AND a.event_type IN ('approve', 'reject', 'correct')
     GROUP BY u.id, u.username, u.full_name, u.role
     ORDER BY u.username
    """
)

# Per person, the double checks completed in the period they took part in, and how many agreed.
_AGREEMENT = text(
    """
    SELECT u.username, count(*) AS checked,
           count(*) FILTER (WHERE d.first_decision = d.second_decision
                              AND (d.first_decision = 'rejected' OR d.first_values = d.second_values)) AS agreed
      FROM qa_double_checks d
      JOIN users u ON u.id IN (d.first_reviewer, d.second_reviewer)
     WHERE d.second_decided_at >= :start AND d.second_decided_at < :end
     GROUP BY u.username
    """
)


class ReviewerPerformance(BaseModel):
    """One reviewer's period; ``qa_agreement`` is a share (0-1) of ``qa_double_checked``, None without any."""

    username: str
    full_name: str
    role: str
    items: int
    approvals: int
    corrections: int
    corrected_items: int
    rejections: int
    median_seconds: float | None
    qa_items: int
    qa_double_checked: int = 0
    qa_agreement: float | None = None


CSV_COLUMNS: tuple[str, ...] = tuple(ReviewerPerformance.model_fields)


async def reviewer_performance(ctx: ServiceContext, period: Period) -> list[ReviewerPerformance]:
    """Every person who decided or corrected something in ``period``, by username (supervisors, admins)."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_ALL_ACTIVITY)
        bounds = {"start": period.start, "end": period.end}
        rows = (await uow.session.execute(_PERFORMANCE, bounds)).all()
        agreement = {row.username: row for row in (await uow.session.execute(_AGREEMENT, bounds)).all()}
        await uow.commit()
    return [_with_agreement(ReviewerPerformance.model_validate(row._mapping), agreement) for row in rows]


def _with_agreement(row: ReviewerPerformance, agreement: dict[str, Any]) -> ReviewerPerformance:
    checks = agreement.get(row.username)
    if checks is None:
        return row
    return row.model_copy(
        update={"qa_double_checked": checks.checked, "qa_agreement": checks.agreed / checks.checked}
    )


def render_performance(rows: list[ReviewerPerformance], fmt: ReviewerFormat) -> str:
    """CSV (a header row, then one row per reviewer; cells safe to open in a spreadsheet) or JSON."""
    if fmt == "json":
        return json.dumps([row.model_dump(mode="json") for row in rows], indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow(
            csv_cell(
                _figure(values[column]) if column in {"median_seconds", "qa_agreement"} else values[column]
            )
            for column in CSV_COLUMNS
        )
    return buffer.getvalue()


def _figure(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"
