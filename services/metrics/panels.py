"""The supervisor dashboard's panels: the queue, reviewers, corrections, confidence, cost, daily figures.

Each panel must answer in well under a tenth of a second with a million contracts and ten million audit
events, so none of them scans a whole table: live figures (the queue, reviewer activity, field accuracy,
the confidence histogram of a period) are read through the index made for them, and the daily figures
per provider and model (volumes, tokens, cost) come from `extraction_metrics`, which
:func:`refresh_extraction_metrics` keeps up to date incrementally.

Days are UTC days, as `extraction_metrics.metric_date` is, so every panel of one period counts the same
hours.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DailyExtractionStatsView
from services.access import authorize
from services.context import ServiceContext
from services.domain import FIELD_NAMES, ConfidenceBand, FieldName
from services.metrics.period import Period
from services.permissions import Permission
from services.quality.routing import below_thresholds_sql
from services.system_settings import load_system_settings, sql_text

DEFAULT_DISTRIBUTION_DAYS = 30
BUCKET_LABELS: tuple[str, ...] = (*(f"{low}-{low + 9}" for low in range(0, 90, 10)), "90-100")

# The panels' statements are prepared, and after five runs PostgreSQL may settle on a generic plan made
# without the period's bounds: one sized for a day's rows, which it then also uses for a year's (a serial
# scan of 500,000 index entries where the year's own plan counts them in parallel). A dashboard call
# plans each statement for its period; a millisecond of planning is nothing beside the count.
_PLAN_FOR_THE_PERIOD = text("SET LOCAL plan_cache_mode = force_custom_plan")


@asynccontextmanager
async def _dashboard_read(ctx: ServiceContext) -> AsyncIterator[AsyncSession]:
    """A panel's transaction: the permission checked, each statement planned for its own arguments."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_DASHBOARD)
        await uow.session.execute(_PLAN_FOR_THE_PERIOD)
        yield uow.session
        await uow.commit()


# --- queue health ------------------------------------------------------------------------------------


class QueueHealth(BaseModel):
    pending: int
    by_band: dict[ConfidenceBand, int]
    # Pending items with any field below its own threshold (field_thresholds, else confidence_threshold).
    below_threshold: int
    oldest_pending_at: dt.datetime | None
    oldest_pending_age: dt.timedelta | None
    sla_hours: int
    past_sla: int
    claimed_now: int


# One row per distinct min_confidence of the pending items: every column it reads is in the partial
# index extractions_queue_idx (min_confidence, extracted_at, id) WHERE status = 'pending', so it is an
# index-only scan in index order with no hashing, and the bands and the SLA count are summed from at most
# 101 rows. The below-threshold count needs each field against its own threshold, so it is counted apart
# with the routing's own rule (below_thresholds_sql, as queue_counts does) through extractions_routing_idx.
_QUEUE_HEALTH = text(
    f"""
    SELECT s.now, s.claimed, s.below, g.min_confidence, g.pending, g.past_sla, g.oldest
      FROM (SELECT now() AS now,
                   (SELECT count(*) FROM extractions
                     WHERE claimed_by IS NOT NULL AND claim_expires_at > now() AND status = 'pending') AS claimed,
                   (SELECT count(*) FROM extractions
                     WHERE status = 'pending' AND {sql_text(below_thresholds_sql())}) AS below
           ) s
      LEFT JOIN (
            SELECT min_confidence, count(*) AS pending,
                   count(*) FILTER (WHERE extracted_at < now() - make_interval(hours => :sla_hours)) AS past_sla,
                   min(extracted_at) AS oldest
              FROM extractions
             WHERE status = 'pending'
             GROUP BY min_confidence
           ) g ON true
    """
)


