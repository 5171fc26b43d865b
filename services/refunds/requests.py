"""Refund requests: opened for a contract, computed from its approved fields, approved (four eyes), paid, exported.

The verdict is computed once, when the request is opened, from the contract's reviewed values and the
rule in force on its date, and stored with its steps: what was approved is what was computed. A refund
above ``refund_four_eyes_amount`` needs two different people to approve it (the database checks it too).
Approved refunds carry an ``approval_seq``, the cursor of the incremental export to the payment system.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Sequence, case, func, select
from sqlalchemy.exc import IntegrityError

from db.models import Contract, Extraction, JurisdictionRuleRow, RefundRequest, User
from db.uow import AuditRecord, UnitOfWork
from services.access import authorize
from services.context import ServiceContext
from services.domain import FIELD_LABELS
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.input_text import contract_id as checked_contract_id
from services.input_text import typed_text
from services.permissions import Permission
from services.refunds.calculation import money, quote_refund
from services.refunds.jurisdictions import rule_in_force
from services.refunds.rules import rule_of_row
from services.refunds.types import DEFAULT_STATE, RefundInputs, RefundReason, Step, Verdict
from services.system_settings import load_system_settings

RefundStatus = Literal["open", "awaiting_second_approval", "approved", "paid", "not_payable", "rejected"]
REFUND_STATUSES: tuple[RefundStatus, ...] = get_args(RefundStatus)
LIVE_STATUSES: tuple[RefundStatus, ...] = ("open", "awaiting_second_approval", "approved")
ExportFormat = Literal["csv", "jsonl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
EXPORT_COLUMNS: tuple[str, ...] = (
    "approval_seq",
    "request_id",
    "contract_id",
    "refund_amount",
    "fee_applied",
    "method",
    "state",
    "reason",
    "cancel_date",
    "request_date",
    "pay_by",
    "approved_at",
)
MAX_LIST = 500
MAX_REFERENCE_CHARS = 200
MAX_REJECTION_CHARS = 500
# Statuses a request can be rejected from: before any approval is complete, so never one that may
# already be with the payment system.
REJECTABLE_STATUSES: tuple[RefundStatus, ...] = ("open", "awaiting_second_approval")
_APPROVAL_SEQ = Sequence("refund_requests_approval_seq")


class RefundRequestInfo(BaseModel):
    """A refund request as screens and commands show it."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    contract_id: str
    status: RefundStatus
    verdict: Verdict
    reason: RefundReason
    cancel_date: dt.date
    request_date: dt.date
    refund_amount: Decimal | None
    fee_applied: Decimal
    method_used: str | None
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    steps: tuple[Step, ...]
    pay_by: dt.date | None
    overdue: bool
    requested_by: str | None
    requested_at: dt.datetime
    first_approved_by: str | None
    approved_by: str | None
    approval_seq: int | None
    paid_at: dt.datetime | None
    payment_reference: str | None
    rejected_by: str | None
    rejected_at: dt.datetime | None
    rejection_reason: str | None
    version: int


class RefundExport(BaseModel):
    """What an export wrote: the rows' text, how many, and the cursor to pass as --since next time."""

    model_config = ConfigDict(frozen=True)

    text: str
    count: int
    cursor: int
    first_seq: int | None


