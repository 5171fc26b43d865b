"""Extracting stored contracts and storing the results: a list of them, or every one due.

An LLM call can take a minute, longer than the database lets a transaction sit idle and far longer than
anyone should hold a lock, so the work for each contract is split: read its text, run the engine with no
transaction open, then write in ONE transaction the extraction row, its ``extract`` event and the metrics
of any day it left, after checking (with the contract row share-locked) that the document is still the one
that was read. A provider failure never reaches the database half-done: the engine has already replaced
it by the rules fallback, and the row says so in ``fallback_from`` / ``fallback_reason``.

A re-extraction replaces the fields in place: the row goes back to ``pending`` with ``version + 1`` (so a
review screen still showing the old values is refused when it writes), its claim and decision are cleared,
and ``extracted_at`` moves to now. Earlier decisions and corrections stay in the audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Row, Select, Text, and_, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.models import Contract, Extraction
from db.uow import AuditRecord
from services.access import authorize
from services.context import ServiceContext, system_actor
from services.domain import FIELD_NAMES, ProviderName
from services.errors import InvalidInput, ServiceError
from services.extraction.engine import ExtractionEngine, ExtractionOutcome
from services.extraction.providers.registry import check_provider_name
from services.metrics.refresh import refresh_metrics_for_days
from services.permissions import Permission
from services.quality.routing import Route, Routing, route
from services.refunds.field_checks import flagged_fields
from services.system_settings import SystemSettings, load_system_settings

log = logging.getLogger(__name__)

MAX_CONCURRENCY = 16
MAX_CONTRACT_IDS = 100_000
# Problems listed in a batch report; the counts cover all of them.
MAX_REPORTED_PROBLEMS = 100
MAX_REPORTED_REASONS = 20
_CHUNK = 100
_CHANGED_MEANWHILE = (
    "its document changed while it was being extracted; nothing was stored, run extract again"
)

Progress = Callable[[int, int], None]


class ContractExtraction(BaseModel):
    """A stored extraction: what was extracted, by whom, at what cost."""

    model_config = ConfigDict(frozen=True)

    contract_id: str
    extraction_id: uuid.UUID
    version: int
    provider: ProviderName
    model_version: str
    prompt_version: str
    fallback_from: str | None
    fallback_reason: str | None
    min_confidence: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    processing_ms: int
    warnings: list[str]
    extracted_at: dt.datetime
    route: Route = "review"


class ExtractionProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str
    reason: str


class ExtractionBatch(BaseModel):
    """What a batch did; ``problems`` lists the first MAX_REPORTED_PROBLEMS failed or skipped contracts."""

    selected: int = 0
    extracted: int = 0
    failed: int = 0
    skipped: int = 0
    fallbacks: int = 0
    below_threshold: int = 0
    qa_samples: int = 0
    auto_approved: int = 0
    by_provider: dict[str, int] = Field(default_factory=dict)
    fallback_reasons: dict[str, int] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal("0.000000")
    seconds: float = 0.0
    problems: list[ExtractionProblem] = Field(default_factory=list)

    def add_problem(self, contract_id: str, reason: str) -> None:
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(ExtractionProblem(contract_id=contract_id, reason=reason))

    def count(self, stored: ContractExtraction) -> None:
        self.extracted += 1
        self.by_provider[stored.provider] = self.by_provider.get(stored.provider, 0) + 1
        if stored.fallback_reason is not None:
            self.fallbacks += 1
            if (
                stored.fallback_reason in self.fallback_reasons
                or len(self.fallback_reasons) < MAX_REPORTED_REASONS
            ):
                self.fallback_reasons[stored.fallback_reason] = (
                    self.fallback_reasons.get(stored.fallback_reason, 0) + 1
                )
        self.below_threshold += stored.route == "review"
        self.qa_samples += stored.route == "qa_sample"
        self.auto_approved += stored.route == "auto_approve"
        self.prompt_tokens += stored.prompt_tokens
        self.completion_tokens += stored.completion_tokens
        self.cost_usd += stored.cost_usd


class _Document(BaseModel):
    contract_id: str
    text: str | None
    text_status: str
    updated_at: dt.datetime
    previous_extracted_at: dt.datetime | None


class _Failed(Exception):
    """One contract could not be extracted; the batch goes on, a single extraction reports it."""

    def __init__(self, reason: str, *, recorded: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.recorded = recorded


def _documents() -> Select[Any]:
    return select(
        Contract.contract_id,
        Contract.document_text.label("text"),
        Contract.text_extraction_status.label("text_status"),
        Contract.updated_at,
        Extraction.extracted_at.label("previous_extracted_at"),
    ).outerjoin(Extraction, Extraction.contract_id == Contract.contract_id)


def _due() -> ColumnElement[bool]:
    """Contracts with text and no extraction, or whose document changed after their extraction."""
    return and_(
        Contract.text_extraction_status == "extracted",
        Contract.document_text.is_not(None),
        or_(Extraction.id.is_(None), Contract.updated_at > Extraction.extracted_at),
    )


def _document(row: Row[Any]) -> _Document:
    return _Document.model_validate(row._mapping)


def _without_text(document: _Document) -> str | None:
    if document.text_status == "extracted" and document.text:
        return None
    return f"it has no document text (text extraction {document.text_status}); ingest its document first"


def _utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


@asynccontextmanager
async def _engine_for(
    engine: ExtractionEngine | None, settings: SystemSettings
) -> AsyncIterator[ExtractionEngine]:
    """The caller's engine (kept open: it may serve many calls), else one for this call only."""
    if engine is not None:
        yield engine
        return
    async with ExtractionEngine(settings) as own:
        yield own


