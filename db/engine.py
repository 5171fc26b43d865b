"""Async engines and sessions (SQLAlchemy 2 + asyncpg).

Two engines per database, each with its own login: the *owner* engine runs
migrations and maintenance as the schema's owner; the *app* engine runs the
services as a workstation login, a member of the application role only, so
they have exactly the grants that role has and no `SET ROLE` reaches further
(see db/logins.py).
"""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

APPLICATION_NAME = "refund-review"


def create_engine(
    url: URL,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    statement_cache_size: int = 256,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    """An engine whose connections run as the URL's user, in UTC.

    No pre-ping: it costs a round trip per checkout on the hot path. A
    connection found dead raises once, the pool is invalidated, and the next
    call reconnects (the services turn that one failure into `Unavailable`).
    """
    server_settings = {"application_name": APPLICATION_NAME, "timezone": "UTC", "jit": "off"}
    if statement_timeout_ms:
        # A runaway query or a forgotten open transaction must not hold a
        # reviewer's screen (or the audit chain's lock) hostage.
        server_settings["statement_timeout"] = str(statement_timeout_ms)
        server_settings["lock_timeout"] = str(statement_timeout_ms)
        server_settings["idle_in_transaction_session_timeout"] = str(6 * statement_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=3600,
        connect_args={
            "server_settings": server_settings,
            "prepared_statement_cache_size": statement_cache_size,
            "timeout": 10,
        },
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (services return them as models)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
