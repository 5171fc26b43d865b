"""Searching for a contract and opening it: typed in the box, read off the screen, checked in the database."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest
from rich.text import Text
from textual.widgets import DataTable, Input, Static

from app.screens.help import HelpScreen
from app.screens.palette import ScreenKeysCommands
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.screens.search import SearchScreen, summary
from app.workstation import RefundReviewApp
from services.contracts import RANKED_CANDIDATES, ContractHit, SearchPage
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until
from widgets.search_results import SearchBox, SearchResultsTable
from widgets.snippet import MATCH_STYLE


async def open_search(pilot, workstation: RefundReviewApp, username: str = "rita") -> SearchScreen:
    await log_in(pilot, username, PASSWORD)
    await wait_until(pilot, lambda: isinstance(workstation.screen, QueueScreen))
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(workstation.screen, SearchScreen))
    screen: SearchScreen = workstation.screen  # type: ignore[assignment]
    assert screen.query_one(SearchBox).has_focus
    return screen


async def search_for(pilot, screen: SearchScreen, query: str, *, typed: bool = False) -> None:
    """Put the query in the box (or type it key by key), press enter, wait for the answer."""
    box = screen.query_one(SearchBox)
    box.focus()
    box.value = ""
    if typed:
        await pilot.press(*query)
    else:
        box.value = query
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def highlighted_words(text: Text) -> list[str]:
    return [text.plain[span.start : span.end] for span in text.spans if span.style == MATCH_STYLE]


def message_text(screen: SearchScreen) -> str:
    return str(screen.query_one("#search-message", Static).render())


async def test_search_by_account_number_then_open_claims_the_item(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    rita = await make_context("reviewer", username="rita")
    wanted = await add_contract()
    other = await add_contract()
    account = await superuser.fetchval(
        "SELECT account_number FROM contracts WHERE contract_id = $1", wanted.contract_id
    )
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, account, typed=True)
        table = screen.query_one(SearchResultsTable)
        assert [hit.contract_id for hit in screen._hits] == [wanted.contract_id]
        assert table.row_count == 1
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[0] == wanted.contract_id
        assert row[3] == "pending"
        assert row[5] == "account"
        assert "account number starts with" in message_text(screen)
        assert table.has_focus
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert review.detail.contract_id == wanted.contract_id
        assert review.detail.claimed_by(rita.actor.user_id)
        escape = next(b for _, b, _, _ in review.active_bindings.values() if b.key == "escape")
        assert escape.description == "Back to results"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(workstation.screen, SearchScreen))
    claims = dict(await superuser.fetch("SELECT contract_id, claimed_by FROM extractions"))
    assert claims == {wanted.contract_id: None, other.contract_id: None}  # released on the way back
    searches = await superuser.fetch(
        "SELECT event_data FROM audit_events WHERE event_type = 'search' ORDER BY seq"
    )
    assert searches[0]["event_data"]["query"] == account
    assert searches[0]["event_data"]["kind"] == "account"
    claim_events = await superuser.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type = 'claim' AND contract_id = $1",
        wanted.contract_id,
    )
    assert claim_events == 1


async def test_words_in_the_document_show_highlighted_snippets(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    contracts = {(await add_contract()).contract_id for _ in range(3)}
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, "cancellation fee")
        table = screen.query_one(SearchResultsTable)
        assert {hit.contract_id for hit in screen._hits} == contracts
        assert table.row_count == 3
        assert "3 matches" in message_text(screen)
        snippet_cell = table.get_row_at(0)[6]
        assert isinstance(snippet_cell, Text)
        assert "\ue000" not in snippet_cell.plain and "\ue001" not in snippet_cell.plain
        assert {w.lower() for w in highlighted_words(snippet_cell)} == {"cancellation", "fee"}
        assert [str(c) for c in table.get_row_at(0)][5] == "text"
        detail = screen.query_one("#search-detail", Static).content
        assert isinstance(detail, Text)
        assert "A $50 cancellation fee will be retained" in detail.plain
        assert screen._hits[0].contract_id in detail.plain
        assert {w.lower() for w in highlighted_words(detail)} == {"cancellation", "fee"}


async def test_empty_and_too_long_searches_say_what_to_type(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract()
    async with workstation.run_test(size=(80, 24)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, "")
        message = screen.query_one("#search-message", Static)
        assert message_text(screen) == "Type something to search for."
        assert message.has_class("error")
        assert screen.query_one(SearchResultsTable).row_count == 0
        assert screen.query_one(SearchBox).has_focus
        screen.query_one(SearchBox).value = "refund " * 40
        await pilot.press("enter")
        await wait_until(pilot, lambda: "at most 200 characters" in message_text(screen))
        await search_for(pilot, screen, "zeppelin")
        assert "No contract matches “zeppelin”" in message_text(screen)
        assert not message.has_class("error")
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'search'") == 1


async def test_decided_item_opens_as_it_is_and_filters_narrow_the_results(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    rita = await make_context("reviewer", username="rita")
    approved = await add_contract(
        status="approved", reviewed_by=rita.actor.user_id, reviewed_at=dt.datetime.now(dt.UTC)
    )
    pending = await add_contract(premium_confidence=40)
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, "make:Honda")
        assert {hit.contract_id for hit in screen._hits} == {approved.contract_id, pending.contract_id}
        await pilot.press("escape", "ctrl+f")
        assert not screen.query_one("#search-filters").has_class("hidden")
        confidence = screen.query_one("#filter-confidence_below", Input)
        confidence.focus()
        await pilot.press("5", "0", "enter")
        await wait_until(pilot, lambda: [h.contract_id for h in screen._hits] == [pending.contract_id])
        confidence.value = ""
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen._hits) == 2)
        row = next(i for i, hit in enumerate(screen._hits) if hit.contract_id == approved.contract_id)
        table = screen.query_one(SearchResultsTable)
        table.focus()
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert review.detail.contract_id == approved.contract_id
        assert review.detail.status == "approved"
        assert not review.check_action("approve", ())
    assert await superuser.fetchval("SELECT claimed_by FROM extractions WHERE id = $1", approved.id) is None


async def test_an_item_held_by_someone_else_is_not_taken_from_them(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    sam = await make_context("reviewer", username="sam")
    held = await add_contract()
    await superuser.execute(
        "UPDATE extractions SET claimed_by = $1, claimed_at = now(), claim_expires_at = now() + interval '10 minutes'"
        " WHERE id = $2",
        sam.actor.user_id,
        held.id,
    )
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, held.contract_id)
        assert [hit.match_kind for hit in screen._hits] == ["contract_id"]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        review: ReviewScreen = workstation.screen  # type: ignore[assignment]
        assert review.detail.claim is not None and review.detail.claim.username == "sam"
    assert (
        await superuser.fetchval("SELECT claimed_by FROM extractions WHERE id = $1", held.id)
        == sam.actor.user_id
    )


async def test_scrolling_past_the_loaded_rows_fetches_the_next_page(
    workstation: RefundReviewApp, make_context, add_contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.screens.search.PAGE", 4)
    monkeypatch.setattr("app.screens.search.FETCH_WHEN_ROWS_LEFT", 1)
    await make_context("reviewer", username="rita")
    ids = sorted([(await add_contract()).contract_id for _ in range(7)])
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, "make:Honda")
        assert [hit.contract_id for hit in screen._hits] == ids[:4]
        assert "4 shown, more as you scroll" in message_text(screen)
        await pilot.press("down", "down", "down")
        await wait_until(pilot, lambda: len(screen._hits) == 7)
        assert [hit.contract_id for hit in screen._hits] == ids
        assert screen._next is None


def test_summary_says_when_more_contracts_match_than_were_ranked() -> None:
    hit = ContractHit(
        contract_id="GAP-2024-000001",
        account_number="4400000001",
        customer_name="Customer #1",
        contract_date=None,
        contract_type="lease",
        vin=None,
        extraction_status="pending",
        min_confidence=50,
        match_kind="text",
    )
    page = SearchPage(
        query="refund",
        kind="text",
        hits=[hit],
        next_cursor=None,
        matches=RANKED_CANDIDATES,
        more_than_ranked=True,
    )
    assert f"more than {RANKED_CANDIDATES} match" in summary(page, 1).plain
    assert "Add a word or a filter" in summary(page, 1).plain


# --- snapshots ---------------------------------------------------------------------------------------

SNAPSHOT_CONTRACTS = (
    # number (fixes id, account, customer, date and text), weakest confidence, status
    (101, 35, "pending"),
    (102, 62, "approved"),
    (103, 88, "rejected"),
    (104, 95, "pending"),
)


@pytest.fixture
async def snapshot_contracts(make_context, add_contract) -> None:
    """Contracts whose every shown value is fixed by their number."""
    rita = await make_context("reviewer", username="rita")
    for number, confidence, status in SNAPSHOT_CONTRACTS:
        decided: dict[str, object] = {}
        if status != "pending":
            decided = {"reviewed_by": rita.actor.user_id, "reviewed_at": dt.datetime.now(dt.UTC)}
        if status == "rejected":
            decided["rejection_reason"] = "The scan is unreadable."
        await add_contract(
            number=number,
            premium_confidence=confidence,
            method_confidence=99,
            fee_confidence=99,
            status=status,
            **decided,
        )


async def search_cancellation_fee(pilot) -> None:
    workstation: RefundReviewApp = pilot.app  # type: ignore[assignment]
    screen = await open_search(pilot, workstation)
    await pilot.press(*"cancellation fee", "enter")
    await pilot.app.workers.wait_for_complete()
    await wait_until(pilot, lambda: len(screen._hits) == len(SNAPSHOT_CONTRACTS))
    await pilot.press("down")
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_search_results_snapshot(
    workstation: RefundReviewApp, snapshot_contracts: None, snap_compare, size: tuple[int, int]
) -> None:
    assert snap_compare(workstation, terminal_size=size, run_before=search_cancellation_fee)


async def test_keys_are_in_the_footer_help_and_palette(
    workstation: RefundReviewApp, make_context, add_contract
) -> None:
    await make_context("reviewer", username="rita")
    await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        in_box = {a.binding.description for a in screen.active_bindings.values() if a.binding.show}
        assert {"Search", "Filters"} <= in_box
        await search_for(pilot, screen, "make:Honda")
        in_table = {a.binding.description for a in screen.active_bindings.values() if a.binding.show}
        assert {"Open contract", "Filters", "Edit search"} <= in_table
        commands = [hit.text async for hit in ScreenKeysCommands(screen).discover()]
        assert {"Search: Filters", "Search: Edit search"} <= set(commands)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(workstation.screen, HelpScreen))
        table = workstation.screen.query_one(DataTable)
        help_rows = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"Open contract", "Filters", "Edit search"} <= help_rows


async def test_a_decision_taken_from_a_search_shows_in_the_results(
    workstation: RefundReviewApp, make_context, add_contract, superuser: asyncpg.Connection
) -> None:
    await make_context("reviewer", username="rita")
    item = await add_contract()
    async with workstation.run_test(size=(120, 40)) as pilot:
        screen = await open_search(pilot, workstation)
        await search_for(pilot, screen, item.contract_id)
        assert str(screen.query_one(SearchResultsTable).get_row_at(0)[3]) == "pending"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(workstation.screen, ReviewScreen))
        await pilot.press("a")  # approve; the queue is then empty, so the review screen closes
        await wait_until(pilot, lambda: isinstance(workstation.screen, SearchScreen))
        table = screen.query_one(SearchResultsTable)
        await wait_until(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[3]) == "approved")
    assert await superuser.fetchval("SELECT status FROM extractions WHERE id = $1", item.id) == "approved"
