"""The audit log for people: filtered pages, summaries, exports and their offline verification."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from db.models import Extraction
from services.audit import (
    EVENT_TYPES,
    EXPORT_COLUMNS,
    AuditCursor,
    audit_page,
    contract_history,
    export_audit,
    summarize_event,
    verify_export,
)
from services.audit.canonical import canonical_event_text, canonical_json, event_hash
from services.context import ServiceContext
from services.errors import Forbidden, InvalidInput, NotFound
from tests.services.conftest import MakeContext

AddContract = Callable[..., Awaitable[Extraction]]


async def record(ctx: ServiceContext, event_type: str, contract_id: str | None = None, **data: Any) -> None:
    async with ctx.db.unit_of_work() as uow:
        uow.record(ctx.actor.event(event_type, contract_id=contract_id, **data))
        await uow.commit()


async def insert_at(
    superuser: asyncpg.Connection,
    when: str,
    event_type: str = "view",
    raw_data: str | None = None,
    **data: Any,
) -> int:
    """An event with a chosen timestamp (the trigger still links it into the chain)."""
    return await superuser.fetchval(
        "INSERT INTO audit_events (event_type, occurred_at, event_data) "
        "VALUES ($1, $2::text::timestamptz, $3::text::jsonb) RETURNING seq",
        event_type,
        when,
        raw_data or json.dumps(data),
    )


async def test_event_types_are_the_databases_check_list(superuser: asyncpg.Connection) -> None:
    definition = await superuser.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'audit_events_event_type_valid' "
        "AND conrelid = 'audit_events'::regclass"
    )
    assert set(re.findall(r"'([a-z_]+)'::text", definition)) == set(EVENT_TYPES)


@pytest.fixture
async def activity(make_context: MakeContext, add_contract: AddContract) -> dict[str, Any]:
    """Two reviewers working on two contracts, watched by a supervisor."""
    supervisor = await make_context("supervisor")
    alice = await make_context("reviewer", username="alice")
    bob = await make_context("reviewer", username="bob")
    first = (await add_contract()).contract_id
    second = (await add_contract()).contract_id
    await record(alice, "claim", first)
    await record(
        alice,
        "correct",
        first,
        field="gap_insurance_premium",
        old="1250.00",
        new="1150.00",
        reason="misread_value",
    )
    await record(alice, "approve", first)
    await record(bob, "claim", second)
    await record(bob, "reject", second, reason="Not a GAP contract")
    await record(supervisor, "reopen", second, previous_status="rejected", reason="second look")
    await record(bob, "search", query="Honda", results=2)
    return {"supervisor": supervisor, "alice": alice, "bob": bob, "first": first, "second": second}


async def test_the_whole_log_newest_first_with_people_and_summaries(activity: dict[str, Any]) -> None:
    page = await audit_page(activity["supervisor"])
    assert [i.event_type for i in page.items] == [
        "search",
        "reopen",
        "reject",
        "claim",
        "approve",
        "correct",
        "claim",
    ]
    assert [i.seq for i in page.items] == sorted((i.seq for i in page.items), reverse=True)
    correct = page.items[5]
    assert correct.username == "alice"
    assert correct.contract_id == activity["first"]
    assert correct.ip == "192.0.2.10"
    assert correct.summary == "corrected GAP premium 1250.00 → 1150.00 (misread_value)"
    assert correct.event_data["reason"] == "misread_value"
    assert len(correct.hash) == 64 and correct.hash_short == correct.hash[:12]
    assert page.items[0].summary == 'searched "Honda" (2 results)'
    assert page.items[2].summary == "rejected (Not a GAP contract)"
    assert page.next_cursor is None


async def test_hashes_shown_are_the_stored_ones(
    activity: dict[str, Any], superuser: asyncpg.Connection
) -> None:
    page = await audit_page(activity["supervisor"], limit=3)
    stored = {r["seq"]: r["hash"].hex() for r in await superuser.fetch("SELECT seq, hash FROM audit_events")}
    assert all(item.hash == stored[item.seq] for item in page.items)


async def test_filters_by_user_contract_and_type(activity: dict[str, Any]) -> None:
    supervisor, alice = activity["supervisor"], activity["alice"]
    by_name = await audit_page(supervisor, user="alice")
    assert [i.event_type for i in by_name.items] == ["approve", "correct", "claim"]
    by_id = await audit_page(supervisor, user=alice.actor.user_id)
    by_id_text = await audit_page(supervisor, user=str(alice.actor.user_id))
    assert by_id.items == by_name.items == by_id_text.items
    second = await audit_page(supervisor, contract_id=activity["second"])
    assert [i.event_type for i in second.items] == ["reopen", "reject", "claim"]
    assert {i.username for i in second.items} == {"bob", supervisor.actor.username}
    claims = await audit_page(supervisor, event_types=["claim", "reopen"])
    assert [i.event_type for i in claims.items] == ["reopen", "claim", "claim"]
    combined = await audit_page(supervisor, user="bob", contract_id=activity["second"], event_types=["claim"])
    assert [(i.username, i.event_type) for i in combined.items] == [("bob", "claim")]


async def test_filter_by_period_end_excluded(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    supervisor = await make_context("supervisor")
    for when in (
        "2030-01-31 23:59:59.999999+00",
        "2030-02-01 00:00:00+00",
        "2030-02-15 12:00+00",
        "2030-03-01 00:00+00",
    ):
        await insert_at(superuser, when, at=when)
    february = await audit_page(supervisor, since=dt.date(2030, 2, 1), until=dt.date(2030, 3, 1))
    assert [i.event_data["at"] for i in february.items] == ["2030-02-15 12:00+00", "2030-02-01 00:00:00+00"]
    since_only = await audit_page(supervisor, since=dt.datetime(2030, 2, 15, 12, tzinfo=dt.UTC))
    assert len(since_only.items) == 2
    until_only = await audit_page(supervisor, until=dt.datetime(2030, 2, 1, tzinfo=dt.UTC))
    assert [i.event_data["at"] for i in until_only.items] == ["2030-01-31 23:59:59.999999+00"]


async def test_keyset_pages_cover_everything_once(make_context: MakeContext) -> None:
    supervisor = await make_context("supervisor")
    reviewer = await make_context("reviewer")
    for i in range(23):
        await record(reviewer if i % 2 else supervisor, "view", n=i)
    seen: list[int] = []
    cursor: AuditCursor | None = None
    sizes = []
    while True:
        page = await audit_page(supervisor, before=cursor, limit=10)
        sizes.append(len(page.items))
        seen += [i.seq for i in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sizes == [10, 10, 3]
    assert seen == list(range(23, 0, -1))
    filtered: list[int] = []
    cursor = None
    while True:
        page = await audit_page(supervisor, user=reviewer.actor.username, before=cursor, limit=4)
        filtered += [i.event_data["n"] for i in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert filtered == list(range(21, 0, -2))


async def test_time_ordered_walks_page_through_ties_once(
    make_context: MakeContext, superuser: asyncpg.Connection
) -> None:
    """A person's events and kinds of event are walked by time: equal timestamps are split by seq."""
    supervisor = await make_context("supervisor")
    reviewer = await make_context("reviewer")
    for n in range(9):
        await superuser.execute(
            "INSERT INTO audit_events (event_type, occurred_at, user_id, event_data) VALUES ($1, $2::text::timestamptz, $3, $4)",
            ("claim", "release", "view")[n % 3],
            "2030-01-01 10:00+00" if n < 6 else "2029-06-01 10:00+00",
            reviewer.actor.user_id if n % 2 == 0 else None,
            {"n": n},
        )

    async def walk(**filters: Any) -> list[int]:
        seen: list[int] = []
        cursor: AuditCursor | None = None
        while True:
            page = await audit_page(supervisor, before=cursor, limit=2, **filters)
            seen += [i.event_data["n"] for i in page.items]
            if (cursor := page.next_cursor) is None:
                return seen

    assert await walk(user=reviewer.actor.username) == [4, 2, 0, 8, 6]
    assert await walk(event_types=["claim", "release"]) == [4, 3, 1, 0, 7, 6]
    assert await walk(event_types=["view"], since=dt.date(2030, 1, 1)) == [5, 2]
    assert await walk(user=reviewer.actor.username, event_types=["view"]) == [2, 8]


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"user": "nobody"}, NotFound, "no user called 'nobody'"),
        ({"event_types": ["login", "hack"]}, InvalidInput, "Unknown event type: hack"),
        ({"since": dt.datetime(2030, 1, 1)}, InvalidInput, "time zone"),
        ({"since": dt.date(2030, 2, 1), "until": dt.date(2030, 1, 1)}, InvalidInput, "period is empty"),
        ({"limit": 0}, InvalidInput, "between 1 and 1000"),
        ({"contract_id": "  "}, InvalidInput, "Give a contract id"),
    ],
)
async def test_bad_filters_are_refused_with_a_sentence(
    make_context: MakeContext, arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    supervisor = await make_context("supervisor")
    with pytest.raises(error, match=words):
        await audit_page(supervisor, **arguments)


async def test_contract_history_for_reviewers_without_addresses(activity: dict[str, Any]) -> None:
    reviewer_view = await contract_history(activity["bob"], activity["first"])
    assert [i.event_type for i in reviewer_view.items] == ["approve", "correct", "claim"]
    assert all(i.ip is None for i in reviewer_view.items)
    supervisor_view = await contract_history(activity["supervisor"], activity["first"], limit=2)
    assert [i.event_type for i in supervisor_view.items] == ["approve", "correct"]
    assert supervisor_view.items[0].ip == "192.0.2.10"
    assert supervisor_view.next_cursor is not None


async def test_reviewers_may_not_read_or_export_the_log(make_context: MakeContext, tmp_path: Path) -> None:
    reviewer = await make_context("reviewer")
    with pytest.raises(Forbidden, match="read the audit log"):
        await audit_page(reviewer)
    with pytest.raises(Forbidden, match="export the audit log"):
        await export_audit(
            reviewer,
            since=dt.date(2020, 1, 1),
            until=dt.date(2040, 1, 1),
            fmt="jsonl",
            destination=tmp_path / "x",
        )
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("event_type", "data", "summary"),
    [
        ("config_changed", {"key": "confidence_threshold", "old": "80", "new": "85"}, "changed confidence_threshold 80 → 85"),
        ("correct", {"field_name": "cancellation_fee", "original_value": None, "corrected_value": "0.00"}, "corrected cancellation fee — → 0.00"),
        ("audit_verified", {"intact": False, "broken_at": 7}, "verified the audit chain: BROKEN at #7"),
        ("partition_archived", {"partition": "audit_events_y2015m01", "row_count": 3, "first_seq": 1, "last_seq": 3}, "archived audit partition audit_events_y2015m01: 3 events, #1..#3"),
        ("login", {"method": "password"}, "logged in"),
        ("login", {"method": "unlock"}, "unlocked the workstation"),
        ("user_updated", {"username": "bob", "changes": {"role": {"old": "reviewer", "new": "supervisor"}}}, "updated user bob: role reviewer → supervisor"),
        ("reopen", {"previous_status": "approved", "undo": True}, "undid their approval"),
        ("reopen", {"previous_status": "rejected", "reason": "wrong contract"}, "reopened (rejected): wrong contract"),
        ("account_locked", {"username": "eve", "failed_count": 5}, "account eve locked after 5 failed logins"),
        ("claim", {"resumed": True}, "resumed the review"),
        ("reject", {"reason": "line one\nline two"}, "rejected (line one line two)"),
        ("refund_rejected", {"refund": "249.95", "reason": "duplicate"}, "rejected the refund request (249.95): duplicate"),
        ("mystery", {"a": 1, "b": {"c": [2]}}, 'mystery a=1 b={"c": [2]}'),
        ("chat", {"stage": "asked", "question_chars": 12}, "asked about the contract"),
        ("chat", {"stage": "answered", "citations": 1}, "answer given about the contract"),
        ("chat", {"stage": "failed", "reason": "timeout"}, "question about the contract not answered"),
        ("search", {"query": "honda", "matches": 180, "results": 50}, 'searched "honda" (180 matches, 50 shown)'),
        ("search", {"query": "GAP-1", "matches": 1, "results": 1}, 'searched "GAP-1" (1 result)'),
        ("search", {"query": "x", "results": 3}, 'searched "x" (3 results)'),
    ],
)  # fmt: skip
def test_summaries_are_one_line_for_a_person(event_type: str, data: dict[str, Any], summary: str) -> None:
    assert summarize_event(event_type, data) == summary