async def queue_health(ctx: ServiceContext) -> QueueHealth:
    """How deep and how old the review queue is, and how much of it is past the review SLA."""
    async with _dashboard_read(ctx) as session:
        settings = await load_system_settings(session)
        rows = (await session.execute(_QUEUE_HEALTH, {"sla_hours": settings.queue_sla_hours})).all()
    groups = [row for row in rows if row.min_confidence is not None]
    by_band = {
        band: sum(row.pending for row in groups if band.bounds[0] <= row.min_confidence <= band.bounds[1])
        for band in ConfidenceBand
    }
    oldest = min((row.oldest for row in groups), default=None)
    return QueueHealth(
        pending=sum(row.pending for row in groups),
        by_band=by_band,
        below_threshold=rows[0].below,
        oldest_pending_at=oldest,
        oldest_pending_age=None if oldest is None else rows[0].now - oldest,
        sla_hours=settings.queue_sla_hours,
        past_sla=sum(row.past_sla for row in groups),
        claimed_now=rows[0].claimed,
    )


# --- reviewers ---------------------------------------------------------------------------------------


class ReviewerActivity(BaseModel):
    user_id: uuid.UUID
    username: str
    full_name: str
    role: str
    # Extractions this person decided (approved or rejected) in the period, as they stand now.
    reviewed: int
    approved: int
    rejected: int
    # Extractions with at least one correction by this person in the period.
    corrected: int
    # Correction rows this person made in the period.
    corrections: int
    # Median, over the items decided in the period, of the seconds from claiming to deciding.
    median_review_seconds: float | None


# Per person, two aggregates over that person's own rows in the period, each a range scan of
# extractions_reviewed_by_idx (reviewed_by, reviewed_at) or corrections_corrected_by_idx (corrected_by,
# corrected_at). Joining everything first and de-duplicating with COUNT(DISTINCT) instead would touch
# every extraction and correction of everyone. Counted are the decisions as they stand: an item
# reopened and decided again counts for whoever decided it last.
_REVIEWER_ACTIVITY = text(
    """
    SELECT u.id AS user_id, u.username, u.full_name, u.role,
           r.reviewed, r.approved, r.rejected, r.median_review_seconds, k.corrections, k.corrected
      FROM users u
     CROSS JOIN LATERAL (
            SELECT count(*) AS reviewed,
                   count(*) FILTER (WHERE x.status = 'approved') AS approved,
                   count(*) FILTER (WHERE x.status = 'rejected') AS rejected,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY x.review_seconds) AS median_review_seconds
              FROM extractions x
             WHERE x.reviewed_by = u.id AND x.reviewed_at >= :start AND x.reviewed_at < :end
           ) r
     CROSS JOIN LATERAL (
            SELECT count(*) AS corrections, count(DISTINCT c.extraction_id) AS corrected
              FROM corrections c
             WHERE c.corrected_by = u.id AND c.corrected_at >= :start AND c.corrected_at < :end
           ) k
     WHERE r.reviewed > 0 OR k.corrections > 0 OR (u.is_active AND u.role IN ('reviewer', 'supervisor'))
     ORDER BY r.reviewed DESC, u.username
    """
)


async def reviewer_activity(ctx: ServiceContext, period: Period) -> list[ReviewerActivity]:
    """Reviews, decisions and corrections per person in the period; active reviewers appear even when idle."""
    async with _dashboard_read(ctx) as session:
        rows = (await session.execute(_REVIEWER_ACTIVITY, period.bounds())).mappings().all()
    return [ReviewerActivity(**row) for row in rows]


# --- corrections per field ----------------------------------------------------------------------------


class FieldCorrections(BaseModel):
    field_name: FieldName
    # Correction rows of this field made in the period, and the extractions they were made to.
    corrections: int
    corrected: int


class CorrectionSummary(BaseModel):
    """What people corrected in a period: the same corrections the team panel counts, split by field.

    `corrections` is the number of correction rows made in the period (a field corrected twice counts
    twice); `corrected` the number of distinct extractions with at least one of them. The fields'
    `corrections` add up to `corrections`; their `corrected` may add up to more than `corrected` (one
    extraction with two fields corrected counts once in all).
    """

    corrections: int
    corrected: int
    by_field: list[FieldCorrections]


