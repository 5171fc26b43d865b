"""The administration screen's Rules tab in Pilot: list, a new version, a correction, a used rule kept.

The database and the audit log are read afterwards with a raw connection.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from app.dialogs.rule_dialog import RuleDialog
from app.screens.admin import AdminScreen
from app.screens.rules_pane import RulesPane
from app.workstation import RefundReviewApp
from tests.tui.pilot import open_area, wait_until


def messages(app: RefundReviewApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def form_error(app: RefundReviewApp) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def select_rule(pilot: Pilot, pane: RulesPane, state: str, effective_from: str) -> None:
    table = pane.query_one("#rules-table", DataTable)
    await pilot.press("home")
    for _ in range(table.row_count):
        selected = pane.selected
        if selected and (selected.rule.state, str(selected.rule.effective_from)) == (state, effective_from):
            return
        await pilot.press("down")
    raise AssertionError(f"no rule {state} from {effective_from}")


async def test_an_admin_adds_a_version_corrects_it_and_cannot_change_a_used_rule(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    ada = await make_context("admin", username="ada")
    # A refund was decided under the shipped Arkansas rule.
    await superuser.execute(
        "INSERT INTO refund_requests (contract_id, cancel_date, reason, request_date, verdict, steps, status, rule_id) "
        "VALUES ($1, '2026-01-15', 'payoff', '2026-01-20', 'eligible', '[]'::jsonb, 'open', "
        "(SELECT id FROM jurisdiction_rules WHERE state = 'AR'))",
        (await add_contract()).contract_id,
    )
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_area(pilot, "ada", "f5", AdminScreen, "users-table")
        await pilot.press("t", "t")
        pane = screen.query_one(RulesPane)
        table = pane.query_one("#rules-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 5)
        rows = {str(table.get_row_at(n)[0]): [str(c) for c in table.get_row_at(n)] for n in range(5)}
        assert rows["AR"][1:4] == ["2000-01-01", "30 days", "cap $75.00"] and rows["AR"][9] == "1 refunds"
        assert rows["SC"][3] == "no fee" and rows["CA"][4] == "Pro-Rata" and rows["CA"][8] == "60 days"
        assert "§37-30-150" in rows["SC"][10]

        # The used rule is kept: e says why and opens nothing.
        await select_rule(pilot, pane, "AR", "2000-01-01")
        await pilot.press("e")
        await wait_until(pilot, lambda: any("kept as it was" in m for m in messages(workstation)))
        assert not isinstance(workstation.screen, RuleDialog)

        # A new version from the selected rule's values, from a new effective date.
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RuleDialog))
        dialog = workstation.screen
        assert dialog.query_one("#rule-state", Input).value == "AR"
        assert dialog.query_one("#rule-fee_cap", Input).value == "75.00"
        assert dialog.query_one("#rule-effective_from", Input).value == ""
        dialog.query_one("#rule-effective_from", Input).value = "2026-13-01"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "effective_from" in form_error(workstation))
        dialog.query_one("#rule-effective_from", Input).value = "2000-01-01"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "exists already" in form_error(workstation))
        dialog.query_one("#rule-effective_from", Input).value = "2026-07-01"
        dialog.query_one("#rule-fee_cap", Input).value = "50"
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: not isinstance(workstation.screen, RuleDialog) and table.row_count == 6
        )
        selected = pane.selected
        assert selected is not None and (selected.rule.state, str(selected.rule.effective_from)) == (
            "AR",
            "2026-07-01",
        )

        # The new version is not used yet: it can be corrected, its state and date fixed.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RuleDialog))
        dialog = workstation.screen
        assert dialog.query_one("#rule-state", Input).disabled
        dialog.query_one("#rule-fee_cap", Input).value = "forty"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "fee_cap" in form_error(workstation))
        dialog.query_one("#rule-fee_cap", Input).value = "45"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("Correction saved" in m for m in messages(workstation)))
        await wait_until(pilot, lambda: "cap $45.00" in [str(c) for c in table.get_row_at(table.cursor_row)])

    stored = await superuser.fetch(
        "SELECT effective_from::text, fee_cap FROM jurisdiction_rules WHERE state = 'AR' ORDER BY effective_from"
    )
    assert [tuple(r) for r in stored] == [("2000-01-01", Decimal("75.00")), ("2026-07-01", Decimal("45.00"))]
    events = await superuser.fetch(
        "SELECT user_id, session_id, event_data FROM audit_events WHERE event_type = 'rules_changed' ORDER BY seq"
    )
    assert [e["user_id"] for e in events] == [ada.actor.user_id] * 2
    assert all(e["session_id"] is not None for e in events)
    assert events[0]["event_data"]["added"] == ["AR from 2026-07-01"]
    assert events[1]["event_data"]["changed"] == [
        {"rule": "AR from 2026-07-01", "old": {"fee_cap": "50.00"}, "new": {"fee_cap": "45"}}
    ]
