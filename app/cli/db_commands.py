"""`refund-review db upgrade|downgrade|status|create-login`."""

from __future__ import annotations

import sys

import click

from app.cli.runner import CliState, echo, run
from services.runtime import Runtime
from services.schema_admin import (
    CreatedLogin,
    SchemaStatus,
    create_login,
    downgrade_schema,
    schema_status,
    upgrade_schema,
)


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
        _echo_connection(s)
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


def _echo_connection(s: SchemaStatus) -> None:
    """Who the workstation connects as; a warning when that login could rewrite the audit log."""
    role = s.connected_as
    echo(f"Connected:  as {role.user} ({role.kind})")
    if role.holds_more_than_a_workstation:
        echo(
            f"Warning: the workstation's connection is the database {role.kind} {role.user}: it could change "
            "or delete audit events and grants. Create a workstation login with "
            "`refund-review db create-login NAME` and give the workstation that URL instead.",
            err=True,
        )


@db.command("create-login")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin; without it a password is generated.",
)
@click.pass_obj
def create_login_command(state: CliState, name: str, password_stdin: bool) -> None:
    """Create (or reset) workstation login NAME: a member of the application role only.

    Run it with the owner's credentials (--owner-url). It prints the URL to
    give the workstation as DATABASE_URL; that URL holds the password, which
    is shown this once.
    """
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None

    async def body(runtime: Runtime) -> CreatedLogin:
        return await create_login(runtime.db, name, password)

    made = run(state, body)
    echo(
        f"{'Created' if made.created else 'Updated'} workstation login {made.name} (member of refund_review_app only)."
    )
    if made.generated_password:
        echo("Its password was generated and is shown only in this URL, this once; store it now.")
    echo(f"Give the workstation this database URL (DATABASE_URL): {made.url}")
