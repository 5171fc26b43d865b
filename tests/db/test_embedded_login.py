"""The embedded default: its first use makes a workstation login, and the services run as it."""

from __future__ import annotations

import atexit
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from db.database import connect
from db.logins import WORKSTATION_LOGIN, WORKSTATION_PASSWORD_FILE
from services.schema_admin import schema_status, upgrade_schema


async def _whoami(engine) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
    return row[0], row[1]


@pytest.mark.slow
async def test_the_embedded_server_makes_and_uses_its_own_workstation_login() -> None:
    # Not pytest's tmp_path: as root the server runs as its own user, which must be able to enter
    # the directory (as in tests/conftest.py). Removed once the server has stopped at exit.
    home = Path(tempfile.mkdtemp(prefix="refund-review-embedded-login-"))
    atexit.register(shutil.rmtree, home, True)
    db = await connect(None, home)
    try:
        secret = home / WORKSTATION_PASSWORD_FILE
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        await upgrade_schema(db)
        assert await _whoami(db.app) == (WORKSTATION_LOGIN, False)
        owner, owner_is_superuser = await _whoami(db.owner)
        assert owner != WORKSTATION_LOGIN and owner_is_superuser
        status = await schema_status(db)
        assert status.connected_as.user == WORKSTATION_LOGIN
        assert not (status.connected_as.superuser or status.connected_as.owner)
        assert status.connected_as.application
    finally:
        await db.dispose()
    # The next start reuses the login and its password file.
    password = secret.read_text()
    again = await connect(None, home)
    try:
        assert await _whoami(again.app) == (WORKSTATION_LOGIN, False)
        assert again.url.password == password.strip()
    finally:
        await again.dispose()
    assert secret.read_text() == password
