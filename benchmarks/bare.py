"""The floor under a service call: the same SQL statements sent over a bare asyncpg connection.

While a service call runs, a SQLAlchemy event listener on the application engine records exactly what
goes to the server — each statement with its bound values, and where transactions begin, commit and
roll back. Replaying that on a plain asyncpg connection (prepared statements, the same login and
settings, no ORM, no pydantic) costs what the database and the driver cost; the difference is what the
service layer adds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL

from db.database import APP_STATEMENT_TIMEOUT_MS
from db.engine import APPLICATION_NAME
from db.url import asyncpg_connect_args


@dataclass(frozen=True)
class Step:
    """One thing the service sent: a statement (with its values) or a transaction boundary."""

    kind: str  # "execute", "executemany", "begin", "commit" or "rollback"
    sql: str = ""
    parameters: Any = ()


@dataclass
class Capture:
    steps: list[Step] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return sum(1 for s in self.steps if s.kind.startswith("execute"))


@contextmanager
def capturing(engine: Any) -> Iterator[Capture]:
    """Record what `engine` (a sync Engine: AsyncEngine.sync_engine) sends while the block runs."""
    capture = Capture()

    def before_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        kind = "executemany" if many else "execute"
        capture.steps.append(Step(kind, statement, parameters))

    def begin(conn: Any) -> None:
        capture.steps.append(Step("begin"))

    def commit(conn: Any) -> None:
        capture.steps.append(Step("commit"))

    def rollback(conn: Any) -> None:
        capture.steps.append(Step("rollback"))

    listeners = (("before_cursor_execute", before_execute), ("begin", begin), ("commit", commit),
                 ("rollback", rollback))  # fmt: skip
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield capture
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


class BareConnection:
    """A plain asyncpg connection set up as the application engine's are, replaying captures."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._prepared: dict[str, asyncpg.prepared_stmt.PreparedStatement] = {}

    @classmethod
    async def open(cls, url: URL) -> BareConnection:
        settings = {"application_name": f"{APPLICATION_NAME}-bare", "timezone": "UTC", "jit": "off",
                    "statement_timeout": str(APP_STATEMENT_TIMEOUT_MS)}  # fmt: skip
        return cls(await asyncpg.connect(**asyncpg_connect_args(url), server_settings=settings))

    async def close(self) -> None:
        await self._conn.close()

    async def replay(self, steps: Sequence[Step]) -> None:
        transaction = None
        for step in steps:
            if step.kind == "begin":
                transaction = self._conn.transaction()
                await transaction.start()
            elif step.kind in ("commit", "rollback"):
                if transaction is not None:
                    await (transaction.commit() if step.kind == "commit" else transaction.rollback())
                transaction = None
            else:
                prepared = self._prepared.get(step.sql)
                if prepared is None:
                    prepared = self._prepared[step.sql] = await self._conn.prepare(step.sql)
                if step.kind == "executemany":
                    await prepared.executemany(step.parameters)
                else:
                    await prepared.fetch(*step.parameters)
        if transaction is not None:
            await transaction.rollback()
