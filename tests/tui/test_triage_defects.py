"""Issue 12's defects, each driven the way a new user hit it: by keys, against the real database."""

from __future__ import annotations

import asyncpg
import pytest
from textual import events
from textual.widgets import Input, Select, Static
from textual.widgets._select import SelectOverlay

from app.dialogs.export_dialog import ExportDialog
from app.screens.audit import AuditScreen
from app.screens.dashboard import DashboardScreen
from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.review import ResultReviewScreen, ReviewScreen
from app.workstation import RefundReviewApp
from services.audit import EVENT_TYPES
from services.review import approve, claim_next, get_detail
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, open_area, wait_until
from widgets.document_view import DocumentView
from widgets.field_list import FieldList


def type_fast(app: RefundReviewApp, *keys: str) -> None:
    """Keys as a fast typist sends them: all queued at once, none waiting for the screen to settle
    (Pilot's `press` waits for the app to be idle after each key)."""
    for key in keys:
        char = {"tab": "\t", "enter": "\r"}.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, char))


def notes(app: RefundReviewApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_logging_out_from_the_dashboard_returns_to_the_login_without_a_crash(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("supervisor", username="sue")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "sue", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, DashboardScreen))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Log out")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, LoginScreen) and not workstation.logged_in
        )
        # The dashboard's timers and keys are checked again after the session is gone.
        workstation.screen.refresh_bindings()
        await pilot.pause(0.3)
        assert workstation.return_code in (None, 0)
        assert not any("Unexpected" in message for message in notes(workstation))


async def test_a_worker_that_outlives_the_session_reports_nothing(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        queue: QueueScreen = workstation.screen  # type: ignore[assignment]
        workstation.action_logout()
        # The queue's refresh timer fires while the session is being cleared away.
        queue.refresh_counts()
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        await pilot.pause(0.3)
        assert workstation.return_code in (None, 0)
        assert not any("Unexpected" in message for message in notes(workstation))


async def test_page_down_and_up_page_the_contract_and_keep_the_field(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    item = await add_contract(premium_confidence=40)
    more = "".join(f"Clause {n}: the buyer agrees to the terms above.\n" for n in range(200))
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || $1 WHERE contract_id = $2",
        more,
        item.contract_id,
    )
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        screen: ReviewScreen = workstation.screen  # type: ignore[assignment]
        fields, document = screen.query_one(FieldList), screen.query_one(DocumentView)
        await pilot.pause()
        top = document.scroll_y
        await pilot.press("pagedown")
        await pilot.pause()
        assert fields.highlighted == 0
        assert document.scroll_y >= top + document.size.height - 2
        await pilot.press("pageup")
        await pilot.pause()
        assert document.scroll_y == top
        assert fields.highlighted == 0


async def test_the_next_item_opens_on_its_weakest_field(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    first = await add_contract(premium_confidence=30)
    second = await add_contract(method_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        screen: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert screen.detail.extraction_id == first.id
        assert screen.query_one(FieldList).highlighted == 0
        await pilot.press("j", "j", "n")
        await wait_until(pilot, lambda: screen.detail.extraction_id == second.id)
        assert screen.query_one(FieldList).highlighted == 1
        assert screen.query_one(DocumentView).highlighted_text == "refunded on a pro rata basis"


async def test_n_honours_the_queue_filter_and_escape_closes_the_bar(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract(premium_confidence=20)
    by_method = await add_contract(method_confidence=50)
    await add_contract(premium_confidence=30)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        queue: QueueScreen = workstation.screen  # type: ignore[assignment]
        await pilot.press("slash")
        await pilot.pause()
        queue.query_one("#filter-field", Select).value = "refund_calculation_method"
        await wait_until(pilot, lambda: queue.item_ids() == [by_method.id])
        await pilot.press("escape")
        await pilot.pause()
        assert queue.query_one("#queue-filters").has_class("hidden")
        filtered = queue.query_one("#queue-filtered", Static)
        assert filtered.display and "Filtered: refund method below threshold" in str(filtered.render())
        await pilot.press("n")
        await wait_until(
            pilot, lambda: isinstance(workstation.screen, ReviewScreen) and workstation.screen.is_mounted
        )
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert review.detail.extraction_id == by_method.id
        # Nothing else passes the filter: skipping finds the queue (as filtered) empty.
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        assert any("queue is empty" in message for message in notes(workstation))


async def test_keys_that_cannot_act_on_a_decided_contract_say_why(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    rita = await make_context("reviewer", username="rita")
    item = await add_contract()
    detail = await claim_next(rita)
    assert detail is not None
    await approve(rita, item.id, detail.version)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await workstation.push_screen(ResultReviewScreen(await get_detail(workstation.context, item.id)))
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert any(f"{item.contract_id} is already approved by rita" in m for m in notes(workstation))
        await pilot.press("o")
        await pilot.pause()
        assert any("Only a supervisor or an admin can reopen" in m for m in notes(workstation))


async def test_after_a_logout_fast_typing_fills_username_then_password(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        workstation.action_logout()
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        type_fast(workstation, *"rita", "tab", *"secret")
        await pilot.pause(0.5)
        login = workstation.screen
        assert login.query_one("#username", Input).value == "rita"
        assert login.query_one("#password", Input).value == "secret"


async def test_text_typed_right_after_tab_in_the_export_dialog_is_kept(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("supervisor", username="sue")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await open_area(pilot, "sue", "f6", AuditScreen, "audit-table")
        type_fast(workstation, "x", *"2024-01-01", "tab", *"2024-01-31")
        await pilot.pause(0.5)
        dialog = workstation.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#export-from", Input).value == "2024-01-01"
        assert dialog.query_one("#export-to", Input).value == "2024-01-31"


async def test_the_audit_event_type_list_shows_each_type_on_one_line(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("supervisor", username="sue")
    async with workstation.run_test(size=(80, 24)) as pilot:
        screen = await open_area(pilot, "sue", "f6", AuditScreen, "audit-table")
        await pilot.press("slash")
        await pilot.pause()
        select = screen.query_one("#filter-type", Select)
        select.focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        overlay = select.query_one(SelectOverlay)
        assert overlay.option_count == len(EVENT_TYPES) + 1
        # One line per option: none wraps.
        assert overlay.virtual_size.height == overlay.option_count


async def test_a_session_that_expires_while_locked_on_the_dashboard_ends_without_a_crash(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "ada", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, DashboardScreen))
        await pilot.press("f12")
        await pilot.pause()
        workstation.session_ended("Your session has expired; log in again.")
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        await pilot.pause(0.3)
        assert workstation.return_code in (None, 0)
        assert "expired" in str(workstation.screen.query_one("#login-message", Static).render())


async def test_a_crash_is_logged_as_an_error_and_ends_with_a_failure_code(
    workstation: RefundReviewApp, caplog: pytest.LogCaptureFixture
) -> None:
    def crash() -> None:
        raise ValueError("something nobody handled")

    with pytest.raises(ValueError, match="nobody handled"):
        async with workstation.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            workstation.call_later(crash)
            await pilot.pause(0.3)
    assert workstation.return_code == 1
    crashes = [r for r in caplog.records if r.message == "the workstation crashed"]
    assert crashes and crashes[0].levelname == "CRITICAL" and "nobody handled" in str(crashes[0].exc_info[1])
