"""Extracting stored contracts: what is selected, what is stored, what is recorded, what is refused."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from db.database import Database
from db.models import Contract, Extraction
from services.config import get_system_settings
from services.context import ServiceContext
from services.errors import Forbidden, InvalidInput
from services.extraction.engine import ExtractionEngine, ExtractionOutcome
from services.extraction.resilience import Backoff, CircuitBreakers
from services.extraction.rules import RULES_VERSION
from services.extractions import extract_contracts
from services.metrics import refresh_extraction_metrics
from tests.extraction.providers.fakes import KITS, FakeVendor, answer, point_vendors_at
from tests.services.conftest import DOCUMENT, MakeContext

AddContract = Callable[..., Awaitable[Extraction]]
_numbers = itertools.count(500_000)


@pytest.fixture
def vendor(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    with FakeVendor() as fake:
        point_vendors_at(monkeypatch, fake.url)
        yield fake


@pytest.fixture
async def current_models(superuser: asyncpg.Connection) -> None:
    """A model the installed SDK does not call deprecated, with prices for what the fakes answer."""
    pricing = {
        "claude-sonnet-4-6": {"input_per_mtok": 3.0, "output_per_mtok": 15.0},
        "gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
    }
    await superuser.execute(
        "UPDATE system_config SET value = 'claude-sonnet-4-6' WHERE key = 'anthropic_model'"
    )
    await superuser.execute(
        "UPDATE system_config SET value = $1 WHERE key = 'llm_pricing'", json.dumps(pricing)
    )


async def add_document(
    database: Database, text: str | None = None, *, status: str = "extracted", contract_id: str | None = None
) -> str:
    """A contract as ingestion leaves it: text (or none), and no extraction yet."""
    n = next(_numbers)
    contract_id = contract_id or f"GAP-2025-{n:06d}"
    async with database.unit_of_work() as uow:
        uow.session.add(
            Contract(
                contract_id=contract_id,
                account_number=f"{5_500_000_000 + n}",
                customer_name=f"Customer #{n}",
                document_text=DOCUMENT.format(n=n) if text is None and status == "extracted" else text,
                page_count=3,
                text_extraction_status=status,
            )
        )
        await uow.commit()
    return contract_id


async def extraction_row(superuser: asyncpg.Connection, contract_id: str) -> asyncpg.Record:
    row = await superuser.fetchrow("SELECT * FROM extractions WHERE contract_id = $1", contract_id)
    assert row is not None
    return row


async def events(superuser: asyncpg.Connection, *types: str) -> list[asyncpg.Record]:
    return await superuser.fetch(
        "SELECT event_type, contract_id, user_id, event_data FROM audit_events"
        " WHERE event_type = ANY($1::text[]) ORDER BY seq",
        list(types),
    )


# --- one contract ---------------------------------------------------------------------------------------


async def test_a_re_extraction_replaces_the_fields_and_starts_the_review_over(
    system: ServiceContext,
    make_context: MakeContext,
    add_contract: AddContract,
    superuser: asyncpg.Connection,
) -> None:
    reviewer = await make_context("reviewer")
    old = await add_contract(premium=Decimal("999.00"), method="Actuarial", premium_confidence=40)
    await superuser.execute(
        """UPDATE extractions SET status = 'approved', reviewed_by = $2, reviewed_at = now(),
                  claimed_by = $2, claimed_at = now(), claim_expires_at = now() + interval '15 minutes'
            WHERE id = $1""",
        old.id,
        reviewer.actor.user_id,
    )

    report = await extract_contracts(system, contract_ids=[old.contract_id], provider="rules")

    row = await extraction_row(superuser, old.contract_id)
    assert (report.extracted, row["id"], row["version"]) == (1, old.id, 2)
    assert (row["status"], row["reviewed_by"], row["reviewed_at"], row["claimed_by"]) == (
        "pending",
        None,
        None,
        None,
    )
    assert (row["gap_insurance_premium"], row["refund_calculation_method"], row["cancellation_fee"]) == (
        Decimal("1250.00"),
        "Pro-Rata",
        Decimal("50.00"),
    )
    assert (row["llm_provider"], row["model_version"], row["fallback_from"]) == (
        "rules",
        f"rules-{RULES_VERSION}",
        None,
    )
    assert row["extracted_at"] > old.extracted_at
    text = await superuser.fetchval(
        "SELECT document_text FROM contracts WHERE contract_id = $1", old.contract_id
    )
    for field in ("gap_insurance_premium", "refund_calculation_method", "cancellation_fee"):
        source = row[f"{field}_source"]
        assert text[source["start"] : source["end"]] == source["quote"]
    [event] = await events(superuser, "extract")
    assert (event["contract_id"], event["user_id"]) == (old.contract_id, None)
    data = event["event_data"]
    assert {key: data[key] for key in ("provider", "model", "prompt_version", "version", "cost_usd")} == {
        "provider": "rules",
        "model": f"rules-{RULES_VERSION}",
        "prompt_version": "n/a",
        "version": 2,
        "cost_usd": "0.000000",
    }
    assert (data["fallback_from"], data["fallback_reason"], data["extraction_id"]) == (
        None,
        None,
        str(old.id),
    )
    assert data["min_confidence"] == row["min_confidence"]


async def test_a_contract_without_text_or_unknown_is_refused(
    system: ServiceContext, database: Database
) -> None:
    blank = await add_document(database, status="empty")
    report = await extract_contracts(system, contract_ids=[blank])
    assert (report.extracted, report.skipped) == (0, 1)
    assert "has no document text" in report.problems[0].reason
    with pytest.raises(InvalidInput, match="There is no contract GAP-NOPE-1"):
        await extract_contracts(system, contract_ids=["GAP-NOPE-1"])
    with pytest.raises(InvalidInput, match="no provider called 'gpt'"):
        await extract_contracts(system, contract_ids=[blank], provider="gpt")


async def test_extraction_needs_the_permission(
    make_context: MakeContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    extraction = await add_contract()
    reviewer = await make_context("reviewer")
    with pytest.raises(Forbidden):
        await extract_contracts(reviewer, contract_ids=[extraction.contract_id])
    with pytest.raises(Forbidden):
        await extract_contracts(reviewer, all=True)
    supervisor = await make_context("supervisor")
    await extract_contracts(supervisor, contract_ids=[extraction.contract_id])
    [event] = await events(superuser, "extract")
    assert event["user_id"] == supervisor.actor.user_id
    assert (await extraction_row(superuser, extraction.contract_id))["version"] == 2


# --- batches --------------------------------------------------------------------------------------------


async def test_all_extracts_the_contracts_that_are_due_and_only_those(
    system: ServiceContext, database: Database, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    new = await add_document(database)
    # Text that states none of the three fields: sources are SQL NULL, not JSON null.
    silent = await add_document(database, "VEHICLE SERVICE CONTRACT\nCoverage begins on delivery.\n")
    blank = await add_document(database, status="empty")
    current = await add_contract()
    # Extracted after its document arrived (the fixture stamps extracted_at before inserting the contract).
    await superuser.execute("UPDATE extractions SET extracted_at = now() WHERE id = $1", current.id)
    stale = await add_contract()
    await superuser.execute(
        "UPDATE contracts SET document_text = document_text || 'Amended.' WHERE contract_id = $1",
        stale.contract_id,
    )
    seen: list[tuple[int, int]] = []

    report = await extract_contracts(
        system, all=True, progress=lambda done, total: seen.append((done, total))
    )

    assert (report.selected, report.extracted, report.failed, report.skipped) == (3, 3, 0, 0)
    assert report.by_provider == {"rules": 3}
    assert seen == [(1, 3), (2, 3), (3, 3)]
    versions = dict(await superuser.fetch("SELECT contract_id, version FROM extractions"))
    assert versions == {new: 1, silent: 1, current.contract_id: 1, stale.contract_id: 2}
    assert blank not in versions
    extracted = sorted(e["contract_id"] for e in await events(superuser, "extract"))
    assert extracted == sorted([new, silent, stale.contract_id])
    nothing = await extraction_row(superuser, silent)
    assert (nothing["gap_insurance_premium"], nothing["gap_insurance_premium_source"]) == (None, None)
    again = await extract_contracts(system, all=True)
    assert (again.selected, again.extracted) == (0, 0)


async def test_named_contracts_are_extracted_even_when_up_to_date(
    system: ServiceContext, database: Database, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    current = await add_contract()
    blank = await add_document(database, status="failed")
    report = await extract_contracts(system, contract_ids=[current.contract_id, blank, current.contract_id])
    assert (report.selected, report.extracted, report.skipped, report.failed) == (2, 1, 1, 0)
    [problem] = report.problems
    assert problem.contract_id == blank and "no document text" in problem.reason
    assert (await extraction_row(superuser, current.contract_id))["version"] == 2
    with pytest.raises(InvalidInput, match="There is no contract GAP-MISSING-1"):
        await extract_contracts(system, contract_ids=[current.contract_id, "GAP-MISSING-1"])


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"all": True, "contract_ids": ["A"]},
        {"all": True, "concurrency": 0},
        {"all": True, "concurrency": 99},
    ],
    ids=["neither", "both", "no concurrency", "too much concurrency"],
)
async def test_a_batch_must_say_what_to_extract(system: ServiceContext, arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        await extract_contracts(system, **arguments)


async def test_tokens_and_cost_are_stored_with_the_extraction_and_its_event(
    system: ServiceContext,
    database: Database,
    vendor: FakeVendor,
    current_models: None,
    superuser: asyncpg.Connection,
) -> None:
    contract_id = await add_document(database)
    vendor.script(KITS["anthropic"].answer(answer(), input_tokens=10_000, output_tokens=2_000))

    report = await extract_contracts(system, contract_ids=[contract_id], provider="anthropic")

    row = await extraction_row(superuser, contract_id)
    assert (row["llm_provider"], row["model_version"], row["prompt_version"]) == (
        "anthropic",
        "claude-sonnet-4-6",
        "refund-terms-v2",
    )
    # 10,000 × $3 + 2,000 × $15 per million tokens, from llm_pricing in system_config.
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost_usd"]) == (
        10_000,
        2_000,
        Decimal("0.060000"),
    )
    assert report.cost_usd == Decimal("0.060000")
    [event] = await events(superuser, "extract")
    data = event["event_data"]
    assert (data["prompt_tokens"], data["completion_tokens"], data["cost_usd"], data["attempts"]) == (
        10_000,
        2_000,
        "0.060000",
        1,
    )
    metrics = await superuser.fetchrow(
        "SELECT extractions_count, prompt_tokens, cost_usd FROM extraction_metrics WHERE llm_provider = 'anthropic'"
    )
    assert tuple(metrics) == (1, 10_000, Decimal("0.060000"))


class _Engines:
    """Engines with their own breakers and instant backoff, closed at the end of the test."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.made: list[ExtractionEngine] = []

    def __call__(self, kind: type[ExtractionEngine] = ExtractionEngine, **changes: Any) -> ExtractionEngine:
        engine = kind(
            self.settings.model_copy(update=changes),
            breakers=CircuitBreakers(),
            backoff=Backoff(0.001, 0.002),
        )
        self.made.append(engine)
        return engine


