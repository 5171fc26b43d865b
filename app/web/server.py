"""textual-serve's server, made to serve the workstation to a team.

What it adds to textual-serve (1.1.3, pinned; these hooks are its methods, checked against its source):

- each tab's process learns the browser's address and User-Agent through its environment
  (`services.runtime.CLIENT_IP_VARIABLE`, `CLIENT_AGENT_VARIABLE`), so they reach the session and the
  audit events; the address is the peer's, or X-Forwarded-For's from a trusted proxy (client_address.py);
- a limit on the processes running at once: past it, the next tab gets a page that says so (HTTP 503)
  instead of a process that would exhaust the host;
- a websocket opened by another site's page (its Origin is not this server's) is refused, so a page
  elsewhere cannot use a visitor's browser to reach the workstation;
- a process that does not quit when its tab closes is stopped (SIGTERM, then SIGKILL), and the
  workstation's web driver quits when its input ends (driver.py), so no process outlives its tab;
- the page loads nothing from outside the host (templates/app_index.html).

The database settings stay in the processes' environment on the host: nothing of them is sent to a
browser, which receives only the terminal's output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from app.web.client_address import Network, client_address
from services.runtime import CLIENT_AGENT_VARIABLE, CLIENT_IP_VARIABLE
from widgets.plain import shown

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
DRIVER = "app.web.driver:WorkstationWebDriver"
# How long a tab's process may take to quit (ending its session in the database) before it is stopped.
QUIT_SECONDS = 15.0
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# What a busy host asks the browser to wait before trying again.
RETRY_AFTER_SECONDS = 60


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a browser's Origin header gives it (no default port)."""
    parts = urlsplit(url.lower())
    host = parts.netloc.rpartition("@")[2]
    default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
    return f"{parts.scheme}://{host.removesuffix(default) if default else host}"


def own_origins(public_url: str) -> frozenset[str]:
    """The Origins of this server's own page: its public URL's, and on a loopback address, the same
    port under each loopback name (a person may open http://localhost:8000 for http://127.0.0.1:8000)."""
    origin = _origin(public_url)
    parts = urlsplit(origin)
    if parts.hostname not in LOOPBACK_NAMES:
        return frozenset({origin})
    port = f":{parts.port}" if parts.port else ""
    return frozenset(
        {origin} | {f"{parts.scheme}://{name}{port}" for name in ("localhost", "127.0.0.1", "[::1]")}
    )


def busy_sentence(limit: int) -> str:
    """What the tab past the limit reads."""
    if limit == 1:
        return (
            "The only workstation on this host is in use; "
            "try again in a few minutes or ask your administrator."
        )
    return (
        f"All {limit} workstations on this host are in use; "
        "try again in a few minutes or ask your administrator."
    )


class WorkstationProcess(AppService):
    """One tab's workstation process, with the host's settings and the connection's facts in its
    environment (`environment`: a value of None takes the variable out of what this process has)."""

    def __init__(self, command: str, *, environment: Mapping[str, str | None], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._environment = dict(environment)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment["TEXTUAL_DRIVER"] = DRIVER
        for name, value in self._environment.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return environment

    async def stop(self) -> None:
        """Ask the workstation to quit (it ends its session); stop it if it does not within QUIT_SECONDS."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(super().stop(), QUIT_SECONDS)
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), QUIT_SECONDS)
        except TimeoutError:
            log.warning("workstation process %s did not quit; sending SIGTERM", process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), QUIT_SECONDS)
            except TimeoutError:
                log.warning("workstation process %s did not stop; killing it", process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


class WorkstationServer(Server):
    """Serves the workstation: one process per websocket (browser tab), at most `max_sessions` at once."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        host: str,
        port: int,
        public_url: str | None,
        max_sessions: int,
        trusted_proxies: Sequence[Network],
        environment: Mapping[str, str | None],
        home: Path | None = None,
        database: str = "the configured database",
    ) -> None:
        # `exec`: the shell textual-serve starts the command with becomes the workstation, so each tab
        # is one process (what --max-sessions counts and a signal reaches).
        super().__init__(
            "exec " + shlex.join(command),
            host=host,
            port=port,
            title="Refund Review",
            public_url=public_url,
            templates_path=TEMPLATES,
        )
        self.max_sessions = max_sessions
        self.trusted_proxies = tuple(trusted_proxies)
        # What every process's environment gets on top of this one's (None: taken out).
        self.environment = dict(environment)
        self.running: set[WorkstationProcess] = set()
        self._own_origins = own_origins(self.public_url)
        self._home = home
        self._database = database

    def initialize_logging(self) -> None:
        """textual-serve's console log, and warnings in the data home's error log like every command's."""
        super().initialize_logging()
        if self._home is not None:
            from app.cli.runner import error_log

            error_log(self._home)

    @property
    def full(self) -> bool:
        return len(self.running) >= self.max_sessions

    def _busy(self, request: web.Request) -> web.Response:
        log.warning("refused a tab: %d of %d workstations in use", len(self.running), self.max_sessions)
        response = aiohttp_jinja2.render_template(
            "busy.html", request, {"sentence": busy_sentence(self.max_sessions)}, status=503
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(
            f"Refund Review: serving the workstation on {self.public_url} "
            f"(at most {self.max_sessions} at once), on {self._database}. Ctrl+C stops.",
            highlight=False,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        """Every open tab's workstation quits (ending its session) before the server goes."""
        await asyncio.gather(*(each.stop() for each in list(self.running)))

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.full:
            return self._busy(request)
        response: web.StreamResponse = await super().handle_index(request)
        # Not kept in the browser's back-forward cache: a page left for another would keep its socket,
        # and with it a workstation process and a logged-in session, alive behind the browser's back.
        response.headers["Cache-Control"] = "no-store"
        return response

    def connection(self, request: web.Request) -> dict[str, str]:
        """What the tab's process is told about the browser: its address and User-Agent.

        Both are always set (an absent User-Agent as empty), so that nothing this server's own
        environment holds under those names reaches a process as if it came from the browser.
        """
        address = client_address(
            request.remote, request.headers.getall("X-Forwarded-For", []), self.trusted_proxies
        )
        return {
            CLIENT_IP_VARIABLE: address or "",
            CLIENT_AGENT_VARIABLE: request.headers.get("User-Agent", ""),
        }

    def _from_another_site(self, request: web.Request) -> bool:
        """A page of another site opening this host's websocket in a visitor's browser (a browser always
        sends Origin for a websocket; a program that sends none is no browser and holds no one's place)."""
        origin = request.headers.get("Origin")
        return origin is not None and origin.rstrip("/").lower() not in self._own_origins

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's handler, with the limit and the connection's facts (the rest as it does it)."""
        if self._from_another_site(request):
            # The header is the other site's text, and the log is printed on the host's terminal.
            log.warning(
                "refused a websocket from another site's page: %s", shown(request.headers.get("Origin"))
            )
            raise web.HTTPForbidden(text="This workstation opens only from its own page.")
        if self.full:
            return self._busy(request)
        websocket = web.WebSocketResponse(heartbeat=15)
        connection = self.connection(request)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        process = WorkstationProcess(
            self.command,
            environment={**self.environment, **connection},
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.running.add(process)
        try:
            await websocket.prepare(request)
            await process.start(width, height)
            log.info(
                "tab from %s: workstation process %s (%d of %d)",
                connection[CLIENT_IP_VARIABLE] or "an unknown address",
                process.pid,
                len(self.running),
                self.max_sessions,
            )
            await self._process_messages(websocket, process)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("a tab's connection failed")
        finally:
            await process.stop()
            self.running.discard(process)
        return websocket
