"""The workstation against the benchmark database, measured in processes of its own.

A separate process is what a reviewer runs, so its start-up (interpreter, imports, connecting) and its
memory are the workstation's alone, not the benchmark's; benchmarks/workstation_probe.py does the
driving and reports back as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from benchmarks.figures import Figure, latency
from db.database import Database
from services.settings import Settings

GROUP = "workstation"
PROBE_USER = "scale.reviewer40"
PROBE_TIMEOUT_SECONDS = 1800


async def _probe(settings: Settings, db: Database, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": db.url.render_as_string(hide_password=False),
        "REFUND_REVIEW_HOME": str(settings.home),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.workstation_probe", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT_SECONDS)
    if process.returncode != 0:
        raise RuntimeError(f"the workstation probe failed: {err.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def measure_workstation(
    settings: Settings, db: Database, *, runs: int, reviews: int, cold_runs: int, pending: int
) -> list[Figure]:
    colds = []
    for _ in range(cold_runs):
        result = await _probe(settings, db, "cold", "--spawned-at", repr(time.time()))
        colds.append(result["cold_start"])
    found = await _probe(settings, db, "starts", "--username", PROBE_USER, "--runs", str(runs))
    found |= await _probe(
        settings, db, "session", "--username", PROBE_USER, "--runs", str(runs), "--reviews", str(reviews)
    )
    queue = f"{pending:,} pending"
    bcrypt_ms = sorted(found["bcrypt"])[len(found["bcrypt"]) // 2] * 1000
    return [
        latency(GROUP, "start to login screen, new process", colds, 1000,
                note="interpreter, imports, app, database connected"),
        latency(GROUP, "start to login screen, in process", found["start"], 1000, note="make_app to connected"),
        latency(GROUP, "login to queue drawn", found["login"], 300,
                note=f"{queue}; of which one bcrypt check (12 rounds) takes {bcrypt_ms:.0f} ms"),
        latency(GROUP, "n on the queue to review screen drawn", found["open"], 50, note=queue),
        latency(GROUP, "n (skip) to next item drawn", found["skip"], 50),
        latency(GROUP, "a (approve and next) to next item drawn", found["approve"], 50,
                note=f"{len(found['approve'])} scripted reviews"),
        Figure(group=GROUP, name=f"resident memory after {len(found['approve'])} reviews", unit="MB",
               value=round(found["rss_after_mb"], 1), target=200,
               note=f"one session in a process of its own: {found['rss_before_mb']:.0f} MB before them; "
                    f"peak {found['peak_rss_mb']:.0f} MB"),
    ]  # fmt: skip
