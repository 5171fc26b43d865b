"""The ingestion service: documents from a folder, a file or S3 into `contracts`, idempotently.

A re-run is cheap and safe: each document's SHA-256 (of its bytes, before any reading) is compared with
the one stored, so an unchanged document is skipped without being parsed twice or rewritten, and a changed
one gets its new text, which moves the contract's ``updated_at``: that is how the extraction service knows
to extract it again. Metadata of an unchanged document is left alone for the same reason.

Throughput comes from overlapping the three kinds of work: fetching (threads: file reads and boto3 block),
parsing (PDFs in worker processes when there are many: pypdf is pure Python, CPU bound), and writing (one
transaction per batch, with a multi-row INSERT and a bulk UPDATE). The next batch is read while the current
one is written. Each batch is its own transaction with its own audit events, so an interrupted run keeps
what it finished and the next run picks up the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from db.models import Contract
from db.uow import AuditRecord
from services.access import authorize
from services.context import ServiceContext
from services.documents.manifest import (
    ContractMetadata,
    Manifest,
    MetadataError,
    contract_metadata,
    load_manifest,
)
from services.documents.readers import ParsedDocument, parse_document
from services.documents.sources import DocumentSource, SourceDocument, SourceError, open_source
from services.errors import Conflict, InvalidInput
from services.permissions import Permission

BATCH_SIZE = 200
FETCH_CONCURRENCY = 8
# Worker processes take a second or two to start (each imports the services); measured on 2 cores, 300
# five-page PDFs parse faster in a thread (115/s against 83/s) and 1,000 faster in processes (198/s
# against 131/s).
PROCESS_POOL_MIN_PDFS = 500
# The run's audit event names this many failures; the rest are counted.
MAX_FAILURES_AUDITED = 100

_log = logging.getLogger(__name__)

Outcome = Literal["new", "updated", "unchanged", "failed"]
ProgressCallback = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage ``"read"`` after each document is read, ``"saved"`` after each
batch is committed."""


class IngestFailure(BaseModel):
    """A document (or manifest row) that was not ingested, and why."""

    model_config = ConfigDict(frozen=True)

    name: str
    reason: str


class IngestReport(BaseModel):
    """What a run did, for the summary an operator reads at the end."""

    source: str
    found: int
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    without_text: int = 0
    """Of the new and updated documents, those stored with no text (scanned PDFs, empty files)."""
    ignored: int = 0
    """Files of a type that is not read (not .pdf or .txt), left out of ``found``."""
    manifest_rows_unused: int = 0
    failures: list[IngestFailure] = []
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def documents_per_second(self) -> float:
        return self.found / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Read:
    """One document after fetching and parsing; ``problem`` says why it cannot be stored at all."""

    document: SourceDocument
    metadata: ContractMetadata | None = None
    manifest_row: int | None = None
    sha256: str | None = None
    parsed: ParsedDocument | None = None
    problem: str | None = None


async def ingest_documents(
    ctx: ServiceContext,
    source: str,
    *,
    manifest: Path | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    concurrency: int = FETCH_CONCURRENCY,
    pdf_workers: int | None = None,
) -> IngestReport:
    """Ingest every .pdf and .txt document of ``source``: a folder (recursively), a file or s3://bucket/prefix.

    ``pdf_workers`` is the number of processes that parse PDFs (default: one per CPU when there are enough
    PDFs to repay starting them; 0 parses in a thread). Problems with single documents are collected in
    the report; only what stops the whole run (no such folder, an unreadable manifest, S3 refusing to
    list, the database) raises.
    """
    started = time.perf_counter()
    if batch_size < 1 or concurrency < 1:
        raise InvalidInput("The batch size and the concurrency must be at least 1.")
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
    rows = await asyncio.to_thread(load_manifest, manifest) if manifest is not None else None
    opened = await asyncio.to_thread(
        open_source, source, endpoint_url=endpoint_url, region=region, connections=concurrency
    )
    report = IngestReport(source=opened.description, found=len(opened.documents), ignored=opened.ignored)
    threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ingest")
    processes = _pdf_pool(opened.documents, pdf_workers)
    try:
        reader = _Reader(opened, rows, threads, processes, concurrency, progress)
        writer = _Writer(ctx, report, progress)
        await _pipeline(opened.documents, batch_size, reader, writer)
    finally:
        await asyncio.to_thread(_shutdown, opened, threads, processes)
    if rows is not None:
        report.failures.extend(
            IngestFailure(name=f"{rows.name} row {row.number}", reason=row.problem or "describes no document")
            for row in rows.unnamed
        )
        report.manifest_rows_unused = len(rows.unused_rows())
    report.seconds = time.perf_counter() - started
    await _record_run(ctx, report, rows)
    return report


