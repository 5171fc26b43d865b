"""The detail of one extraction beside the contract text, read in one statement."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import literal_column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import authorize
from services.audit.summaries import summarize_event
from services.context import ServiceContext
from services.domain import FIELD_LABELS, FIELD_NAMES, weighed_fields
from services.errors import NotFound, SavedButNotReloaded
from services.input_text import contract_id as checked_contract_id
from services.permissions import Permission
from services.quality.routing import field_threshold_sql
from services.refunds.field_checks import state_rules
from services.refunds.preview import RefundPreview, preview_refund
from services.review.types import ClaimInfo, CorrectionEntry, ExtractionDetail, FieldDetail, HistoryEntry
from services.system_settings import sql_text

HISTORY_LIMIT = 50
# What a QA item's history leaves out while it waits for its second reviewer: the first decision.
FIRST_DECISION_EVENTS = frozenset({"approve", "reject", "correct", "qa_double_check"})


_DETAIL_SQL = """
SELECT e.id AS extraction_id, e.contract_id, c.account_number, c.customer_name, c.contract_type,
       c.contract_date, c.vehicle_info, c.page_count, c.document_text,
       {fields},
       e.min_confidence, e.llm_provider, e.model_version, e.prompt_version, e.fallback_from,
       e.fallback_reason, e.processing_time_ms, e.prompt_tokens, e.completion_tokens, e.cost_usd,
       e.extracted_at, e.status, e.version, e.qa_sample, e.reviewed_at, e.review_seconds, e.rejection_reason,
       reviewer.username AS reviewed_by,
       e.claim_expires_at > now() AS claim_live, e.claimed_by, claimant.username AS claimant,
       e.claimed_at, e.claim_expires_at,
       {thresholds},
       now() AS as_of,
       first_check.first_decided_at AS double_check_since, first_check.username AS first_reviewer,
       (SELECT coalesce(json_agg(json_build_object(
                   'field', k.field_name, 'old', k.original_value, 'new', k.corrected_value,
                   'reason', k.reason_code, 'note', k.reason_note, 'by', u.username, 'at', k.corrected_at)
                   ORDER BY k.corrected_at, k.id), '[]')
          FROM corrections k JOIN users u ON u.id = k.corrected_by
         WHERE k.extraction_id = e.id) AS corrections,
       (SELECT coalesce(json_agg(json_build_object(
                   'event_type', h.event_type, 'by', h.username, 'at', h.occurred_at, 'data', h.event_data)
                   ORDER BY h.seq DESC), '[]')
          FROM (SELECT a.seq, a.event_type, a.occurred_at, a.event_data, u.username
                  FROM audit_events a LEFT JOIN users u ON u.id = a.user_id
                 WHERE a.contract_id = e.contract_id
                 ORDER BY a.seq DESC
                 LIMIT :history_limit) h) AS history
  FROM extractions e
  JOIN contracts c ON c.contract_id = e.contract_id
  LEFT JOIN users claimant ON claimant.id = e.claimed_by
  LEFT JOIN users reviewer ON reviewer.id = e.reviewed_by
  LEFT JOIN LATERAL (
        SELECT d.first_decided_at, u.username
          FROM qa_double_checks d JOIN users u ON u.id = d.first_reviewer
         WHERE d.extraction_id = e.id AND d.extracted_at = e.extracted_at AND d.second_decision IS NULL
           AND e.status = 'pending') first_check ON true
 WHERE {key}
"""
# Each field's own threshold (its field_thresholds entry, else confidence_threshold), the rule the routing
# and the queue use, read in the same statement.
_THRESHOLDS = ",\n       ".join(
    f"{sql_text(field_threshold_sql(name, literal_column('e.llm_provider')))} AS {name}_threshold"
    for name in FIELD_NAMES
)
_FIELDS = ",\n       ".join(f"e.{name}, e.{name}_confidence, e.{name}_source" for name in FIELD_NAMES)
_JSON_COLUMNS = dict.fromkeys(
    ("vehicle_info", *(f"{name}_source" for name in FIELD_NAMES), "corrections", "history"), JSONB
)
_DETAIL_BY_ID = text(_DETAIL_SQL.format(key="e.id = :key", thresholds=_THRESHOLDS, fields=_FIELDS)).columns(
    **_JSON_COLUMNS
)
_DETAIL_BY_CONTRACT = text(
    _DETAIL_SQL.format(key="e.contract_id = :key", thresholds=_THRESHOLDS, fields=_FIELDS)
).columns(**_JSON_COLUMNS)


async def load_detail(session: AsyncSession, extraction_id: uuid.UUID) -> ExtractionDetail:
    return await _load_detail(session, _DETAIL_BY_ID, extraction_id)


async def _refund_preview(session: AsyncSession, row: Any) -> RefundPreview | None:
    """What the refund would be if cancelled today, by the database's clock, under the rule in force."""
    state = row["governing_state"]
    rules = await state_rules(session, state)
    return preview_refund(
        premium=row["gap_insurance_premium"],
        method=row["refund_calculation_method"],
        fee=row["cancellation_fee"],
        term_months=row["term_months"],
        state=state,
        apr=row["apr"],
        contract_date=row["contract_date"],
        today=row["as_of"].date(),
        rules=rules,
    )


