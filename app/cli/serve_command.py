"""`refund-review serve`: the workstation in a browser, for a team, from one host.

Each browser tab gets a workstation process of its own on this host (`python -m app.cli`, the command
that opens the terminal workstation), started on the login screen and connected with this host's
database settings: those stay in the processes' environment here and never reach a browser. The login
screen is the trust boundary, as in a terminal.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

import click

from app.cli.runner import CliState, fail, run
from services.runtime import Runtime

# The owner's URL is for migrations and maintenance, never for a workstation (services/settings.py).
NOT_FOR_WORKSTATIONS = ("REFUND_REVIEW_OWNER_DATABASE_URL",)


async def _database_location(runtime: Runtime) -> str:
    """Reach the database once before serving. A host that cannot should say so now, once, rather than
    in every tab; and the embedded server (no DATABASE_URL), started here, then stays up while `serve`
    runs, instead of starting with each first tab and stopping with each last."""
    return runtime.db.location


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback one (a name that does not resolve is not)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in found)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--public-url",
    metavar="URL",
    help="The address browsers use, when it is not http://HOST:PORT (behind a TLS reverse proxy: "
    "https://review.example.com).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Listen on an address other computers can reach. Without TLS in front, passwords cross the "
    "network in clear: prefer 127.0.0.1 behind a reverse proxy.",
)
@click.option(
    "--max-sessions",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Workstation processes running at once; the next tab is told the host is full.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDR",
    help="A reverse proxy (address or network) whose X-Forwarded-For names the browser. Repeatable.",
)
@click.pass_obj
def serve(
    state: CliState,
    host: str,
    port: int,
    public_url: str | None,
    allow_remote: bool,
    max_sessions: int,
    trusted_proxies: tuple[str, ...],
) -> None:
    """Serve the workstation to browsers: one workstation process per tab, on this host."""
    from app.web.client_address import parse_trusted_proxies

    if not allow_remote and not is_loopback(host):
        fail(
            f"Refusing to listen on {host}: other computers could reach the login page there, over plain "
            "HTTP with passwords in clear. Listen on 127.0.0.1 behind a TLS reverse proxy (README, "
            '"Serving a team"), or pass --allow-remote if that is what you mean.',
            2,
        )
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        fail(f"--public-url {public_url!r} must start with http:// or https://.", 2)
    try:
        proxies = parse_trusted_proxies(trusted_proxies)
    except ValueError as exc:
        fail(str(exc), 2)
    settings = state.settings()
    location = run(state, _database_location)
    from app.web.server import WorkstationServer

    environment: dict[str, str | None] = dict.fromkeys(NOT_FOR_WORKSTATIONS)
    if state.database_url:
        # Given as an option here, it reaches the processes in their environment, not in their
        # command line (which every user of the host can read).
        environment["DATABASE_URL"] = state.database_url
    server = WorkstationServer(
        [sys.executable, "-m", "app.cli"],
        host=host,
        port=port,
        public_url=public_url.rstrip("/") if public_url else None,
        max_sessions=max_sessions,
        trusted_proxies=proxies,
        environment=environment,
        home=settings.home,
        database=location,
    )
    try:
        server.serve()
    except OSError as exc:
        fail(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.", 1)
