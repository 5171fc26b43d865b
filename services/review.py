"""Reviewing one extraction: its detail beside the contract text, corrections, and decisions.

Every write carries the version the reviewer saw and is refused with a sentence naming who changed the
item and when, so that a stale screen can never overwrite someone else's work. The queue and claiming
live in services/queue.py; both share the refusal logic and the detail loader defined here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    Text,
    Update,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import AuditEvent, Correction, Extraction, SystemConfig, User
from services.access import authorize
from services.audit_log import summarize_event
from services.config import SystemSettings
from services.context import Actor, ServiceContext
from services.errors import Conflict, Forbidden, InvalidInput, NotFound, SavedButNotReloaded
from services.extraction.amounts import AmountError, parse_amount
from services.extraction.methods import canonical_method
from services.extraction.types import FIELD_LABELS, FIELD_NAMES, REFUND_METHODS, FieldName, RefundMethod
from services.input_text import contract_id as checked_contract_id
from services.input_text import typed_text
from services.permissions import Permission

ExtractionStatus = Literal["pending", "approved", "rejected"]

HISTORY_LIMIT = 50
UNDO_WINDOW = dt.timedelta(minutes=10)
MAX_REASON_CHARS = 500
MAX_NOTE_CHARS = 2000
# What a reviewer types for a cancellation fee the contract does not mention (stored as NULL). "none" and
# "no fee" are refused: they could as well mean 0.00, the fee of a contract that says it charges none.
NOT_STATED = "not stated"
_NOT_STATED_SPELLINGS = frozenset({"", NOT_STATED, "not-stated", "n/a"})
_AMBIGUOUS_FEE_WORDS = frozenset({"none", "no", "no fee", "nil", "null", "-"})

# A refund cannot be computed without these; a missing cancellation fee means "not stated" and is fine.
_NEEDED_FOR_APPROVAL: tuple[FieldName, ...] = ("gap_insurance_premium", "refund_calculation_method")
# Events that change what a reviewer sees; the latest one names who made a screen stale.
_CHANGE_EVENTS = ("correct", "approve", "reject", "reopen", "extract")


# The usual reasons to reject an extraction, offered by number so that a rejection is `x`, a digit,
# Enter. A rejection reason is free text (the schema keeps it as written); "other" asks for it typed.
REJECTION_REASONS: tuple[str, ...] = (
    "The document is not a GAP contract",
    "The contract text is unreadable or incomplete",
    "The text belongs to another contract",
    "The contract states no GAP premium",
    "Duplicate of another contract",
)


class CorrectionReason(StrEnum):
    """The reason codes allowed by corrections_reason_code_valid."""

    MISREAD_VALUE = "misread_value"
    WRONG_SOURCE = "wrong_source"
    MISSING_VALUE = "missing_value"
    NOT_IN_CONTRACT = "not_in_contract"
    METHOD_MISCLASSIFIED = "method_misclassified"
    DOCUMENT_QUALITY = "document_quality"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class FieldDetail(BaseModel):
    name: FieldName
    label: str
    value: Decimal | str | None
    confidence: int
    below_threshold: bool
    # As stored: page, line, section, start, end, quote, alignment and (sometimes) note.
    source: dict[str, Any] | None
    corrected: bool

    @property
    def display_value(self) -> str:
        return display_value(self.value)


class ClaimInfo(BaseModel):
    user_id: uuid.UUID
    username: str
    claimed_at: dt.datetime
    expires_at: dt.datetime


class CorrectionEntry(BaseModel):
    field: FieldName
    old: str | None
    new: str | None
    reason: CorrectionReason
    note: str | None
    by: str
    at: dt.datetime


class HistoryEntry(BaseModel):
    event_type: str
    by: str | None
    at: dt.datetime
    summary: str
    data: dict[str, Any]


class ExtractionDetail(BaseModel):
    """Everything the review screen shows for one extraction, read in one statement."""

    model_config = ConfigDict(protected_namespaces=())

    extraction_id: uuid.UUID
    contract_id: str
    account_number: str
    customer_name: str
    contract_type: str
    contract_date: dt.date | None
    vehicle_info: dict[str, Any]
    page_count: int | None
    document_text: str | None
    fields: list[FieldDetail]
    min_confidence: int
    threshold: int
    llm_provider: str
    model_version: str
    prompt_version: str
    fallback_from: str | None
    fallback_reason: str | None
    processing_time_ms: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    extracted_at: dt.datetime
    status: ExtractionStatus
    version: int
    claim: ClaimInfo | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_seconds: int | None
    rejection_reason: str | None
    corrections: list[CorrectionEntry]
    history: list[HistoryEntry]
    as_of: dt.datetime

    def field(self, name: FieldName) -> FieldDetail:
        return next(f for f in self.fields if f.name == name)

    def claimed_by(self, user_id: uuid.UUID | None) -> bool:
        return self.claim is not None and self.claim.user_id == user_id


class Decision(BaseModel):
    """The outcome of approve, reject, or reopen; `undo_until` tells the screen how long undo is offered."""

    extraction_id: uuid.UUID
    contract_id: str
    status: ExtractionStatus
    version: int
    decided_by: str
    decided_at: dt.datetime
    review_seconds: int | None = None
    reason: str | None = None
    undo_until: dt.datetime | None = None


# --- shared with services/queue.py -------------------------------------------------------------------

# Spelled as a literal, not a bind parameter: only then can a prepared (generic) plan use the partial
# index extractions_queue_idx, whose predicate is status = 'pending'.
IS_PENDING: ColumnElement[bool] = Extraction.status == literal_column("'pending'")
# The reviewer and the item in the hot write statements, which are built once: building one costs more
# Python than the database spends running it.
ACTOR = bindparam("actor", type_=PG_UUID(as_uuid=True))
ITEM = bindparam("item", type_=PG_UUID(as_uuid=True))


def setting(key: str, type_: type[Integer] | type[Boolean]) -> ColumnElement[Any]:
    """A system_config value inline in a statement, so hot paths read settings without a round trip."""
    default = SystemSettings.model_fields[key].default
    return func.coalesce(
        select(cast(SystemConfig.value, type_)).where(SystemConfig.key == key).scalar_subquery(),
        default,
    )


def lease_end() -> ColumnElement[Any]:
    return func.now() + func.make_interval(0, 0, 0, 0, 0, setting("claim_lease_minutes", Integer))


def claim_open_to(user_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The item is unclaimed, claimed by this user, or its lease has run out."""
    return or_(
        Extraction.claimed_by.is_(None),
        Extraction.claimed_by == user_id,
        Extraction.claim_expires_at <= func.now(),
    )


