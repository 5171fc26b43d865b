"""The unit of work: one transaction per service call, with its audit events.

A service records the events of what it does on the unit of work; they are
inserted at commit, in the same transaction as the change, so a change
without its event (or the reverse) cannot exist. They go in last, just
before COMMIT, because inserting an event locks the end of the hash chain
until the transaction ends: the shorter that window, the more reviewers can
write at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditEvent


@dataclass(frozen=True)
class AuditRecord:
    """An audit event to be written with the transaction that caused it."""

    event_type: str
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    contract_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)


_AUDIT_INSERT = AuditEvent.__table__.insert()


class UnitOfWork:
    """`async with db.unit_of_work() as uow: ...; await uow.commit()`.

    Leaving the block without commit() rolls everything back, events included.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._events: list[AuditRecord] = []
        self._committed = False
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._events = []
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    def record(self, event: AuditRecord) -> None:
        """Queue an audit event for this transaction."""
        self._events.append(event)

    async def commit(self) -> None:
        """Write the queued audit events, then commit the whole transaction."""
        if self._events:
            rows = [
                {
                    "event_type": e.event_type,
                    "user_id": e.user_id,
                    "session_id": e.session_id,
                    "contract_id": e.contract_id,
                    "ip_address": e.ip_address,
                    "user_agent": e.user_agent,
                    "event_data": e.event_data,
                }
                for e in self._events
            ]
            # The table's Core insert, and a plain execute for the usual single event: the ORM's
            # bulk-insert path costs about a millisecond of Python on every audited write.
            await self.session.execute(_AUDIT_INSERT, rows if len(rows) > 1 else rows[0])
            self._events = []
        await self.session.commit()
        self._committed = True
