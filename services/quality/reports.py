"""The calibration report: stated confidence against what reviewers found, per field, provider and model.

Read from the extractions made in the period and their corrections. A field value is observed when a
person approved its extraction (``reviewed_by`` set): right if they did not correct that field after the
extraction was made, wrong if they did. Rejected extractions say nothing about single fields and are left
out; automatic approvals (no reviewer) are what the report estimates, never evidence.

Two strata, by the thresholds in force now: extractions with every field at or above its threshold
("auto-trusted": approved automatically when ``auto_approve`` is on, except the QA sample) and the rest.
Each reviewed extraction is weighted by its stratum's population over its reviewed count
(``calibration.stratum_weight``), so the QA sample speaks for the auto-trusted population.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict
from sqlalchemy import column, table, text

from services.access import authorize
from services.context import ServiceContext
from services.domain import FIELD_NAMES, FieldName
from services.metrics.period import Period
from services.permissions import Permission
from services.quality.calibration import (
    BucketRow,
    Observation,
    Rate,
    reliability,
    stratum_weight,
    suggested_threshold,
    weighted_rate,
)
from services.quality.routing import below_thresholds_sql
from services.system_settings import SystemSettings, load_system_settings, sql_text

# Written over FIELD_NAMES, so that a field added to the extraction is calibrated too.
_EXTRACTIONS = table(
    "e",
    column("llm_provider"),
    column("refund_calculation_method"),
    column("refund_flags"),
    *(column(f"{name}_confidence") for name in FIELD_NAMES),
)
_FIELD_ROWS = ",\n".join(f"('{name}', e.{name}_confidence)" for name in FIELD_NAMES)

# One row per (provider, model, field, confidence, stratum, reviewed, right): at most a few thousand rows
# whatever the period, so the grouping is PostgreSQL's and the statistics are Python's. "Trusted" is the
# routing's own rule (each field against its threshold for the extraction's provider), negated; a field
# not yet extracted (NULL) is below nothing, as in the routing.
_OBSERVATIONS = text(
    f"""
    SELECT e.llm_provider AS provider, e.model_version AS model, f.name AS field, f.confidence,
           NOT coalesce({sql_text(below_thresholds_sql(_EXTRACTIONS))}, false) AS trusted,
           (e.status = 'approved' AND e.reviewed_by IS NOT NULL) AS reviewed,
           e.qa_sample,
           NOT EXISTS (
               SELECT 1 FROM corrections c
                WHERE c.extraction_id = e.id AND c.field_name = f.name AND c.corrected_at >= e.extracted_at
           ) AS right_value,
           count(*) AS n
      FROM extractions e
     CROSS JOIN LATERAL (VALUES {_FIELD_ROWS}) AS f(name, confidence)
     WHERE e.extracted_at >= :start AND e.extracted_at < :end
       AND f.confidence IS NOT NULL  -- a field not yet extracted (older than it) states nothing
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    """
)


class Group(BaseModel):
    """Raw counts of one (provider, model, field) from the query."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    field: FieldName
    confidence: int
    trusted: bool
    reviewed: bool
    qa_sample: bool
    right_value: bool
    n: int


class RateView(BaseModel):
    count: int
    errors: int
    rate: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, rate: Rate, *, errors: bool) -> RateView:
        interval = rate.interval
        return cls(
            count=rate.count,
            errors=rate.hits if errors else rate.count - rate.hits,
            rate=rate.rate,
            low=None if interval is None else interval.low,
            high=None if interval is None else interval.high,
        )


class BucketView(BaseModel):
    bucket: str
    count: int
    errors: int
    mean_confidence: float | None
    accuracy: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, row: BucketRow) -> BucketView:
        interval = row.accuracy.interval
        return cls(
            bucket=f"{row.low}-{row.high}",
            count=row.count,
            errors=row.errors,
            mean_confidence=row.mean_confidence,
            accuracy=row.accuracy.rate,
            low=None if interval is None else interval.low,
            high=None if interval is None else interval.high,
        )


class FieldCalibration(BaseModel):
    """One field for one provider and model (or for all of them: provider and model "all")."""

    provider: str
    model: str
    field: FieldName
    threshold: int
    buckets: list[BucketView]
    auto_trusted_error: RateView
    suggested_threshold: int | None


