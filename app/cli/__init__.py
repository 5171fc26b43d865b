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

from app.cli.runner import CliState, run_workstation
from services.runtime import program_version


class CommandLine(click.Group):
    """The subcommands, each loaded by name when it is asked for.

    Opening the workstation (no subcommand) is what people do all day, in a terminal, over SSH and in
    every browser tab `serve` starts: it should not pay for importing every operator command (seeding,
    archiving, S3, the extraction providers) before the login screen is drawn. `bench` belongs to
    benchmarks/, which the product must not import: loaded the same way, the dependency stays one way.
    """

    COMMANDS: dict[str, tuple[str, str]] = {
        "audit": ("app.cli.audit_commands", "audit"),
        "bench": ("benchmarks.command", "bench"),
        "db": ("app.cli.db_commands", "db"),
        "demo": ("app.cli.demo_command", "demo"),
        "extract": ("app.cli.extract_commands", "extract"),
        "extract-file": ("app.cli.extract_commands", "extract_file"),
        "ingest": ("app.cli.ingest_command", "ingest"),
        "maintain": ("app.cli.maintain_command", "maintain"),
        "refund-quote": ("app.cli.refund_commands", "refund_quote"),
        "refunds": ("app.cli.refund_commands", "refunds"),
        "report": ("app.cli.report_commands", "report"),
        "rules": ("app.cli.rules_commands", "rules"),
        "seed": ("app.cli.seed_command", "seed"),
        "serve": ("app.cli.serve_command", "serve"),
        "ssh-recipe": ("app.cli.ssh_recipe_command", "ssh_recipe_command"),
        "user": ("app.cli.user_commands", "user"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.COMMANDS:
            return None
        module, name = self.COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


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
