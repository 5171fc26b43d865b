"""Database URLs as people write them, turned into what SQLAlchemy + asyncpg take.

People paste libpq URLs (`postgresql://`, `postgres://`, `?host=/socket/dir`,
`sslmode=require`); the engine needs `postgresql+asyncpg://` and asyncpg's
own keyword names. Doing the translation in one place keeps every command
accepting the same forms.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg", "postgres+asyncpg"}
# libpq query parameters that asyncpg spells differently.
_RENAMED_PARAMS = {"sslmode": "ssl", "connect_timeout": "timeout"}
# Our own query parameter: the URL names a connection pooler, not PostgreSQL itself, and how it pools.
# It belongs to the URL because it describes that address (PgBouncer's port, not the server's): the
# owner's URL, which runs migrations directly against the server, does not carry it.
POOLER_PARAM = "pooler"
TRANSACTION_POOLER = "pgbouncer-transaction"
POOLERS = (TRANSACTION_POOLER,)


class DatabaseURLError(ValueError):
    """The URL cannot name a PostgreSQL database; the message says why."""


def to_async_url(raw: str) -> URL:
    """Parse a PostgreSQL URL in any accepted form into an asyncpg URL."""
    text = raw.strip()
    if not text:
        raise DatabaseURLError("The database URL is empty.")
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise DatabaseURLError(
            "The database URL is not valid; expected postgresql://user:password@host:port/database."
        ) from exc
    if url.drivername not in _SCHEMES:
        raise DatabaseURLError(
            f"Only PostgreSQL URLs are supported (postgresql://...), not {url.drivername!r}."
        )
    if not url.database:
        raise DatabaseURLError("The database URL names no database (…/database at the end).")
    query = {_RENAMED_PARAMS.get(key, key): value for key, value in url.query.items()}
    if query.get(POOLER_PARAM, POOLERS[0]) not in POOLERS:
        raise DatabaseURLError(
            f"The database URL's {POOLER_PARAM}= must be one of: {', '.join(POOLERS)} "
            f"(not {query[POOLER_PARAM]!r})."
        )
    return url.set(drivername="postgresql+asyncpg", password=url.password or None, query=query)


def pooler(url: URL) -> str | None:
    """The pooler the URL goes through (`?pooler=pgbouncer-transaction`), or None for PostgreSQL itself."""
    value = url.query.get(POOLER_PARAM)
    return value if isinstance(value, str) else None


def driver_url(url: URL) -> URL:
    """The URL as the driver takes it: without our own `pooler` parameter."""
    return url.difference_update_query([POOLER_PARAM])


def with_database(url: URL, database: str) -> URL:
    """The same server and credentials, another database."""
    return url.set(database=database)


def redacted(url: URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    return url.render_as_string(hide_password=True)


def asyncpg_connect_args(url: URL) -> dict[str, object]:
    """Keyword arguments for `asyncpg.connect` (bulk loading and admin work use the driver directly)."""
    args: dict[str, object] = {"user": url.username, "database": url.database, **driver_url(url).query}
    if pooler(url):
        # A transaction pooler hands each transaction to any server connection: a statement
        # prepared by name on one is missing on the next, so asyncpg must not keep any.
        args["statement_cache_size"] = 0
    for key, value in (("password", url.password), ("host", url.host), ("port", url.port)):
        if value:
            args[key] = value
    return args
