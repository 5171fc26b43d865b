"""Ingestion of contract documents: folders, single files and S3, re-runs, manifests, bad files, audit."""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.context import ServiceContext
from services.documents import (
    PLACEHOLDER_ACCOUNT,
    DocumentBlank,
    DocumentUnreadable,
    IngestReport,
    ingest_documents,
    read_document,
)
from services.documents.readers import parse_document
from services.errors import Forbidden, InvalidInput, NotFound
from synthetic.contracts import generate_contract
from tests.fixtures.documents import as_drawn, corrupt_pdf, pdf_from_text, scanned_pdf
from tests.fixtures.s3 import S3Endpoint, moto_s3_server
from tests.services.conftest import MakeContext

# --- reading one document -----------------------------------------------------------------------------


def test_text_files_keep_their_text_with_normalized_line_breaks() -> None:
    text, pages = read_document(codecs.BOM_UTF8 + b"Page one\r\nline two\rend\fPage two\f", "a.txt")
    assert text == "Page one\nline two\nend\fPage two"
    assert pages == 2
    assert read_document("Préavis – 30 jours".encode("utf-16"), "b.TXT").text == "Préavis – 30 jours"


def test_pdf_text_comes_page_by_page_joined_by_form_feeds() -> None:
    contract = generate_contract(4)
    expected_pages = contract.document_text.split("\f")
    text, pages = read_document(pdf_from_text(contract.document_text), "GAP.pdf")
    assert pages == len(expected_pages) >= 3
    for page_text, expected in zip(text.split("\f"), expected_pages, strict=True):
        first_line = next(line.strip() for line in expected.splitlines() if line.strip())
        assert as_drawn(first_line[:40]) in page_text


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        ("Prix : 1 250 €".encode("cp1252"), "latin.txt", "not UTF-8 text (byte 0x80 at offset 13)"),
        (b"\x00G\x00A\x00P", "utf16.txt", "contains NUL bytes"),
        (corrupt_pdf(), "broken.pdf", "not a readable PDF"),
        (b"just text", "contract.docx", "unsupported file type (.docx)"),
    ],
)
def test_unreadable_documents_say_why(data: bytes, name: str, words: str) -> None:
    with pytest.raises(DocumentUnreadable) as caught:
        read_document(data, name)
    assert words in caught.value.reason
    assert caught.value.message.startswith(f"{name}: ")


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2000), name=st.sampled_from(["a.pdf", "a.txt", "a"]))
def test_reading_never_raises_and_never_returns_text_postgresql_cannot_store(data: bytes, name: str) -> None:
    parsed = parse_document(b"%PDF-1.4\n" + data if name == "a.pdf" else data, name)
    if parsed.status == "extracted":
        assert parsed.text is not None and parsed.text.strip()
        assert "\x00" not in parsed.text and "\r" not in parsed.text
        assert parsed.page_count == parsed.text.count("\f") + 1
    else:
        assert parsed.text is None and parsed.note


def test_a_scanned_pdf_is_blank_and_needs_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf(3))
    with pytest.raises(DocumentBlank) as caught:
        read_document(path)
    assert caught.value.reason == "scanned PDF: needs OCR (no text layer on its 3 pages)"
    assert caught.value.page_count == 3


# --- ingesting a folder --------------------------------------------------------------------------------


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A dealer's drop folder: text contracts, a PDF in a sub-folder, two broken files and some clutter."""
    root = tmp_path / "inbox"
    for seq in (1, 2, 3):
        contract = generate_contract(seq)
        _write(root / f"{contract.contract_id}.txt", contract.document_text)
    pdf_contract = generate_contract(4)
    _write(
        root / "scans" / "2024" / f"{pdf_contract.contract_id}.pdf", pdf_from_text(pdf_contract.document_text)
    )
    _write(root / "GAP-BROKEN-1.pdf", corrupt_pdf())
    _write(root / "GAP-LATIN-1.txt", "Frais d'annulation : 50 €".encode("cp1252"))
    _write(root / "notes.docx", b"not a contract")
    _write(root / ".DS_Store", b"\x00\x01")
    return root


def _manifest(path: Path, *rows: str) -> Path:
    header = (
        "file,contract_id,account_number,customer_name,contract_date,contract_type,vin,year,make,model,trim"
    )
    return _write(path, "\n".join((header, *rows)) + "\n")


async def _ingest(ctx: ServiceContext, source: Path | str, **options: object) -> IngestReport:
    return await ingest_documents(ctx, str(source), **options)  # type: ignore[arg-type]


