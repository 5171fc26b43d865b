"""The workstation served to a real browser: log in, claim, approve, two tabs, a closed tab, a full host.

Each test starts `refund-review serve` against its own database and drives Debian's headless Chromium
through Selenium; what a tab shows is read from the terminal output it received (conftest.py), what
happened from the database.
"""

from __future__ import annotations

import asyncio

import asyncpg
import psutil
import pytest
from selenium.webdriver.common.keys import Keys

from benchmarks.browser import START_SECONDS, Tab, open_tab, wait_for
from tests.conftest import WORKSTATION
from tests.serve.conftest import PASSWORD, http_status, poll

pytestmark = pytest.mark.slow

# The queue screen's column heading: drawn once the login has succeeded and the queue is up.
QUEUE_DRAWN = "Weakest field"


def log_in(tab: Tab, username: str) -> None:
    tab.wait_for_text("Connected to")
    tab.mark()
    # In one burst, as a fast typist's keys arrive: Enter in the username box must move to the password
    # before the password's first letters are read.
    tab.type(username + Keys.ENTER + PASSWORD + Keys.ENTER)
    tab.wait_for_text(QUEUE_DRAWN)


def claim_next(tab: Tab) -> str:
    """Press n on the queue; the contract id the review screen then shows."""
    tab.mark()
    tab.type("n")
    tab.wait_for_text("GAP-2024-")
    shown = tab.screen_since_mark()
    start = shown.index("GAP-2024-")
    return shown[start : start + len("GAP-2024-000001")]


async def browser_session(superuser: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    """The session the browser's login opened (the seeded person also has one, made in the database)."""
    return await superuser.fetchrow(
        "SELECT s.id, host(s.ip_address) AS ip, s.user_agent, s.ended_at, s.end_reason FROM sessions s "
        "JOIN users u ON u.id = s.user_id WHERE u.username = $1 AND s.user_agent LIKE '%serve%'",
        username,
    )


async def test_a_reviewer_logs_in_claims_and_approves_in_the_browser(
    browser, serve, seed, superuser: asyncpg.Connection
) -> None:
    (reviewer,) = await seed(reviewers=1, items=1)
    served = serve()
    tab = open_tab(browser, served.url, new=False)
    tab.wait_for_text("Connected to the host's database.")
    log_in(tab, reviewer)
    assert claim_next(tab) == "GAP-2024-000001"
    # Nothing of the database's URL reached the browser: not its scheme, login, or socket directory.
    for part in ("postgresql", WORKSTATION, "pgdata"):
        assert part not in tab.output()
    tab.type("a")

    decided = await poll(
        lambda: superuser.fetchrow(
            "SELECT e.status, u.username FROM extractions e JOIN users u ON u.id = e.reviewed_by "
            "WHERE e.contract_id = 'GAP-2024-000001'"
        ),
        START_SECONDS,
        "the approval in the database",
    )
    assert (decided["status"], decided["username"]) == ("approved", reviewer)
    event = await superuser.fetchrow(
        "SELECT host(ip_address) AS ip, user_agent, session_id FROM audit_events "
        "WHERE event_type = 'approve' AND contract_id = 'GAP-2024-000001'"
    )
    session = await browser_session(superuser, reviewer)
    assert session is not None and event is not None
    assert event["ip"] == session["ip"] == "127.0.0.1"
    assert event["session_id"] == session["id"]
    # The user agent says it came through serve, and names the browser.
    assert "via refund-review serve" in session["user_agent"]
    assert "HeadlessChrome/" in session["user_agent"]
    assert session["ended_at"] is None


async def test_two_tabs_as_two_reviewers_never_get_the_same_item(
    browser, serve, seed, superuser: asyncpg.Connection
) -> None:
    first, second = await seed(reviewers=2, items=2)
    served = serve()
    tabs = []
    for name in (first, second):
        tab = open_tab(browser, served.url, new=bool(tabs))
        log_in(tab, name)
        tabs.append(tab)
    # The first reviewer claims; the second, pressing n while the first holds that item, gets the other.
    shown = [claim_next(tab) for tab in tabs]
    assert sorted(shown) == ["GAP-2024-000001", "GAP-2024-000002"]
    claims = await poll(
        lambda: superuser.fetch(
            "SELECT e.contract_id, u.username FROM extractions e JOIN users u ON u.id = e.claimed_by "
            "ORDER BY e.contract_id"
        ),
        START_SECONDS,
        "two claims",
    )
    holders = {row["contract_id"]: row["username"] for row in claims}
    assert sorted(holders.values()) == [first, second]
    assert holders[shown[0]] == first and holders[shown[1]] == second


async def test_closing_a_tab_ends_its_process_and_session_and_releases_its_claim(
    browser, serve, seed, superuser: asyncpg.Connection
) -> None:
    (reviewer,) = await seed(reviewers=1, items=1)
    served = serve()
    blank = browser.current_window_handle  # stays open, so the browser lives on after the tab closes
    tab = open_tab(browser, served.url, new=True)
    log_in(tab, reviewer)
    claim_next(tab)
    await poll(
        lambda: superuser.fetchval(
            "SELECT claimed_by FROM extractions WHERE contract_id = 'GAP-2024-000001'"
        ),
        START_SECONDS,
        "the claim",
    )
    (workstation,) = served.workstation_pids()

    tab.focus()
    browser.close()
    browser.switch_to.window(blank)

    ended = await poll(
        lambda: _ended(superuser, reviewer),
        START_SECONDS,
        "the session to end",
    )
    assert ended["end_reason"] == "logout"
    assert ended["released"] is True
    release = await superuser.fetchval(
        "SELECT event_data->>'reason' FROM audit_events WHERE event_type = 'release' "
        "AND contract_id = 'GAP-2024-000001'"
    )
    assert release == "logout"
    wait_for(lambda: not psutil.pid_exists(workstation), START_SECONDS, "the tab's process to end")


async def _ended(superuser: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    return await superuser.fetchrow(
        "SELECT s.end_reason, (SELECT claimed_by IS NULL FROM extractions WHERE contract_id = 'GAP-2024-000001') "
        "AS released FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE u.username = $1 AND s.user_agent LIKE '%serve%' AND s.ended_at IS NOT NULL",
        username,
    )


async def test_past_max_sessions_the_next_tab_gets_a_page_that_says_so(browser, serve, seed) -> None:
    await seed(reviewers=0, items=0)
    served = serve("--max-sessions", "1")
    first = open_tab(browser, served.url, new=False)
    first.wait_for_text("Connected to")
    assert len(served.workstation_pids()) == 1

    open_tab(browser, served.url, new=True)
    assert (
        "The only workstation on this host is in use; try again in a few minutes or ask your administrator."
        in (browser.page_source)
    )
    status, headers, body = await asyncio.to_thread(http_status, served.url + "/")
    assert (status, headers["Retry-After"]) == (503, "60")
    assert "The only workstation on this host is in use" in body
    # No process was started for the refused tab.
    assert len(served.workstation_pids()) == 1

    # The first tab goes to another page: its process ends (the page is kept in no back-forward cache,
    # where its socket would live on) and its place is free again.
    browser.close()
    first.focus()
    browser.get("about:blank")
    wait_for(lambda: not served.workstation_pids(), START_SECONDS, "the first tab's process to end")
    status, _, body = await asyncio.to_thread(http_status, served.url + "/")
    assert status == 200 and "in use" not in body
