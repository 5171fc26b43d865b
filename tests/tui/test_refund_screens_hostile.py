"""The refunds screen, its dialogs and the Rules tab over hostile data and hostile typing, in Pilot.

Rows are written straight into the database (the workstation login may write both tables, so a row
need not have passed the services' cleaning), and the form gets what a hostile person types: every
screen must show the text literally, write no escape from the data to the terminal, and answer bad
input with a sentence in the form, never a crash.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from textual.widgets import DataTable, Input, Select

from app.dialogs.open_refund_dialog import OpenRefundDialog
from app.dialogs.refund_steps_dialog import RefundStepsDialog
from app.dialogs.rule_dialog import RuleDialog
from app.screens.admin import AdminScreen
from app.screens.refunds import RefundsScreen
from app.screens.rules_pane import RulesPane
from app.workstation import RefundReviewApp
from tests.hostile import hidden_characters
from tests.tui.pilot import wait_until
from tests.tui.test_hostile_screens import check_screen
from tests.tui.test_refunds_screen import approved_contract, form_error, open_refunds
from tests.tui.test_rules_tab import select_rule

CITATION = "[link=file:///etc/passwd]Tex. Fin. Code[/link] \x1b]0;pwned\x07\u202e §1 \x1b[2J"
NOTES = "[@click=app.quit]quit[/] \x9b2J \x1b]52;c;ZXZpbA==\x07 note"
STEP = "Step [b red on red]hidden \x1bP+q544e\x1b\\ [/"
FLAG = "[@click=app.quit]Approve all[/] \x07 flag"


async def _seed(superuser: asyncpg.Connection, contract_id: str) -> None:
    await superuser.execute(
        "INSERT INTO jurisdiction_rules (state, effective_from, citation, notes) VALUES ('TX', '2025-09-01', $1, $2)",
        CITATION,
        NOTES,
    )
    await superuser.execute(
        "INSERT INTO refund_requests (contract_id, cancel_date, reason, request_date, verdict, refund_amount, "
        "method_used, reasons, flags, steps, status) VALUES ($1, '2026-01-15', 'payoff', '2026-01-20', "
        "'eligible', 100, 'Pro-Rata', $2::jsonb, $3::jsonb, $4::jsonb, 'open')",
        contract_id,
        [FLAG],
        [FLAG],
        [{"text": STEP, "values": {"x\x1b[31m": NOTES}}],
    )


async def test_refund_screens_and_the_rules_tab_show_hostile_rows_literally(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ada")
    await _seed(superuser, (await add_contract()).contract_id)
    app = workstation
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_refunds(pilot, "ada")
        await wait_until(pilot, lambda: screen.query_one("#refunds-table", DataTable).row_count == 1)
        check_screen(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RefundStepsDialog))
        await pilot.pause()
        check_screen(app, "Step [b red on red]hidden", "[@click=app.quit]Approve all[/]")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RefundsScreen))

        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen))
        await pilot.press("t", "t")
        pane = app.screen.query_one(RulesPane)
        await wait_until(pilot, lambda: pane.query_one("#rules-table", DataTable).row_count == 6)
        await select_rule(pilot, pane, "TX", "2025-09-01")
        await pilot.pause()
        check_screen(app, "[link=file:///etc/passwd]Tex. Fin. Code[/link]", "[@click=app.quit]quit[/]")
        # Correcting it fills the form's inputs with the stored text: drawn safely there too.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, RuleDialog))
        await pilot.pause()
        check_screen(app)
        assert app.is_running


async def test_the_open_request_form_answers_hostile_typing_with_sentences_and_stores_nothing(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("supervisor", username="sue")
    contract_id = await approved_contract(add_contract, superuser, Decimal("500.00"))
    app = workstation
    async with app.run_test(size=(120, 40)) as pilot:
        await open_refunds(pilot, "sue")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenRefundDialog))
        dialog: OpenRefundDialog = app.screen  # type: ignore[assignment]
        good = {"refund-contract": contract_id, "refund-cancel-date": "2026-01-15",
                "refund-request-date": "2026-01-20", "refund-term": "60", "refund-state": "AR",
                "refund-apr": ""}  # fmt: skip
        dialog.query_one("#refund-reason", Select).value = "payoff"
        attempts = [
            ({"refund-contract": "GAP[/]\x1b[2J\u202e"}, "is not a contract id"),
            ({"refund-state": "\x1b]0;x\x07[link=x]OH[/link]"}, "is not a US state code"),
            ({"refund-term": "²"}, "is a whole number"),
            ({"refund-term": "9999"}, "less than or equal to 600"),
            ({"refund-apr": "1e999999"}, "less than or equal to 100"),
            ({"refund-apr": "NaN"}, "The APR is a number"),
            ({"refund-cancel-date": "9999-12-31"}, "outside the years 1900 to 2199"),
            ({"refund-request-date": "2199-12-31"}, "cannot have been received after today"),
            ({"refund-cancel-date": "2023-01-01"}, "before the contract date"),
        ]
        for changes, sentence in attempts:
            for input_id, value in {**good, **changes}.items():
                dialog.query_one(f"#{input_id}", Input).value = value
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda sentence=sentence: sentence in form_error(dialog))
            assert hidden_characters(form_error(dialog), allowed="\n") == []
            check_screen(app)
        assert isinstance(app.screen, OpenRefundDialog) and app.is_running
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests") == 0
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type LIKE 'refund%'") == 0
