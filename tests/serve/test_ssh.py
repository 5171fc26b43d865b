"""The workstation over a real OpenSSH server, configured with exactly what `refund-review ssh-recipe` prints.

A throw-away sshd (the distribution's /usr/sbin/sshd, its own host key and config, on 127.0.0.1) and
throw-away system accounts: a reviewer in the recipe's group, with a key, and the service user who
alone can read the database URL file. The OpenSSH client logs in with a pty; the test reads the
workstation's login screen from the stream, logs in as a seeded reviewer and finds the session in
the database with the address sshd put in SSH_CLIENT.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import bcrypt
import psutil
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import URL

from app.cli import main
from app.cli.ssh_recipe_command import ssh_recipe
from benchmarks.pty_terminal import PtyTerminal
from db.database import Database
from db.logins import login_url
from tests.conftest import WORKSTATION_PASSWORD
from tests.serve.conftest import free_port, running_as_root
from tests.services.conftest import PASSWORD, create_person

SSHD = Path("/usr/sbin/sshd")
SSH = shutil.which("ssh")
SUDO = shutil.which("sudo")


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class Host:
    """The serving host's accounts and files for one test."""

    group: str
    reviewer: str
    service_user: str
    root: Path
    client_key: Path


@pytest.fixture
def host() -> Iterator[Host]:
    """System accounts for the test (removed after), and a directory the service user may enter."""
    missing = [
        name
        for name, path in (("sshd", SSHD), ("ssh", SSH), ("sudo", SUDO))
        if not path or not Path(path).exists()
    ]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} missing: install openssh-server, openssh-client and sudo to run this test"
        )
    if not running_as_root():
        pytest.skip("creating the test's system users and running sshd needs root")
    tag = uuid.uuid4().hex[:6]
    group, reviewer, service_user = f"rrg{tag}", f"rrr{tag}", f"rrs{tag}"
    root = Path(tempfile.mkdtemp(prefix="rr-ssh-"))
    root.chmod(0o755)
    _run("groupadd", group)
    try:
        # '*' as the password: no password login, yet not a locked account (sshd refuses those).
        _run("useradd", "--create-home", "--shell", "/bin/sh", "--password", "*", "--groups", group, reviewer)
        _run("useradd", "--create-home", "--shell", "/usr/sbin/nologin", "--password", "*", service_user)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "client_key"))
        yield Host(group, reviewer, service_user, root, root / "client_key")
    finally:
        for user in (reviewer, service_user):
            subprocess.run(["userdel", "--remove", "--force", user], capture_output=True, check=False)
        subprocess.run(["groupdel", group], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _program(root: Path) -> Path:
    """This installation's refund-review, as the service user can run it.

    The virtual environment's interpreter may be a link into a home no other user may enter (pyenv
    under /root); then the distribution's interpreter of the same version runs the environment's
    packages through a wrapper, the way a host would install the program for everyone.
    """
    interpreter = Path(os.path.realpath(sys.executable))
    if all(parent.stat().st_mode & stat.S_IXOTH for parent in interpreter.parents):
        return Path(sys.executable).parent / "refund-review"
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists():
        pytest.skip(f"the service user cannot run {interpreter} and there is no {system} to run it with")
    wrapper = root / "refund-review"
    packages = [path for path in site.getsitepackages() if Path(path).is_dir()]
    wrapper.write_text(
        f"#!{system}\nimport site, sys\n"
        + "".join(f"site.addsitedir({path!r})\n" for path in packages)
        + "from app.cli import main\nsys.exit(main(prog_name='refund-review'))\n"
    )
    wrapper.chmod(0o755)
    return wrapper


def _install_sudoers(text: str, tag: str) -> Iterator[None]:
    candidate = Path(tempfile.mkstemp(prefix="rr-sudoers-")[1])
    candidate.write_text(text)
    _run("visudo", "-cf", str(candidate))
    target = Path("/etc/sudoers.d") / f"refund-review-test-{tag}"
    shutil.move(candidate, target)
    target.chmod(0o440)
    try:
        yield
    finally:
        target.unlink(missing_ok=True)


@pytest.fixture
def sshd(host: Host, tcp_database_url: URL, workstation_login: str) -> Iterator[int]:
    """sshd on 127.0.0.1 with the recipe's Match block, and its sudoers rule in place; yields the port."""
    url_file = host.root / "database-url"
    url_file.write_text(
        login_url(tcp_database_url, workstation_login, WORKSTATION_PASSWORD).render_as_string(
            hide_password=False
        )
        + "\n"
    )
    shutil.chown(url_file, host.service_user)
    url_file.chmod(0o600)
    recipe = ssh_recipe(
        group=host.group,
        service_user=host.service_user,
        url_file=url_file,
        program=_program(host.root),
        sudo=Path(SUDO or ""),
    )
    keys = host.root / "authorized_keys"
    keys.mkdir(mode=0o755)
    (keys / host.reviewer).write_text((host.root / "client_key.pub").read_text())
    shutil.chown(keys / host.reviewer, host.reviewer)
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host.root / "host_key"))
    port = free_port()
    config = host.root / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host.root / 'host_key'}\n"
        f"PidFile {host.root / 'sshd.pid'}\nAuthorizedKeysFile {keys}/%u\n"
        # The keys live in the test's directory under /tmp, which StrictModes would refuse; PAM's
        # session modules need a full login system, which a container lacks.
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin no\nPermitUserEnvironment no\nLogLevel VERBOSE\n"
        # More than the README allows: even if sshd let these through, the sudo rule must drop them.
        "AcceptEnv LANG LC_* REFUND_REVIEW_* DATABASE_URL\n" + recipe.sshd_config
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    _run(str(SSHD), "-t", "-f", str(config))
    sudoers = _install_sudoers(recipe.sudoers, host.group)
    next(sudoers)
    log = host.root / "sshd.log"
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=log.open("wb"))
    try:
        yield port
    finally:
        process.terminate()
        process.wait(10)
        next(sudoers, None)


