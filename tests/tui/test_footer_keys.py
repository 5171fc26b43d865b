"""The footer offers what the role can do on the screen, the loop's keys show, help puts them first."""

from __future__ import annotations

from textual.widgets import DataTable

from app.screens.help import HelpScreen
from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until


def footer_keys(app: RefundReviewApp) -> set[str]:
    """The keys the footer shows on the current screen (shown bindings, enabled or dimmed)."""
    return {key for key, active in app.screen.active_bindings.items() if active.binding.show}


async def test_a_reviewer_is_not_offered_the_supervisors_areas(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract(premium_confidence=30)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        keys = footer_keys(workstation)
        assert {"f2", "f3", "n"} <= keys
        assert not keys & {"f4", "f5", "f6"}
        titles = {command.title for command in workstation.get_system_commands(workstation.screen)}
        assert "Review queue" in titles and not titles & {"Dashboard", "Administration", "Audit log"}

        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        await wait_until(pilot, lambda: "j" in footer_keys(workstation))  # once the field list has focus
        review_keys = footer_keys(workstation)
        assert {"j", "u", "g", "a", "e", "x"} <= review_keys  # u is shown (dimmed) with nothing to undo
        assert not review_keys & {"f4", "f5", "f6"}


async def test_a_supervisor_is_offered_dashboard_and_audit_not_administration(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("supervisor", username="sue")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "sue", PASSWORD)
        await wait_until(pilot, lambda: workstation.logged_in and "f4" in footer_keys(workstation))
        keys = footer_keys(workstation)
        assert {"f4", "f6"} <= keys and "f5" not in keys


async def test_help_lists_the_screens_keys_before_the_general_ones(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract(premium_confidence=30)
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(workstation.screen, HelpScreen))
        table = workstation.screen.query_one(DataTable)
        actions = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert actions.index("Approve") < actions.index("Help")
        assert actions.index("Undo") < actions.index("Queue")
        assert "Log out" in actions


async def test_ctrl_l_logs_out(workstation: RefundReviewApp, make_context) -> None:
    await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(workstation.screen, LoginScreen))
        assert not workstation.logged_in
