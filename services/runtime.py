"""Opening the services for a process: settings in, a ready database out.

The workstation, the command line and the tests all start here, so every
one of them runs the same wiring.
"""

from __future__ import annotations

import getpass
import os
import platform
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from db.database import Database, DatabaseUnavailableError, connect
from db.embedded import EmbeddedServerError
from db.engine import SERVICE_POOL, WORKSTATION_POOL
from db.url import DatabaseURLError
from services.context import ServiceContext, system_actor
from services.errors import InvalidInput, Unavailable
from services.settings import Settings


def program_version() -> str:
    try:
        return version("refund-review")
    except PackageNotFoundError:
        return "0+unknown"


def user_agent(component: str = "cli") -> str:
    """Program version, terminal and host: what an auditor needs to place a session."""
    term = os.environ.get("TERM_PROGRAM") or os.environ.get("TERM") or "unknown-terminal"
    host = socket.gethostname()
    return f"refund-review/{program_version()} ({component}; {term}; {host}; {platform.system()})"


def client_ip() -> str | None:
    """The remote address when running over ssh; None on a local terminal."""
    ssh = os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION")
    return ssh.split()[0] if ssh else None


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database

    async def close(self) -> None:
        await self.db.dispose()

    def system_context(self, component: str = "cli") -> ServiceContext:
        """The context of a command-line operator (who holds the database credentials)."""
        actor = system_actor(f"{user_agent(component)} os-user={getpass.getuser()}")
        return ServiceContext(db=self.db, actor=actor.model_copy(update={"ip_address": client_ip()}))


async def start_runtime(settings: Settings, *, workstation: bool = False) -> Runtime:
    """Open the configured database (embedded when no URL is set); `close()` the runtime when done.

    A `workstation` (one person's terminal) keeps a small pool: a host serves many of them at once.
    """
    pool = WORKSTATION_POOL if workstation else SERVICE_POOL
    try:
        db = await connect(
            settings.database_url, settings.home, owner_url=settings.owner_database_url, pool=pool
        )
    except DatabaseURLError as exc:
        raise InvalidInput(str(exc)) from exc
    except (DatabaseUnavailableError, EmbeddedServerError) as exc:
        raise Unavailable(str(exc)) from exc
    return Runtime(settings=settings, db=db)


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """`start_runtime` for the life of a block."""
    runtime = await start_runtime(settings)
    try:
        yield runtime
    finally:
        await runtime.close()
