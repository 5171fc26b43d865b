"""Searching contracts from one box, and opening one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.models import Extraction
from services import contracts
from services.context import ServiceContext
from services.contracts import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    MAX_QUERY_CHARS,
    SearchCursor,
    SearchPage,
    classify,
    normalize_query,
    search_contracts,
)
from services.errors import InvalidInput
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]


@pytest.fixture
async def reviewer(make_context: MakeContext) -> ServiceContext:
    return await make_context("reviewer")


async def contract_row(superuser: asyncpg.Connection, contract_id: str) -> asyncpg.Record:
    return await superuser.fetchrow(
        "SELECT account_number, customer_name, vehicle_info ->> 'vin' AS vin FROM contracts WHERE contract_id = $1",
        contract_id,
    )


async def all_pages(ctx: ServiceContext, query: str, limit: int, **filters: Any) -> list[SearchPage]:
    pages = [await search_contracts(ctx, query, limit=limit, **filters)]
    while pages[-1].next_cursor is not None:
        pages.append(await search_contracts(ctx, query, limit=limit, after=pages[-1].next_cursor, **filters))
    return pages


# --- what the box understands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("GAP-2024-00", "contract_id"),
        ("gap-2024-001001", "contract_id"),
        ("4400012", "account"),
        ("1HGCM82633A004352", "vin"),
        ("1hgcm8", "vin"),
        ("CHARGE", "text"),
        ("Customer #12345", "customer"),
        ("#12345", "customer"),
        ("make:Honda", "vehicle"),
        ('make:honda model:"Grand Cherokee" year:2023', "vehicle"),
        ("refunded pro rata", "text"),
        ("customer", "text"),
        ("'; DROP TABLE contracts; --", "text"),
    ],
)
def test_the_box_classifies_what_was_typed(typed: str, kind: str) -> None:
    assert classify(normalize_query(typed)).kind == kind


def test_like_wildcards_in_an_id_are_escaped() -> None:
    assert classify("GAP-2024_0").params["pattern"] == "GAP-2024\\_0%"


@given(st.text(max_size=3 * MAX_QUERY_CHARS))
def test_any_text_is_cleaned_or_refused_with_a_sentence(raw: str) -> None:
    try:
        query = normalize_query(raw)
    except InvalidInput as exc:
        assert exc.message.endswith(".")
        return
    assert 0 < len(query) <= MAX_QUERY_CHARS
    assert query == query.strip()
    assert "\x00" not in query and "\n" not in query
    classify(query)


# --- each kind ------------------------------------------------------------------------------------------


async def test_contract_id_prefix_in_any_case_lists_ids_in_order(
    reviewer: ServiceContext, add_contract: AddContract
) -> None:
    for contract_id in ("GAP-2024-000103", "GAP-2024-000101", "GAP-2025-000101", "GAP-2024-000102"):
        await add_contract(contract_id=contract_id)
    page = await search_contracts(reviewer, "gap-2024-0001")
    assert page.kind == "contract_id"
    assert [hit.contract_id for hit in page.hits] == ["GAP-2024-000101", "GAP-2024-000102", "GAP-2024-000103"]
    exact = await search_contracts(reviewer, "GAP-2024-000102")
    assert [hit.contract_id for hit in exact.hits] == ["GAP-2024-000102"]
    assert exact.hits[0].extraction_status == "pending"
    assert exact.hits[0].min_confidence == 90


async def test_account_number_exact_and_prefix(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    target = await add_contract()
    await add_contract()
    account = (await contract_row(superuser, target.contract_id))["account_number"]
    exact = await search_contracts(reviewer, account)
    assert exact.kind == "account"
    assert [hit.contract_id for hit in exact.hits] == [target.contract_id]
    prefix = await search_contracts(reviewer, account[:-1])
    assert target.contract_id in {hit.contract_id for hit in prefix.hits}
    assert all(hit.account_number.startswith(account[:-1]) for hit in prefix.hits)


async def test_vin_whole_or_prefix_whatever_the_case(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    target = await add_contract()
    other = await add_contract()
    vin = (await contract_row(superuser, target.contract_id))["vin"]
    whole = await search_contracts(reviewer, vin.lower())
    assert whole.kind == "vin"
    assert [hit.contract_id for hit in whole.hits] == [target.contract_id]
    assert whole.hits[0].vin == vin
    prefix = await search_contracts(reviewer, vin[:8])
    assert prefix.kind == "vin"
    assert {hit.contract_id for hit in prefix.hits} >= {target.contract_id, other.contract_id}


async def test_customer_number_ranks_the_exact_name_first(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    targets = [await add_contract() for _ in range(3)]
    name = (await contract_row(superuser, targets[1].contract_id))["customer_name"]
    for typed in (name, name.replace("Customer ", ""), name.lower()):
        page = await search_contracts(reviewer, typed)
        assert page.kind == "customer"
        assert page.hits[0].contract_id == targets[1].contract_id
        assert page.hits[0].rank == pytest.approx(1.0)


async def test_words_of_the_document_are_found_ranked_with_a_highlighted_snippet(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    once, twice, _ = [await add_contract() for _ in range(3)]
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || $2 WHERE contract_id = $1",
        once.contract_id,
        "\fThe vehicle was damaged by a hailstorm.\n",
    )
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || $2 WHERE contract_id = $1",
        twice.contract_id,
        "\fHailstorm damage. A second hailstorm followed.\n",
    )
    page = await search_contracts(reviewer, "hailstorms")
    assert page.kind == "text"
    assert [hit.contract_id for hit in page.hits] == [twice.contract_id, once.contract_id]
    assert page.hits[0].rank > page.hits[1].rank
    assert page.matches == 2 and not page.more_than_ranked
    snippet = page.hits[1].snippet
    assert snippet is not None
    assert f"{HIGHLIGHT_START}hailstorm{HIGHLIGHT_END}" in snippet
    assert "\f" not in snippet and "\n" not in snippet


async def test_vehicle_keys_whatever_the_case(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    toyota, honda = await add_contract(), await add_contract()
    await superuser.execute(
        """UPDATE contracts SET vehicle_info = vehicle_info || '{"make": "Toyota", "model": "Grand Highlander"}'
           WHERE contract_id = $1""",
        toyota.contract_id,
    )
    page = await search_contracts(reviewer, 'make:toyota model:"grand highlander"')
    assert page.kind == "vehicle"
    assert [hit.contract_id for hit in page.hits] == [toyota.contract_id]
    hondas = await search_contracts(reviewer, "make:HONDA year:2023")
    assert [hit.contract_id for hit in hondas.hits] == [honda.contract_id]
    assert (await search_contracts(reviewer, "make:Honda year:1999")).hits == []


async def test_a_number_that_is_no_account_is_searched_as_text(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    mention = await add_contract()
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || 'Dealer number 5550199.' WHERE contract_id = $1",
        mention.contract_id,
    )
    page = await search_contracts(reviewer, "5550199")
    assert page.kind == "text"
    assert [hit.contract_id for hit in page.hits] == [mention.contract_id]
    assert page.hits[0].match_kind == "text"


# --- filters and pages ----------------------------------------------------------------------------------


async def test_filters_narrow_the_hits(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    plain = await add_contract(contract_id="GAP-2030-000001")
    weak = await add_contract(contract_id="GAP-2030-000002", premium_confidence=40)
    lease = await add_contract(contract_id="GAP-2030-000003")
    decided = await add_contract(contract_id="GAP-2030-000004")
    await superuser.execute(
        "UPDATE contracts SET contract_type = 'lease', contract_date = '2021-06-01' WHERE contract_id = $1",
        lease.contract_id,
    )
    await superuser.execute(
        "UPDATE extractions SET status = 'approved', reviewed_by = $2, reviewed_at = now() WHERE contract_id = $1",
        decided.contract_id,
        reviewer.actor.user_id,
    )

    async def ids(**filters: Any) -> list[str]:
        return [hit.contract_id for hit in (await search_contracts(reviewer, "GAP-2030", **filters)).hits]

    assert await ids(status="approved") == [decided.contract_id]
    assert await ids(status="pending") == [plain.contract_id, weak.contract_id, lease.contract_id]
    assert await ids(contract_type="lease") == [lease.contract_id]
    assert await ids(date_to=dt.date(2022, 1, 1)) == [lease.contract_id]
    assert lease.contract_id not in await ids(date_from=dt.date(2022, 1, 1))
    assert await ids(confidence_below=50) == [weak.contract_id]
    assert await ids(status="approved", contract_type="lease") == []


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ({"status": "lost"}, "Status must be one of"),
        ({"contract_type": "lease'; --"}, "Contract type must be one of"),
        ({"date_from": dt.date(2024, 2, 1), "date_to": dt.date(2024, 1, 1)}, "after the 'to' date"),
        ({"confidence_below": 0}, "1 to 100"),
        ({"limit": 0}, "1 to 100 results"),
    ],
)
async def test_bad_filters_are_refused_with_a_sentence(
    reviewer: ServiceContext, filters: dict[str, Any], words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        await search_contracts(reviewer, "GAP-2024", **filters)


async def test_prefix_pages_follow_each_other_without_gaps_or_repeats(
    reviewer: ServiceContext, add_contract: AddContract
) -> None:
    wanted = [f"GAP-2031-{n:06d}" for n in range(1, 8)]
    for contract_id in reversed(wanted):
        await add_contract(contract_id=contract_id)
    pages = await all_pages(reviewer, "GAP-2031-", limit=3)
    assert [len(page.hits) for page in pages] == [3, 3, 1]
    assert [hit.contract_id for page in pages for hit in page.hits] == wanted


async def test_ranked_pages_follow_each_other_through_ties(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    extractions = [await add_contract() for _ in range(7)]
    # Two documents say the word twice and rank higher; the other five tie.
    for extraction in extractions[:2]:
        await superuser.execute(
            "UPDATE contracts SET document_text = document_text || ' Waiver waiver.' WHERE contract_id = $1",
            extraction.contract_id,
        )
    pages = await all_pages(reviewer, "waiver", limit=2)
    hits = [hit for page in pages for hit in page.hits]
    assert sorted(hit.contract_id for hit in hits) == sorted(e.contract_id for e in extractions)
    assert {hit.contract_id for hit in hits[:2]} == {e.contract_id for e in extractions[:2]}
    tied = [hit.contract_id for hit in hits[2:]]
    assert tied == sorted(tied)
    assert all(page.kind == "text" for page in pages)


async def test_too_many_matches_are_ranked_from_a_bounded_set_and_said_so(
    reviewer: ServiceContext, add_contract: AddContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(5):
        await add_contract()
    monkeypatch.setattr(contracts, "RANKED_CANDIDATES", 3)
    pages = await all_pages(reviewer, "refunded", limit=2)
    assert pages[0].matches == 3
    assert pages[0].more_than_ranked
    assert len({hit.contract_id for page in pages for hit in page.hits}) == 3


async def test_a_cursor_from_another_search_is_refused(reviewer: ServiceContext) -> None:
    stale = SearchCursor(kind="account", contract_id="GAP-2024-000001", key="44")
    with pytest.raises(InvalidInput, match="start again"):
        await search_contracts(reviewer, "GAP-2024", after=stale)


# --- hostile input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "'; DROP TABLE contracts; --",
        "GAP-2024'); DELETE FROM extractions; --",
        '"unbalanced quote',
        "back\\slash \\",
        "100%",
        "%",
        "_",
        "GAP-%",
        "GAP-2024_0",
        "x\x00y",
        "\x1b[31mred\x1b[0m",
        "\ud800 lone surrogate",
        "日本語 ΑΒΓ émigré",
        "!!! ::: &&& ||| <-> (",
        "make:",
        "make:Honda make:Toyota",
        "year:abc",
        "#",
        "a" * MAX_QUERY_CHARS,
    ],
)
async def test_hostile_input_gives_results_or_a_sentence_never_a_database_error(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection, typed: str
) -> None:
    await add_contract(contract_id="GAP-2024-000101")
    try:
        page = await search_contracts(reviewer, typed)
    except InvalidInput as exc:
        assert exc.message.endswith(".")
    else:
        # Escaped: "_" and "%" are no wildcards, so nothing matches GAP-2024-000101 by its id.
        assert all(hit.match_kind != "contract_id" for hit in page.hits)
    assert await superuser.fetchval("SELECT count(*) FROM contracts") == 1
    assert await superuser.fetchval("SELECT count(*) FROM extractions") == 1


@pytest.mark.parametrize(
    ("typed", "words"),
    [("", "Type something"), (" \t\n\x00 ", "Type something"), ("x" * 10_000, "at most 200 characters")],
)
async def test_empty_or_endless_input_is_refused(reviewer: ServiceContext, typed: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        await search_contracts(reviewer, typed)


# --- audit ----------------------------------------------------------------------------------------------


async def test_every_search_is_audited_with_its_query_kind_filters_and_count(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    await add_contract(contract_id="GAP-2024-000201")
    await search_contracts(reviewer, "  gap-2024-0002 ", status="pending")
    event = await superuser.fetchrow(
        "SELECT event_type, user_id, session_id, event_data FROM audit_events ORDER BY seq DESC LIMIT 1"
    )
    assert event["event_type"] == "search"
    assert event["user_id"] == reviewer.actor.user_id
    assert event["session_id"] == reviewer.actor.session_id
    assert event["event_data"] == {
        "query": "gap-2024-0002",
        "kind": "contract_id",
        "filters": {"status": "pending"},
        "matches": None,
        "results": 1,
        "next_page": False,
    }


async def test_a_search_event_records_the_matches_the_reviewer_was_told_and_the_rows_shown(
    reviewer: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    for _ in range(5):
        await add_contract()
    page = await search_contracts(reviewer, "cancellation", limit=2)
    assert page.kind == "text" and page.matches == 5 and len(page.hits) == 2
    data = await superuser.fetchval("SELECT event_data FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert (data["matches"], data["results"]) == (5, 2)