async def _usernames(uow: UnitOfWork, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    rows = await uow.session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return dict(rows.all())


async def _infos(uow: UnitOfWork, rows: list[RefundRequest]) -> list[RefundRequestInfo]:
    today = await uow.session.scalar(select(func.current_date()))
    names = await _usernames(
        uow,
        {
            user
            for row in rows
            for user in (row.requested_by, row.first_approved_by, row.approved_by, row.rejected_by)
        },
    )
    return [
        RefundRequestInfo(
            id=row.id,
            contract_id=row.contract_id,
            status=row.status,  # type: ignore[arg-type]
            verdict=row.verdict,  # type: ignore[arg-type]
            reason=row.reason,  # type: ignore[arg-type]
            cancel_date=row.cancel_date,
            request_date=row.request_date,
            refund_amount=row.refund_amount,
            fee_applied=row.fee_applied,
            method_used=row.method_used,
            reasons=tuple(row.reasons),
            flags=tuple(row.flags),
            steps=tuple(Step.model_validate(step) for step in row.steps),
            pay_by=row.pay_by,
            overdue=row.status in LIVE_STATUSES and row.pay_by is not None and row.pay_by < today,
            requested_by=names.get(row.requested_by) if row.requested_by else None,
            requested_at=row.requested_at,
            first_approved_by=names.get(row.first_approved_by) if row.first_approved_by else None,
            approved_by=names.get(row.approved_by) if row.approved_by else None,
            approval_seq=row.approval_seq,
            paid_at=row.paid_at,
            payment_reference=row.payment_reference,
            rejected_by=names.get(row.rejected_by) if row.rejected_by else None,
            rejected_at=row.rejected_at,
            rejection_reason=row.rejection_reason,
            version=row.version,
        )
        for row in rows
    ]


def _inputs(**values: Any) -> RefundInputs:
    try:
        return RefundInputs.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise InvalidInput(f"The refund request is not valid: {problems}.") from exc


# The loan terms as RefundInputs names them, and their extraction columns (migration 0011).
_LOAN_TERM_COLUMNS = {"term_months": "term_months", "state": "governing_state", "apr": "apr"}


def _reviewed_loan_terms(contract_id: str, extraction: Extraction, typed: RefundInputs) -> dict[str, Any]:
    """The reviewed extraction's term, state and APR where it has them; a typed value that differs is refused."""
    reviewed: dict[str, Any] = {}
    for name, column in _LOAN_TERM_COLUMNS.items():
        value = getattr(extraction, column)
        if value is None:
            continue
        given = getattr(typed, name)
        if given is not None and given != value:
            label = FIELD_LABELS[column]
            raise InvalidInput(
                f"The reviewed {label} of {contract_id} is {value}, not {given}: leave it empty to use the "
                "reviewed value, or correct it in review, where the change is audited."
            )
        reviewed[name] = value
    return reviewed


async def open_refund_request(
    ctx: ServiceContext,
    contract_id: str,
    *,
    cancel_date: dt.date,
    reason: RefundReason,
    request_date: dt.date,
    term_months: int | None = None,
    state: str | None = None,
    apr: Decimal | None = None,
) -> RefundRequestInfo:
    """Open a request and compute its verdict from the contract's approved fields and the rule in force.

    Term, state and APR come from the reviewed extraction; the person's values fill only what it lacks (an
    extraction older than those fields, or a contract that does not state them), and one that contradicts
    a reviewed value is refused: the place to change a reviewed value is the review, where it is audited
    as a correction. A request that cannot be paid (not eligible, or information missing) is stored as
    ``not_payable`` and does not block a new one.
    """
    wanted = checked_contract_id(contract_id)
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.REQUEST_REFUND)
        found = (
            await uow.session.execute(
                select(Contract.contract_date, Extraction)
                .join(Extraction, Extraction.contract_id == Contract.contract_id)
                .where(Contract.contract_id == wanted)
            )
        ).first()
        if found is None:
            raise NotFound(f"There is no contract {wanted} with extracted fields.")
        contract_date, extraction = found
        if extraction.status != "approved":
            raise InvalidInput(
                f"The fields of {wanted} are not approved yet: a refund is computed only from reviewed values. "
                "Review the contract first."
            )
        if contract_date is None:
            raise InvalidInput(
                f"{wanted} has no contract date, so no term can be counted; add it to the contract first."
            )
        # The request date starts the payment deadline: one in the future would push the deadline out
        # and keep a late refund off the overdue list.
        today = await uow.session.scalar(select(func.current_date()))
        if request_date > today:
            raise InvalidInput(
                f"The written request cannot have been received after today ({today}); {request_date} "
                "is in the future. Give the day it arrived."
            )
        live = await uow.session.scalar(
            select(RefundRequest.status).where(
                RefundRequest.contract_id == wanted,
                RefundRequest.status.not_in(("not_payable", "rejected")),
            )
        )
        if live is not None:
            raise Conflict(
                f"{wanted} already has a refund request ({live.replace('_', ' ')}); open that one instead."
            )
        typed = _inputs(
            premium=extraction.gap_insurance_premium,
            term_months=term_months,
            contract_date=contract_date,
            cancel_date=cancel_date,
            method=extraction.refund_calculation_method,
            fee=extraction.cancellation_fee,
            state=state,
            reason=reason,
            apr=apr,
            request_date=request_date,
        )
        inputs = typed.model_copy(update=_reviewed_loan_terms(wanted, extraction, typed))
        rule, rule_id = None, None
        if inputs.state is not None:
            # Shared locks: a rule being corrected waits for this request to commit (and then refuses,
            # the rule being used), and this request waits for a correction in progress and reads the
            # corrected rule. Without them a refund could be stored under a rule changed meanwhile.
            rows = (
                await uow.session.scalars(
                    select(JurisdictionRuleRow)
                    .where(JurisdictionRuleRow.state.in_((inputs.state, DEFAULT_STATE)))
                    .with_for_update(read=True)
                )
            ).all()
            ids = {(row.state, row.effective_from): row.id for row in rows}
            rule = rule_in_force([rule_of_row(row) for row in rows], inputs.state, contract_date)
            rule_id = ids[(rule.state, rule.effective_from)] if rule else None
        quote = quote_refund(inputs, rule)
        row = RefundRequest(
            contract_id=wanted,
            cancel_date=cancel_date,
            reason=reason,
            request_date=request_date,
            premium=inputs.premium,
            method=inputs.method,
            fee=inputs.fee,
            term_months=inputs.term_months,
            state=inputs.state,
            apr=inputs.apr,
            rule_id=rule_id,
            verdict=quote.verdict,
            refund_amount=quote.refund,
            fee_applied=quote.fee_applied,
            method_used=quote.method,
            reasons=list(quote.reasons),
            flags=list(quote.flags),
            steps=[step.model_dump() for step in quote.steps],
            pay_by=quote.pay_by,
            status="open" if quote.verdict == "eligible" else "not_payable",
            requested_by=ctx.actor.user_id,
        )
        uow.session.add(row)
        try:
            await uow.session.flush()
        except IntegrityError as exc:
            # Two people opening a request for one contract at the same moment: the unique index decides.
            original = getattr(exc.orig, "__cause__", None) or exc.orig
            if getattr(original, "constraint_name", None) == "refund_requests_one_live_per_contract":
                raise Conflict(
                    f"Someone else opened a refund request for {wanted} a moment ago; open that one instead."
                ) from exc
            raise
        await uow.session.refresh(row)
        uow.record(
            ctx.actor.event(
                "refund_requested",
                contract_id=wanted,
                request_id=str(row.id),
                reason=reason,
                verdict=quote.verdict,
                refund=None if quote.refund is None else str(quote.refund),
                method=quote.method,
                flags=list(quote.flags),
            )
        )
        [info] = await _infos(uow, [row])
        await uow.commit()
    return info


