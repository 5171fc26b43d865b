"""An admin's day: create a user, deactivate one, change a setting — checked on screen and in the database."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from app import session
from app.dialogs.config_dialog import ConfigDialog
from app.dialogs.confirm_dialog import ConfirmDialog
from app.dialogs.new_user_dialog import NewUserDialog
from app.screens.admin import AdminScreen, suggestion_text
from app.screens.queue import QueueScreen
from app.workstation import RefundReviewApp
from db.url import asyncpg_connect_args
from services.config import update_config
from services.metrics.period import Period
from services.quality.reports import Group, build_report
from services.system_settings import SystemSettings
from tests.tui.pilot import open_area, wait_until


async def open_administration(pilot: Pilot, username: str) -> AdminScreen:
    return await open_area(pilot, username, "f5", AdminScreen, "users-table")


async def select_setting(pilot: Pilot, screen: AdminScreen, key: str) -> None:
    await pilot.press("t")
    await wait_until(pilot, lambda: screen.query_one("#config-table", DataTable).row_count > 0)
    for _ in range(screen.query_one("#config-table", DataTable).row_count):
        if screen.selected_entry and screen.selected_entry.key == key:
            return
        await pilot.press("down")
    raise AssertionError(f"no setting {key}")


async def test_admin_creates_a_user(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, NewUserDialog))
        await pilot.press(*"rita", "enter", *"rita@example.com", "enter", *"Rita Reviewer", "enter")
        await pilot.press("enter", "down", "enter")  # the role: reviewer → supervisor
        dialog = workstation.screen
        assert dialog.query_one("#new-role", Select).value == "supervisor"
        dialog.query_one("#new-password").focus()
        await pilot.press(*"temporary pass 42", "tab", *"temporary pass 42", "ctrl+s")
        await wait_until(pilot, lambda: workstation.screen is screen)
        table = screen.query_one("#users-table", DataTable)
        await wait_until(pilot, lambda: "rita" in [u.username for u in screen._users])
        assert screen.selected_user is not None and screen.selected_user.username == "rita"
        assert "rita" in str(table.get_row("rita")[0])
    row = await superuser.fetchrow("SELECT role, full_name, is_active FROM users WHERE username = 'rita'")
    assert (row["role"], row["full_name"], row["is_active"]) == ("supervisor", "Rita Reviewer", True)
    event = await superuser.fetchrow(
        "SELECT user_id, event_data FROM audit_events WHERE event_type = 'user_created'"
    )
    assert event["user_id"] == admin.actor.user_id
    assert event["event_data"]["username"] == "rita" and event["event_data"]["role"] == "supervisor"


async def test_new_user_refused_by_the_service_keeps_the_dialog_open(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await open_administration(pilot, "ada")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, NewUserDialog))
        dialog = workstation.screen
        await pilot.press(*"ada", "enter", *"other@example.com", "enter", *"Another Ada", "enter")
        dialog.query_one("#new-password").focus()
        await pilot.press(*"temporary pass 42", "tab", *"temporary pass 42", "ctrl+s")
        error = dialog.query_one("#form-error", Static)
        await wait_until(pilot, lambda: "already taken" in str(error.render()))
        assert workstation.screen is dialog
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE email = 'other@example.com'") == 0


async def test_new_user_with_two_different_passwords_is_not_sent(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await open_administration(pilot, "ada")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(workstation.screen, NewUserDialog))
        dialog = workstation.screen
        await pilot.press(*"rita", "enter", *"rita@example.com", "enter", *"Rita Reviewer", "enter")
        dialog.query_one("#new-password").focus()
        await pilot.press(*"temporary pass 42", "tab", *"temporary pass 43", "ctrl+s")
        error = dialog.query_one("#form-error", Static)
        await wait_until(pilot, lambda: "two passwords differ" in str(error.render()))
        assert workstation.screen is dialog
    assert await superuser.fetchval("SELECT count(*) FROM users WHERE username = 'rita'") == 0


async def test_deactivate_after_confirmation(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ada")
    rita = await make_context("reviewer", username="rita")
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await pilot.press("down")  # users by name: ada, rita
        assert screen.selected_user is not None and screen.selected_user.username == "rita"
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(
            pilot, lambda: screen.selected_user is not None and not screen.selected_user.is_active
        )
        assert screen.active_bindings["d"].binding.description == "Reactivate"
    assert await superuser.fetchval("SELECT is_active FROM users WHERE id = $1", rita.actor.user_id) is False
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'user_deactivated'")
        == 1
    )


async def test_admin_changes_the_confidence_threshold(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    admin = await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await select_setting(pilot, screen, "confidence_threshold")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ConfigDialog))
        await pilot.press("end", "backspace", "backspace", *"85", "enter")
        await wait_until(pilot, lambda: workstation.screen is screen)
        await wait_until(pilot, lambda: workstation.session.settings.confidence_threshold == 85)
        await wait_until(
            pilot, lambda: screen.selected_entry is not None and screen.selected_entry.value == "85"
        )
        assert screen.selected_entry.updated_by == "ada"
    assert (
        await superuser.fetchval("SELECT value FROM system_config WHERE key = 'confidence_threshold'") == "85"
    )
    event = await superuser.fetchrow(
        "SELECT user_id, event_data FROM audit_events WHERE event_type = 'config_changed'"
    )
    assert event["user_id"] == admin.actor.user_id
    assert event["event_data"] == {"key": "confidence_threshold", "old": "80", "new": "85"}


def premium_is_flagged(queue: QueueScreen, contract_id: str) -> bool:
    """The queue paints a field's confidence red when it is below the threshold it was drawn with."""
    table = queue.query_one("#queue-table", DataTable)
    row = next(table.get_row(key) for key in table.rows if str(table.get_row(key)[0]) == contract_id)
    return row[5].style == "red"


