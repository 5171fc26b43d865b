"""Timeouts, retries with backoff, and a circuit breaker per provider: the one resilience layer.

The vendor SDKs' own retries are switched off so that the numbers in ``system_config`` (max_retries,
extraction_timeout_seconds, circuit_breaker_threshold, circuit_breaker_cooldown_seconds) are the whole
story, the same for the three vendors (two httpx-based SDKs and boto3, whose retry settings differ).
Retries are tenacity's: rate limits, server errors, lost connections and timeouts are retried with
exponential backoff and jitter, never sooner than a vendor's Retry-After; an answer that came back wrong is
not retried, since asking the same question again mostly buys the same answer at the same price.

Breakers live in this process (:data:`BREAKERS`): with several processes (two operators' batches, the
workstation) each has its own, so a failing vendor is noticed by each after its own threshold of failures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

from services.extraction.providers.base import (
    PROVIDER_LABELS,
    CircuitOpen,
    ProviderError,
    ProviderTimeout,
)

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half-open"]


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (0-based): half of ``base * 2**n`` (capped) plus a random part of the other half.

    The random half keeps many workers that failed together from retrying together; the fixed half keeps
    every retry a real pause.
    """

    base_s: float = 0.5
    cap_s: float = 20.0

    def wait(self) -> wait_base:
        """The tenacity wait: the fixed half plus the jittered half, never below the vendor's Retry-After."""
        half = {"multiplier": self.base_s / 2, "max": self.cap_s / 2}
        return _AtLeastRetryAfter(wait_exponential(**half) + wait_random_exponential(**half))


class _AtLeastRetryAfter(wait_base):
    """A wait that honours the Retry-After (or retry-after-ms) the vendor sent with the failure."""

    def __init__(self, backoff: wait_base) -> None:
        self._backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = self._backoff(retry_state)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = error.retry_after if isinstance(error, ProviderError) else None
        return delay if retry_after is None else max(delay, retry_after)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.retryable


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    provider: str,
    attempt_timeout_s: float,
    max_retries: int,
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[T, int]:
    """``call()``'s result and the number of attempts it took; each attempt is cut off after
    ``attempt_timeout_s``.

    The last failure is raised with ``attempts`` set on it.
    """

    async def attempt() -> T:
        try:
            async with asyncio.timeout(attempt_timeout_s):
                return await call()
        except TimeoutError:
            raise ProviderTimeout(
                provider, f"{PROVIDER_LABELS[provider]} did not answer within {attempt_timeout_s:g} s"
            ) from None

    retrying = AsyncRetrying(
        sleep=sleep,
        stop=stop_after_attempt(max_retries + 1),
        wait=backoff.wait(),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    try:
        result = await retrying(attempt)
    except ProviderError as error:
        error.attempts = retrying.statistics["attempt_number"]
        raise
    return result, retrying.statistics["attempt_number"]


# Neither maintained breaker fits: purgatory and aiobreaker both let every caller through when half-open
# (a batch's workers would all hit a failing vendor), and count a cancelled call as a success; so, this one.
class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures → half-open after ``cooldown_s``.

    Half-open lets exactly one trial call through: its success closes the breaker, its failure opens it
    for another cooldown. The clock is injectable so tests need not wait.
    """

    def __init__(
        self, provider: str, threshold: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.provider = provider
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._trial_running or self._clock() >= self._opened_at + self.cooldown_s:
            return "half-open"
        return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def acquire(self) -> None:
        """Let a call through, or raise CircuitOpen (with the reason to record) if it must not be made."""
        state = self.state
        if state == "closed":
            return
        label = PROVIDER_LABELS[self.provider]
        if state == "open":
            # The same words every time, so that a batch report can count the contracts it affected.
            raise CircuitOpen(
                self.provider,
                f"circuit open: {label} failed {self._failures} times in a row; calls resume after a "
                f"{self.cooldown_s:g} s cooldown",
            )
        if self._trial_running:
            raise CircuitOpen(self.provider, f"circuit open: a trial call to {label} is in progress")
        self._trial_running = True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def abandon(self) -> None:
        """A call ended without a verdict (cancelled): a trial slot it held is free again."""
        self._trial_running = False


class CircuitBreakers:
    """One breaker per provider; the thresholds follow ``system_config`` as it changes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, provider: str, threshold: int, cooldown_s: float) -> CircuitBreaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            breaker = self._breakers[provider] = CircuitBreaker(provider, threshold, cooldown_s, self._clock)
        breaker.threshold, breaker.cooldown_s = threshold, cooldown_s
        return breaker


BREAKERS = CircuitBreakers()