def display_value(value: Decimal | str | None) -> str:
    if value is None:
        return NOT_STATED
    return format(value, "f") if isinstance(value, Decimal) else value


def clock(moment: dt.datetime) -> str:
    """A time for a sentence, in the reader's local time: "14:02", or "2024-05-01 14:02" if not today."""
    local = moment.astimezone()
    if local.date() == dt.datetime.now().astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ItemState:
    """What a refusal needs to explain itself: status, version, claim and last decision of one item."""

    contract_id: str
    status: str
    version: int
    claimed_by: uuid.UUID | None
    claimant: str | None
    claim_expires_at: dt.datetime | None
    claim_live: bool
    reviewed_by: uuid.UUID | None
    reviewer: str | None
    reviewed_at: dt.datetime | None
    values: dict[FieldName, Decimal | str | None]
    require_reason: bool
    as_of: dt.datetime

    def held_by_other(self, user_id: uuid.UUID | None) -> bool:
        return self.claim_live and self.claimed_by != user_id


# Built once: an alias made per call costs more Python than the query's whole round trip.
_CLAIMANT, _REVIEWER = aliased(User), aliased(User)


def _state_statement(*, lock: bool) -> Select[Any]:
    claimant, reviewer = _CLAIMANT, _REVIEWER
    stmt = (
        select(
            Extraction.contract_id,
            Extraction.status,
            Extraction.version,
            Extraction.claimed_by,
            claimant.username.label("claimant"),
            Extraction.claim_expires_at,
            func.coalesce(Extraction.claim_expires_at > func.now(), False).label("claim_live"),
            Extraction.reviewed_by,
            reviewer.username.label("reviewer"),
            Extraction.reviewed_at,
            *(getattr(Extraction, name) for name in FIELD_NAMES),
            setting("require_correction_reason", Boolean).label("require_reason"),
            func.now().label("as_of"),
        )
        .outerjoin(claimant, claimant.id == Extraction.claimed_by)
        .outerjoin(reviewer, reviewer.id == Extraction.reviewed_by)
        .where(Extraction.id == ITEM)
    )
    return stmt.with_for_update(of=Extraction) if lock else stmt


