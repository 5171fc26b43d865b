"""A workstation walked over hostile data: no crash, the literal text on screen, no escape byte from the data.

The data is written straight into the database (as rows stored before input cleaning, or by another tool,
would be), so the display's own rule is what is tested: every screen shows data as text, never markup, and
what the app would write to the terminal (the compositor's rendered segments, the bytes a real driver
writes) holds no control character that came from the data.
"""

from __future__ import annotations

import re

import asyncpg
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from app.dialogs.history_dialog import HistoryDialog
from app.screens.admin import AdminScreen
from app.screens.audit import AuditScreen
from app.screens.chat import ChatScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.screens.search import SearchScreen
from app.workstation import RefundReviewApp
from tests.hostile import TERMINAL_CONTROLS
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from widgets.search_results import SearchBox

CUSTOMER = "Smith [/] Jones [@click=app.quit]Approve all[/]\x1b]0;pwned\x07\u202e"
CONTRACT_LINES = (
    "\n[link=file:///etc/passwd]Terms[/link] \x1b[2J\x1b]52;c;ZXZpbA==\x07 [b red on red]hidden\n"
    "Section 9 \x1bP+q544e\x1b\\ \x9b2J \x9d0;x\x9c end [/"
)
NOTE = "[/] p.2 \x1b[2J scan"
REASON = "[link=file:///etc/passwd]x[/link] \x1b]52;c;ZXZpbA==\x07 no premium"
FULL_NAME = "[b]Bob[/b] \x1b]0;title\x07 Tables"
SETTING = "model [/] \x1b[31mred"
QUESTION = "What [/] is \x1b]0;x\x07 the fee?"
ANSWER = "It is [@click=app.quit]$50[/] \x1b[2J per the contract."

# What Textual itself writes: SGR styles and cursor moves. Anything else with ESC came from data.
_OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;:?]*[mHABCDGK]")
_DATA_SEQUENCES = ("\x1b]", "\x1b[2J", "\x1bP", "\x07", "\x9b", "\x9d", "\x1b[31m")


def terminal_output(app: RefundReviewApp) -> str:
    """What a terminal driver would be given to draw the current screen in full."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def check_screen(app: RefundReviewApp, *literals: str) -> None:
    """No escape sequence from the data in the output, and each literal visible as typed."""
    raw = terminal_output(app)
    for sequence in _DATA_SEQUENCES:
        assert sequence not in raw, f"{sequence!r} reached the terminal on {type(app.screen).__name__}"
    text = _OWN_SEQUENCES.sub("", raw)
    assert not [c for c in text if c in TERMINAL_CONTROLS], type(app.screen).__name__
    for literal in literals:
        assert literal in text, f"{literal!r} not shown on {type(app.screen).__name__}:\n{text}"


async def seed(superuser: asyncpg.Connection, contract_id: str, extraction_id: object) -> None:
    """Hostile rows, written as the database's owner so that no service cleans them."""
    await superuser.execute(
        "UPDATE contracts SET customer_name = $2, document_text = document_text || $3 WHERE contract_id = $1",
        contract_id,
        CUSTOMER,
        CONTRACT_LINES,
    )
    ada = await superuser.fetchval("SELECT id FROM users WHERE username = 'ada'")
    await superuser.execute("UPDATE users SET full_name = $1 WHERE username = 'bob'", FULL_NAME)
    await superuser.execute("UPDATE system_config SET value = $1 WHERE key = 'anthropic_model'", SETTING)
    await superuser.execute(
        "INSERT INTO corrections (extraction_id, field_name, original_value, corrected_value, reason_code,"
        " reason_note, corrected_by) VALUES ($1, 'cancellation_fee', '50.00', '[/]', 'other', $2, $3)",
        extraction_id,
        NOTE,
        ada,
    )
    for event_type, data in (
        (
            "correct",
            {"field": "cancellation_fee", "old": "50.00", "new": "[/]", "reason": "other", "note": NOTE},
        ),
        ("reject", {"reason": REASON, "version": 2}),
    ):
        await superuser.execute(
            "INSERT INTO audit_events (event_type, user_id, contract_id, event_data) VALUES ($1, $2, $3, $4)",
            event_type,
            ada,
            contract_id,
            data,
        )
    for role, content, provider, model in (
        ("user", QUESTION, None, None),
        ("assistant", ANSWER, "rules", "rules-1"),
    ):
        await superuser.execute(
            "INSERT INTO chat_messages (contract_id, user_id, role, content, citations, llm_provider, model_version)"
            " VALUES ($1, $2, $3, $4, '[]', $5, $6)",
            contract_id,
            ada,
            role,
            content,
            provider,
            model,
        )


