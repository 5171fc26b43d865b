"""Who is acting: the actor of a service call, and the context every call receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from db.database import Database
from db.uow import AuditRecord

Role = Literal["reviewer", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("reviewer", "supervisor", "admin")
SYSTEM_ROLE = "system"


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
