"""The `refund-review` command line.

With no command it opens the workstation; the subcommands cover what an
operator scripts. `--database-url` (or DATABASE_URL) selects the database
and is the workstation login's URL; `--owner-url` (or
REFUND_REVIEW_OWNER_DATABASE_URL) is the owner's, for migrations and
maintenance. Without them the embedded PostgreSQL server is used.
"""

from __future__ import annotations

import importlib

import click

from app.cli.audit_commands import audit
from app.cli.db_commands import db
from app.cli.demo_command import demo
from app.cli.extract_commands import extract, extract_file
from app.cli.ingest_command import ingest
from app.cli.maintain_command import maintain
from app.cli.refund_commands import refund_quote, refunds
from app.cli.report_commands import report
from app.cli.rules_commands import rules
from app.cli.runner import CliState, run_workstation
from app.cli.seed_command import seed
from app.cli.serve_command import serve
from app.cli.ssh_recipe_command import ssh_recipe_command
from app.cli.user_commands import user
from services.runtime import program_version


class CommandLine(click.Group):
    """The subcommands, with those that live outside the product loaded by name when they are asked for.

    `bench` belongs to benchmarks/, which the product must not import: loading it here on demand keeps the
    dependency one way (benchmarks may use app, never the reverse) and the workstation's start-up free of it.
    """

    OUTSIDE_THE_PRODUCT: dict[str, tuple[str, str]] = {"bench": ("benchmarks.command", "bench")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.OUTSIDE_THE_PRODUCT])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.OUTSIDE_THE_PRODUCT:
            module, name = self.OUTSIDE_THE_PRODUCT[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=CommandLine,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--database-url",
    metavar="URL",
    help="PostgreSQL URL (postgresql://user:pass@host:port/db, ?host=/socket/dir accepted). "
    "Default: $DATABASE_URL, else the embedded server.",
)
@click.option(
    "--owner-url",
    metavar="URL",
    help="PostgreSQL URL of the schema's owner, for `db upgrade`, `maintain` and `db create-login`. "
    "Default: $REFUND_REVIEW_OWNER_DATABASE_URL, else the database URL.",
)
@click.option(
    "--database-url-file",
    metavar="PATH",
    help="Read the database URL from the first line of this file (mode 600, the service user's): "
    "how a host serving a team over SSH keeps the URL from the reviewers. "
    "Default: $REFUND_REVIEW_DATABASE_URL_FILE.",
)
@click.version_option(program_version(), prog_name="refund-review")
@click.pass_context
def main(
    ctx: click.Context, database_url: str | None, owner_url: str | None, database_url_file: str | None
) -> None:
    """Refund Review: review AI extractions from GAP contracts, keyboard first."""
    ctx.obj = CliState(database_url=database_url, owner_url=owner_url, database_url_file=database_url_file)
    if ctx.invoked_subcommand is None:
        run_workstation(ctx.obj.settings())


main.add_command(db)
main.add_command(demo)
main.add_command(maintain)
main.add_command(audit)
main.add_command(seed)
main.add_command(user)
main.add_command(ingest)
main.add_command(extract)
main.add_command(extract_file)
main.add_command(refund_quote)
main.add_command(refunds)
main.add_command(rules)
main.add_command(report)
main.add_command(serve)
main.add_command(ssh_recipe_command)
