"""`refund-review db upgrade|downgrade|status`."""

from __future__ import annotations

import click

from app.cli.runner import CliState, echo, run
from services.runtime import Runtime
from services.schema_admin import downgrade_schema, schema_status, upgrade_schema


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database schema."""


@db.command()
@click.pass_obj
def upgrade(state: CliState) -> None:
    """Apply every pending migration (creates the schema on an empty database)."""

    async def body(runtime: Runtime) -> None:
        before, after = await upgrade_schema(runtime.db)
        where = runtime.db.location
        if before == after:
            echo(f"The schema is up to date (revision {after}) at {where}.")
        else:
            echo(f"Upgraded the schema from {before or 'empty'} to {after} at {where}.")

    run(state, body)


@db.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def downgrade(state: CliState, revision: str, yes: bool) -> None:
    """Step the schema back to REVISION ("base" drops every table and its data)."""
    if not yes:
        click.confirm(f"Downgrade to {revision}? Tables dropped on the way lose their data", abort=True)

    async def body(runtime: Runtime) -> None:
        now = await downgrade_schema(runtime.db, revision)
        echo(f"The schema is now at {now or 'base (empty)'}.")

    run(state, body)


@db.command()
@click.pass_obj
def status(state: CliState) -> None:
    """Show where the database is, its schema revision and what it holds."""

    async def body(runtime: Runtime) -> None:
        s = await schema_status(runtime.db)
        echo(f"Database:   {s.location}")
        echo(f"Server:     PostgreSQL {s.server_version}")
        echo(f"Schema:     {s.current_revision or 'empty'} (newest: {s.head_revision})")
        if s.current_revision is None:
            echo("Run `refund-review db upgrade` to create the schema.")
            return
        if not s.up_to_date:
            echo("Run `refund-review db upgrade` to apply the newer migrations.")
        echo(f"Users:      {s.users:,}")
        echo(f"Contracts:  {s.contracts:,} ({s.pending_extractions:,} extractions pending review)")
        echo(f"Audit log:  {s.audit_events:,} events in {len(s.audit_partitions)} partitions")

    run(state, body)
