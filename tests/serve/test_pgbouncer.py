"""The services through the distribution's PgBouncer in transaction mode, prepared statements included.

Several reviewers work at once, each with a pool of their own, through a PgBouncer whose server pool
is smaller than their connections: consecutive transactions of one client land on server connections
another client has just used. The URL says `?pooler=pgbouncer-transaction`, which turns off statement
caching, so that asyncpg prepares every statement unnamed (db/engine.py); everything else (the advisory
lock of the metrics refresh, SET LOCAL of the dashboard, the audit chain) is transaction-scoped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import bcrypt
import pytest
from sqlalchemy.engine import URL

from db.database import Database, connect
from db.logins import login_url
from db.url import asyncpg_connect_args
from services.audit import verify_audit_chain
from services.auth import login
from services.context import ServiceContext, system_actor
from services.contracts import search_contracts
from services.metrics import Period, daily_extraction_stats, queue_health, refresh_extraction_metrics
from services.review import approve, claim_next, correct_field
from tests.conftest import WORKSTATION_PASSWORD
from tests.serve.conftest import free_port, running_as_root
from tests.services.conftest import PASSWORD, create_contract, create_person

PGBOUNCER = Path("/usr/sbin/pgbouncer")
# Fewer server connections than the reviewers' client connections: they must share them.
SERVER_POOL = 2
REVIEWERS = 4
ITEMS = 12
CLIENT_ADDRESS = "198.51.100.7"


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    log_text = log.read_text() if log.exists() else ""
    raise AssertionError(f"PgBouncer did not start: {log_text[-2000:]}")


@pytest.fixture
def pgbouncer_url(tcp_database_url: URL, workstation_login: str) -> Iterator[URL]:
    """The workstation login's URL through a PgBouncer in transaction mode in front of the test's database."""
    if not PGBOUNCER.exists():
        pytest.skip(f"{PGBOUNCER} is missing: install the distribution's pgbouncer package to run this test")
    home = Path(tempfile.mkdtemp(prefix="rr-pgbouncer-"))
    port = free_port()
    database = tcp_database_url.database
    (home / "userlist.txt").write_text(f'"{workstation_login}" "{WORKSTATION_PASSWORD}"\n')
    log = home / "pgbouncer.log"
    (home / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{database} = host={tcp_database_url.host} port={tcp_database_url.port} dbname={database}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {home / 'userlist.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_POOL}\nmax_client_conn = 200\n"
        f"logfile = {log}\npidfile = {home / 'pgbouncer.pid'}\n"
    )
    command = [str(PGBOUNCER), str(home / "pgbouncer.ini")]
    if running_as_root():
        # PgBouncer refuses to run as root; it drops to `nobody`, who must reach its files.
        nobody = pwd.getpwnam("nobody")
        for path in [home, *home.iterdir()]:
            shutil.chown(path, nobody.pw_uid, nobody.pw_gid)
        command[1:1] = ["-u", "nobody"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, process, log)
        yield login_url(tcp_database_url, workstation_login, WORKSTATION_PASSWORD).set(
            host="127.0.0.1", port=port, query={"pooler": "pgbouncer-transaction"}
        )
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(home, ignore_errors=True)


async def _prepared_on_server_connections(url: URL) -> dict[int, int]:
    """Named prepared statements held by each of PgBouncer's server connections (by backend pid).

    One open transaction per server connection, so that each query lands on another of them.
    """
    conns = [await asyncpg.connect(**asyncpg_connect_args(url)) for _ in range(SERVER_POOL)]
    try:
        found = {}
        for conn in conns:
            await conn.execute("BEGIN")
            row = await conn.fetchrow(
                "SELECT pg_backend_pid() AS pid, (SELECT count(*) FROM pg_prepared_statements) AS prepared"
            )
            found[row["pid"]] = row["prepared"]
        return found
    finally:
        for conn in conns:
            await conn.close()


async def _review_until_empty(db: Database, username: str) -> tuple[ServiceContext, int]:
    """Log in through the pooler and work the queue: correct the first item's premium, approve all."""
    result = await login(db, 4, username, PASSWORD, ip_address=CLIENT_ADDRESS, user_agent="pgbouncer test")
    ctx = ServiceContext(db=db, actor=result.actor)
    done = 0
    while (item := await claim_next(ctx)) is not None:
        version = item.version
        if done == 0:
            corrected = await correct_field(
                ctx, item.extraction_id, version, "gap_insurance_premium", "1,300", "misread_value", "checked"
            )
            version = corrected.version
        await approve(ctx, item.extraction_id, version)
        done += 1
    return ctx, done


