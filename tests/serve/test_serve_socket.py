"""`refund-review serve` without a browser: what a browser cannot choose, and a server that dies.

Spoken to through textual-serve's websocket protocol (conftest.SocketTab): X-Forwarded-For is honoured
only from a --trusted-proxy, and a workstation whose server is killed outright ends its session and gives
back its claims all the same (its input ends: app/web/driver.py).
"""

from __future__ import annotations

import os
import signal

import aiohttp
import asyncpg
import psutil
import pytest
from click.testing import CliRunner

from app.cli import main
from tests.serve.conftest import PASSWORD, START_SECONDS, SocketTab, poll

pytestmark = pytest.mark.slow

FORWARDED = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "User-Agent": "TestBrowser/1.0 (a socket)"}


async def _session(superuser: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await superuser.fetchrow(
        "SELECT host(s.ip_address) AS ip, s.user_agent, s.end_reason FROM sessions s "
        "JOIN users u ON u.id = s.user_id WHERE u.username = $1 AND s.user_agent LIKE '%serve%'",
        username,
    )


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(("--trusted-proxy", "127.0.0.1"), "203.0.113.7"), (("--trusted-proxy", "10.0.0.0/8"), "127.0.0.1")],
    ids=["from-a-trusted-proxy", "from-anyone-else"],
)
async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    serve, seed, superuser: asyncpg.Connection, trusted: tuple[str, ...], expected: str
) -> None:
    (reviewer,) = await seed(reviewers=1, items=0)
    served = serve(*trusted)
    async with aiohttp.ClientSession() as client:
        tab = await SocketTab.open(client, served.url, FORWARDED)
        try:
            await tab.log_in(reviewer, PASSWORD)
            session = await poll(lambda: _session(superuser, reviewer), START_SECONDS, "the session")
        finally:
            await tab.close()
    assert session["ip"] == expected
    assert session["user_agent"].endswith(") TestBrowser/1.0 (a socket)")
    login = await superuser.fetchval(
        "SELECT host(ip_address) FROM audit_events WHERE event_type = 'login' AND user_agent LIKE '%serve%'"
    )
    assert login == expected


async def test_a_killed_server_leaves_no_workstation_holding_a_claim(
    serve, seed, superuser: asyncpg.Connection
) -> None:
    (reviewer,) = await seed(reviewers=1, items=1)
    served = serve()
    async with aiohttp.ClientSession() as client:
        tab = await SocketTab.open(client, served.url, {})
        try:
            await tab.log_in(reviewer, PASSWORD)
            await tab.type("n")
            await poll(
                lambda: superuser.fetchval("SELECT claimed_by FROM extractions"), START_SECONDS, "the claim"
            )
            (workstation,) = served.workstation_pids()
            os.kill(served.process.pid, signal.SIGKILL)
            served.process.wait()
        finally:
            await tab.close()
    ended = await poll(
        lambda: superuser.fetchrow(
            "SELECT s.end_reason FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.username = $1 AND s.user_agent LIKE '%serve%' AND s.ended_at IS NOT NULL",
            reviewer,
        ),
        START_SECONDS,
        "the orphaned workstation to end its session",
    )
    assert ended["end_reason"] == "logout"
    assert await superuser.fetchval("SELECT claimed_by FROM extractions") is None

    async def gone() -> bool:
        return not psutil.pid_exists(workstation)

    await poll(gone, START_SECONDS, "the orphaned workstation to exit")


async def test_another_sites_page_cannot_open_a_workstation(serve, seed) -> None:
    await seed(reviewers=0, items=0)
    served = serve()
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(f"{served.url}/ws", headers={"Origin": "https://elsewhere.example"})
        assert refused.value.status == 403
        assert served.workstation_pids() == []  # nothing was started for it
        # The server's own page, under any loopback name, may.
        port = served.url.rsplit(":", 1)[1]
        tab = await SocketTab.open(client, served.url, {"Origin": f"http://localhost:{port}"})
        try:
            await tab.wait_for_text("Connected to the host's database.")
        finally:
            await tab.close()


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--host", "0.0.0.0"], "Refusing to listen on 0.0.0.0: other computers could reach the login page"),
        (["--host", "192.0.2.1"], "pass --allow-remote if that is what you mean"),
        (["--public-url", "review.example.com"], "--public-url 'review.example.com' must start with http"),
        (["--trusted-proxy", "10.0.0.300"], "--trusted-proxy '10.0.0.300' is not an IP address or network"),
    ],
)
def test_serve_refuses_what_it_should_and_says_why(arguments: list[str], said: str) -> None:
    result = CliRunner().invoke(main, ["serve", *arguments])
    assert result.exit_code == 2
    assert said in " ".join(result.output.split())


def test_serve_will_not_start_without_its_database() -> None:
    result = CliRunner().invoke(
        main, ["--database-url", "postgresql://ws:pw@127.0.0.1:1/refund_review", "serve"]
    )
    assert result.exit_code == 7
    assert "Cannot connect to the database at" in " ".join(result.output.split())