@pytest.fixture
async def engines(system: ServiceContext, current_models: None) -> AsyncIterator[_Engines]:
    made = _Engines(await get_system_settings(system))
    yield made
    for engine in made.made:
        await engine.aclose()


async def test_a_failing_provider_is_replaced_by_rules_and_the_breaker_opens(
    system: ServiceContext,
    database: Database,
    vendor: FakeVendor,
    engines: _Engines,
    superuser: asyncpg.Connection,
) -> None:
    contracts = [await add_document(database) for _ in range(4)]
    vendor.script(*(KITS["anthropic"].server_error() for _ in range(4)))
    engine = engines(max_retries=1, circuit_breaker_threshold=2)

    report = await extract_contracts(
        system, contract_ids=contracts, provider="anthropic", concurrency=1, engine=engine
    )

    assert (report.extracted, report.fallbacks, report.by_provider) == (4, 4, {"rules": 4})
    assert len(vendor.requests) == 4  # two contracts, two attempts each; then the breaker was open
    overloaded = "Anthropic failed (HTTP 529): Overloaded"
    opened = "circuit open: Anthropic failed 2 times in a row; calls resume after a 60 s cooldown"
    assert report.fallback_reasons == {overloaded: 2, opened: 2}
    rows = {
        row["contract_id"]: row
        for row in await superuser.fetch(
            "SELECT contract_id, llm_provider, fallback_from, fallback_reason FROM extractions"
        )
    }
    assert [tuple(rows[c])[1:] for c in contracts] == [
        ("rules", "anthropic", overloaded),
        ("rules", "anthropic", overloaded),
        ("rules", "anthropic", opened),
        ("rules", "anthropic", opened),
    ]
    recorded = {e["contract_id"]: e["event_data"] for e in await events(superuser, "extract")}
    assert [(recorded[c]["fallback_reason"], recorded[c]["attempts"]) for c in contracts] == [
        (overloaded, 2),
        (overloaded, 2),
        (opened, 0),
        (opened, 0),
    ]
    assert {recorded[c]["requested_provider"] for c in contracts} == {"anthropic"}


