"""The refunds screen (f7) in Pilot: open a request, read its verdict and steps, four-eyes approval, payment.

Each step goes through the keys a supervisor presses; the database rows and the audit events are read
afterwards with a raw connection, so a screen that only looked right would fail here.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import asyncpg
import bcrypt
from sqlalchemy import update
from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from app.dialogs.confirm_dialog import ConfirmDialog
from app.dialogs.open_refund_dialog import OpenRefundDialog
from app.dialogs.payment_reference_dialog import PaymentReferenceDialog
from app.dialogs.reason_dialog import ReasonDialog
from app.dialogs.refund_export_dialog import RefundExportDialog
from app.dialogs.refund_steps_dialog import RefundStepsDialog
from app.screens.login import LoginScreen
from app.screens.refunds import RefundsScreen
from app.workstation import LOGIN_MODE, RefundReviewApp, make_app
from db.database import Database, connect_database
from db.models import Contract, Extraction
from services.refunds.requests import EXPORT_COLUMNS, approve_refund, open_refund_request
from services.settings import Settings
from tests.services.conftest import create_contract, create_person
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until

CONTRACT_DATE = dt.date(2024, 1, 15)


async def approved_contract(add_contract, superuser: asyncpg.Connection, premium: Decimal) -> str:
    """A contract dated 2024-01-15 whose extraction (premium, Pro-Rata, fee $50) a reviewer approved."""
    extraction = await add_contract(premium=premium)
    await superuser.execute(
        "UPDATE extractions SET status = 'approved', reviewed_at = now(), "
        "reviewed_by = (SELECT id FROM users ORDER BY created_at LIMIT 1) WHERE id = $1",
        extraction.id,
    )
    await superuser.execute(
        "UPDATE contracts SET contract_date = $2 WHERE contract_id = $1",
        extraction.contract_id,
        CONTRACT_DATE,
    )
    return extraction.contract_id


async def open_refunds(pilot: Pilot, username: str) -> RefundsScreen:
    """Log in and press f7; wait until the list has been read (it may be empty)."""
    app: RefundReviewApp = pilot.app  # type: ignore[assignment]
    await log_in(pilot, username, PASSWORD)
    await wait_until(pilot, lambda: app.logged_in and app.current_mode != LOGIN_MODE)
    await pilot.press("f7")
    await wait_until(pilot, lambda: isinstance(app.screen, RefundsScreen))
    screen: RefundsScreen = app.screen  # type: ignore[assignment]
    await wait_until(
        pilot, lambda: "Loading" not in str(screen.query_one("#refunds-status", Static).render())
    )
    return screen


def form_error(dialog: OpenRefundDialog) -> str:
    return str(dialog.query_one("#form-error", Static).render())


def messages(app: RefundReviewApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def approve_selected(pilot: Pilot, app: RefundReviewApp) -> None:
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await wait_until(pilot, lambda: isinstance(app.screen, RefundsScreen))


async def test_open_approve_with_four_eyes_and_mark_paid(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    sue = await make_context("supervisor", username="sue")
    ada = await make_context("admin", username="ada")
    # $2,500 by Pro-Rata over 60 months, cancelled after 24: a refund above the $1,000 four-eyes amount.
    contract_id = await approved_contract(add_contract, superuser, Decimal("2500.00"))
    app = workstation
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_refunds(pilot, "sue")
        table = screen.query_one("#refunds-table", DataTable)
        assert table.row_count == 0

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenRefundDialog))
        dialog: OpenRefundDialog = app.screen  # type: ignore[assignment]
        values = {"refund-contract": contract_id, "refund-cancel-date": "2026-01-15",
                  "refund-request-date": "2026-01-20", "refund-term": "60", "refund-state": "AR"}  # fmt: skip
        for input_id, value in values.items():
            dialog.query_one(f"#{input_id}", Input).value = value
        # No reason chosen: the form says so in a sentence and stays open.
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Choose the reason" in form_error(dialog))
        dialog.query_one("#refund-reason", Select).value = "payoff"
        dialog.query_one("#refund-cancel-date", Input).value = "15/01/2026"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "cancellation day is YYYY-MM-DD" in form_error(dialog))
        dialog.query_one("#refund-cancel-date", Input).value = "2026-01-15"
        await pilot.press("ctrl+s")

        # The verdict and its steps come up as soon as the request is opened.
        await wait_until(pilot, lambda: isinstance(app.screen, RefundStepsDialog))
        steps = str(app.screen.query_one("#refund-steps", Static).render())
        assert steps.startswith("eligible: refund $")
        assert "by Pro-Rata" in steps and " 1. " in steps
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RefundsScreen) and table.row_count == 1)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[0] == contract_id and row[1] == "early payoff" and row[2] == "2026-01-20"
        assert row[3] == "eligible" and row[5] == "Pro-Rata" and row[7].startswith("open")
        refund = await superuser.fetchval("SELECT refund_amount FROM refund_requests")
        assert refund > Decimal("1000") and row[4] == f"${refund:,.2f}"
        # enter on the row shows the same stored steps again.
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RefundStepsDialog))
        assert str(app.screen.query_one("#refund-steps", Static).render()) == steps
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RefundsScreen))

        # First approval; the same person cannot give the second and reads the service's sentence.
        await approve_selected(pilot, app)
        await wait_until(pilot, lambda: str(table.get_row_at(0)[8]) == "sue (1 of 2)")
        assert str(table.get_row_at(0)[7]).startswith("awaiting 2nd")
        await approve_selected(pilot, app)
        await wait_until(pilot, lambda: any("You gave the first approval" in m for m in messages(app)))
        assert await superuser.fetchval("SELECT status FROM refund_requests") == "awaiting_second_approval"
        await pilot.press("p")
        await wait_until(
            pilot, lambda: any("Only an approved refund can be marked paid" in m for m in messages(app))
        )
        assert isinstance(app.screen, RefundsScreen)

        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
        screen = await open_refunds(pilot, "ada")
        table = screen.query_one("#refunds-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        await approve_selected(pilot, app)
        await wait_until(pilot, lambda: str(table.get_row_at(0)[8]) == "sue, ada")

        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PaymentReferenceDialog))
        app.screen.query_one("#payment-reference", Input).value = "ACH-20260201-0042"
        await pilot.press("ctrl+s")
        # Paid refunds leave the list of open ones.
        await wait_until(pilot, lambda: isinstance(app.screen, RefundsScreen) and table.row_count == 0)

    stored = await superuser.fetchrow(
        "SELECT r.status, r.payment_reference, f.username AS first, a.username AS second, p.username AS payer "
        "FROM refund_requests r JOIN users f ON f.id = r.first_approved_by JOIN users a ON a.id = r.approved_by "
        "JOIN users p ON p.id = r.paid_by"
    )
    assert dict(stored) == {"status": "paid", "payment_reference": "ACH-20260201-0042", "first": "sue",
                            "second": "ada", "payer": "ada"}  # fmt: skip
    events = await superuser.fetch(
        "SELECT event_type, user_id, event_data FROM audit_events "
        "WHERE event_type LIKE 'refund%' AND contract_id = $1 ORDER BY seq",
        contract_id,
    )
    assert [(e["event_type"], e["user_id"]) for e in events] == [
        ("refund_requested", sue.actor.user_id),
        ("refund_approved", sue.actor.user_id),
        ("refund_approved", ada.actor.user_id),
        ("refund_paid", ada.actor.user_id),
    ]
    assert [e["event_data"].get("stage") for e in events[1:3]] == ["first", "second"]
    assert events[3]["event_data"]["reference"] == "ACH-20260201-0042"


async def test_overdue_requests_come_first_and_a_reviewer_cannot_approve(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    rita = await make_context("reviewer", username="rita")
    recent, late = [await approved_contract(add_contract, superuser, Decimal("500.00")) for _ in range(2)]
    today = dt.date.today()
    for contract_id, received in ((recent, today), (late, dt.date(2026, 1, 20))):
        await open_refund_request(rita, contract_id, cancel_date=dt.date(2026, 1, 15), reason="sale",
                                  request_date=received, term_months=60, state="CA")  # fmt: skip
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_refunds(pilot, "rita")
        table = screen.query_one("#refunds-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        first, second = (table.get_row_at(n) for n in range(2))
        assert str(first[0]) == late and "OVERDUE" in str(first[7]) and first[0].style == "bold red"
        assert str(second[0]) == recent and "OVERDUE" not in str(second[7])
        assert "1 past the payment deadline" in str(screen.query_one("#refunds-status", Static).render())
        # Approving is a supervisor's: the key is not offered to a reviewer, and pressed it says why.
        assert screen.check_action("approve", ()) is False
        await pilot.press("a")
        await wait_until(pilot, lambda: "Your role may not approve refunds." in messages(workstation))
        assert not isinstance(workstation.screen, ConfirmDialog)
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests WHERE status = 'open'") == 2


async def test_a_request_missing_its_state_is_stored_as_not_payable_and_says_what_is_missing(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    contract_id = await approved_contract(add_contract, superuser, Decimal("500.00"))
    async with workstation.run_test(size=(80, 24)) as pilot:
        await open_refunds(pilot, "rita")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(workstation.screen, OpenRefundDialog))
        dialog = workstation.screen
        for input_id, value in (("refund-contract", contract_id), ("refund-cancel-date", "2026-01-15"),
                                ("refund-request-date", "2026-01-20")):  # fmt: skip
            dialog.query_one(f"#{input_id}", Input).value = value
        dialog.query_one("#refund-reason", Select).value = "sale"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RefundStepsDialog))
        steps = str(workstation.screen.query_one("#refund-steps", Static).render())
        assert steps.startswith("needs information") and "– the state whose law governs" in steps
        assert any("stored as not payable" in m for m in messages(workstation))
    row = await superuser.fetchrow(
        "SELECT status, verdict FROM refund_requests WHERE contract_id = $1", contract_id
    )
    assert tuple(row) == ("not_payable", "needs information")


async def _approved_in(db: Database, number: int, premium: str) -> str:
    """A contract of fixed number, dated 2024-01-15, its fields approved: made on the snapshot's own loop."""
    extraction = await create_contract(db, number=number, premium=Decimal(premium))
    async with db.unit_of_work() as uow:
        await uow.session.execute(
            update(Extraction)
            .where(Extraction.id == extraction.id)
            .values(status="approved", reviewed_at=dt.datetime.now(dt.UTC))
        )
        await uow.session.execute(
            update(Contract)
            .where(Contract.contract_id == extraction.contract_id)
            .values(contract_date=CONTRACT_DATE)
        )
        await uow.commit()
    return extraction.contract_id