async def test_folder_ingestion_is_idempotent_and_picks_up_changes(
    system: ServiceContext, inbox: Path, tmp_path: Path, superuser: asyncpg.Connection
) -> None:
    first, second = generate_contract(1), generate_contract(2)
    pdf_contract = generate_contract(4)
    manifest = _manifest(
        tmp_path / "manifest.csv",
        f"{first.contract_id}.txt,,ACCT-0001,Customer #4242,2024-03-15,Retail Installment,"
        "1hgcm82633a004352,2023,Honda,Accord,EX-L",
        f"scans/2024/{pdf_contract.contract_id}.pdf,,ACCT-0004,Customer #4,03/01/2024,lease,,,,,",
        "missing.txt,GAP-MISSING,ACCT-9,Customer #9,,,,,,,",
    )

    report = await _ingest(system, inbox, manifest=manifest)

    assert (report.found, report.new, report.updated, report.unchanged) == (6, 4, 0, 0)
    assert report.ignored == 1
    assert report.manifest_rows_unused == 1
    assert {failure.name: failure.reason for failure in report.failures} == {
        "GAP-BROKEN-1.pdf": "not a readable PDF (PdfStreamError: Stream has ended unexpectedly)",
        "GAP-LATIN-1.txt": "not UTF-8 text (byte 0x80 at offset 24); save it as UTF-8 and ingest it again",
    }
    rows = {
        row["contract_id"]: row
        for row in await superuser.fetch(
            "SELECT contract_id, account_number, customer_name, contract_type, contract_date, vehicle_info,"
            " s3_bucket, s3_key, document_text, document_sha256, page_count, text_extraction_status,"
            " text_extraction_error, updated_at FROM contracts"
        )
    }
    assert set(rows) == {
        first.contract_id,
        second.contract_id,
        generate_contract(3).contract_id,
        pdf_contract.contract_id,
        "GAP-BROKEN-1",
        "GAP-LATIN-1",
    }
    described = rows[first.contract_id]
    assert (described["account_number"], described["customer_name"], described["contract_type"]) == (
        "ACCT-0001",
        "Customer #4242",
        "retail_installment",
    )
    assert str(described["contract_date"]) == "2024-03-15"
    assert described["vehicle_info"] == {
        "vin": "1HGCM82633A004352",
        "year": 2023,
        "make": "Honda",
        "model": "Accord",
        "trim": "EX-L",
    }
    assert described["document_text"] == first.document_text
    assert described["document_sha256"] == hashlib.sha256(first.document_text.encode()).hexdigest()
    assert (described["s3_bucket"], described["s3_key"]) == ("file", str(inbox / f"{first.contract_id}.txt"))
    placeholder = rows[second.contract_id]
    assert (placeholder["account_number"], placeholder["customer_name"]) == (
        PLACEHOLDER_ACCOUNT,
        "Unknown customer",
    )
    assert placeholder["vehicle_info"] == {}
    pdf_row = rows[pdf_contract.contract_id]
    assert pdf_row["page_count"] == pdf_contract.document_text.count("\f") + 1
    assert pdf_row["document_text"].count("\f") == pdf_row["page_count"] - 1
    assert (pdf_row["contract_type"], str(pdf_row["contract_date"])) == ("lease", "2024-03-01")
    assert pdf_row["text_extraction_status"] == "extracted"
    broken = rows["GAP-BROKEN-1"]
    assert (broken["text_extraction_status"], broken["document_text"]) == ("failed", None)
    assert broken["text_extraction_error"].startswith("not a readable PDF")

    events = await superuser.fetch(
        "SELECT contract_id, event_data FROM audit_events WHERE event_type = 'ingest' ORDER BY seq"
    )
    per_contract = {event["contract_id"]: event["event_data"] for event in events if event["contract_id"]}
    assert set(per_contract) == set(rows)
    assert per_contract[pdf_contract.contract_id] == {
        "source": str(inbox / "scans" / "2024" / f"{pdf_contract.contract_id}.pdf"),
        "sha256": pdf_row["document_sha256"],
        "pages": pdf_row["page_count"],
        "outcome": "new",
        "status": "extracted",
        "metadata": "manifest row 3",
    }
    run = events[-1]["event_data"]
    assert events[-1]["contract_id"] is None
    assert (run["found"], run["new"], run["failed"], run["manifest"]) == (6, 4, 2, "manifest.csv")
    assert {failure["name"] for failure in run["failures"]} == {"GAP-BROKEN-1.pdf", "GAP-LATIN-1.txt"}

    again = await _ingest(system, inbox, manifest=manifest)
    assert (again.new, again.updated, again.unchanged, again.failed) == (0, 0, 4, 2)
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE contract_id IS NOT NULL") == 6

    changed_text = second.document_text.replace("Customer", "Buyer", 1) + "\nRIDER: amended.\n"
    _write(inbox / f"{second.contract_id}.txt", changed_text)
    _write(inbox / "GAP-LATIN-1.txt", "Frais d'annulation : 50 $")
    third = await _ingest(system, inbox)
    assert (third.new, third.updated, third.unchanged, third.failed) == (0, 2, 3, 1)
    after = await superuser.fetchrow(
        "SELECT document_text, updated_at, account_number FROM contracts WHERE contract_id = $1",
        second.contract_id,
    )
    assert after["document_text"] == changed_text.rstrip("\f")
    assert after["updated_at"] > placeholder["updated_at"]
    # No manifest this time: the metadata a contract already has is not replaced by placeholders.
    assert (
        await superuser.fetchval(
            "SELECT account_number FROM contracts WHERE contract_id = $1", first.contract_id
        )
        == "ACCT-0001"
    )
    fixed = await superuser.fetchrow(
        "SELECT text_extraction_status, text_extraction_error, document_text FROM contracts"
        " WHERE contract_id = 'GAP-LATIN-1'"
    )
    assert tuple(fixed) == ("extracted", None, "Frais d'annulation : 50 $")
    updated_events = await superuser.fetch(
        'SELECT contract_id FROM audit_events WHERE event_data @> \'{"outcome": "updated"}\''
    )
    assert {event["contract_id"] for event in updated_events} == {"GAP-LATIN-1", second.contract_id}