_STATE = {lock: _state_statement(lock=lock) for lock in (False, True)}


async def load_state(session: AsyncSession, extraction_id: uuid.UUID, *, lock: bool = False) -> ItemState:
    row = (await session.execute(_STATE[lock], {"item": extraction_id})).first()
    if row is None:
        raise NotFound("That extraction does not exist (any more). Reload the queue.")
    return ItemState(
        contract_id=row.contract_id,
        status=row.status,
        version=row.version,
        claimed_by=row.claimed_by,
        claimant=row.claimant,
        claim_expires_at=row.claim_expires_at,
        claim_live=row.claim_live,
        reviewed_by=row.reviewed_by,
        reviewer=row.reviewer,
        reviewed_at=row.reviewed_at,
        values={name: getattr(row, name) for name in FIELD_NAMES},
        require_reason=row.require_reason,
        as_of=row.as_of,
    )


def _who(username: str | None, actor: Actor) -> str:
    if username is None:
        return "the system"
    return "you" if username == actor.username else username


def decided_conflict(state: ItemState, actor: Actor) -> Conflict:
    when = f" at {clock(state.reviewed_at)}" if state.reviewed_at else ""
    return Conflict(
        f"{state.contract_id} was already {state.status} by {_who(state.reviewer, actor)}{when} "
        "— reload to see the decision."
    )


def claimed_conflict(state: ItemState, actor: Actor) -> Conflict:
    until = clock(state.claim_expires_at) if state.claim_expires_at else "later"
    return Conflict(
        f"{state.contract_id} is being reviewed by {_who(state.claimant, actor)} (claimed until {until}); "
        "it stays theirs until they finish, release it or the claim runs out."
    )


async def changed_conflict(session: AsyncSession, state: ItemState, actor: Actor) -> Conflict:
    last = (
        await session.execute(
            select(AuditEvent.occurred_at, User.username)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.contract_id == state.contract_id, AuditEvent.event_type.in_(_CHANGE_EVENTS))
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    ).first()
    if last is None:
        return Conflict(f"{state.contract_id} has changed since you opened it — reload to see the change.")
    return Conflict(
        f"{state.contract_id} was changed by {_who(last.username, actor)} at {clock(last.occurred_at)} "
        "— reload to see the change."
    )


async def ensure_writable(
    session: AsyncSession, state: ItemState, actor: Actor, expected_version: int
) -> None:
    """Raise the Conflict that explains why this pending-item write cannot be applied, if any."""
    if state.status != "pending":
        raise decided_conflict(state, actor)
    if state.held_by_other(actor.user_id):
        raise claimed_conflict(state, actor)
    if state.version != expected_version:
        raise await changed_conflict(session, state, actor)


# --- the detail ---------------------------------------------------------------------------------------

