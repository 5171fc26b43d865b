"""The unit of work: one transaction per service call, with its audit events.

A service records the events of what it does on the unit of work; they are
appended at commit, in the same transaction as the change, so a change
without its event (or the reverse) cannot exist. They go in last, just
before COMMIT, because appending an event locks the end of the hash chain
until the transaction ends: the shorter that window, the more reviewers can
write at once.

The application role cannot INSERT into audit_events: events go through the
database function `append_audit_events` (schema/v0005), which stamps the time
from the server's clock and takes the user, address and user agent from the
session the event names. What the client says about those is not trusted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@dataclass(frozen=True)
class AuditRecord:
    """An audit event to be written with the transaction that caused it.

    `session_id` decides who the event is recorded as done by: the database
    takes the user, ip address and user agent from that session. `user_id`
    says who the caller believes is acting; it is not sent, since only the
    session can vouch for it. Without a session, the event is nobody's and
    `ip_address`/`user_agent` are kept as the caller's own claim.
    """

    event_type: str
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    contract_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)


# One statement for one event or many: a single round trip at commit.
_APPEND_EVENTS = text(
    "SELECT append_audit_events(:session_ids, :event_types, :contract_ids, :event_data, :ip_addresses, :user_agents)"
).bindparams(
    bindparam("session_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("event_types", type_=ARRAY(Text)),
    bindparam("contract_ids", type_=ARRAY(Text)),
    bindparam("event_data", type_=ARRAY(JSONB)),
    bindparam("ip_addresses", type_=ARRAY(INET)),
    bindparam("user_agents", type_=ARRAY(Text)),
)


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
        """Append the queued audit events, then commit the whole transaction."""
        if self._events:
            events = self._events
            await self.session.execute(
                _APPEND_EVENTS,
                {
                    "session_ids": [e.session_id for e in events],
                    "event_types": [e.event_type for e in events],
                    "contract_ids": [e.contract_id for e in events],
                    "event_data": [e.event_data for e in events],
                    "ip_addresses": [e.ip_address for e in events],
                    "user_agents": [e.user_agent for e in events],
                },
            )
            self._events = []
        await self.session.commit()
        self._committed = True