class _Exploding(ExtractionEngine):
    """An extractor with a defect on one kind of document."""

    async def extract(self, document_text: str, provider: str | None = None) -> ExtractionOutcome:
        if "EXPLODE" in document_text:
            raise RuntimeError("the extractor tripped over this document")
        return await super().extract(document_text, provider)


async def test_an_extractor_failure_is_recorded_and_the_batch_goes_on(
    system: ServiceContext,
    database: Database,
    add_contract: AddContract,
    engines: _Engines,
    superuser: asyncpg.Connection,
) -> None:
    broken = await add_contract()
    await superuser.execute(
        "UPDATE contracts SET document_text = 'EXPLODE' WHERE contract_id = $1", broken.contract_id
    )
    fine = await add_document(database)
    engine = engines(_Exploding)

    report = await extract_contracts(system, all=True, engine=engine)

    assert (report.extracted, report.failed) == (1, 1)
    assert report.problems[0].contract_id == broken.contract_id
    assert "RuntimeError: the extractor tripped over this document" in report.problems[0].reason
    # Nothing half-stored: the failed contract keeps its previous extraction, untouched.
    row = await extraction_row(superuser, broken.contract_id)
    assert (row["version"], row["gap_insurance_premium"]) == (1, broken.gap_insurance_premium)
    failures = await events(superuser, "extract_failed")
    assert [(e["contract_id"], e["event_data"]["provider"]) for e in failures] == [
        (broken.contract_id, "rules")
    ]
    assert [e["contract_id"] for e in await events(superuser, "extract")] == [fine]
    again = await extract_contracts(system, contract_ids=[broken.contract_id], engine=engine)
    assert (again.extracted, again.failed) == (0, 1)
    assert len(await events(superuser, "extract_failed")) == 2


