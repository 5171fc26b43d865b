"""A real `refund-review serve` on a free 127.0.0.1 port against the test's database, and a real Chromium.

The browser is Debian's Chromium driven through Debian's chromedriver by Selenium, both given by path so
that Selenium Manager never looks for (or downloads) a browser. xterm.js draws the terminal on a canvas,
so the page has no text to read: a script added before the page's own wraps WebSocket and keeps what
the workstation sent (its terminal output, escape sequences and all) with the time each message was
painted, for the tests to search and the benchmark to time.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from sqlalchemy.engine import URL

from db.database import Database
from tests.services.conftest import PASSWORD, create_contract, create_person, password_hash  # noqa: F401

__all__ = ["PASSWORD"]

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)
# Generous: two cores shared with other work.
START_SECONDS = 60.0

# Kept by the page: the decoded terminal output, and [painted at (ms), output length then] per message.
STREAM_HOOK = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  const seen = { text: "", painted: [], closed: false };
  window.__refundReview = seen;
  function Hooked(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("close", () => { seen.closed = true; });
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") return;
      seen.text += decoder.decode(new Uint8Array(event.data), { stream: true });
      const length = seen.text.length;
      requestAnimationFrame(() => requestAnimationFrame(() => seen.painted.push([performance.now(), length])));
    });
    return socket;
  }
  Hooked.prototype = Native.prototype;
  Object.assign(Hooked, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Hooked;
})();
"""
_ESCAPES = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b[=>78]"
)


def plain(terminal_output: str) -> str:
    """Terminal output without its escape sequences (cursor moves, colours), to search for words."""
    return _ESCAPES.sub("", terminal_output)


def missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is not installed (Debian packages chromium and chromium-driver; .ci/run installs them)."
    return None


def http_status(url: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a GET (an error status is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read().decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Callable[[], object], limit: float, what: str, state: Callable[[], str] = str
) -> object:
    """Poll `condition` until it returns something true; fail after `limit` seconds, saying what was awaited."""
    deadline = time.monotonic() + limit
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {limit:.0f} s waiting for {what}; {state()}")
        time.sleep(0.1)


@dataclass
class Served:
    """A running `refund-review serve`."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    workstation_url: str
    extra: list[str] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def workstation_pids(self) -> list[int]:
        import psutil

        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_serve(workstation_url: str, home: Path, *options: str) -> Served:
    """`refund-review serve` on a free port with DATABASE_URL set as a host would; ready when it answers."""
    port = free_port()
    log = home / f"serve-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env |= {"DATABASE_URL": workstation_url, "REFUND_REVIEW_HOME": str(home), "COLUMNS": "200"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *options],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", process, log, workstation_url, list(options))

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {served.output()}")
        try:
            with urllib.request.urlopen(served.url + "/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    wait_for(answers, START_SECONDS, "serve to answer", served.output)
    return served


@pytest.fixture
def serve_home() -> Iterator[Path]:
    """The data home of the server and its workstations (their error log, exports)."""
    home = Path(tempfile.mkdtemp(prefix="rr-serve-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


class Tab:
    """One browser tab on the served workstation, read through the terminal output it received."""

    def __init__(self, driver, handle: str) -> None:  # type: ignore[no-untyped-def]
        self.driver = driver
        self.handle = handle
        self.read_from = 0

    def focus(self) -> None:
        """This tab in front: a tab behind another gets no animation frames, so xterm.js would not draw."""
        from selenium.common.exceptions import NoSuchWindowException

        try:
            here = self.driver.current_window_handle
        except NoSuchWindowException:  # the tab in front was just closed
            here = None
        if here != self.handle:
            self.driver.switch_to.window(self.handle)
            self.driver.execute_cdp_cmd("Page.bringToFront", {})

    def output(self) -> str:
        self.focus()
        text = self.driver.execute_script("return window.__refundReview ? window.__refundReview.text : ''")
        return str(text)

    def screen_since_mark(self) -> str:
        return plain(self.output()[self.read_from :])

    def mark(self) -> None:
        """What comes after this is what the next wait searches."""
        self.read_from = len(self.output())

    def wait_for_text(self, words: str, limit: float = START_SECONDS) -> None:
        wait_for(
            lambda: words in self.screen_since_mark(),
            limit,
            repr(words),
            lambda: (
                f"the tab shows (last 1500 chars): {self.screen_since_mark()[-1500:]!r}; all: {plain(self.output())!r}"
            ),
        )

    def type(self, keys: str) -> None:
        """Keys into the terminal, as a person types them (xterm.js listens on its hidden textarea)."""
        from selenium.webdriver.common.by import By

        self.focus()
        self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(keys)


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium from the distribution, with a fresh profile."""
    reason = missing_browser()
    if reason:
        print(reason)
        pytest.skip(reason)
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rr-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(START_SECONDS)
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_tab(driver, url: str, *, new: bool) -> Tab:  # type: ignore[no-untyped-def]
    """Open `url` in the first tab or a new one, with the output hook in place before the page's scripts."""
    if new:
        driver.switch_to.new_window("tab")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": STREAM_HOOK})
    driver.get(url)
    return Tab(driver, driver.current_window_handle)


async def poll(query: Callable[[], Awaitable[T]], limit: float, what: str) -> T:
    """Ask the database until the answer is true (not empty, not None); fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        answer = await query()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {limit:.0f} s waiting for {what}; last answer {answer!r}")
        await asyncio.sleep(0.1)


class SocketTab:
    """A tab without a browser: textual-serve's websocket protocol spoken by aiohttp, for what a browser
    cannot choose (its X-Forwarded-For header) and for stopping the server under an open tab."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, client: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> SocketTab:
        socket = await client.ws_connect(f"{url}/ws?width=120&height=40", headers=headers)
        return cls(socket)

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.text += self._decoder.decode(message.data)

    async def wait_for_text(self, words: str, limit: float = START_SECONDS) -> None:
        deadline = time.monotonic() + limit
        while words not in plain(self.text):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"gave up waiting for {words!r}; the tab shows {plain(self.text)[-3000:]!r}"
                )
            await asyncio.sleep(0.1)

    async def type(self, keys: str) -> None:
        # "focus" first, as the page sends when its terminal takes the keyboard: the workstation starts
        # without focus, and keys sent to it then are not all taken.
        await self.socket.send_str(json.dumps(["focus"]))
        await self.socket.send_str(json.dumps(["stdin", keys]))

    async def log_in(self, username: str, password: str) -> None:
        await self.wait_for_text("Connected to")
        # Tab between the two, as in test_browser.log_in.
        await self.type(username + "\t" + password + "\r")
        await self.wait_for_text("Review queue")

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@pytest.fixture
def seed(
    database: Database,
    password_hash: str,  # noqa: F811
) -> Callable[[int, int], Awaitable[list[str]]]:
    """`await seed(reviewers, items)`: reviewers browser1.. (password PASSWORD) and items GAP-2024-000001..
    below the confidence threshold, so that they are in the queue."""

    async def make(reviewers: int, items: int) -> list[str]:
        names = [f"browser{n}" for n in range(1, reviewers + 1)]
        for name in names:
            await create_person(database, password_hash, "reviewer", name)
        for number in range(1, items + 1):
            await create_contract(database, number=number, premium_confidence=40)
        return names

    return make


@pytest.fixture
def serve(workstation_url: URL, serve_home: Path) -> Iterator[Callable[..., Served]]:
    """`serve("--max-sessions", "1")`: a running `refund-review serve` on the test's database."""
    started: list[Served] = []

    def start(*options: str) -> Served:
        server = start_serve(workstation_url.render_as_string(hide_password=False), serve_home, *options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
