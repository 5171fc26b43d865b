"""`refund-review ingest` end to end: a folder with a manifest, a re-run, a bad file, S3, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from synthetic.contracts import generate_contract
from tests.fixtures.documents import corrupt_pdf, pdf_from_text
from tests.fixtures.s3 import S3Endpoint, moto_s3_server


def _cli(url: URL, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--database-url", url.render_as_string(hide_password=False), *args])
    return result.exit_code, result.stdout, result.stderr


async def _run(url: URL, *args: str) -> tuple[int, str, str]:
    return await asyncio.to_thread(_cli, url, *args)


async def test_ingest_a_folder_twice_with_a_manifest(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    first, second = generate_contract(31), generate_contract(32)
    (folder / f"{first.contract_id}.txt").write_text(first.document_text, encoding="utf-8")
    (folder / f"{second.contract_id}.pdf").write_bytes(pdf_from_text(second.document_text))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "contract_id,account_number,customer_name,make,model,year\n"
        f"{first.contract_id},{first.account_number},{first.customer_name},Ford,F-150,2022\n",
        encoding="utf-8",
    )

    code, out, err = await _run(database_url, "ingest", str(folder), "--manifest", str(manifest))

    assert code == 0, err
    assert f"Ingested {folder}: 2 documents in" in out
    assert "new 2, updated 0, unchanged 0, failed 0" in out
    row = await superuser.fetchrow(
        "SELECT account_number, vehicle_info FROM contracts WHERE contract_id = $1", first.contract_id
    )
    assert row["account_number"] == first.account_number
    assert row["vehicle_info"] == {"make": "Ford", "model": "F-150", "year": 2022}

    code, out, err = await _run(database_url, "ingest", str(folder))
    assert code == 0, err
    assert "new 0, updated 0, unchanged 2, failed 0" in out


async def test_bad_files_are_named_on_stderr_and_the_exit_code_says_so(
    database_url: URL, superuser: asyncpg.Connection, tmp_path: Path
) -> None:
    (tmp_path / "GAP-OK-1.txt").write_text("GAP Waiver Charge: $695.00\n", encoding="utf-8")
    (tmp_path / "GAP-BAD-1.pdf").write_bytes(corrupt_pdf())
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")

    code, out, err = await _run(database_url, "ingest", str(tmp_path))

    assert code == 1
    assert "new 1, updated 0, unchanged 0, failed 1" in out
    assert "1 files ignored: only .pdf and .txt files are read." in out
    assert "Not ingested (1):\n  GAP-BAD-1.pdf: not a readable PDF" in err
    assert (
        await superuser.fetchval("SELECT count(*) FROM contracts WHERE text_extraction_status = 'extracted'")
        == 1
    )


async def test_a_missing_path_is_an_error_with_a_sentence(database_url: URL, tmp_path: Path) -> None:
    code, _, err = await _run(database_url, "ingest", str(tmp_path / "nope"))
    assert code == 2
    assert err.startswith("Error: There is no file or folder")
    assert "Traceback" not in err


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Endpoint]:
    with moto_s3_server(monkeypatch) as endpoint:
        yield endpoint


async def test_ingest_from_s3_with_an_endpoint_url(
    database_url: URL, superuser: asyncpg.Connection, s3: S3Endpoint
) -> None:
    s3.create_bucket("gap-docs")
    contract = generate_contract(33)
    s3.put("gap-docs", f"2024/{contract.contract_id}.txt", contract.document_text.encode())

    code, out, err = await _run(
        database_url,
        "ingest",
        "s3://gap-docs/2024/",
        "--endpoint-url",
        s3.url,
        "--bucket-region",
        "us-east-1",
    )

    assert code == 0, err
    assert "new 1" in out
    assert (
        await superuser.fetchval(
            "SELECT s3_bucket || '/' || s3_key FROM contracts WHERE contract_id = $1", contract.contract_id
        )
        == f"gap-docs/2024/{contract.contract_id}.txt"
    )
