"""`refund-review extract` against a real database and `extract-file` on a .txt and a PDF, via CliRunner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner
from fpdf import FPDF
from sqlalchemy.engine import URL

from app.cli import main
from services.documents.readers import read_document
from services.extraction.rules import RULES_VERSION
from tests.extraction.providers.fakes import KITS, FakeVendor, answer, point_vendors_at

CHARGES = "GAP WAIVER ADDENDUM\nBuyer: Customer #{n}\n3. CHARGES\nGAP Waiver Charge: $1,250.00\n"
TERMS = (
    "4. CANCELLATION AND REFUNDS\n"
    "If you cancel, the unearned charge is refunded on a pro rata basis.\n"
    "A $50 cancellation fee will be retained.\n"
    "Term: 72 months\n"
    "This Addendum is governed by the laws of the State of Ohio.\n"
)


def _cli(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


async def _run(url: URL, *args: str) -> tuple[int, str, str]:
    return await asyncio.to_thread(_cli, "--database-url", url.render_as_string(hide_password=False), *args)


async def _add_documents(superuser: asyncpg.Connection, count: int) -> list[str]:
    ids = [f"GAP-CLI-{n:04d}" for n in range(count)]
    await superuser.executemany(
        """INSERT INTO contracts (contract_id, account_number, customer_name, document_text, page_count,
                                  text_extraction_status)
           VALUES ($1, $2, $3, $4, 2, 'extracted')""",
        [
            (cid, f"77{n:08d}", f"Customer #{n}", CHARGES.format(n=n) + "\f" + TERMS)
            for n, cid in enumerate(ids)
        ],
    )
    return ids


async def test_extract_all_stores_what_is_due_and_says_what_it_did(
    database_url: URL, superuser: asyncpg.Connection
) -> None:
    ids = await _add_documents(superuser, 3)
    code, out, err = await _run(database_url, "extract", "--all", "--concurrency", "2")
    assert (code, err) == (0, "")
    assert out.startswith("Extracted 3 of 3 contracts in ")
    assert out.splitlines()[0].endswith(": rules 3.")
    assert "are below the confidence threshold and go to review first." in out
    stored = await superuser.fetch("SELECT contract_id, llm_provider FROM extractions ORDER BY contract_id")
    assert [tuple(row) for row in stored] == [(cid, "rules") for cid in ids]

    code, out, _ = await _run(database_url, "extract", "--all")
    assert (code, out) == (0, "No contracts are due for extraction.\n")

    code, out, _ = await _run(database_url, "extract", "--contract", ids[0])
    assert code == 0 and out.startswith("Extracted 1 of 1 contracts")
    assert await superuser.fetchval("SELECT version FROM extractions WHERE contract_id = $1", ids[0]) == 2


async def test_extract_refuses_a_vague_or_wrong_request(
    database_url: URL, superuser: asyncpg.Connection
) -> None:
    code, _, err = await _run(database_url, "extract")
    assert (code, err) == (2, "Error: Say which contracts to extract: --contract ID (repeatable) or --all.\n")
    code, _, err = await _run(database_url, "extract", "--contract", "GAP-NOPE-1")
    assert (code, err) == (2, "Error: There is no contract GAP-NOPE-1.\n")
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'extract'") == 0


@pytest.fixture
def contract_txt(tmp_path: Path) -> Path:
    path = tmp_path / "contract.txt"
    path.write_text(CHARGES.format(n=1) + "\f" + TERMS, encoding="utf-8")
    return path


@pytest.fixture
def contract_pdf(tmp_path: Path) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in (CHARGES.format(n=2), TERMS):
        pdf.add_page()
        for line in page.splitlines():
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "contract.pdf"
    pdf.output(str(path))
    return path


def _fields_are_traceable(path: Path, printed: dict[str, object]) -> dict[str, dict[str, object]]:
    text, _ = read_document(path)
    fields = printed["fields"]
    assert isinstance(fields, dict)
    for field in fields.values():
        source = field["source"]
        if source is None:  # a value not stated (the test contracts state no APR) has no source
            assert field["value"] is None
            continue
        assert text[source["start"] : source["end"]] == source["quote"]
    return fields


def test_extract_file_json_on_a_text_file(contract_txt: Path) -> None:
    code, out, err = _cli("extract-file", str(contract_txt), "--json")
    assert (code, err) == (0, "")
    printed = json.loads(out)
    assert (printed["provider"], printed["fallback_from"], printed["page_count"]) == ("rules", None, 2)
    fields = _fields_are_traceable(contract_txt, printed)
    assert {name: field["value"] for name, field in fields.items()} == {
        "gap_insurance_premium": "1250.00",
        "refund_calculation_method": "Pro-Rata",
        "cancellation_fee": "50.00",
        "term_months": "72",
        "governing_state": "OH",
        "apr": None,  # not stated
    }
    assert fields["cancellation_fee"]["source"]["page"] == 2
    assert all(fields[name]["confidence"] >= 80 for name in list(fields)[:3])


def test_extract_file_json_on_a_pdf(contract_pdf: Path) -> None:
    code, out, err = _cli("extract-file", str(contract_pdf), "--json")
    assert (code, err) == (0, "")
    printed = json.loads(out)
    assert printed["page_count"] == 2
    fields = _fields_are_traceable(contract_pdf, printed)
    assert fields["gap_insurance_premium"]["value"] == "1250.00"
    assert fields["gap_insurance_premium"]["source"]["page"] == 1
    assert fields["refund_calculation_method"]["value"] == "Pro-Rata"
    assert fields["refund_calculation_method"]["source"]["page"] == 2


def test_extract_file_prints_each_field_with_its_source(contract_txt: Path) -> None:
    code, out, _ = _cli("extract-file", str(contract_txt))
    assert code == 0
    lines = out.splitlines()
    assert lines[1].startswith(f"Provider: rules (rules-{RULES_VERSION}, prompt n/a)")
    premium = lines.index(next(line for line in lines if line.startswith("GAP premium")))
    assert lines[premium].split()[:3] == ["GAP", "premium", "1250.00"]
    assert lines[premium + 1].startswith("    source: page 1, line 4, 3. CHARGES, characters ")
    assert lines[premium + 2] == '    "GAP Waiver Charge: $1,250.00"'


def test_extract_file_without_a_key_falls_back_and_says_why(contract_txt: Path) -> None:
    code, out, _ = _cli(
        "extract-file",
        str(contract_txt),
        "--provider",
        "anthropic",
        "--json",
        env={"ANTHROPIC_API_KEY": None},
    )
    assert code == 0
    printed = json.loads(out)
    assert (printed["provider"], printed["requested_provider"], printed["fallback_from"]) == (
        "rules",
        "anthropic",
        "anthropic",
    )
    assert printed["fallback_reason"] == "ANTHROPIC_API_KEY is not set; set it or use --provider rules"


@pytest.fixture
def vendor(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    with FakeVendor() as fake:
        point_vendors_at(monkeypatch, fake.url)
        yield fake


def test_extract_file_with_an_llm_reports_tokens_and_the_migrated_price(
    contract_txt: Path, vendor: FakeVendor
) -> None:
    vendor.script(KITS["openai"].answer(answer(), prompt_tokens=900, completion_tokens=60))
    code, out, _ = _cli("extract-file", str(contract_txt), "--provider", "openai", "--json")
    assert code == 0
    printed = json.loads(out)
    assert (printed["provider"], printed["model_version"], printed["prompt_version"]) == (
        "openai",
        KITS["openai"].model,
        "refund-terms-v2",
    )
    assert (printed["prompt_tokens"], printed["completion_tokens"], printed["cost_usd"]) == (
        900,
        60,
        "0.000171",
    )
    # Without a database the prices are the migrated ones (gpt-4o-mini: 0.15 and 0.60 USD per million
    # tokens), as on a workstation, so the cost is not silently 0.
    assert printed["warnings"] == []
    _fields_are_traceable(contract_txt, printed)


def test_extract_file_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    code, _, err = _cli("extract-file", str(tmp_path / "missing.txt"))
    assert code == 2 and err.startswith("Error: missing.txt: cannot be read")
    scan = tmp_path / "scan.docx"
    scan.write_bytes(b"PK\x03\x04")
    code, _, err = _cli("extract-file", str(scan))
    assert code == 2 and "unsupported file type (.docx)" in err