class _Meddling(ExtractionEngine):
    """While the extractor reads, someone replaces the document (a re-ingestion)."""

    superuser: asyncpg.Connection | None = None

    async def extract(self, document_text: str, provider: str | None = None) -> ExtractionOutcome:
        assert self.superuser is not None
        await self.superuser.execute(
            "UPDATE contracts SET document_text = document_text || ' (rev. 2)' WHERE document_text = $1",
            document_text,
        )
        return await super().extract(document_text, provider)


async def test_a_document_changed_during_extraction_is_not_stored(
    system: ServiceContext, add_contract: AddContract, engines: _Engines, superuser: asyncpg.Connection
) -> None:
    extraction = await add_contract()
    engine = engines(_Meddling)
    assert isinstance(engine, _Meddling)
    engine.superuser = superuser

    report = await extract_contracts(system, contract_ids=[extraction.contract_id], engine=engine)

    assert (report.extracted, report.skipped) == (0, 1)
    assert "changed while it was being extracted" in report.problems[0].reason
    assert (await extraction_row(superuser, extraction.contract_id))["version"] == 1
    assert await events(superuser, "extract", "extract_failed") == []
    # Still due, so the next run picks it up.
    assert (await extract_contracts(system, all=True)).extracted == 1


async def test_a_re_extraction_moves_the_daily_metrics_to_today(
    system: ServiceContext, add_contract: AddContract, superuser: asyncpg.Connection
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    extraction = await add_contract(extracted_at=long_ago)
    await refresh_extraction_metrics(system, full=True)
    old_day = long_ago.date()
    assert (
        await superuser.fetchval(
            "SELECT extractions_count FROM extraction_metrics WHERE metric_date = $1", old_day
        )
        == 1
    )

    await extract_contracts(system, contract_ids=[extraction.contract_id])

    counts = dict(await superuser.fetch("SELECT metric_date, extractions_count FROM extraction_metrics"))
    assert counts == {dt.datetime.now(dt.UTC).date(): 1}