async def _pipeline(
    documents: Sequence[SourceDocument], batch_size: int, reader: _Reader, writer: _Writer
) -> None:
    """Read batch n+1 while batch n is written: at most two batches are held in memory."""
    batches = [documents[start : start + batch_size] for start in range(0, len(documents), batch_size)]
    if not batches:
        return
    reading = asyncio.create_task(reader.read_all(batches[0]))
    try:
        for number in range(len(batches)):
            reads = await reading
            if number + 1 < len(batches):
                reading = asyncio.create_task(reader.read_all(batches[number + 1]))
            await writer.save(reads)
    finally:
        if not reading.done():
            reading.cancel()


def _pdf_pool(documents: Sequence[SourceDocument], workers: int | None) -> ProcessPoolExecutor | None:
    pdfs = sum(1 for document in documents if document.name.lower().endswith(".pdf"))
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if pdfs >= PROCESS_POOL_MIN_PDFS else 0
    if workers <= 1 or pdfs == 0:
        return None
    # "spawn": forking a process that holds an event loop, database connections and boto3 threads is unsafe.
    return ProcessPoolExecutor(
        max_workers=min(workers, pdfs), mp_context=multiprocessing.get_context("spawn")
    )


def _shutdown(source: DocumentSource, threads: ThreadPoolExecutor, processes: Executor | None) -> None:
    threads.shutdown(wait=True, cancel_futures=True)
    if processes is not None:
        processes.shutdown(wait=True, cancel_futures=True)
    source.close()


def _fetch(source: DocumentSource, document: SourceDocument) -> tuple[bytes, str]:
    data = source.fetch(document)
    return data, hashlib.sha256(data).hexdigest()