async def test_bad_rows_and_names_are_reported_and_the_rest_is_ingested(
    system: ServiceContext, tmp_path: Path, superuser: asyncpg.Connection
) -> None:
    root = tmp_path / "batch"
    for name in ("GAP-A.txt", "GAP-B.txt", "GAP-C.txt", "GAP-D.txt", "bad id!.txt", "nested/GAP-A.txt"):
        _write(root / name, f"GAP WAIVER for {name}\nGAP Waiver Charge: $795.00\n")
    manifest = _write(
        tmp_path / "meta.csv",
        "contract_id,account_number,customer_name,contract_date,color\n"
        "GAP-A,ACCT-A,Customer #1,2024-01-02,Blue\n"
        "GAP-B,has spaces,Customer #2,,\n"
        "GAP-C,ACCT-C,Customer #3,31/12/2024,\n"
        ",ACCT-X,Customer #9,,\n",
    )

    report = await _ingest(system, root, manifest=manifest)

    assert report.new == 2
    reasons = {failure.name: failure.reason for failure in report.failures}
    assert reasons == {
        "GAP-B.txt": "manifest row 3: account number 'has spaces' is not valid (1–32 letters, digits or hyphens)",
        "GAP-C.txt": "manifest row 4: contract date '31/12/2024' is not a date (YYYY-MM-DD or MM/DD/YYYY)",
        "bad id!.txt": "'bad id!' from the file name is not a valid contract id (up to 64 letters, digits, '.',"
        " '_' or '-', starting with a letter or digit); rename the file or give its id in a manifest",
        "nested/GAP-A.txt": "contract GAP-A already came from GAP-A.txt in this run",
        "meta.csv row 5": "row 5 names neither a file nor a contract id",
    }
    stored = await superuser.fetch("SELECT contract_id, vehicle_info FROM contracts ORDER BY contract_id")
    assert [(row["contract_id"], row["vehicle_info"]) for row in stored] == [
        ("GAP-A", {"color": "Blue"}),
        ("GAP-D", {}),
    ]


async def test_an_unreadable_manifest_or_source_stops_before_anything_is_written(
    system: ServiceContext, tmp_path: Path, superuser: asyncpg.Connection
) -> None:
    _write(tmp_path / "GAP-1.txt", "text")
    no_key = _write(tmp_path / "m.csv", "customer_name,vin\nCustomer #1,X\n")
    with pytest.raises(InvalidInput, match="needs a 'file' or a 'contract_id' column"):
        await _ingest(system, tmp_path, manifest=no_key)
    with pytest.raises(InvalidInput, match="There is no file or folder"):
        await _ingest(system, tmp_path / "nowhere")
    assert await superuser.fetchval("SELECT count(*) FROM contracts") == 0