# Gathered person by person through corrections_corrected_by_idx (corrected_by, corrected_at), as the
# team panel's figures are: corrections has no index on its time alone. ROLLUP adds the all-fields row
# (field_name NULL), whose distinct count is over every field.
_CORRECTIONS_BY_FIELD = text(
    """
    SELECT k.field_name, count(*) AS corrections, count(DISTINCT k.extraction_id) AS corrected
      FROM users u
     CROSS JOIN LATERAL (
            SELECT c.field_name, c.extraction_id
              FROM corrections c
             WHERE c.corrected_by = u.id AND c.corrected_at >= :start AND c.corrected_at < :end
           ) k
     GROUP BY ROLLUP (k.field_name)
    """
)


async def corrections_by_field(ctx: ServiceContext, period: Period) -> CorrectionSummary:
    """The period's corrections, in all and per field."""
    async with _dashboard_read(ctx) as session:
        rows = (await session.execute(_CORRECTIONS_BY_FIELD, period.bounds())).all()
    per_field = {row.field_name: row for row in rows if row.field_name is not None}
    total = next((row for row in rows if row.field_name is None), None)
    return CorrectionSummary(
        corrections=total.corrections if total else 0,
        corrected=total.corrected if total else 0,
        by_field=[
            FieldCorrections(
                field_name=field,
                corrections=per_field[field].corrections if field in per_field else 0,
                corrected=per_field[field].corrected if field in per_field else 0,
            )
            for field in FIELD_NAMES
        ],
    )


# --- confidence ----------------------------------------------------------------------------------------


class ConfidenceDistribution(BaseModel):
    period: Period
    extractions: int
    # Ten buckets of ten points (the last holds 90 to 100), labelled by BUCKET_LABELS.
    buckets: tuple[str, ...] = BUCKET_LABELS
    min_confidence: list[int]
    by_field: dict[FieldName, list[int]]


# extractions_extracted_at_idx carries the confidences (schema v0002, v0011), so the period's extractions are
# read from the index alone, once, and grouped by their ten-point buckets together: confidences go together,
# so there are a few hundred such groups, which the histograms are summed from. Statistics on the bucket
# expressions (schema v0004) tell the planner so, and over a long period it lets parallel workers each group
# a share of the index. A field not yet extracted (NULL) is in no bucket of its histogram.
_CONFIDENCE = text(
    f"""
    SELECT least(min_confidence / 10, 9) AS min_confidence,
           {", ".join(f"least({name}_confidence / 10, 9) AS {name}" for name in FIELD_NAMES)},
           count(*) AS n
      FROM extractions
     WHERE extracted_at >= :start AND extracted_at < :end
     GROUP BY {", ".join(str(n) for n in range(1, len(FIELD_NAMES) + 2))}
    """
)


async def confidence_distribution(
    ctx: ServiceContext, period: Period | None = None
) -> ConfidenceDistribution:
    """Histograms of the weakest-field confidence and of each field's, for extractions made in the period.

    Without a period, the last DEFAULT_DISTRIBUTION_DAYS days: an all-time histogram would read every
    extraction ever made.
    """
    period = period or Period.last_days(DEFAULT_DISTRIBUTION_DAYS)
    async with _dashboard_read(ctx) as session:
        rows = (await session.execute(_CONFIDENCE, period.bounds())).all()
    counts: dict[str, list[int]] = {
        name: [0] * len(BUCKET_LABELS) for name in ("min_confidence", *FIELD_NAMES)
    }
    for row in rows:
        for name, histogram in counts.items():
            bucket = getattr(row, name)
            if bucket is not None:
                histogram[bucket] += row.n
    minimum = counts.pop("min_confidence")
    return ConfidenceDistribution(
        period=period, extractions=sum(minimum), min_confidence=minimum, by_field=counts
    )


# --- cost ----------------------------------------------------------------------------------------------


class ProviderCost(BaseModel):
    llm_provider: str
    model_version: str
    extractions: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    cost_per_extraction_usd: Decimal | None
    fallbacks: int
    chat_answers: int
    chat_prompt_tokens: int
    chat_completion_tokens: int
    chat_cost_usd: Decimal
    total_cost_usd: Decimal


