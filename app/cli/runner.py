"""Running a command's async body with the database open, and turning failures into sentences.

Every command goes through `run`, so none of them ever ends in a bare
traceback: service errors print their message and exit with their code;
anything unexpected is logged in full to the error log (ERROR_LOG under the
data home, written through Python logging) and summarised on stderr.

A hang-up (the terminal closed) or a termination request ends a command or the
workstation the way a quit does: the database is closed and the process exits
normally, so the embedded server's own clean-up stops it when no other process
uses it. Killed outright, it could not, and the server would run on.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from services.errors import ServiceError
from services.runtime import Runtime, open_runtime
from services.settings import Settings, load_settings
from widgets.plain import shown

T = TypeVar("T")

ERROR_LOG = Path("logs") / "refund-review-errors.log"
# Signals that mean "stop now" to a terminal program: the terminal closed, or a service manager asked.
STOP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
log = logging.getLogger(__name__)


@dataclass
class CliState:
    """Global options given before the command name."""

    database_url: str | None = None
    owner_url: str | None = None
    database_url_file: str | None = None

    def settings(self) -> Settings:
        try:
            return load_settings(
                database_url=self.database_url,
                owner_database_url=self.owner_url,
                database_url_file=self.database_url_file,
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
            )
            fail(f"The configuration is not valid: {problems}.", 2)


def echo(text: str, *, err: bool = False) -> None:
    """A line for the terminal: whatever data it quotes (a reason, a file name, a contract's words) cannot
    move the cursor, retitle the window or write the clipboard (widgets.plain makes controls visible)."""
    click.echo(shown(text), err=err)


def fail(message: str, code: int = 1) -> None:
    echo(f"Error: {message}", err=True)
    raise SystemExit(code)


def error_log(home: Path) -> Path:
    """Send warnings and errors of every module to the data home's error log; returns its path.

    Created at the start of every command and of the workstation, so that it exists where the README
    says before anything has gone wrong. Called again for the same home, it adds no second handler.
    """
    path = home.expanduser() / ERROR_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    target = str(path.resolve())
    if not any(isinstance(h, logging.FileHandler) and h.baseFilename == target for h in root.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    path.touch()
    return path


class Stopped(Exception):
    """A stop signal arrived while a command ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run(state: CliState, body: Callable[[Runtime], Awaitable[T]]) -> T:
    """Open the database, run `body`, close everything, map errors to exit codes."""
    settings = state.settings()
    errors = error_log(settings.home)

    async def _main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        received: list[int] = []

        def stop(signum: int) -> None:
            received.append(signum)
            task.cancel()

        # Signals reach the main thread only (a command run from a thread, as tests do, has none).
        handled = STOP_SIGNALS if threading.current_thread() is threading.main_thread() else ()
        for each in handled:
            loop.add_signal_handler(each, stop, each)
        try:
            async with open_runtime(settings) as runtime:
                return await body(runtime)
        except asyncio.CancelledError:
            if received:
                raise Stopped(received[0]) from None
            raise
        finally:
            for each in handled:
                loop.remove_signal_handler(each)

    try:
        return asyncio.run(_main())
    except ServiceError as exc:
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("Interrupted; nothing half-written was kept.", 130)
    except Stopped as exc:
        log.warning("stopped by %s", exc)
        fail(f"Stopped by {exc}; nothing half-written was kept.", 128 + exc.signum)
    except Exception as exc:
        log.exception("a command failed unexpectedly")
        fail(f"Unexpected error: {type(exc).__name__}: {exc}. The details are in {errors}.", 1)
    raise AssertionError("unreachable")


def run_workstation(settings: Settings, demo_logins: list[tuple[str, str, str]] | None = None) -> None:
    """Open the terminal UI; its own screens report errors, so only a crash or a signal reaches here.

    The app writes a crash's traceback to the error log itself (Textual catches it to restore the
    terminal); here it becomes a non-zero exit with a sentence.
    """
    from app.workstation import make_app

    errors = error_log(settings.home)
    app = make_app(settings, demo_logins=demo_logins)
    try:
        app.run()
        code = app.return_code or 0
    except Exception:
        log.exception("the workstation stopped unexpectedly")
        code = 1
    if code == 1:
        fail(f"The workstation stopped after an unexpected error. The details are in {errors}.", 1)
    if code:
        raise SystemExit(code)
