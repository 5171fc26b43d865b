"""Keeping `extraction_metrics` (the daily aggregates per provider and model) up to date, incrementally."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import authorize
from services.context import ServiceContext
from services.permissions import Permission
from services.system_settings import load_system_settings

# Changes made by transactions still open when a refresh reads the table are invisible to it, yet carry
# an updated_at before its start; the next refresh looks back this far to catch them.
REFRESH_MARGIN = dt.timedelta(minutes=15)
# pg_advisory_xact_lock key: two refreshes (a cron run and an admin's) never interleave.
_REFRESH_LOCK = 0x6D6574726963


_METRIC_COLUMNS = (
    "extractions_count",
    "pending_count",
    "approved_count",
    "rejected_count",
    "corrected_count",
    "below_threshold_count",
    "fallback_count",
    "avg_min_confidence",
    "avg_processing_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
)
_DAY_START = "({day}::timestamp AT TIME ZONE 'UTC')"
_DAY_END = "(({day} + 1)::timestamp AT TIME ZONE 'UTC')"

# Every (day, provider, model) group of the given days, recomputed from its extractions (found through
# extractions_extracted_at_idx, one day at a time). A row whose figures did not change is left alone,
# so its updated_at says when its numbers last moved. corrected_count counts decided extractions with a
# correction, the numerator of the view's correction_rate over approved + rejected.
_UPSERT_DAYS = text(
    f"""
    INSERT INTO extraction_metrics (metric_date, llm_provider, model_version, {", ".join(_METRIC_COLUMNS)})
    SELECT d.day, e.llm_provider, e.model_version,
           count(*),
           count(*) FILTER (WHERE e.status = 'pending'),
           count(*) FILTER (WHERE e.status = 'approved'),
           count(*) FILTER (WHERE e.status = 'rejected'),
           count(*) FILTER (WHERE e.status <> 'pending'
                              AND EXISTS (SELECT 1 FROM corrections k WHERE k.extraction_id = e.id)),
           count(*) FILTER (WHERE e.min_confidence < :threshold),
           count(*) FILTER (WHERE e.fallback_from IS NOT NULL),
           round(avg(e.min_confidence), 2),
           round(avg(e.processing_time_ms), 2),
           sum(e.prompt_tokens),
           sum(e.completion_tokens),
           sum(e.cost_usd)
      FROM unnest(CAST(:days AS date[])) AS d(day)
      JOIN extractions e
        ON e.extracted_at >= {_DAY_START.format(day="d.day")} AND e.extracted_at < {_DAY_END.format(day="d.day")}
     GROUP BY d.day, e.llm_provider, e.model_version
    ON CONFLICT (metric_date, llm_provider, model_version) DO UPDATE
       SET {", ".join(f"{column} = EXCLUDED.{column}" for column in _METRIC_COLUMNS)}
     WHERE ({", ".join(f"extraction_metrics.{column}" for column in _METRIC_COLUMNS)})
           IS DISTINCT FROM ({", ".join(f"EXCLUDED.{column}" for column in _METRIC_COLUMNS)})
    RETURNING 1
    """
)
# Groups of those days left without extractions (all of them re-extracted by another model, say).
_DELETE_EMPTY_GROUPS = text(
    f"""
    DELETE FROM extraction_metrics m
     WHERE m.metric_date = ANY(CAST(:days AS date[]))
       AND NOT EXISTS (
            SELECT 1 FROM extractions e
             WHERE e.llm_provider = m.llm_provider AND e.model_version = m.model_version
               AND e.extracted_at >= {_DAY_START.format(day="m.metric_date")}
               AND e.extracted_at < {_DAY_END.format(day="m.metric_date")})
    RETURNING 1
    """
)
_ALL_DAYS = text(
    """
    SELECT DISTINCT (extracted_at AT TIME ZONE 'UTC')::date AS day FROM extractions
     UNION
    SELECT metric_date FROM extraction_metrics
    """
)
_CHANGED_DAYS = text(
    "SELECT DISTINCT (extracted_at AT TIME ZONE 'UTC')::date AS day FROM extractions WHERE updated_at >= :since"
)
# The watermark travels in the audit event of the previous refresh: only full and incremental refreshes
# write it, so targeted refreshes of a few days (refresh_metrics_for_days) cannot make it skip anything.
_LAST_WATERMARK = text(
    """
    SELECT (event_data ->> 'watermark')::timestamptz FROM audit_events
     WHERE event_type = 'metrics_refreshed'
     ORDER BY occurred_at DESC
     LIMIT 1
    """
)


async def refresh_metrics_for_days(session: AsyncSession, days: Iterable[dt.date]) -> int:
    """Recompute extraction_metrics for these UTC days in the caller's transaction; returns groups changed.

    For a writer that knows which days it touched, e.g. a re-extraction that moves an extraction from
    its old day to today (pass both). Not for every approval: it re-reads whole days, and it takes the
    row locks of those days' metrics, so reviewers deciding at the same moment would queue behind one
    another until each commits. Decisions reach the dashboard with the next incremental refresh.
    """
    wanted = sorted(set(days))
    if not wanted:
        return 0
    threshold = (await load_system_settings(session)).confidence_threshold
    changed = (await session.execute(_UPSERT_DAYS, {"days": wanted, "threshold": threshold})).all()
    removed = (await session.execute(_DELETE_EMPTY_GROUPS, {"days": wanted})).all()
    return len(changed) + len(removed)


async def refresh_extraction_metrics(ctx: ServiceContext, *, full: bool = False) -> int:
    """Bring extraction_metrics up to date; returns the number of (day, provider, model) groups changed.

    Incremental: only the days of extractions whose updated_at is at or after the previous refresh's
    watermark (extractions_updated_at_idx) are recomputed; every other row keeps its figures and its
    updated_at. The watermark is this refresh's start minus REFRESH_MARGIN, for the transactions it
    could not see. Changes that leave no updated_at behind — a contract deleted with its extraction, an
    extraction moved to another day by a writer that did not call refresh_metrics_for_days, a new
    confidence threshold — are repaired by `full=True`, which recomputes every day.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MAINTAIN)
        session = uow.session
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
        since = None if full else await session.scalar(_LAST_WATERMARK)
        if since is None:
            days = list((await session.execute(_ALL_DAYS)).scalars())
        else:
            days = list((await session.execute(_CHANGED_DAYS, {"since": since})).scalars())
        watermark = await session.scalar(
            text("SELECT now() - CAST(:margin AS interval)"), {"margin": REFRESH_MARGIN}
        )
        changed = await refresh_metrics_for_days(session, days)
        uow.record(
            ctx.actor.event(
                "metrics_refreshed",
                full=since is None,
                since=since.isoformat() if since else None,
                watermark=watermark.isoformat(),
                days=len(days),
                groups_changed=changed,
            )
        )
        await uow.commit()
    return changed
