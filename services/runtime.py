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
from services.input_text import inet_address
from services.settings import Settings


def program_version() -> str:
    try:
        return version("refund-review")
    except PackageNotFoundError:
        return "0+unknown"


# Set by `refund-review serve` for each browser tab's workstation process: the browser's address (from the
# connection, or X-Forwarded-For from a trusted proxy) and its cleaned HTTP User-Agent. They are facts about
# the connection handed over by the launcher, as sshd hands over SSH_CLIENT, not configuration.
#
# A person who sets them by hand gains nothing: whoever can set a workstation's environment already runs it
# with that host's database credentials, and could write any address into the session directly. Over SSH
# the launcher is sshd and the person must not be able to set them: keep `PermitUserEnvironment no` and
# accept no REFUND_REVIEW_* variables (no `AcceptEnv` for them) in sshd_config.
CLIENT_IP_VARIABLE = "REFUND_REVIEW_CLIENT_IP"
CLIENT_AGENT_VARIABLE = "REFUND_REVIEW_CLIENT_AGENT"
# The browser's own User-Agent is kept to this many characters inside the session's user agent.
MAX_CLIENT_AGENT_CHARS = 300


def _ssh_connection() -> str:
    """What sshd says of the connection ("client-address client-port server-port"); empty off ssh."""
    return os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION") or ""


def served_to_others() -> bool:
    """Whether this workstation runs on a host for whoever reaches it: a browser tab's, run by
    `refund-review serve`, or an SSH login's (the recipe of `ssh-recipe`). The login screen then says
    nothing of where the database is, and a connection failure only that there is one (the details go
    to the host's error log). Before logging in, that person is nobody the host knows."""
    return CLIENT_AGENT_VARIABLE in os.environ or bool(_ssh_connection())


def clean_client_agent(text: str) -> str:
    """A browser's User-Agent as it may stand in a session: printable characters only, spaces collapsed,
    bounded. It is data from outside: whatever it holds cannot reach a terminal or a log as a control."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(printable.split())[:MAX_CLIENT_AGENT_CHARS]


def user_agent(component: str = "cli") -> str:
    """Program version, terminal and host: what an auditor needs to place a session.

    In a browser tab served by `refund-review serve`, the terminal is the browser: its User-Agent follows,
    after the words "via refund-review serve".
    """
    host = socket.gethostname()
    browser = os.environ.get(CLIENT_AGENT_VARIABLE)
    if browser is not None:
        shown = clean_client_agent(browser) or "a browser that sent no User-Agent"
        return f"refund-review/{program_version()} ({component}; via refund-review serve; {host}; {platform.system()}) {shown}"
    term = os.environ.get("TERM_PROGRAM") or os.environ.get("TERM") or "unknown-terminal"
    return f"refund-review/{program_version()} ({component}; {term}; {host}; {platform.system()})"


def client_ip() -> str | None:
    """The remote address: the browser's when served by `refund-review serve`, the SSH client's over ssh;
    None on a local terminal. Something that is not an address is not passed on (the column is `inet`)."""
    given = os.environ.get(CLIENT_IP_VARIABLE)
    if given is None:
        given = next(iter(_ssh_connection().split()), None)
    return inet_address(given)


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
