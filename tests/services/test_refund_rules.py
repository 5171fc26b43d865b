"""Jurisdiction rules in the database: seeded from the shipped file, listed, imported by admins, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import asyncpg
import pytest

from services.audit import summarize_event
from services.context import ServiceContext
from services.errors import Forbidden, InvalidInput
from services.refunds.jurisdictions import rule_in_force, starter_rules
from services.refunds.rules import import_rules, list_rules
from services.refunds.types import JurisdictionRule
from tests.services.conftest import MakeContext

TEXAS = JurisdictionRule(
    state="TX", effective_from=dt.date(2025, 9, 1), fee_cap=Decimal("50.00"), citation="Tex. test citation"
)


def _shipped(state: str) -> JurisdictionRule:
    return next(rule for rule in starter_rules() if rule.state == state)


async def test_the_migration_seeds_exactly_the_shipped_starter_rules(make_context: MakeContext) -> None:
    reviewer = await make_context("reviewer")
    stored = [record.rule for record in await list_rules(reviewer)]
    assert sorted(stored, key=lambda r: r.state) == sorted(starter_rules(), key=lambda r: r.state)
    assert all(record.updated_by is None for record in await list_rules(reviewer))


async def test_listing_one_state_includes_the_default_rule(make_context: MakeContext) -> None:
    reviewer = await make_context("reviewer")
    assert [record.rule.state for record in await list_rules(reviewer, "ar")] == ["*", "AR"]
    with pytest.raises(InvalidInput, match="'Texas' is not a US state code"):
        await list_rules(reviewer, "Texas")


async def test_an_admin_imports_new_and_changed_rules_in_one_audited_change(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    arkansas = _shipped("AR").model_copy(update={"fee_cap": Decimal("50"), "payment_due_days": 30})
    summary = await import_rules(admin, [TEXAS, arkansas, _shipped("SC")], source="more.csv")
    assert (summary.added, summary.changed, summary.unchanged) == (1, 1, 1)

    records = {record.rule.state: record for record in await list_rules(admin)}
    assert records["TX"].rule == TEXAS and records["TX"].updated_by == admin.actor.username
    assert (records["AR"].rule.fee_cap, records["AR"].rule.payment_due_days) == (Decimal("50.00"), 30)
    assert records["SC"].updated_by is None
    # The quote follows the stored rules: Texas contracts from its effective date on get its cap.
    stored = [record.rule for record in records.values()]
    assert rule_in_force(stored, "TX", dt.date(2025, 9, 1)) == TEXAS
    assert rule_in_force(stored, "TX", dt.date(2025, 8, 31)).is_default  # type: ignore[union-attr]

    events = await superuser.fetch("SELECT event_type, user_id, event_data FROM audit_events ORDER BY seq")
    assert summarize_event("rules_changed", events[0]["event_data"]) == (
        "changed the jurisdiction rules from more.csv: 1 added, 1 changed"
    )
    assert [event["event_type"] for event in events] == ["rules_changed"]
    assert events[0]["user_id"] == admin.actor.user_id
    assert events[0]["event_data"] == {
        "source": "more.csv",
        "added": ["TX from 2025-09-01"],
        "changed": [
            {
                "rule": "AR from 2000-01-01",
                "old": {"fee_cap": "75.00", "payment_due_days": None},
                "new": {"fee_cap": "50", "payment_due_days": 30},
            }
        ],
    }


async def test_importing_the_same_rules_again_changes_nothing_and_records_nothing(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    # 75 and 75.00 are the same cap: no spurious change.
    same = [
        rule.model_copy(update={"fee_cap": Decimal("75")}) if rule.state == "AR" else rule
        for rule in starter_rules()
    ]
    summary = await import_rules(admin, same, source="starter_rules.csv")
    assert (summary.added, summary.changed, summary.unchanged) == (0, 0, len(same))
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
async def test_only_admins_import_rules(
    make_context: MakeContext, role: str, superuser: asyncpg.Connection
) -> None:
    ctx = await make_context(role)
    with pytest.raises(Forbidden, match="change the system configuration"):
        await import_rules(ctx, [TEXAS], source="more.csv")
    assert await superuser.fetchval("SELECT count(*) FROM jurisdiction_rules WHERE state = 'TX'") == 0


async def test_the_database_refuses_rules_the_model_refuses(superuser: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await superuser.execute(
            "INSERT INTO jurisdiction_rules (state, effective_from, fee_allowed, fee_cap, citation) "
            "VALUES ('TX', '2025-01-01', false, 10, 'c')"
        )
    with pytest.raises(asyncpg.UniqueViolationError):
        await superuser.execute(
            "INSERT INTO jurisdiction_rules (state, effective_from, citation) VALUES ('AR', '2000-01-01', 'again')"
        )


async def test_the_operator_imports_from_the_command_line_context(system: ServiceContext) -> None:
    summary = await import_rules(system, [TEXAS], source="cli.csv")
    assert summary.added == 1
    assert [record.updated_by for record in await list_rules(system, "TX") if record.rule.state == "TX"] == [
        None
    ]
