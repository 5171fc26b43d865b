"""Serving the workstation to a browser, shared by tests/serve and benchmarks/serve_browser.py.

A real `refund-review serve` on a free 127.0.0.1 port, and Debian's headless Chromium driven through
Debian's chromedriver by Selenium, both given by path so that Selenium Manager never looks for (or
downloads) a browser. xterm.js draws the terminal on a canvas, so the page has no text to read: a script
added before the page's own wraps WebSocket and keeps what the workstation sent (its terminal output,
escape sequences and all) with the time each message was painted, for the tests to search and the
benchmark to time.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

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

# Kept by the page: the decoded terminal output, [painted at (ms), output length then] per message (two
# animation frames after it arrived: xterm.js has drawn it by then), when the websocket opened and when
# each key went down.
STREAM_HOOK = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  const seen = { text: "", painted: [], keys: [], opened: null, closed: false };
  window.__refundReview = seen;
  document.addEventListener("keydown", () => { seen.keys.push(performance.now()); }, true);
  function Hooked(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("open", () => { seen.opened = performance.now(); });
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
    options: list[str] = field(default_factory=list)

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


def start_serve(home: Path, *options: str, database_url: str | None = None) -> Served:
    """`refund-review serve` on a free port, with DATABASE_URL set as a host would (without one, the
    embedded server in `home`); ready when it answers."""
    port = free_port()
    log = home / f"serve-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env |= {"REFUND_REVIEW_HOME": str(home), "COLUMNS": "200"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *options],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", process, log, list(options))

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


class Tab:
    """One browser tab on the served workstation, read through the terminal output it received."""

    def __init__(self, driver: WebDriver, handle: str) -> None:
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

    def painted(self) -> list[tuple[float, int]]:
        """(painted at, output length then) per message received, in ms since the page was opened."""
        self.focus()
        return [
            (float(at), int(length))
            for at, length in self.driver.execute_script("return window.__refundReview.painted")
        ]

    def socket_opened(self) -> float:
        """When the page's websocket opened (the server then starts the tab's process), in ms."""
        self.focus()
        return float(self.driver.execute_script("return window.__refundReview.opened"))

    def key_times(self) -> list[float]:
        """When each key went down, in ms since the page was opened."""
        self.focus()
        return [float(at) for at in self.driver.execute_script("return window.__refundReview.keys")]

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


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    """Debian's headless Chromium through its chromedriver, with a fresh profile; Selenium Manager is
    never asked for anything (both paths given, SE_OFFLINE set)."""
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


def open_tab(driver: WebDriver, url: str, *, new: bool) -> Tab:
    """Open `url` in the first tab or a new one, with the output hook in place before the page's scripts."""
    if new:
        driver.switch_to.new_window("tab")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": STREAM_HOOK})
    driver.get(url)
    return Tab(driver, driver.current_window_handle)
