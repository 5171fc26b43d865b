"""Approving, rejecting and reopening an extraction, and undoing one's own decision for a while."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from sqlalchemy import (
    Integer,
    Text,
    Update,
    bindparam,
    case,
    cast,
    func,
    update,
)

from db.models import Extraction
from services.access import authorize
from services.context import Actor, ServiceContext
from services.domain import FIELD_LABELS, ExtractionStatus, FieldName
from services.errors import Conflict, Forbidden, InvalidInput
from services.input_text import typed_text
from services.permissions import Permission
from services.quality.double_checks import awaiting_other_than, refuse_first_reviewer, settle_double_check
from services.review.detail import reload_after_commit
from services.review.state import changed_conflict, ensure_writable, load_state, who
from services.review.statements import ACTOR, IS_PENDING, ITEM, claim_open_to, lease_end
from services.review.types import Decision, ExtractionDetail

UNDO_WINDOW = dt.timedelta(minutes=10)
MAX_REASON_CHARS = 500
# A refund cannot be computed without these; a missing cancellation fee means "not stated" and is fine.
_NEEDED_FOR_APPROVAL: tuple[FieldName, ...] = ("gap_insurance_premium", "refund_calculation_method")


# The usual reasons to reject an extraction, offered by number so that a rejection is `x`, a digit,
# Enter. A rejection reason is free text (the schema keeps it as written); "other" asks for it typed.
REJECTION_REASONS: tuple[str, ...] = (
    "The document is not a GAP contract",
    "The contract text is unreadable or incomplete",
    "The text belongs to another contract",
    "The contract states no GAP premium",
    "Duplicate of another contract",
)


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
            ~awaiting_other_than(ACTOR),
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
            Extraction.qa_sample,
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
            await refuse_first_reviewer(uow.session, extraction_id, state.contract_id, actor)
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
        # Only a QA sample can be double-checked: the hot path of every other decision stays three statements.
        checked = (
            await settle_double_check(uow.session, actor, extraction_id, status, row.review_seconds)
            if row.qa_sample
            else "none"
        )
        if checked == "sent_back":
            uow.record(
                actor.event(
                    "qa_double_check",
                    contract_id=row.contract_id,
                    extraction_id=str(extraction_id),
                    first_decision=status,
                    version=row.version + 1,
                )
            )
        await uow.commit()
    return _decision(
        row,
        actor,
        status,
        review_seconds=row.review_seconds,
        reason=reason,
        # Sent back for a second reviewer, it is pending again: there is no decision of one's own to undo.
        undo_until=None if checked == "sent_back" else row.updated_at + UNDO_WINDOW,
        double_check=checked == "sent_back",
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
                f"{state.contract_id} was decided by {who(state.reviewer, actor)}; you can undo only your own "
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
