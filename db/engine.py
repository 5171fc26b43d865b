"""Async engines and sessions (SQLAlchemy 2 + asyncpg).

Two engines per database, each with its own login: the *owner* engine runs
migrations and maintenance as the schema's owner; the *app* engine runs the
services as a workstation login, a member of the application role only, so
they have exactly the grants that role has and no `SET ROLE` reaches further
(see db/logins.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from db.url import driver_url, pooler

APPLICATION_NAME = "refund-review"
APP_STATEMENT_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class PoolSize:
    """How many connections an engine keeps open (`size`) and may open beyond them for a burst."""

    size: int
    overflow: int


# A command or a benchmark runs many service calls at once; the owner's engine runs one maintenance job.
SERVICE_POOL = PoolSize(size=5, overflow=10)
OWNER_POOL = PoolSize(size=2, overflow=4)
# One person at a terminal: a screen's load and the session check at most run side by side, so two
# connections stay open and two more serve a burst (then close). Fifty reviewers on one host then hold at
# most 100 idle server connections and 200 at a burst, where the services' 5 + 10 would allow 250 and
# 750 (measured: README, "What a workstation costs").
WORKSTATION_POOL = PoolSize(size=2, overflow=2)


def service_settings(statement_timeout_ms: int) -> dict[str, str]:
    """The server settings the services' connections run with.

    jit is off because its compile time turns millisecond queries into 50-100 ms ones. A runaway
    query or a forgotten open transaction must not hold a reviewer's screen (or the audit chain's
    lock) hostage. A direct connection sends them at start; a workstation login also carries them
    as its role's defaults (db/logins.py), which is how they reach a connection through a
    transaction pooler, where no startup setting but a few passes.
    """
    return {
        "jit": "off",
        "statement_timeout": str(statement_timeout_ms),
        "lock_timeout": str(statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(6 * statement_timeout_ms),
    }


def create_engine(
    url: URL,
    *,
    pool: PoolSize = SERVICE_POOL,
    statement_cache_size: int = 256,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    """An engine whose connections run as the URL's user, in UTC.

    No pre-ping: it costs a round trip per checkout on the hot path. A
    connection found dead raises once, the pool is invalidated, and the next
    call reconnects (the services turn that one failure into `Unavailable`).

    Through a transaction pooler (`?pooler=pgbouncer-transaction`, see
    db/url.py) consecutive transactions may run on different server
    connections: no statement is cached or named, and only the startup
    parameters PgBouncer passes on (application_name, TimeZone) are sent;
    the timeouts and jit are then the login role's own defaults (`db
    create-login` sets them).
    """
    server_settings = {"application_name": APPLICATION_NAME, "timezone": "UTC"}
    connect_args: dict[str, Any] = {"server_settings": server_settings, "timeout": 10}
    if pooler(url):
        # With both caches off, asyncpg (>= 0.29) prepares every statement unnamed and parses it again
        # with its Bind, so nothing refers to a statement another server connection may lack, and
        # nothing is left behind on the server connections. (SQLAlchemy's recipe of unique names via
        # prepared_statement_name_func predates that: named statements stay until the connection closes.)
        connect_args |= {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    else:
        connect_args["prepared_statement_cache_size"] = statement_cache_size
        if statement_timeout_ms:
            server_settings |= service_settings(statement_timeout_ms)
        else:
            server_settings["jit"] = "off"
    return create_async_engine(
        driver_url(url),
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_recycle=3600,
        connect_args=connect_args,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (services return them as models)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