async def _locked(uow: UnitOfWork, request_id: uuid.UUID, version: int) -> RefundRequest:
    row = await uow.session.scalar(
        select(RefundRequest).where(RefundRequest.id == request_id).with_for_update()
    )
    if row is None:
        raise NotFound("That refund request no longer exists.")
    if row.version != version:
        raise Conflict("Someone else changed this refund request since you opened it. Reload and try again.")
    return row


async def _changed(uow: UnitOfWork, row: RefundRequest, event: AuditRecord) -> RefundRequestInfo:
    """Commit a change of ``row``'s stage with its audit event: a new version, the event, the row as stored."""
    row.version += 1
    uow.record(event)
    await uow.session.flush()
    await uow.session.refresh(row)
    [info] = await _infos(uow, [row])
    await uow.commit()
    return info


async def approve_refund(ctx: ServiceContext, request_id: uuid.UUID, version: int) -> RefundRequestInfo:
    """Approve an open request; above the four-eyes amount the first approval waits for a second person's."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.APPROVE_REFUND)
        if ctx.actor.user_id is None:
            raise Forbidden(
                "Refunds are approved by a person logged in to the workstation, not from the command line."
            )
        row = await _locked(uow, request_id, version)
        threshold = (await load_system_settings(uow.session)).refund_four_eyes_amount
        if row.status == "open" and row.refund_amount is not None and row.refund_amount > threshold:
            row.status, row.first_approved_by, row.first_approved_at = (
                "awaiting_second_approval",
                ctx.actor.user_id,
                func.now(),
            )
            stage = "first"
        elif row.status in ("open", "awaiting_second_approval"):
            if row.first_approved_by == ctx.actor.user_id:
                raise Forbidden(
                    f"You gave the first approval; refunds above {money(threshold)} need a second person to approve them."
                )
            stage = "second" if row.status == "awaiting_second_approval" else "only"
            row.status, row.approved_by, row.approved_at = "approved", ctx.actor.user_id, func.now()
            row.approval_seq = await uow.session.scalar(_APPROVAL_SEQ.next_value())
        elif row.status == "not_payable":
            raise InvalidInput(
                f"This request cannot be approved: the verdict is {row.verdict} ({'; '.join(row.reasons)})."
            )
        else:
            raise Conflict(f"This refund is already {row.status}.")
        return await _changed(
            uow,
            row,
            ctx.actor.event(
                "refund_approved",
                contract_id=row.contract_id,
                request_id=str(row.id),
                refund=str(row.refund_amount),
                stage=stage,
                four_eyes_amount=str(threshold),
            ),
        )


async def mark_refund_paid(
    ctx: ServiceContext, request_id: uuid.UUID, version: int, reference: str
) -> RefundRequestInfo:
    """Record that an approved refund was paid, with the payment system's reference."""
    cleaned = typed_text(reference, what="The payment's reference", max_chars=MAX_REFERENCE_CHARS)
    if not cleaned:
        raise InvalidInput(f"Give the payment's reference (1 to {MAX_REFERENCE_CHARS} characters).")
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.PAY_REFUND)
        row = await _locked(uow, request_id, version)
        if row.status != "approved":
            raise InvalidInput(
                f"Only an approved refund can be marked paid; this one is {row.status.replace('_', ' ')}."
            )
        row.status, row.paid_by, row.paid_at, row.payment_reference = (
            "paid",
            ctx.actor.user_id,
            func.now(),
            cleaned,
        )
        return await _changed(
            uow,
            row,
            ctx.actor.event(
                "refund_paid",
                contract_id=row.contract_id,
                request_id=str(row.id),
                refund=str(row.refund_amount),
                reference=cleaned,
            ),
        )


