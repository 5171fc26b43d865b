"""`refund-review demo`: the embedded database, the demo data, and the workstation."""

from __future__ import annotations

import click

from app.cli.runner import CliState, echo, run, run_workstation
from app.cli.seed_command import echo_demo, load_demo
from synthetic.seeding.demo import demo_logins


@click.command()
@click.option(
    "--no-ui", is_flag=True, help="Load the demo and print the logins without opening the workstation."
)
@click.pass_obj
def demo(state: CliState, no_ui: bool) -> None:
    """Open the workstation with demo data (loaded on first use) and show the demo logins.

    Uses the embedded PostgreSQL server unless --database-url / DATABASE_URL names another.
    """
    settings = state.settings()
    echo("Preparing the demo database…")
    echo_demo(run(state, lambda runtime: load_demo(runtime, settings.bcrypt_rounds)))
    if not no_ui:
        run_workstation(settings, demo_logins())
