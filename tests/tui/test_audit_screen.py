"""A supervisor reads the audit log: newest first, filtered, verified (whole and tampered), exported."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import asyncpg
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from app.dialogs.export_dialog import ExportDialog
from app.screens.audit import AuditScreen
from app.workstation import RefundReviewApp
from services.audit import anchor_chain, load_or_create_signer, open_anchor_store
from services.context import ServiceContext
from services.settings import Settings
from services.users import create_user
from tests.db.test_audit_tampering import rewrite_and_rehash, tamper
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import open_area, wait_until


async def open_audit(pilot: Pilot, username: str) -> AuditScreen:
    return await open_area(pilot, username, "f6", AuditScreen, "audit-table")


def shown_seqs(screen: AuditScreen) -> list[int]:
    table = screen.query_one("#audit-table", DataTable)
    return [int(str(table.get_row_at(row)[0])) for row in range(table.row_count)]


def verdict(screen: AuditScreen) -> str:
    return str(screen.query_one("#audit-verdict", Static).render())


@pytest.fixture
async def two_new_users(make_context) -> None:
    """ada (admin) creates rita and sam: two `user_created` events before anyone logs in."""
    ada = await make_context("admin", username="ada")
    for name in ("rita", "sam"):
        await create_user(
            ada, name, f"{name}@example.com", name.title(), "reviewer", PASSWORD, bcrypt_rounds=4
        )
    await make_context("supervisor", username="sue")


async def test_log_is_newest_first_and_filters_by_user_and_type(
    workstation: RefundReviewApp, two_new_users: None, superuser: asyncpg.Connection
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, "sue")
        seqs = shown_seqs(screen)
        assert seqs == sorted(seqs, reverse=True)
        assert seqs[0] == await superuser.fetchval("SELECT max(seq) FROM audit_events")
        assert len(seqs) == await superuser.fetchval("SELECT count(*) FROM audit_events")

        await pilot.press("slash", *"ada", "enter")
        await wait_until(pilot, lambda: screen.filters.user == "ada" and len(shown_seqs(screen)) == 2)
        assert {item.username for item in screen._items} == {"ada"}

        await pilot.press("ctrl+u", "enter")  # no user filter
        screen.query_one("#filter-type", Select).value = "login"
        await wait_until(pilot, lambda: screen.filters == type(screen.filters)(event_type="login"))
        await wait_until(pilot, lambda: {item.event_type for item in screen._items} == {"login"})
        assert [item.username for item in screen._items] == ["sue"]
        assert "type login" in str(screen.query_one("#audit-status", Static).render())


async def test_verify_says_intact(workstation: RefundReviewApp, two_new_users: None) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, "sue")
        await pilot.press("v")
        await wait_until(pilot, lambda: "intact" in verdict(screen))
        # ada's two user_created events and sue's login.
        assert "3 events verified (#1..#3)" in verdict(screen)
        await wait_until(pilot, lambda: screen._items and screen._items[0].event_type == "audit_verified")


async def test_verify_names_the_tampered_event(
    workstation: RefundReviewApp, two_new_users: None, superuser: asyncpg.Connection
) -> None:
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, "sue")
        await superuser.execute("SET session_replication_role = replica")
        await superuser.execute(
            "UPDATE audit_events SET event_data = jsonb_set(event_data, '{role}', '\"admin\"') WHERE seq = 2"
        )
        await pilot.press("v")
        await wait_until(pilot, lambda: "BROKEN" in verdict(screen))
        assert "at event #2 (user_created" in verdict(screen)
        assert "content no longer matches its hash" in verdict(screen)
        assert screen.query_one("#audit-verdict").has_class("broken")


async def test_export_writes_the_period_to_home_exports(
    workstation: RefundReviewApp, two_new_users: None, superuser: asyncpg.Connection, settings: Settings
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, "sue")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ExportDialog))
        first, last = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
        await pilot.press(*str(first), "enter", *str(last), "ctrl+s")
        await wait_until(pilot, lambda: workstation.screen is screen)
        await wait_until(pilot, lambda: "Exported" in verdict(screen))
        path = settings.home / "exports" / f"audit-{first}_{last}.jsonl"
        assert str(path) in verdict(screen).replace("\n", "")
    exported = await superuser.fetchval(
        "SELECT count(*) FROM audit_events WHERE seq < (SELECT seq FROM audit_events WHERE event_type = 'audit_exported')"
    )
    lines = (await asyncio.to_thread(path.read_text, encoding="utf-8")).splitlines()
    assert len(lines) == exported + 2  # a header, the events, a trailer
    trailer = json.loads(lines[-1])
    assert (trailer["record"], trailer["count"]) == ("trailer", exported)


# --- snapshot ---------------------------------------------------------------------------------------

MARCH = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
PEOPLE = {
    "ada": ("Ada Admin", "admin"),
    "rita": ("Rita Reviewer", "reviewer"),
    "sam": ("Sam Supervisor", "supervisor"),
}
CONTRACT = "GAP-2024-001001"
# (minutes after 08:00, event type, who, contract, data): a morning in March 2024.
EVENTS = [
    (55, "login", "ada", None, {"method": "password"}),
    (56, "user_created", "ada", None, {"username": "rita", "role": "reviewer", "email": "rita@example.com"}),
    (62, "config_changed", "ada", None, {"key": "confidence_threshold", "old": "80", "new": "85"}),
    (75, "login", "rita", None, {"method": "password"}),
    (76, "claim", "rita", CONTRACT, {"lease_minutes": 15}),
    (77, "correct", "rita", CONTRACT, {"field": "gap_insurance_premium", "old": "1250.00", "new": "1150.00",
                                       "reason_code": "misread_value", "note": "page 2 says 1,150.00"}),
    (78, "approve", "rita", CONTRACT, {"version": 2}),
    (80, "reopen", "sam", CONTRACT, {"previous_status": "approved", "reason": "second look at the fee"}),
    (120, "audit_verified", "sam", None, {"intact": True, "events_verified": 8, "last_seq": 8}),
]  # fmt: skip


@pytest.fixture
async def march_morning(superuser: asyncpg.Connection, password_hash: str, add_contract) -> None:
    """Fixed people and events (ids, times, content), so that every hash is the same on every run."""
    assert await superuser.fetchval("SELECT count(*) FROM audit_events") == 0
    ids = {name: uuid.UUID(int=number) for number, name in enumerate(PEOPLE, start=1)}
    for name, (full_name, role) in PEOPLE.items():
        await superuser.execute(
            "INSERT INTO users (id, username, email, full_name, password_hash, role) VALUES ($1, $2, $3, $4, $5, $6)",
            ids[name], name, f"{name}@example.com", full_name, password_hash, role,
        )  # fmt: skip
    await add_contract(contract_id=CONTRACT)
    for number, (minutes, kind, who, contract, data) in enumerate(EVENTS, start=1):
        await superuser.execute(
            "INSERT INTO audit_events (id, occurred_at, event_type, user_id, contract_id, ip_address, user_agent,"
            " event_data) VALUES ($1, $2, $3, $4, $5, '192.0.2.10', 'refund-review/1.0 workstation', $6)",
            uuid.UUID(int=1000 + number), MARCH + dt.timedelta(hours=8, minutes=minutes), kind, ids[who],
            contract, data,
        )  # fmt: skip


def test_audit_log_snapshot(workstation: RefundReviewApp, march_morning: None, snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = await open_audit(pilot, "sam")
        # Only March 2024: sam's login of today stays out of the picture.
        await pilot.press("slash", "tab", "tab", "tab", *"2024-03-01", "tab", *"2024-03-31", "enter")
        await wait_until(
            pilot, lambda: screen.filters.since is not None and len(shown_seqs(screen)) == len(EVENTS)
        )
        await pilot.press("escape", "down", "down", "down")

    assert snap_compare(workstation, terminal_size=(120, 40), run_before=run_before)


async def anchor_now(system: ServiceContext, settings: Settings) -> int:
    """The operator's `audit anchor`, with the workstation's own key and store (its home)."""
    signer = load_or_create_signer(settings.anchor_key_path)
    result = await anchor_chain(system, signer, open_anchor_store(settings.anchor_store_location))
    return result.statement.seq


async def test_verify_shows_how_far_the_anchors_reach(
    workstation: RefundReviewApp, two_new_users: None, system: ServiceContext, settings: Settings
) -> None:
    anchored = await anchor_now(system, settings)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, "sue")
        await pilot.press("v")
        await wait_until(pilot, lambda: "intact" in verdict(screen))
        assert f"1 of 1 anchors confirmed, the latest at #{anchored}" in verdict(screen)
        assert "not yet anchored: 1." in verdict(screen)  # sue's login came after the anchor


async def test_verify_shows_a_rewrite_caught_at_the_anchor(
    workstation: RefundReviewApp,
    two_new_users: None,
    system: ServiceContext,
    settings: Settings,
    superuser: asyncpg.Connection,
) -> None:
    anchored = await anchor_now(system, settings)
    await tamper(superuser, rewrite_and_rehash(1))
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot, "sue")
        await pilot.press("v")
        await wait_until(pilot, lambda: "NOT VERIFIED" in verdict(screen))
        assert f"Problem: Event #{anchored} no longer has the hash signed" in verdict(screen)
        assert screen.query_one("#audit-verdict").has_class("broken")