_DETAIL_SQL = """
SELECT e.id AS extraction_id, e.contract_id, c.account_number, c.customer_name, c.contract_type,
       c.contract_date, c.vehicle_info, c.page_count, c.document_text,
       e.gap_insurance_premium, e.gap_insurance_premium_confidence, e.gap_insurance_premium_source,
       e.refund_calculation_method, e.refund_calculation_method_confidence, e.refund_calculation_method_source,
       e.cancellation_fee, e.cancellation_fee_confidence, e.cancellation_fee_source,
       e.min_confidence, e.llm_provider, e.model_version, e.prompt_version, e.fallback_from,
       e.fallback_reason, e.processing_time_ms, e.prompt_tokens, e.completion_tokens, e.cost_usd,
       e.extracted_at, e.status, e.version, e.reviewed_at, e.review_seconds, e.rejection_reason,
       reviewer.username AS reviewed_by,
       e.claim_expires_at > now() AS claim_live, e.claimed_by, claimant.username AS claimant,
       e.claimed_at, e.claim_expires_at,
       coalesce((SELECT value::integer FROM system_config WHERE key = 'confidence_threshold'),
                :default_threshold) AS threshold,
       now() AS as_of,
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
 WHERE {key}
"""
_JSON_COLUMNS = dict.fromkeys(
    (
        "vehicle_info",
        "gap_insurance_premium_source",
        "refund_calculation_method_source",
        "cancellation_fee_source",
        "corrections",
        "history",
    ),
    JSONB,
)
_DETAIL_BY_ID = text(_DETAIL_SQL.format(key="e.id = :key")).columns(**_JSON_COLUMNS)
_DETAIL_BY_CONTRACT = text(_DETAIL_SQL.format(key="e.contract_id = :key")).columns(**_JSON_COLUMNS)


async def load_detail(session: AsyncSession, extraction_id: uuid.UUID) -> ExtractionDetail:
    return await _load_detail(session, _DETAIL_BY_ID, extraction_id)


