"""`refund-review extract` (stored contracts) and `refund-review extract-file FILE` (one file, no database)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from app.cli.progress import bar
from app.cli.runner import CliState, echo, fail, run
from services.config import SystemSettings
from services.documents.readers import read_document
from services.domain import FIELD_LABELS, PROVIDER_NAMES
from services.errors import ServiceError
from services.extraction.engine import ExtractionEngine, ExtractionOutcome
from services.extraction.types import FieldResult
from services.extractions import MAX_CONCURRENCY, ExtractionBatch, extract_contracts
from services.runtime import Runtime
from widgets.values import sentence_case

_PROVIDER = click.option(
    "--provider",
    type=click.Choice(PROVIDER_NAMES),
    default=None,
    help="Extraction provider. Default: llm_default_provider in the configuration (rules unless changed).",
)


@click.command()
@click.option(
    "--contract", "contract_ids", multiple=True, metavar="ID", help="A contract to (re-)extract; repeatable."
)
@click.option(
    "--all",
    "all_due",
    is_flag=True,
    help="Every contract with text that has no extraction yet, or whose document changed since.",
)
@_PROVIDER
@click.option(
    "--concurrency",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=4,
    show_default=True,
    help="Contracts in flight at once.",
)
@click.pass_obj
def extract(
    state: CliState, contract_ids: tuple[str, ...], all_due: bool, provider: str | None, concurrency: int
) -> None:
    """Extract the refund fields and loan terms of stored contracts and put them in the review queue.

    A named contract is extracted again even if it is up to date; its review starts over. When an LLM
    provider fails, the rules extractor stands in and the extraction records why. Exits with 1 if any
    contract could not be extracted.
    """
    if bool(contract_ids) == all_due:
        fail("Say which contracts to extract: --contract ID (repeatable) or --all.", 2)

    async def body(runtime: Runtime) -> ExtractionBatch:
        with bar("extracting") as report:
            return await extract_contracts(
                runtime.system_context("extract"),
                contract_ids=list(contract_ids) or None,
                all=all_due,
                provider=provider,
                concurrency=concurrency,
                progress=report,
            )

    batch = run(state, body)
    echo(_summary(batch))
    if batch.failed:
        raise SystemExit(1)


def _summary(batch: ExtractionBatch) -> str:
    if not batch.selected:
        return "No contracts are due for extraction."
    rate = batch.extracted / batch.seconds if batch.seconds else 0.0
    providers = ", ".join(f"{name} {count:,}" for name, count in sorted(batch.by_provider.items()))
    lines = [
        f"Extracted {batch.extracted:,} of {batch.selected:,} contracts in {batch.seconds:.1f} s "
        f"({rate:,.1f} per second)" + (f": {providers}." if providers else ".")
    ]
    if batch.fallbacks:
        lines.append(f"The rules extractor stood in {batch.fallbacks:,} times:")
        lines += [f"  {count:,} × {reason}" for reason, count in batch.fallback_reasons.items()]
    if batch.extracted:
        lines.append(f"{batch.below_threshold:,} are below the confidence threshold and go to review first.")
        if batch.qa_samples or batch.auto_approved:
            lines.append(
                f"{batch.qa_samples:,} passed but were drawn for QA review; "
                f"{batch.auto_approved:,} were approved automatically."
            )
    if batch.prompt_tokens or batch.completion_tokens:
        lines.append(
            f"Tokens: {batch.prompt_tokens:,} prompt + {batch.completion_tokens:,} completion; "
            f"cost ${batch.cost_usd:,.6f}."
        )
    if batch.failed or batch.skipped:
        lines.append(f"Failed: {batch.failed:,}; skipped: {batch.skipped:,}.")
        lines += [f"  {problem.contract_id}: {problem.reason}" for problem in batch.problems]
    return "\n".join(lines)


@click.command("extract-file")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_PROVIDER
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def extract_file(file: Path, provider: str | None, as_json: bool) -> None:
    """Extract the refund fields and loan terms of one .txt or .pdf FILE, without a database.

    Prints each field with its value, confidence and source span (page, line, character offsets into the
    text, with PDF pages joined by form feeds). Settings are the defaults; LLM keys come from the
    environment (ANTHROPIC_API_KEY, OPENAI_API_KEY, AWS credentials and AWS_REGION).
    """
    try:
        text, page_count = read_document(file)
        outcome = asyncio.run(_extract_text(text, provider))
    except ServiceError as exc:
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("Interrupted.", 130)
    document = {"file": str(file), "page_count": page_count, "characters": len(text)}
    if as_json:
        echo(json.dumps({**document, **_outcome_json(outcome)}, indent=2))
    else:
        echo(_outcome_text(document, outcome))


async def _extract_text(text: str, provider: str | None) -> ExtractionOutcome:
    async with ExtractionEngine(SystemSettings()) as engine:
        return await engine.extract(text, provider)


def _outcome_json(outcome: ExtractionOutcome) -> dict[str, Any]:
    result = outcome.result
    return {
        "provider": result.provider,
        "requested_provider": outcome.requested_provider,
        "model_version": result.model_version,
        "prompt_version": result.prompt_version,
        "fallback_from": outcome.fallback_from,
        "fallback_reason": outcome.fallback_reason,
        "attempts": outcome.attempts,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": str(outcome.cost_usd),
        "processing_ms": result.processing_ms,
        "min_confidence": result.min_confidence,
        "warnings": list(outcome.warnings),
        "fields": {
            field.name: {
                "value": None if field.value is None else str(field.value),
                "confidence": field.confidence,
                "source": None if field.source is None else field.source.to_json(),
            }
            for field in result.fields()
        },
    }


def _outcome_text(document: dict[str, Any], outcome: ExtractionOutcome) -> str:
    result = outcome.result
    lines = [
        f"{document['file']}: {document['page_count']:,} pages, {document['characters']:,} characters",
        f"Provider: {result.provider} ({result.model_version}, prompt {result.prompt_version}), "
        f"{result.prompt_tokens:,} + {result.completion_tokens:,} tokens, ${outcome.cost_usd:.6f}, "
        f"{result.processing_ms:,} ms",
    ]
    if outcome.fallback_from:
        lines.append(f"The rules extractor stood in for {outcome.fallback_from}: {outcome.fallback_reason}")
    lines.append("")
    lines += [line for field in result.fields() for line in _field_lines(field)]
    lines += [f"Warning: {warning}" for warning in outcome.warnings]
    return "\n".join(lines)


def _field_lines(field: FieldResult) -> list[str]:
    value = "not stated" if field.value is None else str(field.value)
    lines = [f"{sentence_case(FIELD_LABELS[field.name]):<17} {value:<12} confidence {field.confidence:>3}"]
    source = field.source
    if source is None:
        lines.append("    source: none")
        return lines
    if source.alignment == "unaligned":
        lines.append(f'    source: not found in the document; claimed "{source.quote}"')
    else:
        section = f", {source.section}" if source.section else ""
        lines.append(
            f"    source: page {source.page}, line {source.line}{section}, characters "
            f"{source.start}-{source.end} ({source.alignment})"
        )
        lines.append(f'    "{" ".join(source.quote.split())}"')
    if source.note:
        lines.append(f"    note: {source.note}")
    return lines