async def reject_refund(
    ctx: ServiceContext, request_id: uuid.UUID, version: int, reason: str
) -> RefundRequestInfo:
    """Reject a request not yet approved, with the reason in words; it leaves the open list for good.

    A request already approved is refused: it may be with the payment system, and taking it back is a
    conversation with that system, not a status change here.
    """
    cleaned = typed_text(reason, what="The reason for rejecting", max_chars=MAX_REJECTION_CHARS)
    if not cleaned:
        raise InvalidInput(
            f"Give the reason for rejecting the request (1 to {MAX_REJECTION_CHARS} characters)."
        )
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.REJECT_REFUND)
        if ctx.actor.user_id is None:
            raise Forbidden(
                "Refund requests are rejected by a person logged in to the workstation, not from the command line."
            )
        row = await _locked(uow, request_id, version)
        if row.status not in REJECTABLE_STATUSES:
            raise InvalidInput(
                f"Only a request not yet approved can be rejected; this one is {row.status.replace('_', ' ')}."
            )
        row.status, row.rejected_by, row.rejected_at, row.rejection_reason = (
            "rejected",
            ctx.actor.user_id,
            func.now(),
            cleaned,
        )
        return await _changed(
            uow,
            row,
            ctx.actor.event(
                "refund_rejected",
                contract_id=row.contract_id,
                request_id=str(row.id),
                refund=None if row.refund_amount is None else str(row.refund_amount),
                reason=cleaned,
            ),
        )