async def extract_contracts(
    ctx: ServiceContext,
    *,
    contract_ids: Sequence[str] | None = None,
    all: bool = False,
    provider: str | None = None,
    concurrency: int = 4,
    progress: Progress | None = None,
    engine: ExtractionEngine | None = None,
) -> ExtractionBatch:
    """Extract the named contracts (always, even if up to date) or ``all`` that are due.

    Due: with text, and no extraction or a document changed after it. ``concurrency`` contracts are in
    flight at once; ``progress(done, total)`` is called after each. One contract failing (recorded as
    ``extract_failed``) or changing meanwhile (skipped) does not stop the batch; a database or session
    failure does.
    """
    if (contract_ids is None) == (not all):
        raise InvalidInput("Name the contracts to extract, or ask for all that are due: one of the two.")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(f"Concurrency is 1 to {MAX_CONCURRENCY} contracts at a time.")
    wanted = list(dict.fromkeys(contract_ids or ()))
    if contract_ids is not None and not 1 <= len(wanted) <= MAX_CONTRACT_IDS:
        raise InvalidInput(f"Name 1 to {MAX_CONTRACT_IDS:,} contracts.")
    started = time.perf_counter()
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
        if provider is not None:
            check_provider_name(provider)
        settings = await load_system_settings(uow.session)
        if all:
            total = await uow.session.scalar(
                select(func.count()).select_from(_documents().where(_due()).subquery())
            )
        else:
            # One array parameter, however many ids (an IN list is limited to 32,767 parameters).
            known = set(
                (
                    await uow.session.scalars(
                        select(Contract.contract_id).where(
                            Contract.contract_id == any_(bindparam("ids", wanted, type_=ARRAY(Text)))
                        )
                    )
                ).all()
            )
            unknown = [contract_id for contract_id in wanted if contract_id not in known]
            if unknown:
                shown = ", ".join(unknown[:5]) + (
                    f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
                )
                raise InvalidInput(f"There is no contract {shown}.")
            total = len(wanted)
    report = ExtractionBatch(selected=total or 0)
    queue: asyncio.Queue[_Document | None] = asyncio.Queue(maxsize=2 * concurrency)
    extracted_days: set[dt.date] = set()

    async def feed() -> None:
        async for chunk in _chunks(ctx, None if all else wanted):
            for document in chunk:
                await queue.put(document)
        for _ in range(concurrency):
            await queue.put(None)

    async def work(running: ExtractionEngine) -> None:
        while (document := await queue.get()) is not None:
            try:
                stored = await _extract_one(ctx, running, document, provider)
            except _Failed as failure:
                report.failed += failure.recorded
                report.skipped += not failure.recorded
                report.add_problem(document.contract_id, failure.reason)
            else:
                extracted_days.add(_utc_day(stored.extracted_at))
                report.count(stored)
            if progress is not None:
                done = report.extracted + report.failed + report.skipped
                progress(done, max(done, report.selected))

    async with _engine_for(engine, settings) as running:
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(feed())
                for _ in range(concurrency):
                    tasks.create_task(work(running))
        except ExceptionGroup as group:
            raise group.exceptions[0] from group
    if extracted_days:
        # The days the batch extracted into, refreshed once at the end: per contract this would re-read
        # the whole day every time. Should the process stop before this, the next incremental refresh
        # finds these rows by their updated_at (a day an extraction LEFT is refreshed with its write).
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
            await refresh_metrics_for_days(uow.session, extracted_days)
            await uow.commit()
    report.seconds = time.perf_counter() - started
    return report


