"""`refund-review ingest PATH`: contract documents from a folder, a file or S3 into the database."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.progress import staged_progress
from app.cli.runner import CliState, echo, run
from services.documents import IngestReport, ingest_documents
from services.runtime import Runtime
from services.schema_admin import upgrade_schema

# The summary lists this many failures by name; the audit log and a re-run have the rest.
_FAILURES_SHOWN = 50


@click.command()
@click.argument("path")
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of contract metadata: a 'file' or 'contract_id' column to match documents, then "
    "account_number, customer_name, contract_date, contract_type and vehicle columns (vin, year, make, model...).",
)
@click.option(
    "--endpoint-url", metavar="URL", help="S3-compatible endpoint (MinIO, Ceph...); S3 sources only."
)
@click.option("--bucket-region", metavar="REGION", help="The bucket's AWS region; S3 sources only.")
@click.pass_obj
def ingest(
    state: CliState, path: str, manifest: Path | None, endpoint_url: str | None, bucket_region: str | None
) -> None:
    """Ingest .pdf and .txt contracts from PATH: a folder (recursively), one file, or s3://bucket/prefix.

    Re-running is safe: unchanged documents are skipped, changed ones updated (and extracted again).
    Without a manifest the contract id is the file name without its extension and the account number is
    UNKNOWN. S3 credentials come from the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_PROFILE...).
    Exits with 1 when any document could not be ingested (the others are kept).
    """

    async def body(runtime: Runtime) -> IngestReport:
        await upgrade_schema(runtime.db)
        with staged_progress() as report:
            return await ingest_documents(
                runtime.system_context("ingest"),
                path,
                manifest=manifest,
                endpoint_url=endpoint_url,
                region=bucket_region,
                progress=report,
            )

    summary = run(state, body)
    _print_summary(summary)
    if summary.failures:
        raise SystemExit(1)


def _print_summary(report: IngestReport) -> None:
    rate = f", {report.documents_per_second:,.0f} documents/s" if report.found else ""
    echo(
        f"Ingested {report.source}: {report.found:,} documents in {report.seconds:.1f} s{rate}.\n"
        f"  new {report.new:,}, updated {report.updated:,}, unchanged {report.unchanged:,}, "
        f"failed {report.failed:,}"
    )
    if report.without_text:
        echo(f"  {report.without_text:,} stored without text (scanned PDFs need OCR, or empty files).")
    if report.ignored:
        echo(f"  {report.ignored:,} files ignored: only .pdf and .txt files are read.")
    if report.manifest_rows_unused:
        echo(f"  {report.manifest_rows_unused:,} manifest rows matched no document.")
    if report.failures:
        echo(f"Not ingested ({report.failed:,}):", err=True)
        for failure in report.failures[:_FAILURES_SHOWN]:
            echo(f"  {failure.name}: {failure.reason}", err=True)
        if report.failed > _FAILURES_SHOWN:
            echo(f"  ... and {report.failed - _FAILURES_SHOWN:,} more (see the audit log).", err=True)
