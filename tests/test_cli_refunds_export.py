"""`refund-review refunds export` against a real database: each approved refund once, the cursor printed."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import os
import sys
from asyncio.subprocess import Process
from collections.abc import Awaitable
from pathlib import Path

import asyncpg
import bcrypt
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from db.database import Database
from services.refunds.requests import RefundRequestInfo, approve_refund, open_refund_request
from tests.services.conftest import PASSWORD, create_contract, create_person


@pytest.fixture(scope="module")
def password_hash() -> str:
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


async def _run(url: URL, *args: str) -> tuple[int, str, str]:
    def invoke() -> tuple[int, str, str]:
        result = CliRunner().invoke(
            main, ["--database-url", url.render_as_string(hide_password=False), *args]
        )
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(invoke)


async def _approved_refund(
    database: Database, superuser: asyncpg.Connection, password_hash: str
) -> RefundRequestInfo:
    reviewer = await create_person(database, password_hash, "reviewer")
    supervisor = await create_person(database, password_hash, "supervisor")
    extraction = await create_contract(database)
    await superuser.execute(
        "UPDATE extractions SET status = 'approved', reviewed_at = now(), reviewed_by = $2 WHERE id = $1",
        extraction.id,
        reviewer.actor.user_id,
    )
    await superuser.execute(
        "UPDATE contracts SET contract_date = '2024-01-15' WHERE contract_id = $1", extraction.contract_id
    )
    request = await open_refund_request(
        reviewer,
        extraction.contract_id,
        cancel_date=dt.date(2026, 1, 15),
        reason="payoff",
        request_date=dt.date(2026, 1, 20),
        term_months=60,
        state="SC",
    )
    return await approve_refund(supervisor, request.id, request.version)


async def test_export_twice_then_replay_from_a_cursor(
    database: Database, database_url: URL, superuser: asyncpg.Connection, password_hash: str, tmp_path: Path
) -> None:
    first = await _approved_refund(database, superuser, password_hash)
    second = await _approved_refund(database, superuser, password_hash)

    code, out, err = await _run(database_url, "refunds", "export", "--status", "approved", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    # South Carolina keeps no fee: Pro-Rata on days, 1250 × 1096 ÷ 1827 = 749.86.
    assert [(row["request_id"], row["refund_amount"], row["fee_applied"]) for row in rows] == [
        (str(first.id), "749.86", "0.00"),
        (str(second.id), "749.86", "0.00"),
    ]
    cursor = second.approval_seq
    assert err == f"Exported 2 approved refunds; cursor {cursor} (resume with --since {cursor}).\n"

    code, out, err = await _run(database_url, "refunds", "export", "--format", "jsonl")
    assert (code, out) == (0, "")
    assert err.startswith(f"Exported 0 approved refunds; cursor {cursor}")

    target = tmp_path / "again.jsonl"
    code, out, _ = await _run(
        database_url,
        "refunds",
        "export",
        "--format",
        "jsonl",
        "--since",
        str(first.approval_seq),
        "--output",
        str(target),
    )
    assert code == 0 and out.endswith(f"Written to {target}.\n")
    assert [json.loads(line)["request_id"] for line in target.read_text().splitlines()] == [str(second.id)]
    events = await superuser.fetch(
        "SELECT event_data FROM audit_events WHERE event_type = 'refunds_exported' ORDER BY seq"
    )
    assert [e["event_data"]["count"] for e in events] == [2, 0, 1]


async def test_an_unwritable_output_marks_nothing_exported(
    database: Database, database_url: URL, superuser: asyncpg.Connection, password_hash: str, tmp_path: Path
) -> None:
    await _approved_refund(database, superuser, password_hash)
    blocker = tmp_path / "a-file"
    blocker.write_text("where a folder is wanted", encoding="utf-8")
    code, _, err = await _run(database_url, "refunds", "export", "--output", str(blocker / "x.csv"))
    assert code == 2 and err.startswith("Error: Cannot write")
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests WHERE exported_at IS NOT NULL") == 0


async def test_an_existing_output_file_is_never_overwritten(
    database: Database, database_url: URL, superuser: asyncpg.Connection, password_hash: str, tmp_path: Path
) -> None:
    """The file an earlier export wrote is what the payment system was handed: `--output` refuses it (as
    the screen does) rather than truncating it, and marks nothing exported."""
    request = await _approved_refund(database, superuser, password_hash)
    earlier = tmp_path / "refunds.csv"
    earlier.write_text("what the payment system was handed yesterday\n", encoding="utf-8")
    code, out, err = await _run(database_url, "refunds", "export", "--output", str(earlier))
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {earlier} exists already; an earlier export is never overwritten. Choose another file name.\n"
    )
    assert earlier.read_text(encoding="utf-8") == "what the payment system was handed yesterday\n"
    assert await superuser.fetchval("SELECT count(*) FROM refund_requests WHERE exported_at IS NOT NULL") == 0
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'refunds_exported'")
        == 0
    )

    fresh = tmp_path / "refunds-2.csv"
    code, out, _ = await _run(database_url, "refunds", "export", "--output", str(fresh))
    assert code == 0 and out.endswith(f"Written to {fresh}.\n")
    assert str(request.id) in fresh.read_text(encoding="utf-8")
    assert not await asyncio.to_thread(lambda: list(tmp_path.glob(".*.partial")))


def _export_process(url: URL, *args: str, stdout: int | None = asyncio.subprocess.PIPE) -> Awaitable[Process]:
    """The command in a process of its own, as the payment system's job would run it."""
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        *("--database-url", url.render_as_string(hide_password=False), "refunds", "export", *args),
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_two_export_processes_at_once_hand_each_refund_over_exactly_once(
    database: Database, database_url: URL, superuser: asyncpg.Connection, password_hash: str
) -> None:
    approved = [await _approved_refund(database, superuser, password_hash) for _ in range(6)]

    processes = [await _export_process(database_url, "--format", "jsonl") for _ in range(2)]
    outputs = [await process.communicate() for process in processes]

    assert [process.returncode for process in processes] == [0, 0]
    handed = [json.loads(line)["request_id"] for out, _ in outputs for line in out.decode().splitlines()]
    assert sorted(handed) == sorted(str(request.id) for request in approved)
    counts = await superuser.fetch(
        "SELECT (event_data->>'count')::int AS count FROM audit_events WHERE event_type = 'refunds_exported'"
    )
    assert sum(event["count"] for event in counts) == 6 and len(counts) == 2


async def test_a_reader_that_went_away_leaves_the_refunds_to_the_next_export(
    database: Database, database_url: URL, superuser: asyncpg.Connection, password_hash: str
) -> None:
    """`refunds export | payment-tool` where the tool died: before, the refunds were marked exported and
    the rows lost (with a traceback and no cursor to replay from); now nothing is marked."""
    request = await _approved_refund(database, superuser, password_hash)
    reader, writer = os.pipe()
    os.close(reader)
    try:
        process = await _export_process(database_url, stdout=writer)
    finally:
        os.close(writer)
    _, err = await process.communicate()

    assert process.returncode == 2
    assert err.decode().startswith("Error: Cannot write the refunds to standard output (Broken pipe)")
    assert (
        await superuser.fetchval("SELECT exported_at FROM refund_requests WHERE id = $1", request.id) is None
    )
    assert (
        await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'refunds_exported'")
        == 0
    )