async def _chunks(ctx: ServiceContext, contract_ids: list[str] | None) -> AsyncIterator[list[_Document]]:
    """The documents to extract, a chunk per short transaction: the named ones, else every due one."""
    if contract_ids is not None:
        for first in range(0, len(contract_ids), _CHUNK):
            async with ctx.unit_of_work() as uow:
                await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
                rows = await uow.session.execute(
                    _documents().where(Contract.contract_id.in_(contract_ids[first : first + _CHUNK]))
                )
                chunk = [_document(row) for row in rows]
            yield chunk
        return
    after = ""
    while True:
        # Keyset order on the primary key: each chunk starts where the previous one ended, so the scan
        # for due contracts never starts over, however many are already up to date.
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
            rows = await uow.session.execute(
                _documents()
                .where(_due(), Contract.contract_id > after)
                .order_by(Contract.contract_id)
                .limit(_CHUNK)
            )
            chunk = [_document(row) for row in rows]
        if not chunk:
            return
        yield chunk
        after = chunk[-1].contract_id


async def _extract_one(
    ctx: ServiceContext,
    engine: ExtractionEngine,
    document: _Document,
    provider: str | None,
) -> ContractExtraction:
    missing = _without_text(document)
    if missing:
        raise _Failed(missing, recorded=False)
    assert document.text is not None
    try:
        outcome = await engine.extract(document.text, provider)
    except ServiceError:
        raise
    except Exception as exc:
        # A defect of the extractor on one document must not stop a batch of thousands; it is recorded
        # and logged with its traceback for whoever fixes it.
        log.exception("extraction of %s failed", document.contract_id)
        reason = f"the extractor failed ({type(exc).__name__}: {exc})"[:500]
        await _record_failure(
            ctx, document.contract_id, provider or engine.settings.llm_default_provider, reason
        )
        raise _Failed(reason, recorded=True) from exc
    stored = await _store(ctx, document, outcome, engine.settings)
    if stored is None:
        raise _Failed(_CHANGED_MEANWHILE, recorded=False)
    return stored


def _upsert_statement() -> Any:
    """INSERT ... ON CONFLICT DO UPDATE for one extraction, built once: building it costs more than running it.

    A re-extraction resets the review (pending, no claim, no decision), bumps the version and moves
    extracted_at to now; a first extraction takes the column defaults (version 1, now).
    """
    table = Extraction.__table__
    sources = {f"{name}_source" for name in FIELD_NAMES}
    columns = [
        "contract_id",
        *(column for name in FIELD_NAMES for column in (name, f"{name}_confidence", f"{name}_source")),
        *_RUN_COLUMNS,
    ]
    # none_as_null: a field without a source is SQL NULL, not a JSON null (the column holds objects).
    values = {
        column: bindparam(
            column, type_=JSONB(none_as_null=True) if column in sources else table.c[column].type
        )
        for column in columns
    }
    insert = pg_insert(table).values(values)
    reset = {
        "status": "pending",
        "claimed_by": None,
        "claimed_at": None,
        "claim_expires_at": None,
        "reviewed_by": None,
        "reviewed_at": None,
        "review_seconds": None,
        "rejection_reason": None,
        "version": table.c.version + 1,
        "extracted_at": func.now(),
    }
    return insert.on_conflict_do_update(
        index_elements=[table.c.contract_id],
        set_={**{column: insert.excluded[column] for column in columns[1:]}, **reset},
    ).returning(table.c.id, table.c.version, table.c.extracted_at, table.c.min_confidence)


_RUN_COLUMNS = (
    "qa_sample",
    "refund_flags",
    "llm_provider",
    "model_version",
    "prompt_version",
    "fallback_from",
    "fallback_reason",
    "processing_time_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
)
_UPSERT = _upsert_statement()


_AUTO_APPROVE = (
    update(Extraction)
    .where(Extraction.id == bindparam("item"), Extraction.status == "pending")
    .values(status="approved", reviewed_at=func.now(), version=Extraction.version + 1)
    .returning(Extraction.version)
    .execution_options(synchronize_session=False)
)