_EXTRACTION_COST = text(
    """
    SELECT llm_provider, model_version, sum(extractions_count) AS extractions,
           sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
           sum(cost_usd) AS cost_usd, sum(fallback_count) AS fallbacks
      FROM extraction_metrics
     WHERE metric_date BETWEEN :first_day AND :last_day
     GROUP BY llm_provider, model_version
    """
)
# chat_messages has no index on its time alone, but one per user (user_id, created_at): the answers of
# the period are gathered person by person rather than by a scan of every message.
_CHAT_COST = text(
    """
    SELECT m.llm_provider, m.model_version, count(*) AS answers, sum(m.prompt_tokens) AS prompt_tokens,
           sum(m.completion_tokens) AS completion_tokens, sum(m.cost_usd) AS cost_usd
      FROM users u
     CROSS JOIN LATERAL (
            SELECT llm_provider, model_version, prompt_tokens, completion_tokens, cost_usd
              FROM chat_messages
             WHERE user_id = u.id AND created_at >= :start AND created_at < :end AND llm_provider IS NOT NULL
           ) m
     GROUP BY m.llm_provider, m.model_version
    """
)


async def cost_by_provider(ctx: ServiceContext, period: Period) -> list[ProviderCost]:
    """Tokens and dollars per provider and model: extractions (as of the last metrics refresh) and chat."""
    async with _dashboard_read(ctx) as session:
        extraction = {
            (row.llm_provider, row.model_version): row
            for row in (await session.execute(_EXTRACTION_COST, period.bounds())).all()
        }
        chat = {
            (row.llm_provider, row.model_version or ""): row
            for row in (await session.execute(_CHAT_COST, period.bounds())).all()
        }
    result = []
    for provider, model in sorted(extraction.keys() | chat.keys()):
        made, asked = extraction.get((provider, model)), chat.get((provider, model))
        count = int(made.extractions) if made else 0
        cost = made.cost_usd if made else Decimal(0)
        chat_cost = asked.cost_usd if asked else Decimal(0)
        result.append(
            ProviderCost(
                llm_provider=provider,
                model_version=model,
                extractions=count,
                prompt_tokens=int(made.prompt_tokens) if made else 0,
                completion_tokens=int(made.completion_tokens) if made else 0,
                cost_usd=cost,
                cost_per_extraction_usd=round(cost / count, 6) if count else None,
                fallbacks=int(made.fallbacks) if made else 0,
                chat_answers=asked.answers if asked else 0,
                chat_prompt_tokens=int(asked.prompt_tokens) if asked else 0,
                chat_completion_tokens=int(asked.completion_tokens) if asked else 0,
                chat_cost_usd=chat_cost,
                total_cost_usd=cost + chat_cost,
            )
        )
    return result


# --- daily statistics ----------------------------------------------------------------------------------


class DailyExtractionStats(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    metric_date: dt.date
    llm_provider: str
    model_version: str
    extractions_count: int
    pending_count: int
    approved_count: int
    rejected_count: int
    corrected_count: int
    below_threshold_count: int
    fallback_count: int
    avg_min_confidence: Decimal | None
    avg_processing_ms: Decimal | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    cost_per_extraction_usd: Decimal | None
    correction_rate: Decimal | None
    review_rate: Decimal | None


async def daily_extraction_stats(ctx: ServiceContext, period: Period) -> list[DailyExtractionStats]:
    """Rows of v_daily_extraction_stats in the period, by day, provider and model."""
    view = DailyExtractionStatsView
    statement = (
        select(view)
        .where(view.metric_date.between(period.first_day, period.last_day))
        .order_by(view.metric_date, view.llm_provider, view.model_version)
    )
    async with _dashboard_read(ctx) as session:
        rows = (await session.scalars(statement)).all()
    return [DailyExtractionStats.model_validate(row) for row in rows]
