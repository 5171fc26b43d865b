"""The jurisdiction rules in the database: listing them, importing more, adding and correcting (admins), audited.

Rules are configuration with legal weight, so changing them takes the same permission as changing
``system_config`` and leaves a ``rules_changed`` event naming every rule added and every field changed,
old and new, in the same transaction as the change.

Rules are versioned by effective date, and a rule a refund request was decided under is never changed:
an auditor must be able to see the rule that applied to a past refund (the request keeps its rule's id),
so when the law changes, or a used rule turns out wrong, an admin adds a new version from a new
effective date. A rule no request has used yet may be corrected in place (a typo in a rule added this
morning is not history). The import follows the same rule; the database holds it too (schema/v0012).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, tuple_

from db.models import JurisdictionRuleRow, RefundRequest, User
from db.uow import UnitOfWork
from services.access import authorize
from services.context import ServiceContext
from services.errors import Conflict, InvalidInput, NotFound
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
    # How many refund requests were decided under this rule: one or more and it is never changed.
    used_by: int = 0


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
        uses = (
            select(RefundRequest.rule_id, func.count().label("used_by"))
            .where(RefundRequest.rule_id.is_not(None))
            .group_by(RefundRequest.rule_id)
            .subquery()
        )
        query = (
            select(JurisdictionRuleRow, User.username, func.coalesce(uses.c.used_by, 0))
            .outerjoin(User, User.id == JurisdictionRuleRow.updated_by)
            .outerjoin(uses, uses.c.rule_id == JurisdictionRuleRow.id)
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
        RuleRecord(rule=rule_of_row(row), updated_at=row.updated_at, updated_by=username, used_by=used_by)
        for row, username, used_by in rows
    ]


async def _used(uow: UnitOfWork, rows: list[JurisdictionRuleRow]) -> dict[Any, int]:
    """How many refund requests each of `rows` decided."""
    if not rows:
        return {}
    counts = await uow.session.execute(
        select(RefundRequest.rule_id, func.count())
        .where(RefundRequest.rule_id.in_([row.id for row in rows]))
        .group_by(RefundRequest.rule_id)
    )
    return dict(counts.all())


def _used_refusal(rule: JurisdictionRule, used_by: int) -> str:
    return (
        f"The rule {_label(rule)} decided {used_by} refund request{'s' if used_by != 1 else ''}, so it is "
        "kept as it was: an auditor must see the rule a past refund was decided under. Add a new version "
        "with a later effective date instead."
    )


async def _store(
    ctx: ServiceContext, rules: list[JurisdictionRule], *, source: str, add: bool, change: bool
) -> ImportSummary:
    """Add the rules not stored yet (if `add`) and change those whose (state, effective date) exists (if
    `change`, and only rules no refund used), as one unit with one ``rules_changed`` event."""
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
        used = await _used(uow, list(existing.values()))
        added: list[str] = []
        changed: list[dict[str, Any]] = []
        for rule in rules:
            row = existing.get((rule.state, rule.effective_from))
            if row is None:
                if not add:
                    raise NotFound(f"There is no rule {_label(rule)} to correct; add it as a new version.")
                uow.session.add(JurisdictionRuleRow(**_columns(rule), updated_by=ctx.actor.user_id))
                added.append(_label(rule))
                continue
            if not change:
                raise Conflict(
                    f"A rule {_label(rule)} exists already. Choose another effective date for the new "
                    "version, or correct that rule."
                )
            stored = rule_of_row(row)
            # Compared as values (75 == 75.00), reported as JSON.
            differences = [field for field in RULE_FIELDS if getattr(stored, field) != getattr(rule, field)]
            if not differences:
                continue
            if used.get(row.id):
                raise InvalidInput(_used_refusal(rule, used[row.id]))
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


async def import_rules(ctx: ServiceContext, rules: list[JurisdictionRule], *, source: str) -> ImportSummary:
    """Add the rules not yet stored and update those whose (state, effective date) exists (admins).

    The whole set goes in as one unit with one ``rules_changed`` event, or nothing does; a rule a refund
    was decided under is not updated (the whole import is refused, naming it).
    """
    return await _store(ctx, rules, source=source, add=True, change=True)


WORKSTATION_SOURCE = "workstation"


async def add_rule_version(ctx: ServiceContext, rule: JurisdictionRule) -> JurisdictionRule:
    """A new rule, or a new version of a state's rule from a new effective date (admins), audited."""
    await _store(ctx, [rule], source=WORKSTATION_SOURCE, add=True, change=False)
    return rule


async def correct_rule(ctx: ServiceContext, rule: JurisdictionRule) -> JurisdictionRule:
    """Correct the stored rule with the same state and effective date (admins), audited with old and new
    values; refused for a rule a refund was decided under, and when nothing differs."""
    summary = await _store(ctx, [rule], source=WORKSTATION_SOURCE, add=False, change=True)
    if summary.unchanged:
        raise InvalidInput(f"The rule {_label(rule)} already says exactly this; nothing was changed.")
    return rule