async def _store(
    ctx: ServiceContext,
    document: _Document,
    outcome: ExtractionOutcome,
    settings: SystemSettings,
) -> ContractExtraction | None:
    """Write the extraction, its event and the metrics of the day it left; None if the document changed.

    The day it moves to is refreshed once, by the batch, when the batch ends.
    The routing (services/quality/routing.py) is decided here, so that the QA draw, the automatic approval
    and their events are written in the same transaction as the extraction itself.
    """
    result = outcome.result
    values: dict[str, Any] = {
        "contract_id": document.contract_id,
        "llm_provider": result.provider,
        "model_version": result.model_version,
        "prompt_version": result.prompt_version,
        "fallback_from": outcome.fallback_from,
        "fallback_reason": outcome.fallback_reason,
        "processing_time_ms": result.processing_ms,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": outcome.cost_usd,
    }
    for field in result.fields():
        values[field.name] = field.value
        values[f"{field.name}_confidence"] = field.confidence
        values[f"{field.name}_source"] = None if field.source is None else field.source.to_json()
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
        session = uow.session
        unchanged = (
            await session.execute(
                select(Contract.contract_date)
                .where(
                    Contract.contract_id == document.contract_id, Contract.updated_at == document.updated_at
                )
                .with_for_update(read=True)
            )
        ).first()
        if unchanged is None:
            return None
        state, fee = result.governing_state.value, result.cancellation_fee.value
        flagged = await flagged_fields(
            session,
            state=state if isinstance(state, str) else None,
            contract_date=unchanged.contract_date,
            method=result.method,
            fee=fee if isinstance(fee, Decimal) else None,
        )
        routing = route(
            {field.name: field.confidence for field in result.fields()},
            settings,
            missing=tuple(field.name for field in result.fields() if field.value is None),
            provider=result.provider,
            method=result.method,
            flagged=tuple(flagged),
        )
        values |= {"qa_sample": routing.qa_sample, "refund_flags": flagged}
        row = (await session.execute(_UPSERT, values)).one()
        days = set() if document.previous_extracted_at is None else {_utc_day(document.previous_extracted_at)}
        await refresh_metrics_for_days(session, days - {_utc_day(row.extracted_at)})
        stored = ContractExtraction(
            contract_id=document.contract_id,
            extraction_id=row.id,
            version=row.version,
            provider=check_provider_name(result.provider),
            model_version=result.model_version,
            prompt_version=result.prompt_version,
            fallback_from=outcome.fallback_from,
            fallback_reason=outcome.fallback_reason,
            min_confidence=row.min_confidence,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=outcome.cost_usd,
            processing_ms=result.processing_ms,
            warnings=list(outcome.warnings),
            extracted_at=row.extracted_at,
            route=routing.route,
        )
        uow.record(
            ctx.actor.event(
                "extract",
                contract_id=document.contract_id,
                **_event_data(stored, outcome),
                route=routing.route,
                route_reason=routing.reason,
            )
        )
        if routing.auto_approve:
            version = await session.scalar(_AUTO_APPROVE, {"item": row.id})
            stored = stored.model_copy(update={"version": version})
            uow.record(_auto_approve_event(document.contract_id, stored, routing, ctx.actor.username))
        await uow.commit()
    return stored


def _auto_approve_event(
    contract_id: str, stored: ContractExtraction, routing: Routing, run_by: str
) -> AuditRecord:
    """The system's approval, by what and under which thresholds: "approved" always says by whom or what."""
    return system_actor("refund-review auto-approve").event(
        "auto_approve",
        contract_id=contract_id,
        extraction_id=str(stored.extraction_id),
        version=stored.version,
        thresholds=dict(routing.thresholds),
        min_confidence=stored.min_confidence,
        extraction_run_by=run_by,
    )


def _event_data(stored: ContractExtraction, outcome: ExtractionOutcome) -> dict[str, Any]:
    data: dict[str, Any] = {
        "extraction_id": str(stored.extraction_id),
        "version": stored.version,
        "provider": stored.provider,
        "requested_provider": outcome.requested_provider,
        "model": stored.model_version,
        "prompt_version": stored.prompt_version,
        "prompt_tokens": stored.prompt_tokens,
        "completion_tokens": stored.completion_tokens,
        "cost_usd": str(stored.cost_usd),
        "processing_ms": stored.processing_ms,
        "min_confidence": stored.min_confidence,
        "attempts": outcome.attempts,
        "fallback_from": stored.fallback_from,
        "fallback_reason": stored.fallback_reason,
    }
    if outcome.discarded_usage is not None:
        data["discarded"] = {
            "model": outcome.discarded_usage.model_version,
            "prompt_tokens": outcome.discarded_usage.prompt_tokens,
            "completion_tokens": outcome.discarded_usage.completion_tokens,
            "cost_usd": str(outcome.discarded_cost_usd),
        }
    if stored.warnings:
        data["warnings"] = stored.warnings
    return data


async def _record_failure(ctx: ServiceContext, contract_id: str, provider: str, reason: str) -> None:
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
        uow.record(
            ctx.actor.event("extract_failed", contract_id=contract_id, provider=provider, error=reason)
        )
        await uow.commit()