async def _load_detail(session: AsyncSession, statement: Any, key: object) -> ExtractionDetail:
    params = {
        "key": key,
        "history_limit": HISTORY_LIMIT,
    }
    row = (await session.execute(statement, params)).mappings().first()
    if row is None:
        raise NotFound(f"There is no extraction for {key}. It may have been removed; reload the queue.")
    corrections = [CorrectionEntry.model_validate(c) for c in row["corrections"]]
    # Waiting for its second reviewer, a QA item keeps its first decision to itself: the corrections made
    # in this run before then (the first reviewer's, now undone) are not shown, nor are that decision's events.
    first = row["first_reviewer"]

    def first_decision(by: str | None, at: dt.datetime) -> bool:
        return first is not None and by == first and at >= row["extracted_at"]

    corrections = [c for c in corrections if not first_decision(c.by, c.at)]
    # A re-extraction replaces the values: only corrections made since then mark a field as corrected
    # (the older ones stay in the list, as history).
    corrected = {c.field for c in corrections if c.at >= row["extracted_at"]}
    weighed = weighed_fields(row["refund_calculation_method"])
    fields = [
        FieldDetail(
            name=name,
            label=FIELD_LABELS[name],
            value=row[name],
            confidence=row[f"{name}_confidence"],
            threshold=row[f"{name}_threshold"],
            below_threshold=name in weighed
            and row[f"{name}_confidence"] is not None
            and row[f"{name}_confidence"] < row[f"{name}_threshold"],
            weighed=name in weighed,
            source=row[f"{name}_source"],
            corrected=name in corrected,
        )
        for name in FIELD_NAMES
    ]
    claim = None
    if row["claim_live"]:
        claim = ClaimInfo(
            user_id=row["claimed_by"],
            username=row["claimant"],
            claimed_at=row["claimed_at"],
            expires_at=row["claim_expires_at"],
        )
    # A pending QA item keeps its confidence from the reviewer (ExtractionDetail.confidence_hidden):
    # its history must not give it away either (the extract event names the lowest confidence).
    hidden = row["qa_sample"] and row["status"] == "pending"
    history = [
        entry
        for h in row["history"]
        for data in [_without_confidence(h["data"]) if hidden else h["data"]]
        for entry in [
            HistoryEntry(
                event_type=h["event_type"],
                by=h["by"],
                at=h["at"],
                summary=summarize_event(h["event_type"], data),
                data=data,
            )
        ]
        if not (entry.event_type in FIRST_DECISION_EVENTS and first_decision(entry.by, entry.at))
    ]
    built = {"fields", "claim", "corrections", "history", "refund"}
    plain = {k: row[k] for k in ExtractionDetail.model_fields if k in row and k not in built}
    refund = await _refund_preview(session, row)
    return ExtractionDetail(
        **plain, fields=fields, claim=claim, corrections=corrections, history=history, refund=refund
    )


def _without_confidence(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if "confidence" not in key}


async def reload_after_commit(
    session: AsyncSession, extraction_id: uuid.UUID, saved: str
) -> ExtractionDetail:
    """The detail read back after a commit; if that read fails, the error says the change is stored.

    Whatever fails here (most often the connection dropping between COMMIT and the read) fails after the
    change and its audit event were committed, so "nothing was saved" would be false.
    """
    try:
        return await load_detail(session, extraction_id)
    except Exception as exc:
        raise SavedButNotReloaded(saved) from exc


async def get_detail(ctx: ServiceContext, extraction_id: uuid.UUID) -> ExtractionDetail:
    return await _get_detail(ctx, _DETAIL_BY_ID, extraction_id)


async def get_detail_by_contract(ctx: ServiceContext, contract_id: str) -> ExtractionDetail:
    return await _get_detail(ctx, _DETAIL_BY_CONTRACT, checked_contract_id(contract_id))


async def _get_detail(ctx: ServiceContext, statement: Any, key: object) -> ExtractionDetail:
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_CONTRACT)
        detail = await _load_detail(uow.session, statement, key)
        uow.record(
            ctx.actor.event("view", contract_id=detail.contract_id, extraction_id=str(detail.extraction_id))
        )
        await uow.commit()
    return detail
