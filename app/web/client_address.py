"""Whose browser is this: the address that goes into the session and its audit events.

The connection's peer is the browser, unless the peer is a reverse proxy the operator named with
`--trusted-proxy`: then the browser is in the proxy's X-Forwarded-For. Each proxy on the way appends the
address it received the request from, so the list is only as trustworthy as its right end: reading from
the right, every address that is a trusted proxy is skipped, and the first that is not is the browser
(what stands left of it was written by the browser or by proxies nobody vouches for, and could say
anything). A header from a peer that is not trusted is ignored, so a browser cannot name itself someone
else; a header that is not a list of addresses is ignored too, and the peer stands.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(given: Iterable[str]) -> tuple[Network, ...]:
    """`--trusted-proxy` values: addresses or networks (10.0.0.0/8); ValueError names the first bad one."""
    networks = []
    for each in given:
        try:
            networks.append(ipaddress.ip_network(each.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"--trusted-proxy {each!r} is not an IP address or network (like 127.0.0.1 or 10.0.0.0/8)."
            ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the session should say a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str | None:
    """The browser's address, as text, or None when not even the peer is an address (a Unix socket).

    `forwarded_for` holds every X-Forwarded-For header of the request, in order (a proxy may add a
    second header instead of extending the first).
    """
    connected = _address(peer) if peer else None
    if connected is None or not _trusted(connected, proxies) or not forwarded_for:
        return str(connected) if connected is not None else None
    hops = [part for header in forwarded_for for part in header.split(",")]
    addresses = [address for hop in hops if (address := _address(hop)) is not None]
    if not addresses or len(addresses) != len(hops):
        return str(connected)
    for each in reversed(addresses):
        if not _trusted(each, proxies):
            return str(each)
    # Every hop is a trusted proxy: the left-most is the farthest from this host, the nearest to a person.
    return str(addresses[0])