async def _load_detail(session: AsyncSession, statement: Any, key: object) -> ExtractionDetail:
    params = {
        "key": key,
        "default_threshold": SystemSettings.model_fields["confidence_threshold"].default,
        "history_limit": HISTORY_LIMIT,
    }
    row = (await session.execute(statement, params)).mappings().first()
    if row is None:
        raise NotFound(f"There is no extraction for {key}. It may have been removed; reload the queue.")
    corrections = [CorrectionEntry.model_validate(c) for c in row["corrections"]]
    # A re-extraction replaces the values: only corrections made since then mark a field as corrected
    # (the older ones stay in the list, as history).
    corrected = {c.field for c in corrections if c.at >= row["extracted_at"]}
    fields = [
        FieldDetail(
            name=name,
            label=FIELD_LABELS[name],
            value=row[name],
            confidence=row[f"{name}_confidence"],
            below_threshold=row[f"{name}_confidence"] < row["threshold"],
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
    history = [
        HistoryEntry(
            event_type=h["event_type"],
            by=h["by"],
            at=h["at"],
            summary=summarize_event(h["event_type"], h["data"]),
            data=h["data"],
        )
        for h in row["history"]
    ]
    built = {"fields", "claim", "corrections", "history"}
    plain = {k: row[k] for k in ExtractionDetail.model_fields if k in row and k not in built}
    return ExtractionDetail(**plain, fields=fields, claim=claim, corrections=corrections, history=history)


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


# --- corrections --------------------------------------------------------------------------------------


def parse_field_value(field: FieldName, raw: str) -> Decimal | RefundMethod | None:
    """The value a reviewer typed, in the field's stored type; InvalidInput says how to fix it."""
    words = " ".join(raw.split()).lower()
    if field == "refund_calculation_method":
        method = canonical_method(raw) if words else None
        if method is None:
            raise InvalidInput(f"Type a refund method: one of {', '.join(REFUND_METHODS)}.")
        return method
    if field == "cancellation_fee":
        if words in _NOT_STATED_SPELLINGS:
            return None
        if words in _AMBIGUOUS_FEE_WORDS:
            raise InvalidInput(
                f"{raw.strip()!r} is ambiguous: type 0 if the contract says there is no cancellation fee, "
                f"or leave it empty (or type {NOT_STATED!r}) if the contract does not mention one."
            )
    elif words in _NOT_STATED_SPELLINGS | _AMBIGUOUS_FEE_WORDS:
        raise InvalidInput(
            "A GAP premium must be an amount such as 1250.00. If the contract states none, "
            "reject the extraction with that reason."
        )
    try:
        return parse_amount(raw)
    except AmountError as exc:
        # The label's own capitals kept ("GAP premium", as every screen writes it, not "Gap premium").
        label = FIELD_LABELS[field]
        raise InvalidInput(f"{label[:1].upper()}{label[1:]}: {exc}") from exc


def _is_field(name: str) -> TypeGuard[FieldName]:
    return name in FIELD_NAMES


def checked_field(field: str) -> FieldName:
    if not _is_field(field):
        raise InvalidInput(f"There is no field {field!r}; choose one of {', '.join(FIELD_NAMES)}.")
    return field


def _reason_code(reason_code: str) -> CorrectionReason:
    try:
        return CorrectionReason(reason_code)
    except ValueError:
        codes = ", ".join(r.value for r in CorrectionReason)
        raise InvalidInput(f"Choose a reason for the correction: one of {codes}.") from None


def _stored_text(value: Decimal | str | None) -> str | None:
    return None if value is None else display_value(value)


_INSERT_CORRECTION = insert(Correction).values(
    extraction_id=ITEM,
    field_name=bindparam("field", type_=Text),
    original_value=bindparam("original", type_=Text),
    corrected_value=bindparam("corrected", type_=Text),
    reason_code=bindparam("reason", type_=Text),
    reason_note=bindparam("note", type_=Text),
    corrected_by=ACTOR,
)


def _correct_statement(name: FieldName) -> Update:
    """The field's new value; the version moves on, and the reviewer's own lease is renewed."""
    column = getattr(Extraction, name)
    return (
        update(Extraction)
        .where(Extraction.id == ITEM)
        .values(
            {
                column: bindparam("value", type_=column.type),
                Extraction.version: Extraction.version + 1,
                Extraction.claim_expires_at: case(
                    (Extraction.claimed_by == ACTOR, lease_end()),
                    else_=Extraction.claim_expires_at,
                ),
            }
        )
        .execution_options(synchronize_session=False)
    )


_CORRECT: dict[str, Update] = {name: _correct_statement(name) for name in FIELD_NAMES}


async def correct_field(
    ctx: ServiceContext,
    extraction_id: uuid.UUID,
    expected_version: int,
    field: str,
    new_value: str,
    reason_code: str,
    note: str | None = None,
) -> ExtractionDetail:
    """Change one field, keeping the original in `corrections`; the reviewer's own claim is renewed."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.CORRECT)
        name = checked_field(field)
        value = parse_field_value(name, new_value)
        reason = _reason_code(reason_code)
        note = typed_text(note or "", what="The note", max_chars=MAX_NOTE_CHARS, multiline=True) or None
        session = uow.session
        state = await load_state(session, extraction_id, lock=True)
        await ensure_writable(session, state, ctx.actor, expected_version)
        old = state.values[name]
        if old == value:
            raise InvalidInput(
                f"The {FIELD_LABELS[name]} is already {display_value(value)}; there is nothing to correct."
            )
        if note is None and (state.require_reason or reason is CorrectionReason.OTHER):
            raise InvalidInput("Add a note saying why the value is wrong; corrections need one here.")
        await session.execute(
            _INSERT_CORRECTION,
            {
                "item": extraction_id,
                "field": name,
                "original": _stored_text(old),
                "corrected": _stored_text(value),
                "reason": reason.value,
                "note": note,
                "actor": ctx.actor.user_id,
            },
        )
        await session.execute(
            _CORRECT[name], {"item": extraction_id, "value": value, "actor": ctx.actor.user_id}
        )
        uow.record(
            ctx.actor.event(
                "correct",
                contract_id=state.contract_id,
                extraction_id=str(extraction_id),
                field=name,
                old=_stored_text(old),
                new=_stored_text(value),
                reason=reason.value,
                note=note,
                version=state.version + 1,
            )
        )
        await uow.commit()
        # Read after the commit so that the history shown includes this correction.
        return await reload_after_commit(
            session, extraction_id, f"The {FIELD_LABELS[name]} of {state.contract_id} is corrected."
        )


# --- decisions ----------------------------------------------------------------------------------------


def _required_reason(reason: str | None, what: str) -> str:
    cleaned = typed_text(reason or "", what="The reason", max_chars=MAX_REASON_CHARS)
    if not cleaned:
        raise InvalidInput(f"Say why you {what}; the reason is kept with the decision.")
    return cleaned


def _decision(row: Any, actor: Actor, status: ExtractionStatus, **extra: Any) -> Decision:
    return Decision(
        extraction_id=row.id,
        contract_id=row.contract_id,
        status=status,
        version=row.version,
        decided_by=actor.username,
        decided_at=row.updated_at,
        **extra,
    )


async def approve(ctx: ServiceContext, extraction_id: uuid.UUID, expected_version: int) -> Decision:
    return await _decide(ctx, extraction_id, expected_version, "approved", None)


async def reject(
    ctx: ServiceContext, extraction_id: uuid.UUID, expected_version: int, reason: str
) -> Decision:
    return await _decide(ctx, extraction_id, expected_version, "rejected", reason)


def _decide_statement(status: Literal["approved", "rejected"]) -> Update:
    """The decision, if the item is still pending at the version the reviewer saw and open to them.

    An approval also needs every field that makes a refund computable (_NEEDED_FOR_APPROVAL).
    """
    complete = (
        [getattr(Extraction, name).is_not(None) for name in _NEEDED_FOR_APPROVAL]
        if status == "approved"
        else []
    )
    return (
        update(Extraction)
        .where(
            Extraction.id == ITEM,
            Extraction.version == bindparam("version", type_=Integer),
            IS_PENDING,
            claim_open_to(ACTOR),
            *complete,
        )
        .values(
            status=status,
            rejection_reason=bindparam("reason", type_=Text),
            reviewed_by=ACTOR,
            reviewed_at=func.now(),
            review_seconds=case(
                (
                    Extraction.claimed_by == ACTOR,
                    cast(func.extract("epoch", func.now() - Extraction.claimed_at), Integer),
                ),
                else_=None,
            ),
            claimed_by=None,
            claimed_at=None,
            claim_expires_at=None,
            version=Extraction.version + 1,
        )
        .returning(
            Extraction.id,
            Extraction.contract_id,
            Extraction.version,
            Extraction.updated_at,
            Extraction.review_seconds,
        )
        .execution_options(synchronize_session=False)
    )


_DECIDE: dict[str, Update] = {status: _decide_statement(status) for status in ("approved", "rejected")}


async def _decide(
    ctx: ServiceContext,
    extraction_id: uuid.UUID,
    expected_version: int,
    status: Literal["approved", "rejected"],
    reason: str | None,
) -> Decision:
    actor = ctx.actor
    async with ctx.unit_of_work() as uow:
        await authorize(uow, actor, Permission.DECIDE)
        if status == "rejected":
            reason = _required_reason(reason, "reject it")
        parameters = {
            "item": extraction_id,
            "version": expected_version,
            "actor": actor.user_id,
            "reason": reason,
        }
        row = (await uow.session.execute(_DECIDE[status], parameters)).first()
        if row is None:
            state = await load_state(uow.session, extraction_id)
            await ensure_writable(uow.session, state, actor, expected_version)
            missing = [FIELD_LABELS[n] for n in _NEEDED_FOR_APPROVAL if state.values[n] is None]
            if missing:
                raise InvalidInput(
                    f"{state.contract_id} has no {' and no '.join(missing)}: correct it or reject the extraction."
                )
            raise Conflict(f"{state.contract_id} changed while you were saving — reload and try again.")
        data: dict[str, Any] = {"extraction_id": str(extraction_id), "version": row.version}
        if status == "rejected":
            data["reason"] = reason
        if row.review_seconds is not None:
            data["review_seconds"] = row.review_seconds
        uow.record(
            actor.event("approve" if status == "approved" else "reject", contract_id=row.contract_id, **data)
        )
        await uow.commit()
    return _decision(
        row,
        actor,
        status,
        review_seconds=row.review_seconds,
        reason=reason,
        undo_until=row.updated_at + UNDO_WINDOW,
    )


async def reopen(
    ctx: ServiceContext, extraction_id: uuid.UUID, expected_version: int, reason: str
) -> Decision:
    """A supervisor sends a decided extraction back to the queue (unclaimed)."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.REOPEN)
        reason = _required_reason(reason, "reopen it")
        session = uow.session
        state = await load_state(session, extraction_id, lock=True)
        if state.status == "pending":
            raise Conflict(
                f"{state.contract_id} is already waiting for review; there is no decision to reopen."
            )
        if state.version != expected_version:
            raise await changed_conflict(session, state, ctx.actor)
        row = (
            await session.execute(
                _back_to_pending(extraction_id).returning(
                    Extraction.id, Extraction.contract_id, Extraction.version, Extraction.updated_at
                )
            )
        ).one()
        uow.record(
            ctx.actor.event(
                "reopen",
                contract_id=state.contract_id,
                extraction_id=str(extraction_id),
                previous_status=state.status,
                reason=reason,
                version=row.version,
            )
        )
        await uow.commit()
    return _decision(row, ctx.actor, "pending", reason=reason)


async def undo_last_decision(
    ctx: ServiceContext, extraction_id: uuid.UUID, expected_version: int
) -> ExtractionDetail:
    """The reviewer takes back their own approve or reject within UNDO_WINDOW and gets the item back, claimed."""
    actor = ctx.actor
    async with ctx.unit_of_work() as uow:
        await authorize(uow, actor, Permission.DECIDE)
        session = uow.session
        state = await load_state(session, extraction_id, lock=True)
        if state.status == "pending":
            raise Conflict(f"{state.contract_id} is not decided any more — reload to see who reopened it.")
        if state.reviewed_by != actor.user_id:
            raise Forbidden(
                f"{state.contract_id} was decided by {_who(state.reviewer, actor)}; you can undo only your own "
                "decisions. Ask a supervisor to reopen it."
            )
        if state.version != expected_version:
            raise await changed_conflict(session, state, actor)
        if state.reviewed_at is None or state.as_of - state.reviewed_at > UNDO_WINDOW:
            minutes = int(UNDO_WINDOW.total_seconds() // 60)
            raise Forbidden(
                f"Decisions can be undone for {minutes} minutes; ask a supervisor to reopen {state.contract_id}."
            )
        await session.execute(
            _back_to_pending(extraction_id).values(
                claimed_by=actor.user_id, claimed_at=func.now(), claim_expires_at=lease_end()
            )
        )
        uow.record(
            actor.event(
                "reopen",
                contract_id=state.contract_id,
                extraction_id=str(extraction_id),
                previous_status=state.status,
                undo=True,
                version=state.version + 1,
            )
        )
        await uow.commit()
        return await reload_after_commit(
            session, extraction_id, f"Your decision on {state.contract_id} is undone; it is yours again."
        )


def _back_to_pending(extraction_id: uuid.UUID) -> Any:
    return (
        update(Extraction)
        .where(Extraction.id == extraction_id)
        .values(
            status="pending",
            reviewed_by=None,
            reviewed_at=None,
            review_seconds=None,
            rejection_reason=None,
            version=Extraction.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
