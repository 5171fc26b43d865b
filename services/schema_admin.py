"""Schema upgrade and status, and workstation logins, for `refund-review db ...` and the demo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.database import Database
from db.logins import ConnectionRole, LoginError, connection_role, ensure_login, generate_password, login_url
from services.errors import Forbidden, InvalidInput


class SchemaStatus(BaseModel):
    location: str
    server_version: str
    current_revision: str | None
    head_revision: str
    audit_partitions: list[str]
    users: int | None
    contracts: int | None
    pending_extractions: int | None
    audit_events: int | None
    # Who the workstation's connection is (DATABASE_URL, or the embedded workstation login).
    connected_as: ConnectionRole

    @property
    def up_to_date(self) -> bool:
        return self.current_revision == self.head_revision


async def upgrade_schema(db: Database) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after)."""
    before = await migrate.current_revision(db.owner)
    await migrate.upgrade(db.owner, "head")
    return before, migrate.head_revision()


async def downgrade_schema(db: Database, revision: str) -> str | None:
    """Step the schema back to `revision` ("base" removes everything)."""
    await migrate.downgrade(db.owner, revision)
    return await migrate.current_revision(db.owner)


async def schema_status(db: Database) -> SchemaStatus:
    current = await migrate.current_revision(db.owner)
    async with db.owner.connect() as conn:
        server_version = (await conn.execute(text("SHOW server_version"))).scalar_one()
        partitions: list[str] = []
        users = contracts = pending = events = None
        if current is not None:
            partitions = list(
                (
                    await conn.execute(
                        text(
                            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                            "WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname"
                        )
                    )
                ).scalars()
            )
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM contracts), "
                        "(SELECT count(*) FROM extractions WHERE status = 'pending'), "
                        "(SELECT last_seq - anchor_seq FROM audit_chain_head)"
                    )
                )
            ).one()
            users, contracts, pending, events = row
    async with _driver(db.app) as conn:
        connected_as = await connection_role(conn)
    return SchemaStatus(
        connected_as=connected_as,
        location=db.location,
        server_version=str(server_version),
        current_revision=current,
        head_revision=migrate.head_revision(),
        audit_partitions=partitions,
        users=users,
        contracts=contracts,
        pending_extractions=pending,
        audit_events=events,
    )


class CreatedLogin(BaseModel):
    """A workstation login made or reset by `create_login`, and the URL to give the workstation."""

    name: str
    created: bool
    url: str
    generated_password: bool


@asynccontextmanager
async def _driver(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """The asyncpg connection under a pooled one, for role administration."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        yield raw.driver_connection  # type: ignore[misc]


async def create_login(db: Database, name: str, password: str | None) -> CreatedLogin:
    """Create or reset workstation login `name` (a member of the application role only), as the owner.

    Without a password one is generated. The URL returned holds the password:
    it is what the workstation's DATABASE_URL should be, shown once.
    """
    if password is not None and not password.strip():
        raise InvalidInput(
            "The password is empty; give one on standard input, or none to have one generated."
        )
    chosen = password if password is not None else generate_password()
    try:
        async with _driver(db.owner) as conn:
            created = await ensure_login(conn, name, chosen)
    except LoginError as exc:
        raise InvalidInput(str(exc)) from exc
    except asyncpg.InsufficientPrivilegeError as exc:
        raise Forbidden(
            f"Creating a login needs the database owner's credentials ({exc}). "
            "Give the owner's URL with --owner-url or REFUND_REVIEW_OWNER_DATABASE_URL."
        ) from exc
    url = login_url(db.url, name, chosen)
    return CreatedLogin(
        name=name,
        created=created,
        url=url.render_as_string(hide_password=False).replace("postgresql+asyncpg://", "postgresql://", 1),
        generated_password=password is None,
    )