async def list_open_refunds(ctx: ServiceContext, limit: int = 100) -> list[RefundRequestInfo]:
    """Requests not yet paid, by due date, those past their deadline first."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_CONTRACT)
        overdue_first = case((RefundRequest.pay_by < func.current_date(), 0), else_=1)
        rows = list(
            (
                await uow.session.scalars(
                    select(RefundRequest)
                    .where(RefundRequest.status.in_(LIVE_STATUSES))
                    .order_by(
                        overdue_first, RefundRequest.pay_by.asc().nulls_last(), RefundRequest.requested_at
                    )
                    .limit(min(max(limit, 1), MAX_LIST))
                )
            ).all()
        )
        infos = await _infos(uow, rows)
        await uow.commit()  # keeps the session's activity clock moving
    return infos


def _export_record(row: RefundRequest) -> dict[str, Any]:
    return {
        "approval_seq": row.approval_seq,
        "request_id": str(row.id),
        "contract_id": row.contract_id,
        "refund_amount": str(row.refund_amount),
        "fee_applied": str(row.fee_applied),
        "method": row.method_used,
        "state": row.state,
        "reason": row.reason,
        "cancel_date": str(row.cancel_date),
        "request_date": str(row.request_date),
        "pay_by": None if row.pay_by is None else str(row.pay_by),
        "approved_at": None if row.approved_at is None else row.approved_at.isoformat(),
    }


def _render(records: list[dict[str, Any]], fmt: ExportFormat) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


async def export_refunds(
    ctx: ServiceContext,
    *,
    fmt: ExportFormat,
    since: int | None = None,
    before_commit: Callable[[RefundExport], None] | None = None,
) -> RefundExport:
    """Approved refunds for the payment system, each handed over once.

    Without ``since``: every approved refund not exported yet (rows another export is writing are
    skipped, so two exports never hand over the same refund). With ``since``: every approved or paid
    refund after that cursor again, for a payment system that lost a file. ``before_commit`` receives
    the export while its transaction is still open (to write a file): if it raises, nothing is marked
    exported and nothing is audited.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.EXPORT_REFUNDS)
        query = select(RefundRequest).order_by(RefundRequest.approval_seq)
        if since is None:
            query = query.where(RefundRequest.status == "approved", RefundRequest.exported_at.is_(None))
            query = query.with_for_update(skip_locked=True)
        else:
            query = query.where(
                RefundRequest.status.in_(("approved", "paid")), RefundRequest.approval_seq > since
            )
        rows = list((await uow.session.scalars(query)).all())
        for row in rows:
            if row.exported_at is None:
                row.exported_at = func.now()
        cursor = (
            max(row.approval_seq or 0 for row in rows)
            if rows
            else since
            if since is not None
            else await uow.session.scalar(
                select(func.coalesce(func.max(RefundRequest.approval_seq), 0)).where(
                    RefundRequest.exported_at.is_not(None)
                )
            )
        )
        uow.record(
            ctx.actor.event("refunds_exported", format=fmt, count=len(rows), since=since, cursor=cursor)
        )
        result = RefundExport(
            text=_render([_export_record(row) for row in rows], fmt),
            count=len(rows),
            cursor=int(cursor or 0),
            first_seq=rows[0].approval_seq if rows else None,
        )
        if before_commit is not None:
            before_commit(result)
        await uow.commit()
    return result
