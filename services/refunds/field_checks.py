"""The refund checks of a stored extraction: which fields break the rule in force, kept where SQL sees them.

The review queue orders by ``extractions.min_confidence`` through its partial index; a field that breaks
its state's rule (services/refunds/preview.py ``refund_checks``) must raise the item there, so the flagged
fields are stored in ``extractions.refund_flags`` whenever the values change (an extraction is written, a
field corrected), and the generated ``min_confidence`` counts a flagged item as 0 (migration 0011). The
queue keeps its index and its keyset order; the price is that a rules import does not re-flag items
already pending (they are checked again when next corrected or extracted).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import JurisdictionRuleRow
from services.domain import FIELD_NAMES, FieldName
from services.refunds.jurisdictions import rule_in_force
from services.refunds.preview import refund_checks
from services.refunds.rules import rule_of_row
from services.refunds.types import DEFAULT_STATE, JurisdictionRule

# The rules a state's contracts may fall under: its own versions and the default's (rule_in_force picks).
STATE_RULES = select(JurisdictionRuleRow).where(
    JurisdictionRuleRow.state.in_((bindparam("state"), DEFAULT_STATE))
)


async def state_rules(session: AsyncSession, state: str | None) -> list[JurisdictionRule]:
    """Every version of the state's rules and of the default rule; none without a state."""
    if state is None:
        return []
    return [rule_of_row(row) for row in await session.scalars(STATE_RULES, {"state": state})]


async def flagged_fields(
    session: AsyncSession,
    *,
    state: str | None,
    contract_date: dt.date | None,
    method: str | None,
    fee: Decimal | None,
) -> list[FieldName]:
    """The fields the refund checks flag under the rule in force on the contract date, in field order."""
    rules = await state_rules(session, state)
    rule = None if state is None or contract_date is None else rule_in_force(rules, state, contract_date)
    flagged = {check.field for check in refund_checks(method, fee, rule)}
    return [name for name in FIELD_NAMES if name in flagged]