async def test_the_services_work_through_pgbouncer_in_transaction_mode(
    database: Database,
    pgbouncer_url: URL,
    tcp_database_url: URL,
    superuser: asyncpg.Connection,
    own_home: Path,
) -> None:
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    names = [f"pooled{n}" for n in range(REVIEWERS)]
    for name in names:
        await create_person(database, password_hash, "reviewer", username=name)
    for _ in range(ITEMS):
        await create_contract(database, premium_confidence=40)
    await database.app.dispose()  # from here on, the login's only server connections are PgBouncer's
    # Each reviewer's own process, as on a host: its own engine and pool, all through the one PgBouncer.
    owner = tcp_database_url.render_as_string(hide_password=False)
    pooled = [
        await connect(pgbouncer_url.render_as_string(hide_password=False), own_home, owner_url=owner)
        for _ in names
    ]
    try:
        worked = await asyncio.gather(
            *(_review_until_empty(db, name) for db, name in zip(pooled, names, strict=True))
        )
        logged = await superuser.fetchval("SELECT count(*) FROM audit_events")
        system = ServiceContext(db=pooled[0], actor=system_actor("pgbouncer test"))
        today = dt.datetime.now(dt.UTC).date()
        refreshed = await refresh_extraction_metrics(system)  # its advisory lock is transaction-scoped
        verified, health, daily, found = await asyncio.gather(
            verify_audit_chain(system),
            queue_health(system),
            daily_extraction_stats(system, Period.today(today)),
            search_contracts(worked[0][0], "GAP-2024"),
        )
        left_behind = await _prepared_on_server_connections(pgbouncer_url)
        async with pooled[0].app.connect() as conn:
            # The login's own defaults (db create-login): no startup setting carried them here.
            limits = (
                await conn.exec_driver_sql(
                    "SELECT current_setting('statement_timeout'), current_setting('jit')"
                )
            ).one()
        backends = await superuser.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = $1",
            pgbouncer_url.username,
        )
    finally:
        for db in pooled:
            await db.dispose()

    done = [count for _, count in worked]
    assert sum(done) == ITEMS
    assert await superuser.fetchval("SELECT count(*) FROM extractions WHERE status = 'approved'") == ITEMS
    assert await superuser.fetchval("SELECT count(*) FROM corrections") == sum(1 for n in done if n)
    logins = await superuser.fetch(
        "SELECT host(ip_address) AS ip FROM audit_events WHERE event_type = 'login' ORDER BY seq"
    )
    assert [row["ip"] for row in logins] == [CLIENT_ADDRESS] * REVIEWERS
    assert await superuser.fetchval("SELECT count(*) FROM audit_events WHERE event_type = 'approve'") == ITEMS
    assert verified.broken_at is None
    # Everything the reviewers wrote, and whatever the reads beside it appended before the walk ended.
    assert verified.events_verified >= logged
    assert refreshed >= 1 and health.pending == 0
    assert sum(row.approved_count for row in daily) == ITEMS
    assert len(found.hits) == ITEMS
    assert tuple(limits) == ("20s", "off")
    # Every server connection PgBouncer has, and nothing prepared left on any of them.
    assert list(left_behind.values()) == [0] * SERVER_POOL
    # The reviewers' engines held up to 2 connections each: PgBouncer served them with its own few.
    assert backends <= SERVER_POOL


async def test_a_pooled_url_keeps_asyncpg_from_caching_statements(pgbouncer_url: URL) -> None:
    """The driver's own connections (probe, admin work) through the pooler cache nothing either."""
    args = asyncpg_connect_args(pgbouncer_url)
    assert args["statement_cache_size"] == 0 and "pooler" not in args
    conn = await asyncpg.connect(**args)
    try:
        for _ in range(5):
            assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
    finally:
        await conn.close()