async def _refund_list(pilot: Pilot, url: URL) -> None:
    """Three requests: one overdue (California pays within 60 days of the request), one awaiting its
    second approval, one open; dates fixed so the snapshot does not change with the day it runs."""
    db = connect_database(url)
    try:
        sue = await create_person(
            db, bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(), "supervisor", "sue"
        )
        cancel = dt.date(2026, 1, 15)
        for number, premium, state, reason in ((301, "500.00", "AR", "sale"), (302, "2500.00", "AR", "payoff"),
                                               (303, "900.00", "CA", "refinance")):  # fmt: skip
            request = await open_refund_request(
                sue, await _approved_in(db, number, premium), cancel_date=cancel, reason=reason,  # type: ignore[arg-type]
                request_date=dt.date(2026, 1, 20), term_months=60, state=state,
            )  # fmt: skip
            if number == 302:
                await approve_refund(sue, request.id, request.version)
    finally:
        await db.dispose()
    app: RefundReviewApp = pilot.app  # type: ignore[assignment]
    screen = await open_refunds(pilot, "sue")
    await wait_until(pilot, lambda: screen.query_one("#refunds-table", DataTable).row_count == 3)
    await pilot.pause()
    assert app.screen is screen


def test_refunds_list_snapshot(snap_compare, settings: Settings, database_url: URL) -> None:
    """120x40: the overdue request first and in red, the four-eyes one showing its first approver."""

    async def run(pilot: Pilot) -> None:
        await _refund_list(pilot, database_url)

    assert snap_compare(make_app(settings), terminal_size=(120, 40), run_before=run)