class CalibrationReport(BaseModel):
    first_day: str
    last_day: str
    target_error_rate: float
    qa_sample_rate: float
    thresholds: dict[FieldName, int]
    extractions: int
    auto_trusted: int
    auto_trusted_reviewed: int
    qa_samples: int
    weight_auto_trusted: float
    weight_below: float
    auto_trusted_error: RateView
    fields: list[FieldCalibration]


async def calibration_report(ctx: ServiceContext, period: Period) -> CalibrationReport:
    """The calibration report of the extractions made in ``period`` (supervisors and admins)."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_DASHBOARD)
        settings = await load_system_settings(uow.session)
        rows = (await uow.session.execute(_OBSERVATIONS, {"start": period.start, "end": period.end})).all()
        await uow.commit()
    groups = [Group.model_validate(row._mapping) for row in rows]
    return build_report(
        groups,
        period=period,
        settings=settings,
        target_error_rate=float(settings.target_error_rate),
        qa_sample_rate=float(settings.qa_sample_rate),
    )


def build_report(
    groups: list[Group],
    *,
    period: Period,
    settings: SystemSettings,
    target_error_rate: float,
    qa_sample_rate: float,
) -> CalibrationReport:
    """The report from grouped counts: weights per stratum, then per field the table, error and suggestion.

    Each row names the threshold its values were trusted by: the provider's own (``field_thresholds``)
    on a provider's rows, the thresholds of no particular provider on the rows of all of them.
    """
    thresholds = settings.thresholds()
    # Every extraction has one row per field: count the strata on one field.
    counting = [g for g in groups if g.field == FIELD_NAMES[0]]
    population = {True: 0, False: 0}
    reviewed = {True: 0, False: 0}
    qa_samples = 0
    for group in counting:
        population[group.trusted] += group.n
        reviewed[group.trusted] += group.n if group.reviewed else 0
        qa_samples += group.n if group.qa_sample else 0
    weight = {stratum: stratum_weight(population[stratum], reviewed[stratum]) for stratum in (True, False)}
    observed: dict[tuple[str, str, FieldName], list[tuple[Observation, bool]]] = defaultdict(list)
    for group in groups:
        if not group.reviewed:
            continue
        observation = Observation(group.confidence, group.right_value, weight[group.trusted], group.n)
        for key in ((group.provider, group.model, group.field), ("all", "all", group.field)):
            observed[key].append((observation, group.trusted))
    fields = [
        _field(
            provider,
            model,
            field,
            observed[(provider, model, field)],
            settings.field_threshold(field, None if provider == "all" else provider),
            target_error_rate,
        )
        for provider, model, field in sorted(
            observed, key=lambda k: (k[0] != "all", k[0], k[1], FIELD_NAMES.index(k[2]))
        )
    ]
    trusted_values = [
        o for key, pairs in observed.items() if key[0] == "all" for o, trusted in pairs if trusted
    ]
    return CalibrationReport(
        first_day=period.first_day.isoformat(),
        last_day=period.last_day.isoformat(),
        target_error_rate=target_error_rate,
        qa_sample_rate=qa_sample_rate,
        thresholds=thresholds,
        extractions=population[True] + population[False],
        auto_trusted=population[True],
        auto_trusted_reviewed=reviewed[True],
        qa_samples=qa_samples,
        weight_auto_trusted=weight[True],
        weight_below=weight[False],
        auto_trusted_error=RateView.of(weighted_rate(trusted_values, of_errors=True), errors=True),
        fields=fields,
    )


def _field(
    provider: str,
    model: str,
    field: FieldName,
    pairs: list[tuple[Observation, bool]],
    threshold: int,
    target_error_rate: float,
) -> FieldCalibration:
    observations = [observation for observation, _ in pairs]
    trusted = [observation for observation, is_trusted in pairs if is_trusted]
    return FieldCalibration(
        provider=provider,
        model=model,
        field=field,
        threshold=threshold,
        buckets=[BucketView.of(row) for row in reliability(observations)],
        auto_trusted_error=RateView.of(weighted_rate(trusted, of_errors=True), errors=True),
        suggested_threshold=suggested_threshold(observations, target_error_rate),
    )
