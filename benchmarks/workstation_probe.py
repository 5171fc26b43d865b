"""The workstation, timed from the outside: run in a process of its own by benchmarks/workstation.py.

`python -m benchmarks.workstation_probe cold --spawned-at T` starts the app (headless, as
`refund-review` would in a terminal) and prints how long it took from the moment its parent spawned it
until the login screen was drawn and connected. `... starts` drives the real app (make_app) with
Textual's Pilot and prints, as JSON, the durations of start to login screen and login to a drawn queue,
over many apps started in turn. `... session` logs in once and times `n` on the queue to a drawn review
screen, `n` (skip) and `a` (approve and next) on the review screen to the next item drawn, with the
process's resident memory before and after the scripted reviews.

Keys are posted to the app as the terminal driver posts them, and "drawn" means: the screen shows the
new state and Textual has processed every pending message and laid out and rendered the screen
(`Pilot.pause(0)` forces the render the next display tick would do). Pilot.press is not used for timed
keys: it waits for the whole process to fall idle, which takes at least 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import bcrypt
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static

from app.screens.login import LoginScreen
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp, make_app
from services.auth import logout
from services.settings import PRODUCTION_BCRYPT_ROUNDS, Settings, load_settings
from synthetic.seeding.scale import SCALE_PASSWORD

SIZE = (120, 40)
WAIT_LIMIT = 60.0
POLL = 0.0005
KEY_CHARACTERS = {"enter": "\r", "escape": "\x1b"}


def resident_mb() -> tuple[float, float]:
    """(resident, peak resident) memory of this process in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def until(pilot: Pilot, condition: Callable[[], bool]) -> None:
    """Let the app work until `condition()` holds, then until it has processed and drawn everything."""
    deadline = time.perf_counter() + WAIT_LIMIT
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the workstation did not reach the expected state in time")
        await asyncio.sleep(POLL)
    await pilot.pause(0)


def press(app: RefundReviewApp, key: str) -> None:
    app.post_message(events.Key(key, KEY_CHARACTERS.get(key, key)))


def login_ready(app: RefundReviewApp) -> bool:
    screen = app.screen
    return (
        isinstance(screen, LoginScreen)
        and app.runtime is not None
        and not screen.query_one("#login-button", Button).disabled
    )


def queue_drawn(app: RefundReviewApp) -> bool:
    screen = app.screen
    if not isinstance(screen, QueueScreen) or not screen.is_mounted:
        return False
    counts = str(screen.query_one("#queue-counts", Static).render())
    return screen.query_one(DataTable).row_count > 0 and "Loading" not in counts


def queue_at_rest(app: RefundReviewApp) -> bool:
    """The queue drawn and done reloading: back from a review it reloads its first page, and `n` is
    timed from the queue as a reviewer finds it, not racing that reload."""
    return queue_drawn(app) and not any(worker.is_running for worker in app.screen.workers)


def review_drawn(app: RefundReviewApp) -> bool:
    return isinstance(app.screen, ReviewScreen) and app.screen.is_mounted


def moved_on(screen: ReviewScreen, shown: uuid.UUID) -> bool:
    return screen.detail.extraction_id != shown


async def start_and_log_in(app: RefundReviewApp, pilot: Pilot, username: str) -> float:
    """Seconds from the Enter on the password to a drawn queue (the login screen must be ready)."""
    app.screen.query_one("#username", Input).value = username
    password = app.screen.query_one("#password", Input)
    password.value = SCALE_PASSWORD
    password.focus()
    await pilot.pause(0)
    started = time.perf_counter()
    press(app, "enter")
    await until(pilot, partial(queue_drawn, app))
    return time.perf_counter() - started


async def through_items(app: RefundReviewApp, pilot: Pilot, key: str, count: int) -> list[float]:
    """From the queue: `n` to the review screen, then `key` `count` times, each timed to the next item drawn."""
    press(app, "n")
    await until(pilot, partial(review_drawn, app))
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    durations = []
    for _ in range(count):
        shown = screen.detail.extraction_id
        started = time.perf_counter()
        press(app, key)
        await until(pilot, partial(moved_on, screen, shown))
        durations.append(time.perf_counter() - started)
    return durations


async def cold(settings: Settings, spawned_at: float) -> dict[str, float]:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, partial(login_ready, app))
        return {"cold_start": time.time() - spawned_at}


async def starts(settings: Settings, username: str, runs: int) -> dict[str, object]:
    """`runs` apps started in turn, each to its login screen, then logged in to a drawn queue."""
    started_in, logins = [], []
    for _ in range(runs):
        started = time.perf_counter()
        app = make_app(settings)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, partial(login_ready, app))
            started_in.append(time.perf_counter() - started)
            logins.append(await start_and_log_in(app, pilot, username))
            await logout(app.context)
    # The scale users' hashes have the production cost (synthetic.seeding.scale.scale_password_hash).
    hashed = bcrypt.hashpw(SCALE_PASSWORD.encode(), bcrypt.gensalt(PRODUCTION_BCRYPT_ROUNDS))
    checks = []
    for _ in range(5):
        started = time.perf_counter()
        bcrypt.checkpw(SCALE_PASSWORD.encode(), hashed)
        checks.append(time.perf_counter() - started)
    return {"start": started_in, "login": logins, "bcrypt": checks}


async def session(settings: Settings, username: str, runs: int, count: int) -> dict[str, object]:
    """One reviewer's session in one process, as at a desk: log in; `n` on the queue `runs` times (back
    with Escape each time); `n` (skip) `runs` times; then `a` (approve and next) `count` times.

    A process of its own, with one app in it: its heap and its memory are one session's, not those of
    the fifty apps the start-up runs start and stop.
    """
    opens = []
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, partial(login_ready, app))
        await start_and_log_in(app, pilot, username)
        for _ in range(runs):
            started = time.perf_counter()
            press(app, "n")
            await until(pilot, partial(review_drawn, app))
            opens.append(time.perf_counter() - started)
            press(app, "escape")
            await until(pilot, partial(queue_at_rest, app))
        skips = await through_items(app, pilot, "n", runs)
        press(app, "escape")
        await until(pilot, partial(queue_at_rest, app))
        before = resident_mb()
        approvals = await through_items(app, pilot, "a", count)
        after = resident_mb()
        press(app, "escape")
        await until(pilot, partial(queue_drawn, app))
        await logout(app.context)
    return {
        "open": opens,
        "skip": skips,
        "approve": approvals,
        "rss_before_mb": before[0],
        "rss_after_mb": after[0],
        "peak_rss_mb": after[1],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workstation_probe")
    parser.add_argument("mode", choices=("cold", "starts", "session"))
    parser.add_argument("--spawned-at", type=float, default=0.0)
    parser.add_argument("--username", default="scale.reviewer40")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--reviews", type=int, default=500)
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.mode == "cold":
        result: dict[str, object] = dict(asyncio.run(cold(settings, args.spawned_at)))
    elif args.mode == "starts":
        result = asyncio.run(starts(settings, args.username, args.runs))
    else:
        result = asyncio.run(session(settings, args.username, args.runs, args.reviews))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
