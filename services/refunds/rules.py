"""The jurisdiction rules in the database: listing them, and importing more (admins), audited.

Rules are configuration with legal weight, so changing them takes the same permission as changing
``system_config`` and leaves a ``rules_changed`` event naming every rule added and every field changed,
old and new, in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, tuple_

from db.models import JurisdictionRuleRow, User
from services.access import authorize
from services.context import ServiceContext
from services.errors import InvalidInput
from services.permissions import Permission
from services.refunds.states import state_code
from services.refunds.types import DEFAULT_STATE, JurisdictionRule

RULE_FIELDS: tuple[str, ...] = tuple(JurisdictionRule.model_fields)


class RuleRecord(BaseModel):
    """A stored rule and who last changed it (None: shipped with the program or changed from the command line)."""

    model_config = ConfigDict(frozen=True)

    rule: JurisdictionRule
    updated_at: dt.datetime
    updated_by: str | None


class ImportSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    added: int
    changed: int
    unchanged: int


def rule_of_row(row: JurisdictionRuleRow) -> JurisdictionRule:
    """The validated rule a stored row holds."""
    return JurisdictionRule.model_validate({field: getattr(row, field) for field in RULE_FIELDS})


def _columns(rule: JurisdictionRule) -> dict[str, Any]:
    values = rule.model_dump()
    values["methods_allowed"] = list(rule.methods_allowed)
    return values


def _label(rule: JurisdictionRule) -> str:
    return f"{rule.state} from {rule.effective_from}"


async def list_rules(ctx: ServiceContext, state: str | None = None) -> list[RuleRecord]:
    """Every rule (or one state's and the default's), by state and effective date.

    Anyone who opens contracts may read the law a refund is decided under.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.VIEW_CONTRACT)
        query = (
            select(JurisdictionRuleRow, User.username)
            .outerjoin(User, User.id == JurisdictionRuleRow.updated_by)
            .order_by(JurisdictionRuleRow.state, JurisdictionRuleRow.effective_from)
        )
        if state is not None:
            try:
                code = state_code(state)
            except ValueError as exc:
                raise InvalidInput(f"{exc}.") from exc
            query = query.where(JurisdictionRuleRow.state.in_((code, DEFAULT_STATE)))
        rows = (await uow.session.execute(query)).all()
        await uow.commit()  # keeps the session's activity clock moving
    return [
        RuleRecord(rule=rule_of_row(row), updated_at=row.updated_at, updated_by=username)
        for row, username in rows
    ]


async def import_rules(ctx: ServiceContext, rules: list[JurisdictionRule], *, source: str) -> ImportSummary:
    """Add the rules not yet stored and update those whose (state, effective date) exists (admins).

    The whole set goes in as one unit with one ``rules_changed`` event, or nothing does.
    """
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.MANAGE_CONFIG)
        keys = [(rule.state, rule.effective_from) for rule in rules]
        existing = (
            {
                (row.state, row.effective_from): row
                for row in (
                    await uow.session.scalars(
                        select(JurisdictionRuleRow)
                        .where(
                            tuple_(JurisdictionRuleRow.state, JurisdictionRuleRow.effective_from).in_(keys)
                        )
                        .with_for_update()
                    )
                ).all()
            }
            if keys
            else {}
        )
        added: list[str] = []
        changed: list[dict[str, Any]] = []
        for rule in rules:
            row = existing.get((rule.state, rule.effective_from))
            if row is None:
                uow.session.add(JurisdictionRuleRow(**_columns(rule), updated_by=ctx.actor.user_id))
                added.append(_label(rule))
                continue
            stored = rule_of_row(row)
            # Compared as values (75 == 75.00), reported as JSON.
            differences = [field for field in RULE_FIELDS if getattr(stored, field) != getattr(rule, field)]
            if not differences:
                continue
            for field in differences:
                setattr(row, field, _columns(rule)[field])
            row.updated_by = ctx.actor.user_id
            old, new = stored.model_dump(mode="json"), rule.model_dump(mode="json")
            changed.append(
                {
                    "rule": _label(rule),
                    "old": {field: old[field] for field in differences},
                    "new": {field: new[field] for field in differences},
                }
            )
        if added or changed:
            uow.record(ctx.actor.event("rules_changed", source=source, added=added, changed=changed))
        await uow.commit()
    return ImportSummary(
        added=len(added), changed=len(changed), unchanged=len(rules) - len(added) - len(changed)
    )
