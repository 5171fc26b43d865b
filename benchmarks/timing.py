"""Running a call many times with varied arguments and keeping how long each run took.

A measured call is built per run from the run's number (so each run can take another reviewer, another
contract, another page); an optional follow-up runs after the clock has stopped (giving back a claim,
say), so that the next run starts from the same kind of state. Warm-up runs come first and are not kept:
they fill the connection pool, the prepared-statement caches and the database's buffers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measured:
    group: str
    name: str
    # The p95 target in milliseconds; None for a figure shown for information.
    target_ms: float | None
    call: Callable[[int], Awaitable[Any]]
    after: Callable[[int, Any], Awaitable[None]] | None = None
    note: str = ""


async def run_timed(measured: Measured, runs: int, *, warmup: int = 0) -> list[float]:
    """Durations in seconds of `runs` runs, after `warmup` runs that are not kept."""
    durations: list[float] = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        result = await measured.call(i)
        elapsed = time.perf_counter() - started
        if measured.after is not None:
            await measured.after(i, result)
        if i >= warmup:
            durations.append(elapsed)
    return durations
