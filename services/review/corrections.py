"""Correcting one field of an extraction: the typed value checked, the original kept in `corrections`."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import (
    Text,
    Update,
    bindparam,
    case,
    insert,
    select,
    update,
)

from db.models import Contract, Correction, Extraction
from services.access import authorize
from services.context import ServiceContext
from services.domain import FIELD_LABELS, FIELD_NAMES, REFUND_METHODS, FieldName, value_text
from services.errors import InvalidInput
from services.extraction.amounts import AmountError, parse_amount
from services.extraction.loan_terms import LOAN_TERM_READERS, LoanTermError
from services.extraction.methods import canonical_method
from services.input_text import typed_text
from services.permissions import Permission
from services.quality.double_checks import refuse_first_reviewer
from services.refunds.field_checks import flagged_fields
from services.review.detail import reload_after_commit
from services.review.state import ensure_writable, load_state
from services.review.statements import ACTOR, ITEM, lease_end
from services.review.types import NOT_STATED, CorrectionReason, ExtractionDetail, checked_field, display_value

MAX_NOTE_CHARS = 2000
# "none" and "no fee" are refused for the cancellation fee: they could as well mean 0.00, the fee of a
# contract that says it charges none, as "not stated".
_NOT_STATED_SPELLINGS = frozenset({"", NOT_STATED, "not-stated", "n/a"})
_AMBIGUOUS_FEE_WORDS = frozenset({"none", "no", "no fee", "nil", "null", "-"})


def parse_field_value(field: FieldName, raw: str) -> Decimal | int | str | None:
    """The value a reviewer typed, in the field's stored type; InvalidInput says how to fix it.

    For the loan terms an empty value or "not stated" records that the contract does not state it.
    """
    words = " ".join(raw.split()).lower()
    reader = LOAN_TERM_READERS.get(field)
    if reader is not None:
        if words in _NOT_STATED_SPELLINGS:
            return None
        try:
            return reader(raw)
        except LoanTermError as exc:
            raise InvalidInput(str(exc)) from exc
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


def _reason_code(reason_code: str) -> CorrectionReason:
    try:
        return CorrectionReason(reason_code)
    except ValueError:
        codes = ", ".join(r.value for r in CorrectionReason)
        raise InvalidInput(f"Choose a reason for the correction: one of {codes}.") from None


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
    """The field's new value and the refund checks' flags of the values now; the version moves on, and the
    reviewer's own lease is renewed."""
    column = getattr(Extraction, name)
    return (
        update(Extraction)
        .where(Extraction.id == ITEM)
        .values(
            {
                column: bindparam("value", type_=column.type),
                Extraction.refund_flags: bindparam("flags", type_=Extraction.refund_flags.type),
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
_CONTRACT_DATE = select(Contract.contract_date).where(Contract.contract_id == bindparam("contract"))


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _decimal_or_none(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


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
        await refuse_first_reviewer(session, extraction_id, state.contract_id, ctx.actor)
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
                "original": value_text(old),
                "corrected": value_text(value),
                "reason": reason.value,
                "note": note,
                "actor": ctx.actor.user_id,
            },
        )
        now = {**state.values, name: value}
        flags = await flagged_fields(
            session,
            state=_text_or_none(now["governing_state"]),
            contract_date=await session.scalar(_CONTRACT_DATE, {"contract": state.contract_id}),
            method=_text_or_none(now["refund_calculation_method"]),
            fee=_decimal_or_none(now["cancellation_fee"]),
        )
        await session.execute(
            _CORRECT[name],
            {"item": extraction_id, "value": value, "flags": flags, "actor": ctx.actor.user_id},
        )
        uow.record(
            ctx.actor.event(
                "correct",
                contract_id=state.contract_id,
                extraction_id=str(extraction_id),
                field=name,
                old=value_text(old),
                new=value_text(value),
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
