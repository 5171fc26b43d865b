"""Running a command's async body with the database open, and turning failures into sentences.

Every command goes through `run`, so none of them ever ends in a bare
traceback: service errors print their message and exit with their code;
anything unexpected is logged in full to a file and summarised on stderr.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from services.errors import ServiceError
from services.runtime import Runtime, open_runtime
from services.settings import Settings, load_settings
from widgets.plain import shown

T = TypeVar("T")


@dataclass
class CliState:
    """Global options given before the command name."""

    database_url: str | None = None
    owner_url: str | None = None

    def settings(self) -> Settings:
        try:
            return load_settings(database_url=self.database_url, owner_database_url=self.owner_url)
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


def run(state: CliState, body: Callable[[Runtime], Awaitable[T]]) -> T:
    """Open the database, run `body`, close everything, map errors to exit codes."""
    settings = state.settings()

    async def _main() -> T:
        async with open_runtime(settings) as runtime:
            return await body(runtime)

    try:
        return asyncio.run(_main())
    except ServiceError as exc:
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("Interrupted; nothing half-written was kept.", 130)
    except Exception as exc:
        log = _write_crash_log(settings.home)
        fail(f"Unexpected error: {type(exc).__name__}: {exc}. The details are in {log}.", 1)
    raise AssertionError("unreachable")


def _write_crash_log(home: Path) -> Path:
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "refund-review-errors.log"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {datetime.now(UTC).isoformat()} ---\n{traceback.format_exc()}\n")
    logging.getLogger(__name__).debug("crash logged to %s", path)
    return path


def run_workstation(settings: Settings, demo_logins: list[tuple[str, str, str]] | None = None) -> None:
    """Open the terminal UI; its own screens report errors, so only a crash reaches here."""
    from app.workstation import make_app

    try:
        make_app(settings, demo_logins=demo_logins).run()
    except Exception as exc:
        log = _write_crash_log(settings.home)
        fail(
            f"The workstation stopped unexpectedly: {type(exc).__name__}: {exc}. The details are in {log}.", 1
        )
