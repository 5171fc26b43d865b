"""Retries with backoff and jitter, and the circuit breaker's states, with a fake clock and a fake sleep."""

from __future__ import annotations

import asyncio

import pytest

from services.extraction.providers.base import (
    CircuitOpen,
    MalformedAnswer,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from services.extraction.resilience import Backoff, CircuitBreaker, CircuitBreakers, call_with_retries


class Script:
    """A call that fails with the given errors, then returns "answer"; it counts its attempts."""

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() -> None:
    for _ in range(20):  # the jitter is random: every draw must stay in its band
        call = Script(*(ProviderUnavailable("openai", "503") for _ in range(6)))
        sleeps = Sleeps()
        await call_with_retries(
            call,
            provider="openai",
            attempt_timeout_s=5,
            max_retries=6,
            backoff=Backoff(0.5, 4.0),
            sleep=sleeps,
        )
        ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
        assert len(sleeps) == 6
        assert all(ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(sleeps, ceilings, strict=True))


async def test_a_vendors_retry_after_is_a_floor() -> None:
    call = Script(
        ProviderUnavailable("anthropic", "429", retry_after=3.0),
        ProviderUnavailable("anthropic", "429", retry_after=0.1),
    )
    sleeps = Sleeps()
    await call_with_retries(
        call, provider="anthropic", attempt_timeout_s=5, max_retries=3, backoff=Backoff(0.5), sleep=sleeps
    )
    assert sleeps[0] == 3.0  # far above the backoff's 0.25-0.5 s: the vendor's word wins
    assert 0.5 <= sleeps[1] <= 1.0  # below the backoff: the backoff wins


async def test_a_retry_after_beyond_the_backoff_cap_is_still_honoured() -> None:
    call = Script(ProviderUnavailable("openai", "429", retry_after=45.0))
    sleeps = Sleeps()
    result, attempts = await call_with_retries(
        call, provider="openai", attempt_timeout_s=5, max_retries=1, backoff=Backoff(0.5, 4.0), sleep=sleeps
    )
    assert (result, attempts, sleeps) == ("answer", 2, [45.0])


async def test_rate_limits_are_retried_until_an_answer() -> None:
    call = Script(
        ProviderUnavailable("anthropic", "429", retry_after=1.0), ProviderUnavailable("anthropic", "503")
    )
    sleeps = Sleeps()
    result, attempts = await call_with_retries(
        call, provider="anthropic", attempt_timeout_s=5, max_retries=3, backoff=Backoff(0.1), sleep=sleeps
    )
    assert (result, attempts, call.calls) == ("answer", 3, 3)
    assert len(sleeps) == 2 and sleeps[0] >= 1.0


async def test_retries_stop_at_max_retries_and_the_error_knows_the_attempts() -> None:
    call = Script(*(ProviderUnavailable("openai", f"503 #{n}") for n in range(5)))
    with pytest.raises(ProviderUnavailable, match="503 #2") as caught:
        await call_with_retries(
            call, provider="openai", attempt_timeout_s=5, max_retries=2, backoff=Backoff(0.1), sleep=Sleeps()
        )
    assert call.calls == caught.value.attempts == 3


async def test_a_malformed_answer_is_not_retried() -> None:
    call = Script(MalformedAnswer("bedrock", "not the schema"))
    with pytest.raises(MalformedAnswer):
        await call_with_retries(
            call, provider="bedrock", attempt_timeout_s=5, max_retries=3, backoff=Backoff(), sleep=Sleeps()
        )
    assert call.calls == 1


async def test_an_attempt_past_the_timeout_is_cut_off_and_retried() -> None:
    calls = 0

    async def first_hangs() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()
        return "answer"

    result, attempts = await call_with_retries(
        first_hangs,
        provider="anthropic",
        attempt_timeout_s=0.05,
        max_retries=1,
        backoff=Backoff(0.01),
        sleep=Sleeps(),
    )
    assert (result, attempts) == ("answer", 2)


async def test_a_timeout_on_the_last_attempt_is_a_provider_timeout() -> None:
    async def hangs() -> str:
        await asyncio.Event().wait()
        return "never"

    with pytest.raises(ProviderTimeout, match=r"Anthropic did not answer within 0\.05 s"):
        await call_with_retries(
            hangs,
            provider="anthropic",
            attempt_timeout_s=0.05,
            max_retries=0,
            backoff=Backoff(),
            sleep=Sleeps(),
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker("anthropic", threshold=3, cooldown_s=60, clock=Clock())
    for _ in range(2):
        breaker.acquire()
        breaker.record_failure()
    breaker.acquire()
    breaker.record_success()  # a success in between starts the count again
    for _ in range(2):
        breaker.acquire()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.acquire()
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        breaker.acquire()
    assert caught.value.message == (
        "circuit open: Anthropic failed 3 times in a row; calls resume after a 60 s cooldown"
    )


def test_after_the_cooldown_one_trial_call_goes_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("bedrock", threshold=1, cooldown_s=30, clock=clock)
    breaker.acquire()
    breaker.record_failure()
    clock.now += 29.9
    with pytest.raises(CircuitOpen):
        breaker.acquire()
    clock.now += 0.2
    assert breaker.state == "half-open"
    breaker.acquire()  # the trial
    with pytest.raises(CircuitOpen, match="trial call"):
        breaker.acquire()  # everyone else waits for its verdict
    breaker.record_failure()
    assert breaker.state == "open"  # a failed trial: another full cooldown
    clock.now += 30
    breaker.acquire()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.consecutive_failures == 0
    breaker.acquire()


def test_an_abandoned_trial_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker("openai", threshold=1, cooldown_s=10, clock=clock)
    breaker.acquire()
    breaker.record_failure()
    clock.now += 10
    breaker.acquire()
    breaker.abandon()  # cancelled: no verdict
    breaker.acquire()  # the next caller may try


def test_breakers_are_per_provider_and_follow_the_settings() -> None:
    breakers = CircuitBreakers(clock=Clock())
    anthropic = breakers.get("anthropic", 1, 60)
    anthropic.acquire()
    anthropic.record_failure()
    assert breakers.get("openai", 1, 60).state == "closed"
    assert breakers.get("anthropic", 5, 120) is anthropic
    assert (anthropic.threshold, anthropic.cooldown_s) == (5, 120)
