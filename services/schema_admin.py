"""Schema upgrade and status, for `refund-review db ...` and the demo."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import text

from db import migrate
from db.database import Database


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
    return SchemaStatus(
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