class _Reader:
    def __init__(
        self,
        source: DocumentSource,
        manifest: Manifest | None,
        threads: ThreadPoolExecutor,
        processes: ProcessPoolExecutor | None,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        self._source = source
        self._manifest = manifest
        self._threads = threads
        self._processes = processes
        self._slots = asyncio.Semaphore(concurrency)
        self._progress = progress
        self._done = 0

    async def read_all(self, documents: Sequence[SourceDocument]) -> list[_Read]:
        return list(await asyncio.gather(*(self._read(document) for document in documents)))

    async def _read(self, document: SourceDocument) -> _Read:
        try:
            return await self._read_one(document)
        finally:
            self._done += 1
            if self._progress is not None:
                self._progress("read", self._done, len(self._source.documents))

    async def _read_one(self, document: SourceDocument) -> _Read:
        row = self._manifest.row_for(document.name) if self._manifest is not None else None
        try:
            metadata = contract_metadata(document.name, row)
        except MetadataError as exc:
            return _Read(document, problem=str(exc))
        manifest_row = row.number if row is not None else None
        loop = asyncio.get_running_loop()
        async with self._slots:
            try:
                data, sha256 = await loop.run_in_executor(self._threads, _fetch, self._source, document)
            except SourceError as exc:
                return _Read(document, metadata, manifest_row, problem=str(exc))
            parsed = await self._parse(data, document.name)
        return _Read(document, metadata, manifest_row, sha256, parsed)

    async def _parse(self, data: bytes, name: str) -> ParsedDocument:
        loop = asyncio.get_running_loop()
        if self._processes is not None and name.lower().endswith(".pdf"):
            try:
                return await loop.run_in_executor(self._processes, parse_document, data, name)
            except BrokenProcessPool:
                # Worker processes cannot start everywhere (a program read from stdin cannot be re-imported
                # by "spawn"): slower in a thread is better than not at all.
                if self._processes is not None:
                    _log.warning("PDF worker processes failed; parsing the remaining PDFs in threads")
                    self._processes = None
        return await loop.run_in_executor(self._threads, parse_document, data, name)


class _Writer:
    def __init__(self, ctx: ServiceContext, report: IngestReport, progress: ProgressCallback | None) -> None:
        self._ctx = ctx
        self._report = report
        self._progress = progress
        self._origin_of: dict[str, str] = {}
        self._done = 0

    async def save(self, reads: list[_Read]) -> None:
        storable: list[_Read] = []
        for read in reads:
            if read.problem is not None or read.metadata is None:
                self._fail(read, read.problem or "cannot be read")
                continue
            contract_id = read.metadata.contract_id
            earlier = self._origin_of.setdefault(contract_id, read.document.name)
            if earlier != read.document.name:
                self._fail(read, f"contract {contract_id} already came from {earlier} in this run")
                continue
            storable.append(read)
        if storable:
            try:
                self._apply(await self._save(storable))
            except (InvalidInput, Conflict, DBAPIError) as exc:
                # A document the checks above missed (a character PostgreSQL refuses...) must not sink the
                # others of its batch: they are saved one by one, and only it is reported.
                if len(storable) == 1:
                    self._fail(storable[0], _database_reason(exc))
                else:
                    for read in storable:
                        try:
                            self._apply(await self._save([read]))
                        except (InvalidInput, Conflict, DBAPIError) as single:
                            self._fail(read, _database_reason(single))
        self._done += len(reads)
        if self._progress is not None:
            self._progress("saved", self._done, self._report.found)

    def _fail(self, read: _Read, reason: str) -> None:
        self._report.failures.append(IngestFailure(name=read.document.name, reason=reason))

    def _apply(self, outcomes: list[tuple[_Read, Outcome, str | None]]) -> None:
        report = self._report
        for read, outcome, reason in outcomes:
            if outcome == "failed":
                self._fail(read, reason or "cannot be read")
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome != "unchanged" and read.parsed is not None and read.parsed.status == "empty":
                report.without_text += 1

    async def _save(self, reads: list[_Read]) -> list[tuple[_Read, Outcome, str | None]]:
        """One transaction: compare hashes, insert the new, update the changed, audit both."""
        ctx = self._ctx
        by_id = {_contract_id(read): read for read in reads}
        async with ctx.unit_of_work() as uow:
            await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
            stored = {
                row.contract_id: row
                for row in await uow.session.execute(
                    select(
                        Contract.contract_id,
                        Contract.document_sha256,
                        Contract.text_extraction_status,
                        Contract.text_extraction_error,
                    )
                    .where(Contract.contract_id.in_(list(by_id)))
                    .with_for_update()
                )
            }
            outcomes: list[tuple[_Read, Outcome, str | None]] = []
            inserts: list[_Read] = []
            updates: list[_Read] = []
            for contract_id, read in by_id.items():
                parsed = _parsed(read)
                old = stored.get(contract_id)
                if old is None:
                    inserts.append(read)
                elif old.document_sha256 == read.sha256:
                    # Same bytes: a document that could not be read last time still cannot.
                    if old.text_extraction_status == "failed":
                        outcomes.append((read, "failed", old.text_extraction_error))
                    else:
                        outcomes.append((read, "unchanged", None))
                elif parsed.status == "failed":
                    # The stored text is still the best there is; the report says the new file is broken.
                    outcomes.append((read, "failed", parsed.note))
                else:
                    updates.append(read)
            if inserts:
                created = set(
                    await uow.session.scalars(
                        insert(Contract)
                        .on_conflict_do_nothing(index_elements=[Contract.contract_id])
                        .returning(Contract.contract_id),
                        [{**_metadata_columns(read), **_document_columns(read)} for read in inserts],
                    )
                )
                for read in inserts:
                    if _contract_id(read) not in created:
                        reason = (
                            "another ingestion added this contract at the same moment; run this one again"
                        )
                        outcomes.append((read, "failed", reason))
                        continue
                    # An unreadable new document is kept (status "failed"), so that the contract and why
                    # it has no text can be found; the report still lists it as failed.
                    failed = _parsed(read).status == "failed"
                    outcomes.append((read, "failed" if failed else "new", _parsed(read).note))
                    uow.record(_event(ctx, read, "new"))
            if updates:
                await uow.session.execute(
                    update(Contract),
                    [
                        {
                            "contract_id": _contract_id(read),
                            **(_metadata_columns(read) if read.manifest_row is not None else {}),
                            **_document_columns(read),
                        }
                        for read in updates
                    ],
                )
                for read in updates:
                    outcomes.append((read, "updated", None))
                    uow.record(_event(ctx, read, "updated"))
            await uow.commit()
        return outcomes


def _contract_id(read: _Read) -> str:
    if read.metadata is None:
        raise ValueError("a document without metadata cannot be stored")
    return read.metadata.contract_id


def _parsed(read: _Read) -> ParsedDocument:
    if read.parsed is None:
        raise ValueError("a document that was not read cannot be stored")
    return read.parsed


def _metadata_columns(read: _Read) -> dict[str, Any]:
    metadata = read.metadata
    if metadata is None:
        raise ValueError("a document without metadata cannot be stored")
    return metadata.model_dump()


def _document_columns(read: _Read) -> dict[str, Any]:
    parsed = _parsed(read)
    return {
        "s3_bucket": read.document.bucket,
        "s3_key": read.document.key,
        "document_text": parsed.text,
        "document_sha256": read.sha256,
        "page_count": parsed.page_count,
        "text_extraction_status": parsed.status,
        "text_extraction_error": parsed.note,
    }


def _event(ctx: ServiceContext, read: _Read, outcome: Outcome) -> AuditRecord:
    parsed = _parsed(read)
    details: dict[str, Any] = {
        "source": read.document.uri,
        "sha256": read.sha256,
        "pages": parsed.page_count,
        "outcome": outcome,
        "status": parsed.status,
        "metadata": f"manifest row {read.manifest_row}" if read.manifest_row is not None else "placeholders",
    }
    if parsed.note is not None:
        details["note"] = parsed.note
    return ctx.actor.event("ingest", contract_id=_contract_id(read), **details)


def _database_reason(exc: Exception) -> str:
    if isinstance(exc, InvalidInput | Conflict):
        return exc.message
    return f"the database refused it ({str(getattr(exc, 'orig', exc)).splitlines()[0][:200]})"


async def _record_run(ctx: ServiceContext, report: IngestReport, manifest: Manifest | None) -> None:
    """One event for the run as a whole: the only record of documents that never became contracts."""
    async with ctx.unit_of_work() as uow:
        await authorize(uow, ctx.actor, Permission.RUN_EXTRACTION)
        uow.record(
            ctx.actor.event(
                "ingest",
                source=report.source,
                manifest=manifest.name if manifest is not None else None,
                found=report.found,
                new=report.new,
                updated=report.updated,
                unchanged=report.unchanged,
                without_text=report.without_text,
                ignored=report.ignored,
                failed=report.failed,
                failures=[
                    {"name": failure.name, "reason": failure.reason[:200]}
                    for failure in report.failures[:MAX_FAILURES_AUDITED]
                ],
                seconds=round(report.seconds, 3),
            )
        )
        await uow.commit()
