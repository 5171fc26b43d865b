"""Workstation logins: LOGIN roles that are members of the application role and nothing else.

A workstation must never hold the owner's credentials: its login inherits
the application role's grants, and since it is a member of no other role,
`SET ROLE` can reach nothing beyond them. The owner creates such logins
(`refund-review db create-login`, and the embedded server's own at start).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from db.engine import APP_STATEMENT_TIMEOUT_MS, service_settings

APP_ROLE = "refund_review_app"
WORKSTATION_LOGIN = "refund_review_workstation"
WORKSTATION_PASSWORD_FILE = "workstation-login.secret"

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class LoginError(ValueError):
    """The login cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class ConnectionRole:
    """Who a connection is, and whether it holds more than a workstation should."""

    user: str
    superuser: bool
    owner: bool
    application: bool

    @property
    def kind(self) -> str:
        if self.superuser:
            return "superuser"
        if self.owner:
            return "owner"
        return "workstation login" if self.application else "no application rights"

    @property
    def holds_more_than_a_workstation(self) -> bool:
        """It could rewrite the audit log or the grants: a workstation must never connect like this."""
        return self.superuser or self.owner


def generate_password() -> str:
    """A password for a machine login: 32 URL-safe characters, so it needs no quoting in a URL."""
    return secrets.token_urlsafe(24)


def check_login_name(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name):
        raise LoginError(
            f"{name!r} cannot be a login name: use lower-case letters, digits and underscores, "
            "starting with a letter or underscore, at most 63 characters."
        )
    if name.startswith("pg_") or name in {APP_ROLE, "refund_review_reporting"}:
        raise LoginError(f"{name!r} is reserved; choose another login name.")
    return name


async def ensure_login(conn: asyncpg.Connection, name: str, password: str) -> bool:
    """Create LOGIN role `name` (or reset an existing one): member of the application role only.

    Runs as the owner (or a role with CREATEROLE). Returns True when the role
    was created. An existing superuser or a role that owns objects here is
    refused rather than demoted: that is someone's owner account.
    """
    check_login_name(name)
    async with conn.transaction():
        # The application role normally comes with the first migration; creating it here
        # lets the embedded server make its login before the schema exists.
        await conn.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
            f"THEN CREATE ROLE {APP_ROLE} NOLOGIN; END IF; END $$"
        )
        existing = await conn.fetchrow(
            "SELECT rolsuper, EXISTS (SELECT FROM pg_class WHERE relowner = r.oid) AS owns "
            "FROM pg_roles r WHERE rolname = $1",
            name,
        )
        if existing is not None and (existing["rolsuper"] or existing["owns"]):
            raise LoginError(
                f"{name!r} is a superuser or owns database objects; a workstation login must be "
                "a role of its own. Choose another name."
            )
        verb = "ALTER" if existing is not None else "CREATE"
        await conn.execute(
            await conn.fetchval(
                "SELECT format('%s ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS PASSWORD %L', $1::text, $2::text, $3::text)",
                verb,
                name,
                password,
            )
        )
        for other in await conn.fetch(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND g.rolname <> $2",
            name,
            APP_ROLE,
        ):
            await conn.execute(f'REVOKE "{other["rolname"]}" FROM "{name}"')
        await conn.execute(f'GRANT {APP_ROLE} TO "{name}"')
        # The login's own defaults: they hold however it connects, through a pooler too.
        for setting, value in service_settings(APP_STATEMENT_TIMEOUT_MS).items():
            await conn.execute(
                await conn.fetchval(
                    "SELECT format('ALTER ROLE %I SET %s TO %L', $1::text, $2::text, $3::text)",
                    name,
                    setting,
                    value,
                )
            )
    return existing is None


async def connection_role(conn: asyncpg.Connection) -> ConnectionRole:
    """The connection's user; `owner` when it is, or may become, the owner of the audit log."""
    row = await conn.fetchrow(
        "SELECT current_user AS user, r.rolsuper AS superuser, "
        "coalesce(pg_has_role(current_user, (SELECT relowner FROM pg_class "
        "WHERE oid = to_regclass('public.audit_events')), 'MEMBER'), false) AS owner, "
        "pg_has_role(current_user, $1, 'MEMBER') AS application "
        "FROM pg_roles r WHERE r.rolname = current_user",
        APP_ROLE,
    )
    return ConnectionRole(
        user=row["user"], superuser=row["superuser"], owner=row["owner"], application=row["application"]
    )


def login_url(server: URL, name: str, password: str) -> URL:
    """The URL a workstation uses: the same server and database, as `name`."""
    return server.set(username=name, password=password)


def workstation_password(home: Path) -> tuple[str, bool]:
    """The embedded workstation login's password, made on first use (returns it and whether it is new).

    Kept in a file readable by its owner only, under the data home, like the
    cluster itself.
    """
    path = home.expanduser().resolve() / WORKSTATION_PASSWORD_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip(), False
    password = generate_password()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(password + "\n")
    return password, True
