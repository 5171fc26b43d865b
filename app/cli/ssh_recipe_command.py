"""`refund-review ssh-recipe`: the OpenSSH and sudo configuration that serves the workstation to a team.

The recipe comes from the program so that what the README shows, what an administrator installs and
what the test runs against a real sshd are the same text.

Why sudo: every reviewer keeps a system account and a key of their own (sshd's log names them, one
person is locked out by removing them from the group), yet the workstation runs as one service user,
the only one who can read the database URL file. The sudo rule allows exactly one command line — the
workstation with that file, no other argument — so a reviewer cannot run `refund-review user create`
or anything else as the service user. sudo's env_reset drops whatever the session's environment holds
(DATABASE_URL, REFUND_REVIEW_*, the client-address variables of `serve`) except SSH_CLIENT and
SSH_CONNECTION, which sshd sets and which name the reviewer's address in their session.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from app.cli.runner import echo, fail

DEFAULT_GROUP = "refund-review"
DEFAULT_SERVICE_USER = "refund-review"
DEFAULT_URL_FILE = Path("/etc/refund-review/database-url")
# System user and group names as useradd/groupadd accept them by default.
_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# Paths that sshd_config and sudoers take as they are: no spaces, quotes, commas, colons or escapes.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_./+-]*")


@dataclass(frozen=True)
class SshRecipe:
    """The Match block for sshd_config and the sudoers rule, both ready to install as files."""

    sshd_config: str
    sudoers: str


def default_program() -> Path:
    """This installation's `refund-review` (beside the interpreter in its virtual environment)."""
    beside = Path(sys.executable).parent / "refund-review"
    found = shutil.which("refund-review")
    return beside if beside.exists() else Path(found or "/usr/local/bin/refund-review").absolute()


def unreachable_by_others(program: Path) -> Path | None:
    """The first directory on the way to `program` or its interpreter that other users may not enter.

    The service user runs the program: a virtual environment whose interpreter links into a private
    home (pyenv under /root, say) fails there with "Permission denied", so the command warns first.
    """
    try:
        first_line = program.read_bytes()[:256].split(b"\n", 1)[0]
    except OSError:
        return None
    paths = [program]
    if first_line.startswith(b"#!"):
        paths.append(Path(first_line[2:].decode(errors="replace").split()[0]))
    for path in paths:
        for directory in reversed(Path(os.path.realpath(path)).parents):
            if not directory.stat().st_mode & stat.S_IXOTH:
                return directory
    return None


def _checked_name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} cannot be a {what}: use lower-case letters, digits, '_' and '-', starting "
            "with a letter or '_', at most 32 characters."
        )
    return value


def _checked_path(value: Path, what: str) -> str:
    text = str(value)
    if not _PLAIN_PATH.fullmatch(text):
        raise ValueError(
            f"The {what} {text!r} must be an absolute path of letters, digits and . _ - + / only "
            "(sshd_config and sudoers take it as it is)."
        )
    return text


def ssh_recipe(
    *,
    group: str = DEFAULT_GROUP,
    service_user: str = DEFAULT_SERVICE_USER,
    url_file: Path = DEFAULT_URL_FILE,
    program: Path | None = None,
    sudo: Path = Path("/usr/bin/sudo"),
) -> SshRecipe:
    """The recipe for members of `group`, served as `service_user` with the URL in `url_file`."""
    group = _checked_name(group, "group name")
    service_user = _checked_name(service_user, "service user name")
    command = (
        f"{_checked_path(program or default_program(), 'program')} "
        f"--database-url-file {_checked_path(url_file, 'URL file')}"
    )
    sudo_path = _checked_path(sudo, "sudo program")
    sshd_config = f"""\
# Refund Review over SSH: members of group {group} get the workstation and nothing else.
# Install as /etc/ssh/sshd_config.d/refund-review.conf, then `sshd -t` and reload sshd.
# In the main sshd_config keep PermitUserEnvironment no (the default), and let no AcceptEnv
# name REFUND_REVIEW_*, DATABASE_URL, SSH_* or * : a reviewer must not choose the environment.
Match Group {group}
    ForceCommand {sudo_path} -n -u {service_user} -- {command}
    PermitTTY yes
    DisableForwarding yes
    AllowTcpForwarding no
    AllowAgentForwarding no
    AllowStreamLocalForwarding no
    X11Forwarding no
    PermitTunnel no
    PermitUserRC no
    AuthenticationMethods publickey
Match all
"""
    sudoers = f"""\
# Refund Review: members of {group} run the workstation as {service_user}, exactly this command line.
# Check with `visudo -cf FILE`, install as /etc/sudoers.d/refund-review (mode 0440).
Cmnd_Alias REFUND_REVIEW_WORKSTATION = {command}
Defaults!REFUND_REVIEW_WORKSTATION env_reset, env_keep = "TERM LANG SSH_CLIENT SSH_CONNECTION"
%{group} ALL = ({service_user}) NOPASSWD: REFUND_REVIEW_WORKSTATION
"""
    return SshRecipe(sshd_config=sshd_config, sudoers=sudoers)


@click.command("ssh-recipe")
@click.option("--group", default=DEFAULT_GROUP, show_default=True, help="System group of the reviewers.")
@click.option(
    "--service-user",
    default=DEFAULT_SERVICE_USER,
    show_default=True,
    help="System user the workstation runs as; the only one who can read the URL file.",
)
@click.option(
    "--url-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_URL_FILE,
    show_default=True,
    help="File holding the workstation login's database URL (mode 600, owned by the service user).",
)
@click.option(
    "--program",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The refund-review to run (default: this installation's).",
)
@click.option(
    "--only",
    type=click.Choice(["sshd", "sudoers"]),
    default=None,
    help="Print one file only, to redirect into place.",
)
def ssh_recipe_command(
    group: str, service_user: str, url_file: Path, program: Path | None, only: str | None
) -> None:
    """Print the sshd_config Match block and the sudoers rule that serve the workstation over SSH.

    Members of GROUP log in with their own key and get the workstation's login screen, run as
    SERVICE_USER, who alone can read the database URL; nothing else (no shell, no forwarding).
    """
    try:
        recipe = ssh_recipe(group=group, service_user=service_user, url_file=url_file, program=program)
    except ValueError as exc:
        fail(str(exc), 2)
    blocked = unreachable_by_others(program or default_program())
    if blocked is not None:
        echo(
            f"Warning: other users cannot enter {blocked}, on the way to the program or its interpreter: "
            "the service user could not run it. Install refund-review where every user can (e.g. a "
            "virtual environment under /opt made with a system Python), then give its path as --program.",
            err=True,
        )
    if only != "sudoers":
        echo(recipe.sshd_config.rstrip("\n"))
    if only is None:
        echo("")
    if only != "sshd":
        echo(recipe.sudoers.rstrip("\n"))