async def test_a_supervisor_rejects_an_open_request_with_a_reason(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    rita = await make_context("reviewer", username="rita")
    sue = await make_context("supervisor", username="sue")
    contract_id = await approved_contract(add_contract, superuser, Decimal("500.00"))
    await open_refund_request(rita, contract_id, cancel_date=dt.date(2026, 1, 15), reason="sale",
                              request_date=dt.date(2026, 1, 20), term_months=60, state="AR")  # fmt: skip
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_refunds(pilot, "sue")
        table = screen.query_one("#refunds-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReasonDialog))
        # Enter with no reason says so and stays; Escape changes nothing.
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("it goes into the audit log" in m for m in messages(workstation)))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RefundsScreen))
        assert await superuser.fetchval("SELECT status FROM refund_requests") == "open"
        # A typed reason (its control characters dropped by the one rule for typed text).
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReasonDialog))
        await pilot.press("5")
        workstation.screen.query_one("#reason-text", Input).value = "customer\tpaid the loan elsewhere"
        await pilot.press("enter")
        # Rejected requests leave the open list.
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, RefundsScreen) and table.row_count == 0
        )
        assert any("Request rejected" in m for m in messages(workstation))
    stored = await superuser.fetchrow(
        "SELECT r.status, r.rejection_reason, u.username FROM refund_requests r JOIN users u ON u.id = r.rejected_by"
    )
    assert tuple(stored) == ("rejected", "customer paid the loan elsewhere", "sue")
    event = await superuser.fetchrow(
        "SELECT user_id, session_id, event_data FROM audit_events WHERE event_type = 'refund_rejected'"
    )
    assert event["user_id"] == sue.actor.user_id and event["session_id"] is not None
    assert event["event_data"]["reason"] == "customer paid the loan elsewhere"


