"""Whose address a served tab's session records: the peer, or X-Forwarded-For from a trusted proxy only.

And how a workstation process reads what `serve` hands it (services/runtime.py).
"""

from __future__ import annotations

import pytest

from app.web.client_address import client_address, parse_trusted_proxies
from services.runtime import CLIENT_AGENT_VARIABLE, CLIENT_IP_VARIABLE, client_ip, user_agent

PROXIES = parse_trusted_proxies(["127.0.0.1", "10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # No proxy trusted in between: the peer, whatever the header says.
        ("192.0.2.5", ["203.0.113.7"], "192.0.2.5"),
        ("192.0.2.5", [], "192.0.2.5"),
        # A trusted proxy: the right-most address that is not a trusted proxy.
        ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
        ("127.0.0.1", ["198.51.100.9, 203.0.113.7"], "203.0.113.7"),
        ("127.0.0.1", ["198.51.100.9, 203.0.113.7, 10.1.2.3"], "203.0.113.7"),
        ("127.0.0.1", ["198.51.100.9", "203.0.113.7, 10.1.2.3"], "203.0.113.7"),
        # A browser that writes its own header cannot hide behind it: what stands left of it is not read.
        ("127.0.0.1", ["1.2.3.4, 203.0.113.7"], "203.0.113.7"),
        # Nothing but trusted proxies: the farthest of them.
        ("127.0.0.1", ["10.9.9.9, 10.1.1.1"], "10.9.9.9"),
        ("127.0.0.1", [], "127.0.0.1"),
        # Malformed: ignored, the peer stands.
        ("127.0.0.1", ["203.0.113.7, not-an-address"], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.7:5555"], "127.0.0.1"),
        ("127.0.0.1", [""], "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.7,,"], "127.0.0.1"),
        # IPv6, and an IPv4 peer on a dual-stack socket.
        ("::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
        ("::ffff:192.0.2.5", [], "192.0.2.5"),
        (None, ["203.0.113.7"], None),
    ],
)
def test_the_client_address(peer: str | None, forwarded_for: list[str], expected: str | None) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == expected


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    with pytest.raises(ValueError, match=r"--trusted-proxy 'proxy.local' is not an IP address or network"):
        parse_trusted_proxies(["proxy.local"])


def test_the_workstation_reads_what_serve_hands_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CLIENT", "192.0.2.1 50000 22")
    monkeypatch.setenv(CLIENT_IP_VARIABLE, "203.0.113.7")
    monkeypatch.setenv(CLIENT_AGENT_VARIABLE, "Mozilla/5.0 (X11)\x1b[2J\x07  Chrome/156  ")
    assert client_ip() == "203.0.113.7"
    agent = user_agent("workstation")
    assert agent.startswith("refund-review/") and "(workstation; via refund-review serve;" in agent
    # The browser's own words, cleaned: no control character reaches a session or a terminal.
    assert agent.endswith(") Mozilla/5.0 (X11) [2J Chrome/156")
    assert all(char.isprintable() for char in agent)


def test_an_address_serve_could_not_tell_is_none_not_ssh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CLIENT", "192.0.2.1 50000 22")
    monkeypatch.setenv(CLIENT_IP_VARIABLE, "")
    monkeypatch.setenv(CLIENT_AGENT_VARIABLE, "")
    assert client_ip() is None
    assert user_agent("workstation").endswith(") a browser that sent no User-Agent")


def test_a_terminal_keeps_ssh_and_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CLIENT_IP_VARIABLE, raising=False)
    monkeypatch.delenv(CLIENT_AGENT_VARIABLE, raising=False)
    monkeypatch.setenv("SSH_CLIENT", "192.0.2.1 50000 22")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("TERM_PROGRAM", raising=False)
    assert client_ip() == "192.0.2.1"
    assert "(cli; xterm-256color;" in user_agent()
    monkeypatch.setenv("SSH_CLIENT", "garbage")
    assert client_ip() is None
