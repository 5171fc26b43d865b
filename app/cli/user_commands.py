"""`refund-review user create|list|set-role|deactivate|reactivate|unlock|reset-password`.

These run as the command-line operator, who already holds the database
credentials, so they work before any admin exists: the first admin is made
here. A password is read from a hidden prompt (typed twice) or, for scripts,
from the first line of stdin; never from an argument, which anyone on the
machine can read in `ps`, and it is never echoed.
"""

from __future__ import annotations

import sys

import click

from app.cli.runner import CliState, echo, run
from services.context import ROLES
from services.runtime import Runtime
from services.users import (
    UserInfo,
    change_role,
    create_user,
    deactivate,
    list_users,
    reactivate,
    reset_password,
    unlock,
)

_ROLE = click.Choice(ROLES, case_sensitive=False)
_PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting for it.",
)


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        # Only the line end is dropped: spaces at either end may belong to a passphrase.
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _status(info: UserInfo) -> str:
    if not info.is_active:
        return "inactive"
    return "locked" if info.is_locked else "active"


@click.group()
def user() -> None:
    """Create and manage the people who use the workstation."""


@user.command()
@click.argument("username")
@click.option("--email", required=True, help="Their email address (unique).")
@click.option("--full-name", required=True, help="Their name as colleagues know it.")
@click.option("--role", type=_ROLE, default="reviewer", show_default=True)
@click.option(
    "--permanent",
    is_flag=True,
    help="The password is the user's own (your first admin account): no change is asked at the first login.",
)
@_PASSWORD_STDIN
@click.pass_obj
def create(
    state: CliState,
    username: str,
    email: str,
    full_name: str,
    role: str,
    permanent: bool,
    password_stdin: bool,
) -> None:
    """Create a user who logs in with USERNAME and the password given, then chooses their own."""
    password = _read_password(password_stdin, "Password")

    async def body(runtime: Runtime) -> UserInfo:
        return await create_user(
            runtime.system_context("user"),
            username,
            email,
            full_name,
            role,
            password,
            bcrypt_rounds=runtime.settings.bcrypt_rounds,
            temporary=not permanent,
        )

    info = run(state, body)
    then = " They choose their own password at their first login." if info.password_must_change else ""
    echo(f"Created {info.role} {info.username} <{info.email}>.{then}")


@user.command("list")
@click.pass_obj
def list_command(state: CliState) -> None:
    """List every user with role, status and last login."""

    async def body(runtime: Runtime) -> list[UserInfo]:
        return await list_users(runtime.system_context("user"))

    rows = [("USERNAME", "ROLE", "STATUS", "LAST LOGIN (UTC)", "EMAIL", "FULL NAME")]
    rows += [
        (
            info.username,
            info.role,
            _status(info),
            f"{info.last_login_at:%Y-%m-%d %H:%M}" if info.last_login_at else "never",
            info.email,
            info.full_name,
        )
        for info in run(state, body)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        echo("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]))


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=_ROLE)
@click.pass_obj
def set_role(state: CliState, username: str, role: str) -> None:
    """Give USERNAME another ROLE (their open sessions end, so it applies at once)."""

    async def body(runtime: Runtime) -> UserInfo:
        return await change_role(runtime.system_context("user"), username, role)

    info = run(state, body)
    echo(f"{info.username} is a {info.role}.")


@user.command("deactivate")
@click.argument("username")
@click.pass_obj
def deactivate_command(state: CliState, username: str) -> None:
    """Stop USERNAME from logging in and end their open sessions (their history stays)."""

    async def body(runtime: Runtime) -> UserInfo:
        return await deactivate(runtime.system_context("user"), username)

    echo(f"{run(state, body).username} is deactivated.")


@user.command("reactivate")
@click.argument("username")
@click.pass_obj
def reactivate_command(state: CliState, username: str) -> None:
    """Let a deactivated USERNAME log in again."""

    async def body(runtime: Runtime) -> UserInfo:
        return await reactivate(runtime.system_context("user"), username)

    echo(f"{run(state, body).username} is active again.")


@user.command("unlock")
@click.argument("username")
@click.pass_obj
def unlock_command(state: CliState, username: str) -> None:
    """Lift the lock-out of USERNAME and the login delays its failed logins built up."""

    async def body(runtime: Runtime) -> UserInfo:
        return await unlock(runtime.system_context("user"), username)

    echo(f"{run(state, body).username} is unlocked.")


@user.command("reset-password")
@click.argument("username")
@_PASSWORD_STDIN
@click.pass_obj
def reset_password_command(state: CliState, username: str, password_stdin: bool) -> None:
    """Set a temporary password for USERNAME (also lifts a lock-out and ends their open sessions)."""
    password = _read_password(password_stdin, "New password")

    async def body(runtime: Runtime) -> UserInfo:
        return await reset_password(
            runtime.system_context("user"), username, password, bcrypt_rounds=runtime.settings.bcrypt_rounds
        )

    echo(
        f"The password of {run(state, body).username} is reset; give it to them in person. "
        "They choose a new one at their next login."
    )