async def test_a_single_file_reports_progress_and_a_scan_is_kept_without_text(
    system: ServiceContext, tmp_path: Path, superuser: asyncpg.Connection
) -> None:
    scan = _write(tmp_path / "GAP-SCAN-7.pdf", scanned_pdf(2))
    calls: list[tuple[str, int, int]] = []

    report = await _ingest(
        system, scan, progress=lambda stage, done, total: calls.append((stage, done, total))
    )

    assert (report.found, report.new, report.without_text, report.failed) == (1, 1, 1, 0)
    assert calls == [("read", 1, 1), ("saved", 1, 1)]
    row = await superuser.fetchrow(
        "SELECT text_extraction_status, text_extraction_error, page_count, document_text, s3_key"
        " FROM contracts WHERE contract_id = 'GAP-SCAN-7'"
    )
    assert tuple(row) == (
        "empty",
        "scanned PDF: needs OCR (no text layer on its 2 pages)",
        2,
        None,
        str(scan),
    )


async def test_many_pdfs_are_parsed_in_worker_processes(
    system: ServiceContext, tmp_path: Path, superuser: asyncpg.Connection
) -> None:
    contracts = [generate_contract(seq, compact=True) for seq in range(10, 14)]
    for contract in contracts:
        _write(tmp_path / f"{contract.contract_id}.pdf", pdf_from_text(contract.document_text))

    report = await _ingest(system, tmp_path, pdf_workers=2, batch_size=3)

    assert (report.new, report.failed) == (4, 0)
    texts = await superuser.fetch("SELECT contract_id, document_text FROM contracts ORDER BY contract_id")
    for row, contract in zip(texts, sorted(contracts, key=lambda c: c.contract_id), strict=True):
        assert row["contract_id"] == contract.contract_id
        assert contract.contract_id in row["document_text"]


@pytest.mark.parametrize("role", ["reviewer"])
async def test_reviewers_may_not_ingest(make_context: MakeContext, role: str, tmp_path: Path) -> None:
    ctx = await make_context(role)
    with pytest.raises(Forbidden):
        await _ingest(ctx, tmp_path)


async def test_supervisors_may_ingest(
    make_context: MakeContext, tmp_path: Path, superuser: asyncpg.Connection
) -> None:
    ctx = await make_context("supervisor")
    _write(tmp_path / "GAP-S-1.txt", "GAP Waiver Charge: $500.00")
    report = await _ingest(ctx, tmp_path)
    assert report.new == 1
    assert (
        await superuser.fetchval("SELECT user_id FROM audit_events WHERE contract_id = 'GAP-S-1'")
        == ctx.actor.user_id
    )


# --- S3 ------------------------------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Endpoint]:
    with moto_s3_server(monkeypatch) as endpoint:
        yield endpoint


async def test_s3_prefix_ingestion(
    system: ServiceContext, s3: S3Endpoint, superuser: asyncpg.Connection
) -> None:
    s3.create_bucket("dealer-contracts")
    texts = [generate_contract(seq) for seq in (21, 22)]
    for contract in texts:
        s3.put(
            "dealer-contracts", f"incoming/2024/{contract.contract_id}.txt", contract.document_text.encode()
        )
    pdf_contract = generate_contract(23)
    s3.put(
        "dealer-contracts",
        f"incoming/{pdf_contract.contract_id}.pdf",
        pdf_from_text(pdf_contract.document_text),
    )
    s3.put("dealer-contracts", "incoming/readme.md", b"# not a contract")
    s3.put("dealer-contracts", "archive/GAP-OLD-1.txt", b"outside the prefix")

    report = await _ingest(system, "s3://dealer-contracts/incoming/", endpoint_url=s3.url)

    assert (report.found, report.new, report.ignored, report.failed) == (3, 3, 1, 0)
    rows = await superuser.fetch(
        "SELECT contract_id, s3_bucket, s3_key, page_count, document_text FROM contracts ORDER BY s3_key"
    )
    assert [(row["s3_bucket"], row["s3_key"]) for row in rows] == [
        ("dealer-contracts", f"incoming/2024/{texts[0].contract_id}.txt"),
        ("dealer-contracts", f"incoming/2024/{texts[1].contract_id}.txt"),
        ("dealer-contracts", f"incoming/{pdf_contract.contract_id}.pdf"),
    ]
    assert rows[0]["document_text"] == texts[0].document_text
    assert rows[2]["page_count"] == pdf_contract.document_text.count("\f") + 1
    source = await superuser.fetchval(
        "SELECT event_data ->> 'source' FROM audit_events WHERE contract_id = $1", pdf_contract.contract_id
    )
    assert source == f"s3://dealer-contracts/incoming/{pdf_contract.contract_id}.pdf"

    again = await _ingest(system, "s3://dealer-contracts/incoming", endpoint_url=s3.url)
    assert (again.new, again.unchanged) == (0, 3)

    with pytest.raises(NotFound, match="There is no bucket"):
        await _ingest(system, "s3://no-such-bucket/x", endpoint_url=s3.url)