async def test_the_queue_uses_a_threshold_the_admin_just_changed(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("admin", username="ada")
    item = await add_contract(premium_confidence=90, method_confidence=95, fee_confidence=95)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await select_setting(pilot, screen, "confidence_threshold")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ConfigDialog))
        await pilot.press("end", "backspace", "backspace", *"95", "enter")
        await wait_until(pilot, lambda: workstation.session.settings.confidence_threshold == 95)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
        queue = workstation.screen
        await wait_until(pilot, lambda: queue.query_one("#queue-table", DataTable).row_count > 0)
        assert premium_is_flagged(queue, item.contract_id)


async def test_a_threshold_changed_elsewhere_reaches_the_open_queue_after_the_refresh_period(
    workstation: RefundReviewApp, make_context, add_contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_context("admin", username="ada")
    await make_context("reviewer", username="rita")
    item = await add_contract(premium_confidence=90, method_confidence=95, fee_confidence=95)
    async with workstation.run_test(size=(120, 40)) as pilot:
        queue = await open_area(pilot, "rita", "f2", QueueScreen, "queue-table")
        assert not premium_is_flagged(queue, item.contract_id)
        # Another workstation's admin raises the threshold; this one still has the value read at login.
        await update_config(admin, "confidence_threshold", "95")
        await pilot.press("r")
        await pilot.pause(0.3)
        assert workstation.session.settings.confidence_threshold == 80
        assert not premium_is_flagged(queue, item.contract_id)
        # Once the settings are older than the refresh period, the queue's next load reads them again.
        monkeypatch.setattr(session, "SETTINGS_MAX_AGE_SECONDS", 0.0)
        await pilot.press("r")
        await wait_until(pilot, lambda: premium_is_flagged(queue, item.contract_id))
        assert workstation.session.settings.confidence_threshold == 95


async def test_out_of_bounds_threshold_is_refused_in_the_dialog(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await select_setting(pilot, screen, "confidence_threshold")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ConfigDialog))
        dialog = workstation.screen
        assert "0 – 100" in str(dialog.query_one(".form-note", Static).render())
        await pilot.press("end", "backspace", "backspace", *"101", "enter")
        error = dialog.query_one("#form-error", Static)
        await wait_until(pilot, lambda: "at most 100" in str(error.render()))
        assert workstation.screen is dialog
        await pilot.press("escape")
        assert workstation.session.settings.confidence_threshold == 80
    assert (
        await superuser.fetchval("SELECT value FROM system_config WHERE key = 'confidence_threshold'") == "80"
    )
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'config_changed'") == 0
    )


async def test_letters_in_a_number_setting_are_shown_and_named_as_the_problem(
    workstation: RefundReviewApp, make_context, superuser: asyncpg.Connection
) -> None:
    await make_context("admin", username="ada")
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await select_setting(pilot, screen, "confidence_threshold")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ConfigDialog))
        dialog = workstation.screen
        await pilot.press("end", "backspace", "backspace", *"8x")
        assert dialog.query_one("#config-value", Input).value == "8x"
        error = dialog.query_one("#form-error", Static)
        assert "Type a whole number, 0 – 100." in str(error.render())
        await pilot.press("enter")
        await wait_until(pilot, lambda: "takes a whole number; '8x' is not one" in str(error.render()))
        assert "characters" not in str(error.render())
        assert workstation.screen is dialog
    assert (
        await superuser.fetchval("SELECT value FROM system_config WHERE key = 'confidence_threshold'") == "80"
    )


