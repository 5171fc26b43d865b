"""What one open workstation costs its host: memory and PostgreSQL connections (`python -m benchmarks.workstation_cost`).

A host that serves a team (over SSH, or `serve` in a browser) runs one workstation process per
person. This starts the real `refund-review` in a terminal of its own against a throw-away embedded
database with the demo data, and at each stage — the login screen, the queue after logging in, a
review open, ten approvals later — reads the process's memory (RSS, PSS, USS from /proc via psutil)
and its server connections (pg_stat_activity, by state). Prints a table, or JSON with --json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import psutil

from benchmarks.pty_terminal import PtyTerminal
from db.database import DEFAULT_DATABASE
from db.embedded import EmbeddedServer, start_embedded_server
from db.engine import WORKSTATION_POOL
from db.url import asyncpg_connect_args
from synthetic.seeding.demo import demo_logins

APPROVALS = 10


def _program() -> str:
    return str(Path(sys.executable).parent / "refund-review")


async def _fetch(server: EmbeddedServer, query: str) -> list[asyncpg.Record]:
    """Rows of `query` on the demo database, on a connection of the benchmark's own (not counted)."""
    conn = await asyncpg.connect(
        **asyncpg_connect_args(server.url.set(database=DEFAULT_DATABASE)),
        server_settings={"application_name": "workstation-cost"},
    )
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


def _connections(server: EmbeddedServer) -> dict[str, int]:
    rows = asyncio.run(
        _fetch(
            server,
            "SELECT coalesce(state, 'unknown') AS state, count(*) AS n FROM pg_stat_activity "
            "WHERE application_name = 'refund-review' GROUP BY 1",
        )
    )
    return {row["state"]: row["n"] for row in rows}


def _approvals(server: EmbeddedServer) -> int:
    rows = asyncio.run(_fetch(server, "SELECT count(*) AS n FROM audit_events WHERE event_type = 'approve'"))
    return int(rows[0]["n"])


def _memory_mb(pid: int) -> dict[str, float]:
    info = psutil.Process(pid).memory_full_info()
    return {name: round(getattr(info, name) / 2**20, 1) for name in ("rss", "pss", "uss")}


def measure() -> list[dict[str, object]]:
    """The stages of one workstation's life, each with its memory and connections."""
    home = Path(tempfile.mkdtemp(prefix="rr-workstation-cost-"))
    env = {**os.environ, "REFUND_REVIEW_HOME": str(home), "TERM": "xterm-256color"}
    env.pop("DATABASE_URL", None)
    terminal = None
    try:
        server = start_embedded_server(home)
        subprocess.run([_program(), "demo", "--no-ui"], env=env, check=True, capture_output=True)
        username, password, _ = next(login for login in demo_logins() if login[2] == "reviewer")
        terminal = PtyTerminal([_program()], env)
        pid = terminal.process.pid
        stages: list[dict[str, object]] = []

        def stage(name: str, seconds: float) -> None:
            stages.append(
                {
                    "stage": name,
                    "seconds": round(seconds, 2),
                    **_memory_mb(pid),
                    "connections": _connections(server),
                }
            )

        stage("login screen", terminal.wait_for("Connected to", 60))
        terminal.type(username + "\r")
        time.sleep(0.5)  # Enter moves to the password field; what is typed before that lands in the username
        terminal.type(password + "\r")
        stage("queue after login", terminal.wait_for("Pending", 60))
        terminal.forget()
        terminal.type("n")
        stage("review open (n)", terminal.wait_for("Approve", 30))
        started = time.monotonic()
        for done in range(1, APPROVALS + 1):
            terminal.type("a")
            deadline = time.monotonic() + 30
            while _approvals(server) < done:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"approval {done} never reached the database: {terminal.screen[-2000:]!r}"
                    )
                time.sleep(0.02)
            time.sleep(0.2)  # the next item's drawing
        stage(f"after {APPROVALS} approvals (a)", time.monotonic() - started)
        terminal.type("\x11")  # ctrl+q
        terminal.process.wait(20)
        return stages
    finally:
        if terminal is not None:
            terminal.close()
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workstation_cost", description=__doc__)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args(argv)
    stages = measure()
    if args.json:
        sys.stdout.write(json.dumps({"pool": vars(WORKSTATION_POOL), "stages": stages}) + "\n")
        return
    print(f"One workstation process (pool: {WORKSTATION_POOL.size} kept + {WORKSTATION_POOL.overflow} burst)")
    print(f"{'stage':<22} {'s':>6} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8}  connections")
    for row in stages:
        conns = ", ".join(f"{n} {state}" for state, n in sorted(row["connections"].items())) or "none"  # type: ignore[union-attr]
        print(
            f"{row['stage']:<22} {row['seconds']:>6} {row['rss']:>8} {row['pss']:>8} {row['uss']:>8}  {conns}"
        )


if __name__ == "__main__":
    main()
