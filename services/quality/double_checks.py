"""Double checks of QA items: a second, different reviewer decides a decided QA sample again, blind.

A QA sample measures the error rate of what is auto-trusted only as well as its reviewer checks it. So a
share of decided QA samples (``qa_double_check_rate``) goes back to the queue once, drawn when the first
decision is saved, in the same transaction: the first decision and the values it left are kept in
``qa_double_checks``, the fields it corrected return to what the extraction said, and the item is pending
again. Whoever decides it next must be someone else (the claim and the decision statements refuse the
first reviewer); like any pending QA item it hides its confidence, and its detail hides the first
decision and its corrections (services/review/detail.py) until it is decided. That second decision is
stored beside the first; the reviewer report counts how often the two agree.

Agreement: both rejected, or both approved leaving every field with the same value.
"""

from __future__ import annotations

import random
import uuid
from typing import Any, Literal

from sqlalchemy import and_, case, cast, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Correction, Extraction, QaDoubleCheck
from services.context import Actor
from services.domain import FIELD_NAMES, value_text
from services.errors import Forbidden
from services.system_settings import setting_sql

# Not a security boundary, as the QA draw (routing.QA_RANDOM): unpredictable to reviewers, seedable in tests.
DOUBLE_CHECK_RANDOM = random.Random()

Outcome = Literal["none", "sent_back", "second_decision"]


def _this_run() -> Any:
    """The check of the extraction's current run (a re-extraction starts a new run)."""
    return and_(
        QaDoubleCheck.extraction_id == Extraction.id,
        QaDoubleCheck.extracted_at == Extraction.extracted_at,
    )


def awaiting_other_than(user: Any) -> Any:
    """Whether the item waits for its second reviewer and ``user`` made its first decision: then the
    claim and the decision statements leave it alone (``~awaiting_other_than(ACTOR)`` in their WHERE)."""
    return exists().where(
        _this_run(), QaDoubleCheck.second_decision.is_(None), QaDoubleCheck.first_reviewer == user
    )


async def refuse_first_reviewer(
    session: AsyncSession, extraction_id: uuid.UUID, contract_id: str, actor: Actor
) -> None:
    """Say why a claim or decision found nothing to act on, when the reason is the double check."""
    waiting = await session.scalar(
        select(awaiting_other_than(actor.user_id))
        .select_from(Extraction)
        .where(Extraction.id == extraction_id)
    )
    if waiting:
        raise Forbidden(
            f"You made the first decision on {contract_id}, a QA item drawn for a double check: "
            "a second reviewer decides it. Press n for your next item."
        )


def _corrected_since_extraction(name: str) -> Any:
    return and_(
        Correction.extraction_id == Extraction.id,
        Correction.field_name == name,
        Correction.corrected_at >= Extraction.extracted_at,
    )


def _as_extracted(name: str) -> Any:
    """The field's value as the extraction gave it: the original of its first correction in this run."""
    column = Extraction.__table__.c[name]
    original = (
        select(cast(Correction.original_value, column.type))
        .where(_corrected_since_extraction(name))
        .order_by(Correction.corrected_at, Correction.id)
        .limit(1)
        .scalar_subquery()
    )
    return case((exists().where(_corrected_since_extraction(name)), original), else_=column)


async def settle_double_check(
    session: AsyncSession,
    actor: Actor,
    extraction_id: uuid.UUID,
    status: Literal["approved", "rejected"],
    review_seconds: int | None,
    rng: random.Random | None = None,
) -> Outcome:
    """After a decision was written in this transaction: store it as a second decision, or draw whether
    this first decision of a QA sample goes back for a double check (and send it back). ``rng`` defaults
    to ``DOUBLE_CHECK_RANDOM``, read at each call so that a test can seed it."""
    row = (
        await session.execute(
            select(
                Extraction.qa_sample,
                Extraction.extracted_at,
                *(Extraction.__table__.c[name] for name in FIELD_NAMES),
                setting_sql("qa_double_check_rate").label("rate"),
            ).where(Extraction.id == extraction_id)
        )
    ).one()
    if not row.qa_sample:
        return "none"
    values = {name: value_text(getattr(row, name)) for name in FIELD_NAMES}
    check = await session.scalar(
        select(QaDoubleCheck)
        .where(QaDoubleCheck.extraction_id == extraction_id, QaDoubleCheck.extracted_at == row.extracted_at)
        .with_for_update()
    )
    if check is not None:
        if check.second_decision is not None:
            return "none"
        if check.first_reviewer == actor.user_id:
            # The statements already keep the first reviewer out; this is the last guard.
            raise Forbidden("You made the first decision on this QA item; a second reviewer checks it.")
        check.second_reviewer = actor.user_id
        check.second_decision = status
        check.second_values = values
        check.second_decided_at = func.now()
        await session.flush()
        return "second_decision"
    rate = float(row.rate)
    if rate <= 0 or (rng or DOUBLE_CHECK_RANDOM).random() >= rate:
        return "none"
    await session.execute(
        insert(QaDoubleCheck).values(
            extraction_id=extraction_id,
            extracted_at=row.extracted_at,
            first_reviewer=actor.user_id,
            first_decision=status,
            first_values=values,
            first_review_seconds=review_seconds,
        )
    )
    await session.execute(
        update(Extraction)
        .where(Extraction.id == extraction_id)
        .values(
            {
                **{Extraction.__table__.c[name]: _as_extracted(name) for name in FIELD_NAMES},
                Extraction.status: "pending",
                Extraction.reviewed_by: None,
                Extraction.reviewed_at: None,
                Extraction.review_seconds: None,
                Extraction.rejection_reason: None,
                Extraction.version: Extraction.version + 1,
            }
        )
        .execution_options(synchronize_session=False)
    )
    return "sent_back"