def test_long_summaries_are_cut_with_an_ellipsis() -> None:
    line = summarize_event("chat", {"question": "why " * 100})
    assert len(line) == 160 and line.endswith("…")


# --- export -----------------------------------------------------------------------------

PERIOD = {"since": dt.date(2030, 1, 1), "until": dt.date(2030, 2, 1)}
HOSTILE_AGENT = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
async def january(make_context: MakeContext, superuser: asyncpg.Connection) -> ServiceContext:
    """Events before, in and after January 2030, some with text a spreadsheet would run."""
    supervisor = await make_context("supervisor")
    await superuser.execute("SELECT create_audit_partition('2030-01-01')")
    await insert_at(superuser, "2029-12-31 23:00+00", note="before")
    for day in range(1, 6):
        data = f'{{"query": "q{day}", "amount": 1.50, "unicode": "é😀\\n\\""}}'
        await insert_at(superuser, f"2030-01-{day:02d} 10:00+00", "search", raw_data=data)
    await superuser.execute(
        "INSERT INTO audit_events (event_type, occurred_at, user_id, ip_address, user_agent, event_data) "
        "VALUES ('login', '2030-01-20 08:00+00', $1, '2001:db8::1', $2, '{}'), "
        "('logout', '2030-01-20 09:00+00', $1, '10.0.0.1', '+1-555-0100', '{\"n\": -3}'), "
        "('view', '2030-01-21 09:00+00', $1, NULL, '@SUM(A1:A9)', '{}'), "
        "('view', '2030-01-22 09:00+00', $1, NULL, '-2+3', '{}')",
        supervisor.actor.user_id,
        HOSTILE_AGENT,
    )
    await insert_at(superuser, "2030-02-01 00:00+00", note="after")
    return supervisor


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def read_jsonl(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines[0], lines[1:-1], lines[-1]


async def test_jsonl_export_has_every_column_in_chain_order(
    january: ServiceContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "january.jsonl"
    summary = await export_audit(january, **PERIOD, fmt="jsonl", destination=path)
    header, events, trailer = read_jsonl(path)
    assert header["record"] == "header" and trailer["record"] == "trailer"
    assert [e["seq"] for e in events] == list(range(2, 11))
    assert summary.count == trailer["count"] == 9
    assert (summary.first_seq, summary.last_seq) == (header["first_seq"], header["last_seq"]) == (2, 10)
    assert all(list(e) == list(EXPORT_COLUMNS) for e in events)
    stored = {r["seq"]: r for r in await superuser.fetch("SELECT * FROM audit_events")}
    assert (
        header["anchor_hash"]
        == summary.anchor_hash
        == stored[2]["prev_hash"].hex()
        == stored[1]["hash"].hex()
    )
    assert trailer["last_hash"] == summary.last_hash == stored[10]["hash"].hex()
    assert all(e["hash"] == stored[e["seq"]]["hash"].hex() for e in events)
    login = next(e for e in events if e["event_type"] == "login")
    assert login["username"] == january.actor.username
    assert login["ip_address"] == "2001:db8::1/128"
    assert login["occurred_at"] == "2030-01-20T08:00:00.000000Z"
    assert events[0]["event_data"] == {"amount": 1.5, "query": "q1", "unicode": 'é😀\n"'}
    assert summary.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert files_in(tmp_path) == ["january.jsonl"]


async def test_export_is_audited_with_the_files_digest(
    january: ServiceContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    summary = await export_audit(january, **PERIOD, fmt="json", destination=tmp_path / "january.json")
    event = await superuser.fetchrow("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert event["event_type"] == "audit_exported"
    assert event["user_id"] == january.actor.user_id
    data = event["event_data"]
    assert (
        data["sha256"]
        == hashlib.sha256((tmp_path / "january.json").read_bytes()).hexdigest()
        == summary.sha256
    )
    assert (data["count"], data["format"], data["file"]) == (9, "json", "january.json")
    assert data["since"].startswith("2030-01-01T00:00:00") and data["until"].startswith("2030-02-01")


async def test_json_export_round_trips(
    january: ServiceContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "january.json"
    await export_audit(january, **PERIOD, fmt="json", destination=path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["header"]["period"]["from"].startswith("2030-01-01")
    assert [e["seq"] for e in document["events"]] == list(range(2, 11))
    assert document["trailer"]["count"] == 9
    stored = await superuser.fetchrow("SELECT user_agent FROM audit_events WHERE seq = 7")
    assert document["events"][5]["user_agent"] == stored["user_agent"] == HOSTILE_AGENT


async def test_csv_export_round_trips_and_guards_against_formulas(
    january: ServiceContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "january.csv"
    summary = await export_audit(january, **PERIOD, fmt="csv", destination=path)
    content = path.read_text(encoding="utf-8-sig")
    comments = [line for line in content.splitlines() if line.startswith("#")]
    assert any("anchor_hash " + str(summary.anchor_hash) in line for line in comments)
    assert comments[-1] == f"# count 9; last_seq 10; last_hash {summary.last_hash}"
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(line for line in content.splitlines() if not line.startswith("#")))
        )
    )
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert [int(r["seq"]) for r in rows] == list(range(2, 11))
    agents = [r["user_agent"] for r in rows if r["user_agent"]]
    assert agents == ["'" + HOSTILE_AGENT, "'+1-555-0100", "'@SUM(A1:A9)", "'-2+3"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    stored = {
        r["seq"]: r
        for r in await superuser.fetch("SELECT seq, hash, event_data::text AS data FROM audit_events")
    }
    assert all(r["hash"] == stored[int(r["seq"])]["hash"].hex() for r in rows)
    assert all(r["event_data"] == stored[int(r["seq"])]["data"] for r in rows)
    assert json.loads(rows[0]["event_data"])["unicode"] == 'é😀\n"'


async def test_export_to_a_stream_and_an_empty_period(january: ServiceContext) -> None:
    stream = io.BytesIO()
    summary = await export_audit(
        january, since=dt.date(2031, 1, 1), until=dt.date(2031, 2, 1), fmt="jsonl", destination=stream
    )
    lines = [json.loads(line) for line in stream.getvalue().decode().splitlines()]
    assert [line["record"] for line in lines] == ["header", "trailer"]
    assert (summary.count, summary.first_seq, summary.anchor_hash, summary.path) == (0, None, None, None)
    assert summary.sha256 == hashlib.sha256(stream.getvalue()).hexdigest()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
async def test_an_export_verifies_offline(january: ServiceContext, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"january.{fmt}"
    await export_audit(january, **PERIOD, fmt=fmt, destination=path)  # type: ignore[arg-type]
    result = verify_export(path)
    assert result.ok, result.reason
    assert (result.first_broken_seq, result.events_verified) == (None, 9)


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
async def test_an_empty_export_verifies(january: ServiceContext, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"empty.{fmt}"
    await export_audit(
        january, since=dt.date(2031, 1, 1), until=dt.date(2031, 2, 1), fmt=fmt, destination=path
    )  # type: ignore[arg-type]
    assert verify_export(path)[:3] == (True, None, 0)


def edit_event(path: Path, seq: int, change: Callable[[str], str]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f'{{"seq": {seq}, '))
    lines[index] = change(lines[index])
    path.write_text("".join(lines), encoding="utf-8")


def forge(line: str) -> str:
    """Change an event and give it a correct hash of its new content: the next link breaks."""
    record = json.loads(line.rstrip().removesuffix(","), parse_float=Decimal)
    record["event_data"]["query"] = "forged"
    fields = {k: record[k] for k in EXPORT_COLUMNS if k not in {"username", "prev_hash", "hash"}}
    record["hash"] = event_hash(bytes.fromhex(record["prev_hash"]), canonical_event_text(**fields)).hex()
    rewritten = "{" + ", ".join(f'"{k}": {canonical_json(v)}' for k, v in record.items()) + "}"
    return rewritten + ("," if line.rstrip().endswith(",") else "") + "\n"


TAMPERING: dict[str, tuple[int, Callable[[str], str], int, str]] = {
    "a value is changed": (5, lambda line: line.replace('"q4"', '"q9"'), 5, "changed"),
    "a number is respelled": (4, lambda line: line.replace("1.50", "1.5"), 4, "changed"),
    "a line is removed": (6, lambda line: "", 7, "does not follow #5"),
    "a hash is zeroed": (3, lambda line: re.sub(r'"hash": "[0-9a-f]+"', '"hash": "' + "0" * 64 + '"', line), 3, "changed"),
    "a forger recomputes the hash": (3, forge, 4, "does not link"),
    "the trailer is cut off": (10, lambda line: line, 11, "cut short"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("case", list(TAMPERING))
async def test_an_edited_export_fails_at_the_right_event(
    january: ServiceContext, tmp_path: Path, fmt: str, case: str
) -> None:
    path = tmp_path / f"january.{fmt}"
    await export_audit(january, **PERIOD, fmt=fmt, destination=path)  # type: ignore[arg-type]
    seq, change, broken_at, words = TAMPERING[case]
    edit_event(path, seq, change)
    if case == "the trailer is cut off":
        path.write_text(
            "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8"
        )
    result = verify_export(path)
    assert not result.ok
    assert result.first_broken_seq == broken_at, result.reason
    assert words in result.reason


async def test_csv_is_not_offered_for_verification(january: ServiceContext, tmp_path: Path) -> None:
    path = tmp_path / "january.csv"
    await export_audit(january, **PERIOD, fmt="csv", destination=path)
    with pytest.raises(InvalidInput, match="not a JSON or JSON Lines audit export"):
        verify_export(path)


async def test_events_racing_at_the_periods_edge_keep_the_exported_chain_whole(
    make_context: MakeContext, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    """Two writers at midnight: the later link carries the earlier timestamp."""
    supervisor = await make_context("supervisor")
    await insert_at(superuser, "2030-01-31 23:59:59.990+00", n=1)
    await insert_at(superuser, "2030-02-01 00:00:00.001+00", n=2)
    await insert_at(superuser, "2030-01-31 23:59:59.995+00", n=3)
    await insert_at(superuser, "2030-02-02 00:00+00", n=4)
    path = tmp_path / "january.jsonl"
    summary = await export_audit(supervisor, **PERIOD, fmt="jsonl", destination=path)
    _, events, _ = read_jsonl(path)
    assert [e["event_data"]["n"] for e in events] == [1, 2, 3]
    assert (summary.first_seq, summary.last_seq) == (1, 3)
    assert verify_export(path).ok


async def test_unknown_formats_and_empty_periods_are_refused(
    make_context: MakeContext, tmp_path: Path
) -> None:
    supervisor = await make_context("supervisor")
    with pytest.raises(InvalidInput, match="Export formats are csv, json, jsonl"):
        await export_audit(supervisor, **PERIOD, fmt="xml", destination=tmp_path / "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="period is empty"):
        await export_audit(
            supervisor,
            since=dt.date(2030, 2, 1),
            until=dt.date(2030, 2, 1),
            fmt="csv",
            destination=tmp_path / "x",
        )
    assert files_in(tmp_path) == []
