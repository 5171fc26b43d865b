"""Jurisdiction rules in the database: seeded from the shipped file, listed, imported by admins, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import asyncpg
import pytest

from services.audit import summarize_event
from services.context import ServiceContext
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.refunds.jurisdictions import rule_from_fields, rule_in_force, starter_rules
from services.refunds.rules import add_rule_version, correct_rule, import_rules, list_rules
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


async def _decide_a_refund_under_arkansas(superuser: asyncpg.Connection, contract_id: str) -> None:
    """A refund request row decided under the shipped Arkansas rule (what opening a request stores)."""
    await superuser.execute(
        "INSERT INTO refund_requests (contract_id, cancel_date, reason, request_date, verdict, steps, status, rule_id) "
        "VALUES ($1, '2026-01-15', 'payoff', '2026-01-20', 'eligible', '[]'::jsonb, 'open', "
        "(SELECT id FROM jurisdiction_rules WHERE state = 'AR'))",
        contract_id,
    )


async def test_an_admin_adds_a_version_and_corrects_an_unused_rule_each_audited_with_the_session(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await add_rule_version(admin, TEXAS)
    with pytest.raises(Conflict, match="exists already"):
        await add_rule_version(admin, TEXAS.model_copy(update={"fee_cap": Decimal("10")}))
    await correct_rule(admin, TEXAS.model_copy(update={"fee_cap": Decimal("40"), "free_look_days": 15}))
    with pytest.raises(InvalidInput, match="nothing was changed"):
        await correct_rule(
            admin, TEXAS.model_copy(update={"fee_cap": Decimal("40.00"), "free_look_days": 15})
        )
    with pytest.raises(NotFound, match="no rule TX from 2026-01-01"):
        await correct_rule(admin, TEXAS.model_copy(update={"effective_from": dt.date(2026, 1, 1)}))

    [texas] = [r for r in await list_rules(admin, "TX") if r.rule.state == "TX"]
    assert (texas.rule.fee_cap, texas.rule.free_look_days, texas.used_by) == (Decimal("40.00"), 15, 0)
    events = await superuser.fetch(
        "SELECT user_id, session_id, event_data FROM audit_events WHERE event_type = 'rules_changed' ORDER BY seq"
    )
    assert [(e["user_id"], e["session_id"]) for e in events] == [
        (admin.actor.user_id, admin.actor.session_id)
    ] * 2
    assert events[0]["event_data"] == {
        "source": "workstation",
        "added": ["TX from 2025-09-01"],
        "changed": [],
    }
    assert events[1]["event_data"]["changed"] == [
        {
            "rule": "TX from 2025-09-01",
            "old": {"free_look_days": 0, "fee_cap": "50.00"},
            "new": {"free_look_days": 15, "fee_cap": "40"},
        }
    ]


async def test_a_rule_a_refund_was_decided_under_is_never_changed_but_gets_a_new_version(
    make_context: MakeContext, add_contract, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin")
    await _decide_a_refund_under_arkansas(superuser, (await add_contract()).contract_id)
    arkansas = _shipped("AR")
    [stored] = [r for r in await list_rules(admin, "AR") if r.rule.state == "AR"]
    assert stored.used_by == 1
    with pytest.raises(InvalidInput, match="decided 1 refund request, so it is kept as it was"):
        await correct_rule(admin, arkansas.model_copy(update={"fee_cap": Decimal("50")}))
    with pytest.raises(InvalidInput, match="Add a new version"):
        await import_rules(admin, [arkansas.model_copy(update={"fee_cap": Decimal("50")})], source="x.csv")
    # The database holds it for every writer.
    with pytest.raises(asyncpg.CheckViolationError, match="add a new version instead"):
        await superuser.execute("UPDATE jurisdiction_rules SET fee_cap = 50 WHERE state = 'AR'")
    newer = arkansas.model_copy(update={"effective_from": dt.date(2026, 7, 1), "fee_cap": Decimal("50")})
    await add_rule_version(admin, newer)
    stored_rules = [r.rule for r in await list_rules(admin, "AR")]
    assert rule_in_force(stored_rules, "AR", dt.date(2026, 6, 30)) == arkansas
    assert rule_in_force(stored_rules, "AR", dt.date(2026, 7, 1)).fee_cap == Decimal("50.00")  # type: ignore[union-attr]
    assert await superuser.fetchval(
        "SELECT fee_cap FROM jurisdiction_rules WHERE state = 'AR' AND effective_from = '2000-01-01'"
    ) == Decimal("75.00")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"state": "Texas"}, "'Texas' is not a US state code"),
        ({"effective_from": "1/9/2025"}, "effective_from"),
        ({"fee_allowed": "false", "fee_cap": "10"}, "cannot also cap it"),
        ({"methods_allowed": "Pro-Rata; Rule of 79s"}, "methods_allowed"),
        ({"citation": "  "}, "citation"),
        ({"free_look_days": "400"}, "free_look_days"),
    ],
)
def test_a_rule_typed_in_the_form_is_validated_like_an_imported_line(
    fields: dict[str, str], message: str
) -> None:
    typed = {"state": "TX", "effective_from": "2025-09-01", "citation": "Tex. test citation", **fields}
    with pytest.raises(InvalidInput, match=message):
        rule_from_fields(typed)
    assert rule_from_fields({"state": "tx", "effective_from": "2025-09-01", "fee_cap": "50.00",
                             "citation": "Tex. test citation"}) == TEXAS  # fmt: skip
