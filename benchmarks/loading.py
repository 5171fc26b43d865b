"""Getting contracts in: seeding at scale, ingesting text contracts, and the offline rules extractor.

Ingestion reads full-length synthetic contracts (several pages each, as .txt files in a temporary
folder) through `services.documents.ingest_documents` into the benchmark database, as
`refund-review ingest FOLDER` does. The contracts it creates stay (the audit log refers to them), under
names of their own for each run, so that every run ingests new documents; they have no extraction, so
the queue does not change. The rules extractor reads the same documents on one core, one after the
other.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.bench_database import INGESTED_PREFIX, SCALES, BenchData, BenchScale
from benchmarks.figures import Figure, rate
from services.context import ServiceContext
from services.documents import ingest_documents
from services.extraction.rules import RulesExtractor
from synthetic.contracts import generate_contracts

GROUP = "loading"
MIN_DOCUMENTS_PER_SECOND = 200.0
# Seeding 1,000,000 contracts and 10,000,000 audit events must take less than five minutes.
MAX_FULL_SEED_SECONDS = 300.0


def preparation_figures(scale: BenchScale, data: BenchData) -> list[Figure]:
    """How long the database took to prepare: the seed (when this run seeded), the metrics refresh.

    The seed is judged only at the full scale its target is set for.
    """
    figures = []
    if data.seed_seconds is not None:
        full = (scale.contracts, scale.audit_events) == SCALES["full"]
        figures.append(
            Figure(group=GROUP, name="seed", unit="s", value=round(data.seed_seconds, 1),
                   target=MAX_FULL_SEED_SECONDS if full else None,
                   note=f"{scale.contracts:,} contracts, {scale.audit_events:,} audit events, indexes, ANALYZE")
        )  # fmt: skip
    figures.append(
        Figure(group=GROUP, name="metrics refresh", unit="s", value=data.metrics_refresh_seconds,
               note="extraction_metrics before measuring: every day after a seed, else the days changed")
    )  # fmt: skip
    return figures


async def measure_loading(system: ServiceContext, documents: int) -> list[Figure]:
    texts = [c.document_text for c in generate_contracts(documents, start=1, seed=7)]
    run = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    with tempfile.TemporaryDirectory(prefix="refund-review-bench-") as folder:
        for n, document in enumerate(texts, 1):
            (Path(folder) / f"{INGESTED_PREFIX}{run}-{n:06d}.txt").write_text(document, encoding="utf-8")
        report = await ingest_documents(system, folder)
    extractor = RulesExtractor()
    started = time.perf_counter()
    for document in texts:
        extractor.extract(document)
    extract_seconds = time.perf_counter() - started
    pages = sum(t.count("\f") + 1 for t in texts)
    return [
        rate(GROUP, "ingest of text contracts", report.new, report.seconds, MIN_DOCUMENTS_PER_SECOND,
             note=f"{report.new:,} new of {report.found:,} documents ({pages / len(texts):.1f} pages each) "
                  f"in {report.seconds:.2f} s; {report.failed} failed"),
        rate(GROUP, "rules extractor, one core", len(texts), extract_seconds, MIN_DOCUMENTS_PER_SECOND,
             note=f"{len(texts):,} documents in {extract_seconds:.2f} s"),
    ]  # fmt: skip
