"""What one open workstation costs its host: memory and PostgreSQL connections (`python -m benchmarks.workstation_cost`).

A host that serves a team (over SSH, or `serve` in a browser) runs one workstation process per
person. This starts the real `refund-review` in a terminal of its own against a throw-away embedded
database with the demo data, and at each stage — the login screen, the queue after logging in, a
review open, ten approvals later — reads the process's memory (RSS, PSS, USS from /proc via psutil)
and the server connections (pg_stat_activity, by state); then opens `--team` workstations at once, logs
each in, and adds up the same. Prints a table, or JSON with --json.
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


def _log_in(terminal: PtyTerminal, username: str, password: str) -> float:
    """From the login screen to the queue drawn; seconds from the Enter on the password."""
    terminal.type(username + "\r")
    time.sleep(0.5)  # Enter moves to the password field; what is typed before that lands in the username
    terminal.forget()
    terminal.type(password + "\r")
    return terminal.wait_for("Pending", 60)


def _one_workstation(server: EmbeddedServer, env: dict[str, str]) -> list[dict[str, object]]:
    """The stages of one workstation's life, each with its memory and the connections of all workstations."""
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

    try:
        stage("login screen", terminal.wait_for("Connected to", 60))
        stage("queue after login", _log_in(terminal, username, password))
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
    finally:
        terminal.close()
    return stages


def _team(server: EmbeddedServer, env: dict[str, str], count: int) -> dict[str, object]:
    """`count` workstations open at once, each logged in (the demo people in turn) and at its queue."""
    logins = demo_logins()
    terminals = [PtyTerminal([_program()], env) for _ in range(count)]
    try:
        for terminal in terminals:
            terminal.wait_for("Connected to", 120)
        for n, terminal in enumerate(terminals):
            username, password, _ = logins[n % len(logins)]
            _log_in(terminal, username, password)
        memory = [_memory_mb(terminal.process.pid) for terminal in terminals]
        connections = _connections(server)
        for terminal in terminals:
            terminal.type("\x11")
    finally:
        for terminal in terminals:
            terminal.close()
    return {
        "workstations": count,
        **{f"{name}_total": round(sum(m[name] for m in memory), 1) for name in ("rss", "pss", "uss")},
        "connections": connections,
    }


def measure(team: int) -> dict[str, object]:
    """One workstation through its stages, then `team` at once (a throw-away embedded database, demo data)."""
    home = Path(tempfile.mkdtemp(prefix="rr-workstation-cost-"))
    env = {**os.environ, "REFUND_REVIEW_HOME": str(home), "TERM": "xterm-256color"}
    env.pop("DATABASE_URL", None)
    try:
        server = start_embedded_server(home)
        subprocess.run([_program(), "demo", "--no-ui"], env=env, check=True, capture_output=True)
        stages = _one_workstation(server, env)
        together = _team(server, env, team) if team else None
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {"pool": vars(WORKSTATION_POOL), "stages": stages, "team": together}


def _shown(connections: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(connections.items())) or "none"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workstation_cost", description=__doc__)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument(
        "--team", type=int, default=5, help="Workstations open at once for the second measurement (0: none)."
    )
    args = parser.parse_args(argv)
    found = measure(args.team)
    if args.json:
        sys.stdout.write(json.dumps(found) + "\n")
        return
    print(f"One workstation process (pool: {WORKSTATION_POOL.size} kept + {WORKSTATION_POOL.overflow} burst)")
    print(f"{'stage':<24} {'s':>6} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8}  connections")
    for row in found["stages"]:  # type: ignore[attr-defined]
        print(
            f"{row['stage']:<24} {row['seconds']:>6} {row['rss']:>8} {row['pss']:>8} {row['uss']:>8}"
            f"  {_shown(row['connections'])}"
        )
    team = found["team"]
    if team:
        count = team["workstations"]  # type: ignore[index]
        print(
            f"{count} workstations at their queues: RSS {team['rss_total']} MB, PSS {team['pss_total']} MB, "  # type: ignore[index]
            f"USS {team['uss_total']} MB in all ({team['pss_total'] / count:.0f} MB PSS each); "  # type: ignore[index]
            f"connections: {_shown(team['connections'])}"  # type: ignore[index]
        )


if __name__ == "__main__":
    main()