async def _open_session_address(superuser: asyncpg.Connection, username: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        address = await superuser.fetchval(
            "SELECT host(s.ip_address) FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.username = $1 AND s.user_agent LIKE '%(workstation;%' ORDER BY s.created_at DESC LIMIT 1",
            username,
        )
        if address is not None:
            return str(address)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no session of {username} appeared")


async def test_a_reviewer_reaches_the_workstation_over_ssh_and_their_address_is_the_sessions(
    host: Host, sshd: int, database: Database, superuser: asyncpg.Connection
) -> None:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await create_person(database, hashed, "reviewer", username="sshreviewer")
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "REFUND_REVIEW_CLIENT_IP": "203.0.113.66",
        "DATABASE_URL": "postgresql://someone:else@203.0.113.66/theirs",
    }
    terminal = PtyTerminal(
        [str(SSH), "-tt", "-i", str(host.client_key), "-p", str(sshd), "-o", "IdentitiesOnly=yes",
         "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "SendEnv=REFUND_REVIEW_* DATABASE_URL", "-o", "LogLevel=ERROR", f"{host.reviewer}@127.0.0.1"],
        env,
    )  # fmt: skip
    try:
        terminal.wait_for("Connected to")
        assert "Log in" in terminal.screen and "Username" in terminal.screen
        # Whoever reaches the host over SSH learns nothing of where the database is before logging in.
        terminal.wait_for("the host's database")
        assert "127.0.0.1:" not in terminal.screen
        assert WORKSTATION_PASSWORD not in terminal.screen
        terminal.type("sshreviewer\r")
        await asyncio.sleep(0.3)
        terminal.type(PASSWORD + "\r")
        # The queue's counts: logged in. (Reading also keeps the stream flowing: unread, it would stall.)
        terminal.wait_for("Pending")
        address = await _open_session_address(superuser, "sshreviewer")
        [workstation] = [
            p for p in psutil.process_iter(["username"]) if p.info["username"] == host.service_user
        ]
        environment = workstation.environ()
        terminal.type("\x11")  # ctrl+q
    finally:
        terminal.close()
    # sshd's SSH_CLIENT, not what the client tried to send (SendEnv REFUND_REVIEW_CLIENT_IP).
    assert address == "127.0.0.1"
    assert environment["SSH_CLIENT"].startswith("127.0.0.1 ")
    assert "REFUND_REVIEW_CLIENT_IP" not in environment and "DATABASE_URL" not in environment
    assert environment["HOME"] == f"/home/{host.service_user}"
    login = await superuser.fetchrow(
        "SELECT host(ip_address) AS ip, user_agent FROM audit_events WHERE event_type = 'login' ORDER BY seq DESC LIMIT 1"
    )
    assert login["ip"] == "127.0.0.1" and "workstation" in login["user_agent"]


def test_the_reviewer_can_neither_read_the_url_nor_run_another_command_as_the_service_user(
    host: Host, sshd: int
) -> None:
    as_reviewer = ["sudo", "-u", host.reviewer, "--"]
    read = subprocess.run(
        [*as_reviewer, "cat", str(host.root / "database-url")], check=False, capture_output=True, text=True
    )
    assert read.returncode != 0 and "Permission denied" in read.stderr
    program = _program(host.root)
    other = subprocess.run(
        [*as_reviewer, SUDO or "sudo", "-n", "-u", host.service_user, "--", str(program), "user", "list"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert other.returncode != 0 and "password is required" in other.stderr
    # What sshd itself makes of the configuration for this reviewer (the Match block applied).
    effective = subprocess.run(
        [
            str(SSHD),
            "-T",
            "-f",
            str(host.root / "sshd_config"),
            "-C",
            f"user={host.reviewer},host=client,addr=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    for line in ("disableforwarding yes", "allowtcpforwarding no", "x11forwarding no", "permittunnel no",
                 "permittty yes", "permituserenvironment no", "permituserrc no"):  # fmt: skip
        assert line in effective, line
    assert any(line.startswith(f"forcecommand {SUDO} -n -u {host.service_user} -- ") for line in effective)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every user may enter (pytest's own temporary directories are private)."""
    base = Path(tempfile.mkdtemp(prefix="rr-recipe-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def test_the_recipe_warns_when_the_service_user_could_not_run_the_program(open_dir: Path) -> None:
    private = open_dir / "private"
    (private / "bin").mkdir(parents=True)
    interpreter = private / "bin" / "python"
    interpreter.write_text("")
    program = open_dir / "refund-review"
    program.write_text(f"#!{interpreter}\n")
    private.chmod(0o700)
    result = CliRunner().invoke(main, ["ssh-recipe", "--program", str(program), "--only", "sshd"])
    assert result.exit_code == 0
    assert f"other users cannot enter {private}" in result.stderr
    private.chmod(0o755)
    assert "Warning" not in CliRunner().invoke(main, ["ssh-recipe", "--program", str(program)]).stderr


def test_the_recipe_allows_one_command_line_and_no_forwarding(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    result = CliRunner().invoke(
        main, ["ssh-recipe", "--group", "reviewers", "--service-user", "rrsvc", "--url-file", str(url_file),
               "--program", "/opt/rr/bin/refund-review"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    command = f"/opt/rr/bin/refund-review --database-url-file {url_file}"
    assert f"ForceCommand /usr/bin/sudo -n -u rrsvc -- {command}\n" in result.output
    assert f"Cmnd_Alias REFUND_REVIEW_WORKSTATION = {command}\n" in result.output
    assert "%reviewers ALL = (rrsvc) NOPASSWD: REFUND_REVIEW_WORKSTATION" in result.output
    for line in ("DisableForwarding yes", "X11Forwarding no", "PermitTunnel no", "PermitTTY yes"):
        assert f"    {line}\n" in result.output
    assert "AcceptEnv" not in result.output.replace("let no AcceptEnv", "")
    assert "Warning" not in result.stderr  # /opt/rr/bin/refund-review does not exist: nothing to check
    refused = CliRunner().invoke(main, ["ssh-recipe", "--url-file", "/etc/my url"])
    assert refused.exit_code == 2 and "must be an absolute path" in refused.output
