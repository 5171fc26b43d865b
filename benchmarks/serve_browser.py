"""What a browser tab of `refund-review serve` costs the host, and how fast the browser draws it.

    python -m benchmarks.serve_browser [--runs 20] [--tabs 10] [--json]

In a data home of its own (the embedded server; nothing else is touched), it seeds a small scale
database (`refund-review seed`), starts `refund-review serve` on a free 127.0.0.1 port and drives
Debian's headless Chromium (benchmarks/browser.py) to measure:

- **opening the URL → login screen drawn**: from the browser's navigation start to the paint of the
  frame that holds the login form, and to the one that says it is connected (ready to log in); each run
  a fresh tab, so a fresh workstation process (the websocket's opening splits the page's share from the
  process's: the process starts when the socket opens);
- **`n` → review screen drawn**: from the key going down in the browser to the paint of the frame that
  holds the review screen (its footer's "Approve"), in one logged-in tab; `escape` back to the queue
  between runs;
- **memory per open workstation**: `--tabs` tabs, each a different reviewer logged in and on the review
  screen of a claimed item; RSS, USS and PSS of each tab's process (psutil; PSS shares the pages the
  processes have in common fairly among them), and of the server; and the database connections the
  tabs hold (the embedded server's client backends, counted before and after).

"Painted" is two animation frames after the message arrived in the page: xterm.js has drawn it by then.
The figures are medians (and p90) of `--runs` runs, printed as a table or, with --json, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from benchmarks.browser import (
    START_SECONDS,
    Tab,
    chromium,
    missing_browser,
    open_tab,
    plain,
    start_serve,
    wait_for,
)
from synthetic.seeding.scale import SCALE_PASSWORD

LOGIN_FORM = "Username"
CONNECTED = "Connected to"
REVIEW_SCREEN = "Approve"
QUEUE_SCREEN = "Next item"
MB = 1024 * 1024


@dataclass
class Spread:
    median: float
    p90: float
    runs: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        ordered = sorted(values)
        return cls(
            median=round(statistics.median(ordered), 1),
            p90=round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
            runs=len(ordered),
        )


@dataclass
class ServeFigures:
    url_to_socket_open_ms: Spread
    url_to_login_form_ms: Spread
    url_to_connected_ms: Spread
    next_to_review_ms: Spread
    tabs: int
    workstation_rss_mb: Spread
    workstation_uss_mb: Spread
    workstation_pss_mb: Spread
    database_connections_per_tab: float
    server_rss_mb: float


def _painted_at(tab: Tab, marker: str, after: int = 0) -> float:
    """When the frame that first holds `marker` (after output position `after`) was painted, in ms."""
    end = tab.output().find(marker, after) + len(marker)
    return next(at for at, length in tab.painted() if length >= end)


def _wait_raw(tab: Tab, marker: str, after: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while tab.output().find(marker, after) < 0:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{marker!r} never came; the tab shows {plain(tab.output()[after:])[-800:]!r}; "
                f"the page: {tab.driver.page_source[:600]!r}"
            )
        time.sleep(0.02)


def _log_in(tab: Tab, username: str) -> None:
    from selenium.webdriver.common.keys import Keys

    tab.wait_for_text(CONNECTED)
    tab.mark()
    tab.type(username + Keys.ENTER + SCALE_PASSWORD + Keys.ENTER)
    tab.wait_for_text("Weakest field")  # the queue's column heading


def _claim(tab: Tab) -> float:
    """Press n on the queue; ms from the key to the review screen painted."""
    start = len(tab.output())
    tab.type("n")
    _wait_raw(tab, REVIEW_SCREEN, start)
    key = tab.key_times()[-1]
    return _painted_at(tab, REVIEW_SCREEN, start) - key


def _client_backends(home: Path) -> int:
    """Connections the embedded PostgreSQL serves now (its backends for clients, not its own workers)."""
    postmaster = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
    return sum(
        1
        for child in psutil.Process(postmaster).children()
        if "[local]" in " ".join(child.cmdline()) or "127.0.0.1" in " ".join(child.cmdline())
    )


def measure(runs: int, tabs: int, home: Path) -> ServeFigures:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    environment["REFUND_REVIEW_HOME"] = str(home)
    print("seeding a small scale database…", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "seed", "--contracts", "2000", "--audit-events", "2000"],
        env=environment, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    served = start_serve(home, "--max-sessions", str(max(tabs, 1) + 2))
    try:
        with chromium() as driver:
            blank = driver.current_window_handle
            socket_open, login_form, connected = [], [], []
            print(f"opening {runs} tabs, one after the other…", file=sys.stderr)
            for _ in range(runs):
                # Each tab's process starts on a host where the previous one has gone.
                wait_for(
                    lambda: not served.workstation_pids(), START_SECONDS, "the last tab's process to end"
                )
                tab = open_tab(driver, served.url, new=True)
                _wait_raw(tab, CONNECTED, 0)
                socket_open.append(tab.socket_opened())
                login_form.append(_painted_at(tab, LOGIN_FORM))
                connected.append(_painted_at(tab, CONNECTED))
                driver.close()
                driver.switch_to.window(blank)

            print(f"n → review screen, {runs} times…", file=sys.stderr)
            tab = open_tab(driver, served.url, new=True)
            _log_in(tab, "scale.reviewer01")
            to_review = []
            for _ in range(runs):
                to_review.append(_claim(tab))
                start = len(tab.output())
                tab.type("\ue00c")  # escape: back to the queue
                _wait_raw(tab, QUEUE_SCREEN, start)
            driver.close()
            driver.switch_to.window(blank)

            print(f"{tabs} reviewers in {tabs} tabs, each on an item…", file=sys.stderr)
            wait_for(lambda: not served.workstation_pids(), START_SECONDS, "the tabs' processes to end")
            backends_before = _client_backends(home)
            for n in range(1, tabs + 1):
                tab = open_tab(driver, served.url, new=True)
                _log_in(tab, f"scale.reviewer{n:02d}")
                _claim(tab)
            time.sleep(2)  # let each process settle (its collection in the pause) before reading memory
            memory = [psutil.Process(pid).memory_full_info() for pid in served.workstation_pids()]
            backends = _client_backends(home) - backends_before
            server_rss = psutil.Process(served.process.pid).memory_info().rss
    finally:
        served.stop()
    return ServeFigures(
        url_to_socket_open_ms=Spread.of(socket_open),
        url_to_login_form_ms=Spread.of(login_form),
        url_to_connected_ms=Spread.of(connected),
        next_to_review_ms=Spread.of(to_review),
        tabs=len(memory),
        workstation_rss_mb=Spread.of([m.rss / MB for m in memory]),
        workstation_uss_mb=Spread.of([m.uss / MB for m in memory]),
        workstation_pss_mb=Spread.of([m.pss / MB for m in memory]),
        database_connections_per_tab=round(backends / max(len(memory), 1), 1),
        server_rss_mb=round(server_rss / MB, 1),
    )


def report(figures: ServeFigures) -> str:
    rows = [
        ("opening the URL → page loaded, websocket open", figures.url_to_socket_open_ms, "ms"),
        ("opening the URL → login form drawn", figures.url_to_login_form_ms, "ms"),
        ("opening the URL → 'Connected' drawn (ready to log in)", figures.url_to_connected_ms, "ms"),
        ("n → review screen drawn", figures.next_to_review_ms, "ms"),
        (f"workstation process RSS ({figures.tabs} open tabs)", figures.workstation_rss_mb, "MB"),
        ("workstation process USS (its own pages)", figures.workstation_uss_mb, "MB"),
        ("workstation process PSS (shared pages split)", figures.workstation_pss_mb, "MB"),
    ]
    lines = [f"{'measure':<56} {'median':>8} {'p90':>8} {'runs':>5}"]
    lines += [f"{name:<56} {s.median:>6} {unit} {s.p90:>6} {unit} {s.runs:>5}" for name, s, unit in rows]
    lines.append(
        f"{'database connections per open tab (mean)':<56} {figures.database_connections_per_tab:>6}"
    )
    lines.append(f"{'refund-review serve itself, RSS':<56} {figures.server_rss_mb:>6} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serve_browser", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=20, help="runs of each timing (default 20)")
    parser.add_argument("--tabs", type=int, default=10, help="tabs open at once for the memory figures")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    home = Path(tempfile.mkdtemp(prefix="rr-serve-bench-"))
    try:
        figures = measure(args.runs, args.tabs, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(asdict(figures), indent=2) if args.json else report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