# --- snapshot ---------------------------------------------------------------------------------------

FROZEN_LOGIN = dt.datetime(2024, 3, 4, 8, 55, tzinfo=dt.UTC)
CREATED = dt.datetime(2023, 9, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def staff(superuser: asyncpg.Connection, password_hash: str) -> None:
    """Fixed people, so that the users tab looks the same on every run."""
    people = [
        ("ada", "Ada Admin", "admin", True, None, FROZEN_LOGIN),
        ("rita", "Rita Reviewer", "reviewer", True, None, dt.datetime(2024, 3, 4, 7, 30, tzinfo=dt.UTC)),
        ("sam", "Sam Supervisor", "supervisor", True, None, dt.datetime(2024, 3, 1, 16, 2, tzinfo=dt.UTC)),
        ("lou", "Lou Locked", "reviewer", True, dt.datetime(2099, 1, 1, 9, 15, tzinfo=dt.UTC), None),
        ("old.timer", "Old Timer", "reviewer", False, None, dt.datetime(2023, 11, 30, 12, 0, tzinfo=dt.UTC)),
    ]
    for number, (username, name, role, active, locked_until, last_login) in enumerate(people, start=1):
        await superuser.execute(
            "INSERT INTO users (id, username, email, full_name, password_hash, role, is_active, locked_until,"
            " last_login_at, failed_login_count, created_at, password_changed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            uuid.UUID(int=number), username, f"{username}@example.com", name, password_hash, role, active,
            locked_until, last_login, 5 if locked_until else 0, CREATED + dt.timedelta(days=number),
        )  # fmt: skip


def test_users_tab_snapshot(
    workstation: RefundReviewApp, staff: None, database_url: URL, snap_compare
) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = await open_administration(pilot, "ada")
        # Logging in stamps ada's last login with the time of the run: put it back.
        conn = await asyncpg.connect(**asyncpg_connect_args(database_url))
        try:
            await conn.execute("UPDATE users SET last_login_at = $1 WHERE username = 'ada'", FROZEN_LOGIN)
        finally:
            await conn.close()
        await pilot.press("r")
        await wait_until(
            pilot, lambda: bool(screen._users) and screen._users[0].last_login_at == FROZEN_LOGIN
        )
        await pilot.press("down")

    assert snap_compare(workstation, terminal_size=(120, 40), run_before=run_before)


async def test_the_threshold_settings_show_the_suggested_thresholds(
    workstation: RefundReviewApp, make_context
) -> None:
    await make_context("admin", username="ada")
    async with workstation.run_test(size=(160, 40)) as pilot:
        screen = await open_administration(pilot, "ada")
        await select_setting(pilot, screen, "confidence_threshold")
        detail = screen.query_one("#config-detail", Static)
        await wait_until(pilot, lambda: "Suggested per field" in str(detail.render()))
        shown = str(detail.render())
        assert "Suggested per field for a 1% error target" in shown
        # No reviewed values in the test database: nothing to suggest, said per field beside its threshold.
        assert "GAP premium none proven (now 80)" in shown
        assert "cancellation fee none proven (now 80)" in shown
        keys = [entry.key for entry in screen._entries]
        screen.query_one("#config-table", DataTable).move_cursor(row=keys.index("idle_timeout_minutes"))
        await wait_until(pilot, lambda: "idle_timeout_minutes" in str(detail.render()))
        assert "Suggested" not in str(detail.render())


def test_the_suggestion_names_each_fields_threshold_from_the_calibration_report() -> None:
    """Premiums: 500 right at 95, 20 wrong at 60 — the lowest threshold leaving out the wrong ones is 61.

    The other fields have no reviewed values: nothing to suggest.
    """
    premium = "gap_insurance_premium"
    groups = [
        Group(provider="rules", model="rules-1", field=premium, confidence=confidence, trusted=True,
              reviewed=True, qa_sample=False, right_value=right, n=n)
        for confidence, right, n in ((95, True, 500), (60, False, 20))
    ]  # fmt: skip
    report = build_report(
        groups,
        period=Period.last_days(30),
        settings=SystemSettings(field_thresholds={"refund_calculation_method": 75, "rules": {premium: 70}}),
        target_error_rate=0.01,
        qa_sample_rate=0.05,
    )
    text = suggestion_text(report).plain
    assert "GAP premium 61 (now 80)" in text
    assert "refund method none proven (now 75)" in text
    # The one provider with enough reviews gets its own line, beside its own threshold.
    assert text.endswith(
        "By provider and model, where their reviews suffice: rules / rules-1 GAP premium 61 (now 70)"
    )