async def test_a_reviewer_is_not_offered_rejection(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    rita = await make_context("reviewer", username="rita")
    contract_id = await approved_contract(add_contract, superuser, Decimal("500.00"))
    await open_refund_request(rita, contract_id, cancel_date=dt.date(2026, 1, 15), reason="sale",
                              request_date=dt.date(2026, 1, 20), term_months=60, state="AR")  # fmt: skip
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_refunds(pilot, "rita")
        await wait_until(pilot, lambda: screen.query_one("#refunds-table", DataTable).row_count == 1)
        assert screen.check_action("reject", ()) is False
        await pilot.press("x")
        await wait_until(pilot, lambda: "Your role may not reject refund requests." in messages(workstation))
        assert not isinstance(workstation.screen, ReasonDialog)
    assert await superuser.fetchval("SELECT status FROM refund_requests") == "open"


async def test_exporting_from_the_screen_writes_each_approved_refund_once_to_a_confirmed_file(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    sue = await make_context("supervisor", username="sue")
    requests = []
    for premium in ("500.00", "600.00", "700.00"):
        contract_id = await approved_contract(add_contract, superuser, Decimal(premium))
        requests.append(await open_refund_request(sue, contract_id, cancel_date=dt.date(2026, 1, 15),
                        reason="sale", request_date=dt.date(2026, 1, 20), term_months=60, state="AR"))  # fmt: skip
    approved = [await approve_refund(sue, r.id, r.version) for r in requests[:2]]  # the third stays open
    exports = workstation.settings.exports_dir
    async with workstation.run_test(size=(120, 40)) as pilot:
        await open_refunds(pilot, "sue")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RefundExportDialog))
        dialog = workstation.screen
        path_input = dialog.query_one("#refund-export-path", Input)
        proposed = Path(path_input.value)
        assert (
            proposed.parent == exports and proposed.name.startswith("refunds-") and proposed.suffix == ".csv"
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RefundsScreen))
        await wait_until(
            pilot, lambda: any("2 approved refunds exported to" in m for m in messages(workstation))
        )
        assert any(str(proposed) in m for m in messages(workstation))

        # Again, to the same file: refused in the form, nothing written over; another name gets no rows.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(workstation.screen, RefundExportDialog))
        dialog = workstation.screen
        dialog.query_one("#refund-export-path", Input).value = str(proposed)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "exists already" in form_error(dialog))  # type: ignore[arg-type]
        second = exports / "again.csv"
        dialog.query_one("#refund-export-path", Input).value = str(second)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("No refund exported" in m for m in messages(workstation)))

    rows = list(csv.DictReader((await asyncio.to_thread(proposed.read_text, encoding="utf-8")).splitlines()))
    assert [row["request_id"] for row in rows] == [str(a.id) for a in approved]
    assert [row["refund_amount"] for row in rows] == [str(a.refund_amount) for a in approved]
    header_only = await asyncio.to_thread(second.read_text, encoding="utf-8")
    assert header_only.splitlines() == [",".join(EXPORT_COLUMNS)]
    assert sorted(p.name for p in exports.iterdir()) == sorted(
        [proposed.name, second.name]
    )  # no partial left
    exported = await superuser.fetch("SELECT id FROM refund_requests WHERE exported_at IS NOT NULL")
    assert {r["id"] for r in exported} == {a.id for a in approved}
    events = await superuser.fetch(
        "SELECT user_id, session_id, event_data FROM audit_events WHERE event_type = 'refunds_exported' ORDER BY seq"
    )
    assert [(e["user_id"], e["event_data"]["count"]) for e in events] == [
        (sue.actor.user_id, 2),
        (sue.actor.user_id, 0),
    ]
    assert events[0]["session_id"] is not None
    assert events[0]["event_data"]["cursor"] == approved[-1].approval_seq
