"""One extraction from start to finish: the provider's call with resilience, grounding, cost, fallback.

Whatever happens to the LLM call (missing key, open breaker, rate limits beyond the retries, a timeout, an
answer that is not the schema's), the engine still returns three fields: the rules extractor stands in and
the outcome says which provider failed and why. Nothing here touches the database, so a result is only
stored once it is complete (services/extractions.py), and ``extract-file`` runs without one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import TracebackType
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from services.domain import LLMProviderName, ProviderName
from services.extraction.grounding import ground
from services.extraction.locate import DocumentIndex
from services.extraction.pricing import call_cost
from services.extraction.prompt import PROMPT_VERSION
from services.extraction.providers.base import (
    CircuitOpen,
    LLMProvider,
    ProviderError,
    ProviderNotConfigured,
    ProviderOutput,
    Usage,
)
from services.extraction.providers.registry import check_provider_name, get_provider, model_for
from services.extraction.providers.rules_provider import RulesProvider
from services.extraction.resilience import BREAKERS, Backoff, CircuitBreakers, call_with_retries
from services.extraction.types import ExtractionResult
from services.input_text import document_text
from services.system_settings import SystemSettings


class ExtractionOutcome(BaseModel):
    """An extraction result and the story of how it was obtained."""

    model_config = ConfigDict(frozen=True)

    result: ExtractionResult
    requested_provider: ProviderName
    fallback_from: LLMProviderName | None = None
    fallback_reason: str | None = None
    # LLM calls made, retries included (0 for rules, an open breaker or a missing key).
    attempts: int = Field(default=0, ge=0)
    cost_usd: Decimal = Decimal("0.000000")
    # Tokens billed for an answer that was then refused (malformed, oversized): paid for, not used.
    discarded_usage: Usage | None = None
    discarded_cost_usd: Decimal = Decimal("0.000000")
    warnings: tuple[str, ...] = ()


class ExtractionEngine:
    """Runs extractions with the settings of ``system_config``; keeps LLM clients open until ``aclose``."""

    def __init__(
        self,
        settings: SystemSettings,
        *,
        breakers: CircuitBreakers = BREAKERS,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._breakers = breakers
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rules = RulesProvider()
        self._providers: dict[str, LLMProvider] = {}

    async def extract(self, document_text: str, provider: str | None = None) -> ExtractionOutcome:
        """The three fields of ``document_text`` by ``provider`` (default: llm_default_provider)."""
        name = check_provider_name(provider or self.settings.llm_default_provider)
        if name == "rules":
            return ExtractionOutcome(result=await self._rules.extract(document_text), requested_provider=name)
        try:
            llm = self._provider(name)
        except ProviderNotConfigured as error:
            return await self._fall_back(name, document_text, error, time.perf_counter())
        # The clock starts after the provider exists: importing a vendor SDK (once) is not extraction time.
        started = time.perf_counter()
        try:
            output, attempts = await self._call(llm, document_text)
        except ProviderError as error:
            return await self._fall_back(name, document_text, error, started)
        return self._grounded(name, document_text, output, attempts, started)

    async def _call(self, llm: LLMProvider, document_text: str) -> tuple[ProviderOutput, int]:
        name = llm.name
        settings = self.settings
        breaker = self._breakers.get(
            name, settings.circuit_breaker_threshold, settings.circuit_breaker_cooldown_seconds
        )
        breaker.acquire()
        timeout = float(settings.extraction_timeout_seconds)
        try:
            answer = await call_with_retries(
                lambda: llm.extract(document_text, timeout=timeout),
                provider=name,
                attempt_timeout_s=timeout,
                max_retries=settings.max_retries,
                backoff=self._backoff,
                sleep=self._sleep,
            )
        except ProviderError:
            breaker.record_failure()
            raise
        except BaseException:
            breaker.abandon()
            raise
        breaker.record_success()
        return answer

    def _provider(self, name: LLMProviderName) -> LLMProvider:
        # A missing key is not a failure of the vendor: it does not count towards the breaker, and the
        # fallback reason stays the sentence that says what to set.
        llm = self._providers.get(name)
        if llm is None:
            llm = self._providers[name] = get_provider(name, self.settings)
        return llm

    def _grounded(
        self, name: LLMProviderName, text: str, output: ProviderOutput, attempts: int, started: float
    ) -> ExtractionOutcome:
        index = DocumentIndex(text)
        grounded = {candidate.name: ground(index, candidate) for candidate in output.candidates()}
        cost = call_cost(
            self.settings.llm_pricing,
            (output.model_version, model_for(name, self.settings)),
            output.prompt_tokens,
            output.completion_tokens,
        )
        result = ExtractionResult(
            **grounded,
            provider=name,
            model_version=output.model_version,
            prompt_version=PROMPT_VERSION,
            prompt_tokens=output.prompt_tokens,
            completion_tokens=output.completion_tokens,
            processing_ms=_elapsed_ms(started),
        )
        return ExtractionOutcome(
            result=result,
            requested_provider=name,
            attempts=attempts,
            cost_usd=cost.usd,
            warnings=(cost.warning,) if cost.warning else (),
        )

    async def _fall_back(
        self, name: LLMProviderName, text: str, error: ProviderError, started: float
    ) -> ExtractionOutcome:
        rules = await self._rules.extract(text)
        # The time the LLM took before failing is part of what this extraction cost.
        result = rules.model_copy(update={"processing_ms": _elapsed_ms(started)})
        discarded = error.usage
        warnings: tuple[str, ...] = ()
        discarded_cost = Decimal("0.000000")
        if discarded is not None:
            cost = call_cost(
                self.settings.llm_pricing,
                (discarded.model_version, model_for(name, self.settings)),
                discarded.prompt_tokens,
                discarded.completion_tokens,
            )
            discarded_cost, warnings = cost.usd, (cost.warning,) if cost.warning else ()
        return ExtractionOutcome(
            result=result,
            requested_provider=name,
            fallback_from=name,
            # The message may quote what the provider answered: text from outside, cleaned like a document.
            fallback_reason=document_text(error.message),
            attempts=0 if isinstance(error, ProviderNotConfigured | CircuitOpen) else error.attempts,
            discarded_usage=discarded,
            discarded_cost_usd=discarded_cost,
            warnings=warnings,
        )

    async def aclose(self) -> None:
        providers, self._providers = list(self._providers.values()), {}
        for llm in providers:
            await llm.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
