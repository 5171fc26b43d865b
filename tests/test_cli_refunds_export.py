"""`refund-review refunds export` against a real database: each approved refund once, the cursor printed."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
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
