"""`refund-review report ...` against a real database: the calibration JSON and text, the period refused."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import asyncpg
import bcrypt
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from db.database import Database
from services.quality.reviewers import CSV_COLUMNS
from services.review import approve, claim_extraction
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


async def test_calibration_json_counts_the_reviewed_values(
    database_url: URL, database: Database, superuser: asyncpg.Connection, password_hash: str
) -> None:
    reviewer = await create_person(database, password_hash, "reviewer")
    low = await create_contract(database, premium_confidence=62)
    await create_contract(database, premium_confidence=95)
    await superuser.execute(
        "UPDATE extractions SET status = 'approved', reviewed_at = now(), reviewed_by = $2 WHERE id = $1",
        low.id,
        reviewer.actor.user_id,
    )
    code, out, err = await _run(database_url, "report", "calibration", "--period", "7d", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["extractions"], data["auto_trusted"], data["auto_trusted_reviewed"]) == (2, 1, 0)
    assert data["thresholds"] == {
        "gap_insurance_premium": 80,
        "refund_calculation_method": 80,
        "cancellation_fee": 80,
        "term_months": 80,
        "governing_state": 80,
        "apr": 80,
    }
    assert data["target_error_rate"] == 0.01
    premium = next(
        f for f in data["fields"] if f["provider"] == "all" and f["field"] == "gap_insurance_premium"
    )
    bucket = next(b for b in premium["buckets"] if b["bucket"] == "60-69")
    assert (bucket["count"], bucket["errors"], bucket["accuracy"]) == (1, 0, 1.0)
    assert premium["suggested_threshold"] is None
    assert data["auto_trusted_error"]["rate"] is None

    code, out, err = await _run(database_url, "report", "calibration")
    assert code == 0, err
    assert "Estimated error of auto-trusted values: no reviewed values" in out
    assert "GAP premium — all / all: threshold 80, suggested none proven" in out

    # A model's name is data (a provider's answer, a setting): it reaches the terminal without its controls.
    await superuser.execute(
        "UPDATE extractions SET model_version = $2 WHERE id = $1", low.id, "m\x1b]0;x\x07 [b]"
    )
    code, out, err = await _run(database_url, "report", "calibration")
    assert code == 0, err
    assert "m" in out and "\x1b" not in out and "\x07" not in out
    assert "[b]" in out


@pytest.mark.parametrize("period", ["0d", "month", "-3d"])
async def test_a_period_that_is_not_a_number_of_days_is_refused(database_url: URL, period: str) -> None:
    code, _, err = await _run(database_url, "report", "calibration", "--period", period)
    assert code == 2
    assert "is not a period; give a number of days, for example 30d" in err


async def test_reviewers_csv_lists_each_person_who_decided(
    database_url: URL, database: Database, superuser: asyncpg.Connection, password_hash: str
) -> None:
    reviewer = await create_person(database, password_hash, "reviewer", "carla")
    item = await create_contract(database)
    await claim_extraction(reviewer, item.id)
    await approve(reviewer, item.id, item.version)
    code, out, err = await _run(database_url, "report", "reviewers", "--format", "csv", "--period", "1d")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(CSV_COLUMNS)
    assert [row[0] for row in rows[1:]] == ["carla"]
    assert rows[1][3:5] == ["1", "1"]
    assert rows[1][-2:] == ["0", ""]
    code, out, err = await _run(database_url, "report", "reviewers", "--format", "json")
    assert code == 0, err
    assert json.loads(out)[0]["approvals"] == 1
