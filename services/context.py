"""Who is acting: the actor of a service call, and the context every call receives."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from db.database import Database
from db.uow import AuditRecord, UnitOfWork
from services.errors import Conflict, InvalidInput, ServiceError, Unavailable

Role = Literal["reviewer", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("reviewer", "supervisor", "admin")
SYSTEM_ROLE = "system"

_UNREACHABLE = (
    "The database cannot be reached, so nothing was saved. Check the network or the database server "
    "and try again; your screen has kept what you entered."
)
# The constraint name the refund_requests_guard trigger (schema/v0014) raises its refusals under.
REFUND_GUARD = "refund_requests_guard"


class Actor(BaseModel):
    """The person (or the command-line operator) behind a service call."""

    model_config = ConfigDict(frozen=True)

    user_id: uuid.UUID | None
    username: str
    role: Role | Literal["system"]
    session_id: uuid.UUID | None = None
    ip_address: str | None = None
    user_agent: str = ""

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    def event(self, event_type: str, *, contract_id: str | None = None, **data: Any) -> AuditRecord:
        """An audit event done by this actor."""
        return AuditRecord(
            event_type=event_type,
            user_id=self.user_id,
            session_id=self.session_id,
            contract_id=contract_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent or None,
            event_data=data,
        )


def system_actor(user_agent: str) -> Actor:
    """The operator running a command line tool: whoever can reach the database may run maintenance."""
    return Actor(user_id=None, username="system", role=SYSTEM_ROLE, user_agent=user_agent)


@dataclass(frozen=True)
class ServiceContext:
    """What every service call receives: the database and the actor."""

    db: Database
    actor: Actor

    def as_actor(self, actor: Actor) -> ServiceContext:
        return ServiceContext(db=self.db, actor=actor)

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return open_unit_of_work(self.db)


@asynccontextmanager
async def open_unit_of_work(db: Database) -> AsyncIterator[UnitOfWork]:
    """A unit of work whose database failures arrive as service errors with a sentence.

    Everything in the block is rolled back on any failure, so the message
    can honestly say that nothing was saved. Login uses it directly: before
    it succeeds there is no actor, hence no ServiceContext.
    """
    try:
        async with db.unit_of_work() as uow:
            yield uow
    except ServiceError:
        raise
    except DBAPIError as exc:
        raise translate_database_error(exc) from exc
    except (TimeoutError, OSError, asyncpg.InterfaceError) as exc:
        raise Unavailable(_UNREACHABLE) from exc


def translate_database_error(exc: DBAPIError) -> ServiceError | DBAPIError:
    """The service error a database failure means to a person; unknown ones pass through."""
    # SQLAlchemy wraps the driver's exception; asyncpg's own is its cause.
    original = getattr(exc.orig, "__cause__", None) or exc.orig
    if exc.connection_invalidated:
        return Unavailable(_UNREACHABLE)
    if isinstance(original, asyncpg.QueryCanceledError):
        return Unavailable(
            "The database took too long to answer, so nothing was saved. Try again in a moment."
        )
    if isinstance(original, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return Conflict("Someone else was changing the same record at the same moment. Reload and try again.")
    if isinstance(original, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError):
        return InvalidInput("The text contains a character the database cannot store (such as a NUL byte).")
    if isinstance(original, asyncpg.CheckViolationError) and original.constraint_name == REFUND_GUARD:
        # The database's own hold on a refund request's way (schema/v0014); the services check the same
        # rules first, so this is a change made meanwhile (a role taken away, the four-eyes amount lowered).
        return Conflict(
            f"The database refused this change to the refund request: {original.message}. "
            "Nothing was saved; reload and try again."
        )
    if isinstance(original, asyncpg.CannotConnectNowError | asyncpg.ConnectionDoesNotExistError):
        return Unavailable(_UNREACHABLE)
    if isinstance(exc, OperationalError | InterfaceError) and not isinstance(original, asyncpg.PostgresError):
        return Unavailable(_UNREACHABLE)
    return exc