async def goto(pilot: Pilot, key: str, screen_type: type) -> None:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, screen_type))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_every_screen_over_hostile_data(
    workstation: RefundReviewApp,
    make_context,
    add_contract,
    superuser: asyncpg.Connection,
    size: tuple[int, int],
) -> None:
    await make_context("admin", username="ada")
    await make_context("reviewer", username="bob")
    item = await add_contract(premium_confidence=40)
    await seed(superuser, item.contract_id, item.id)
    app = workstation
    async with app.run_test(size=size) as pilot:
        await log_in(pilot, "ada", PASSWORD)
        await wait_until(pilot, lambda: app.logged_in)
        await goto(pilot, "f2", QueueScreen)
        queue = app.screen
        await wait_until(pilot, lambda: queue.query_one(DataTable).row_count > 0)
        # The rows are in the table before they are drawn; on a loaded machine, a frame or two later.
        await wait_until(pilot, lambda: "GAP-" in terminal_output(app))
        # At 80 columns the customer column is past the ones that matter (contract, weakest field,
        # confidence, age, held by); the screen is still checked for escapes.
        check_screen(app, *(("Smith [/] Jones",) if size[0] >= 120 else ()))

        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.pause()
        check_screen(app, "Smith [/] Jones", "[link=file:///etc/passwd]Terms[/link]")

        await goto(pilot, "h", HistoryDialog)
        check_screen(app, "[/] p.2")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))

        await goto(pilot, "c", ChatScreen)
        check_screen(app, "What [/] is", "It is [@click=app.quit]$50[/]")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))

        await goto(pilot, "f3", SearchScreen)
        search = app.screen
        for query, literal in ((item.contract_id, "Smith [/] Jones"), ("make:Honda year:[/]", "[/]")):
            box = search.query_one(SearchBox)
            box.value = query
            box.focus()
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            check_screen(app, literal)
        assert "Unexpected" not in terminal_output(app)

        await goto(pilot, "f6", AuditScreen)
        audit = app.screen
        await wait_until(pilot, lambda: audit.query_one("#audit-table", DataTable).row_count > 0)
        while audit.selected is not None and audit.selected.event_type != "reject":
            await pilot.press("down")
        await pilot.pause()
        check_screen(app, "[link=file:///etc/passwd]x[/link]")

        await goto(pilot, "f5", AdminScreen)
        admin = app.screen
        await wait_until(pilot, lambda: admin.query_one("#users-table", DataTable).row_count > 0)
        check_screen(app, "[b]Bob[/b]")
        await pilot.press("t")
        await wait_until(pilot, lambda: admin.query_one("#config-table", DataTable).row_count > 0)
        await pilot.pause()
        check_screen(app, "model [/]")
        assert app.is_running


PASTED = "Smith \x1b]0;pwned\x07\x1b[2J\u202e [/]"


async def test_text_pasted_into_a_screens_own_inputs_is_drawn_with_its_controls_visible(
    workstation: RefundReviewApp, make_context
) -> None:
    """Dialogs were covered; the login box, the search box and the audit filters are screens' own inputs."""
    await make_context("admin", username="ada")
    app = workstation
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.runtime is not None)
        username = app.screen.query_one("#username", Input)
        username.value = PASTED
        await pilot.pause()
        check_screen(app)
        await log_in(pilot, "ada", PASSWORD)
        await wait_until(pilot, lambda: app.logged_in)
        await goto(pilot, "f3", SearchScreen)
        app.screen.query_one(SearchBox).value = PASTED
        await pilot.pause()
        check_screen(app, "Smith")
        await goto(pilot, "f6", AuditScreen)
        await pilot.press("slash")
        user_filter = app.screen.query_one("#filter-user", Input)
        await wait_until(pilot, lambda: user_filter.display and user_filter.region.width > 0)
        user_filter.value = PASTED
        await pilot.pause()
        check_screen(app, "Smith")
