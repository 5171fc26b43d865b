"""The `refund-review` command line.

With no command it opens the workstation; the subcommands cover what an
operator scripts. `--database-url` (or DATABASE_URL) selects the database;
without one the embedded PostgreSQL server is used.
"""

from __future__ import annotations

import click

from app.cli.audit_commands import audit
from app.cli.bench_command import bench
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
from app.cli.user_commands import user
from services.runtime import program_version


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    metavar="URL",
    help="PostgreSQL URL (postgresql://user:pass@host:port/db, ?host=/socket/dir accepted). "
    "Default: $DATABASE_URL, else the embedded server.",
)
@click.version_option(program_version(), prog_name="refund-review")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Refund Review: review AI extractions from GAP contracts, keyboard first."""
    ctx.obj = CliState(database_url=database_url)
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
main.add_command(bench)
main.add_command(refund_quote)
main.add_command(refunds)
main.add_command(rules)
main.add_command(report)
