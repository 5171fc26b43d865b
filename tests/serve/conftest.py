"""Helpers for tests that drive real serving components (OpenSSH's sshd, PgBouncer) from the distribution.

Those programs reach PostgreSQL over TCP as other system users than the test's own, while the
embedded test server listens only on a Unix socket inside its data directory, which only the
server's own system user may enter. A relay on 127.0.0.1, run by the test process, carries their
connections to that socket (or to the TEST_DATABASE_URL server's address), like a host's network.
"""

from __future__ import annotations

import os
import selectors
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy.engine import URL


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
