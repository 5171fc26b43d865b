"""What the serving tests share: a real `refund-review serve` against the test's database with a real
Chromium (benchmarks/browser.py) and a tab without a browser for what a browser cannot choose; and, for
the tests that drive distribution programs (OpenSSH's sshd, PgBouncer), a relay to the database.

Those programs reach PostgreSQL over TCP as other system users than the test's own, while the
embedded test server listens only on a Unix socket inside its data directory, which only the
server's own system user may enter. A relay on 127.0.0.1, run by the test process, carries their
connections to that socket (or to the TEST_DATABASE_URL server's address), like a host's network.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import selectors
import shutil
import socket
import socketserver
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from sqlalchemy.engine import URL

from benchmarks.browser import START_SECONDS, Served, chromium, missing_browser, plain, start_serve
from db.database import Database
from tests.services.conftest import PASSWORD, create_contract, create_person, password_hash  # noqa: F401

__all__ = ["PASSWORD"]

T = TypeVar("T")


def http_status(url: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a GET (an error status is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read().decode()


@pytest.fixture
def serve_home() -> Iterator[Path]:
    """The data home of the server and its workstations (their error log, exports)."""
    home = Path(tempfile.mkdtemp(prefix="rr-serve-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium from the distribution, with a fresh profile."""
    reason = missing_browser()
    if reason:
        print(reason)
        pytest.skip(reason)
    with chromium() as driver:
        yield driver


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
        await self.type(username + "\r" + password + "\r")
        await self.wait_for_text("Weakest field")  # the queue's column heading

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
        server = start_serve(
            serve_home, *options, database_url=workstation_url.render_as_string(hide_password=False)
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_address(url: URL) -> tuple[int, str | tuple[str, int]]:
    """Where the URL's server listens: (address family, address)."""
    socket_dir = url.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        return socket.AF_UNIX, str(Path(socket_dir) / f".s.PGSQL.{url.port or 5432}")
    return socket.AF_INET, (url.host or "127.0.0.1", url.port or 5432)


class _Relay(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    target: tuple[int, str | tuple[str, int]]


class _Pump(socketserver.BaseRequestHandler):
    """Carries one client's bytes to the server and back until either side closes."""

    server: _Relay

    def handle(self) -> None:
        family, address = self.server.target
        with socket.socket(family, socket.SOCK_STREAM) as upstream, suppress(OSError):
            upstream.connect(address)
            peers = {self.request: upstream, upstream: self.request}
            with selectors.DefaultSelector() as selector:
                for each in peers:
                    selector.register(each, selectors.EVENT_READ)
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)  # type: ignore[index]


@pytest.fixture
def tcp_database_url(database_url: URL) -> Iterator[URL]:
    """The test's database (as its owner) reached over 127.0.0.1:<port>, for other processes and users."""
    relay = _Relay(("127.0.0.1", 0), _Pump)
    relay.target = _server_address(database_url)
    thread = threading.Thread(target=relay.serve_forever, name="postgres-relay", daemon=True)
    thread.start()
    try:
        yield database_url.set(host="127.0.0.1", port=relay.server_address[1]).difference_update_query(
            ["host"]
        )
    finally:
        relay.shutdown()
        relay.server_close()


def running_as_root() -> bool:
    return os.geteuid() == 0
