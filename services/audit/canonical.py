"""The audit chain's canonical text and hash, computed in Python exactly as PostgreSQL computes them.

The database links every event with `audit_event_hash(...)` (schema/v0001/02_audit.sql):

    hash = sha256(prev_hash || utf8(jsonb_build_array(id::text, seq,
               to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               event_type, user_id::text, session_id::text, contract_id,
               ip_address::text, user_agent, event_data)::text))

Two programs need the same bytes without asking the database: the offline
verifier of an export (an auditor re-checks the chain on their own machine)
and the bulk seeder (which computes chains for millions of rows itself).
Byte-for-byte equality with PostgreSQL is checked by a property test against
the real function, so what this module renders is what jsonb renders:

- objects with their keys sorted by (UTF-8 length, bytes), written `{"k": v, ...}`;
  arrays `[a, b]`: `", "` and `": "` as separators;
- strings escaped as JSON (`\\"`, `\\\\`, `\\b \\f \\n \\r \\t`, other control
  characters as lower-case `\\u00xx`) with everything else, non-ASCII included,
  written raw; NUL and lone surrogates cannot be stored by PostgreSQL and are refused;
- numbers as PostgreSQL's `numeric` prints them: never in exponent form, with the
  scale they were written with (`2.50` stays `2.50`, `1e-7` becomes `0.0000001`,
  `-0.0` becomes `0.0`). Non-integer numbers should be `Decimal` (money is); a
  `float` is taken as the text `json.dumps` sends for it (`repr`), which is what
  the database stores when a service writes one; NaN and infinities are refused;
- `inet` as `address/prefix`, IPv6 compressed the way PostgreSQL does it
  (`::ffff:1.2.3.4/128`, `::0.2.0.3/128`), which is not always Python's spelling.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

ZERO_HASH = bytes(32)
_IPV4_MAPPED = 0xFFFF


def canonical_json(value: Any) -> str:
    """`value::jsonb::text`: the text PostgreSQL renders for this JSON value."""
    parts: list[str] = []
    _render(value, parts)
    return "".join(parts)


def _render(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        out.append(numeric_text(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be stored in jsonb")
        out.append(numeric_text(Decimal(repr(value))))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        items = []
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"jsonb object keys are strings, not {type(key).__name__}")
            items.append((len(key.encode("utf-8")), key.encode("utf-8"), key))
        items.sort()
        out.append("{")
        for i, (_, _, key) in enumerate(items):
            if i:
                out.append(", ")
            out.append(_string(key))
            out.append(": ")
            _render(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _render(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def numeric_text(number: Decimal) -> str:
    """How PostgreSQL's numeric_out prints a number: plain digits, scale kept, no negative zero."""
    if not number.is_finite():
        raise ValueError(f"{number} cannot be stored in jsonb")
    if number.is_zero():
        number = abs(number)
    return format(number, "f")


def _string(text: str) -> str:
    if "\x00" in text:
        raise ValueError("PostgreSQL cannot store the NUL character in text or jsonb")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text with a lone surrogate is not valid UTF-8") from exc
    # Python's JSON escaping without ensure_ascii is PostgreSQL's escape_json.
    return json.dumps(text, ensure_ascii=False)


def occurred_at_text(moment: dt.datetime) -> str:
    """`to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`."""
    if moment.tzinfo is None:
        raise ValueError("occurred_at must carry a time zone")
    u = moment.astimezone(dt.UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


Address = (
    str | ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Interface | ipaddress.IPv6Interface
)


def inet_text(address: Address) -> str:
    """`address::inet::text`: the address as PostgreSQL prints it, always with its prefix length."""
    interface = ipaddress.ip_interface(address)
    if isinstance(interface, ipaddress.IPv4Interface):
        return f"{interface.ip}/{interface.network.prefixlen}"
    return f"{_ipv6_text(interface.ip.packed)}/{interface.network.prefixlen}"


def _ipv6_text(packed: bytes) -> str:
    """PostgreSQL's inet_net_ntop for IPv6: the longest run (2+) of zero words becomes `::`,
    and an address that starts with 96 zero bits, or is IPv4-mapped, ends in dotted IPv4."""
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    best_base, best_len, run_base, run_len = -1, 0, -1, 0
    for i, word in enumerate([*words, 1]):
        if word == 0 and i < 8:
            run_base, run_len = (i, 1) if run_base == -1 else (run_base, run_len + 1)
        elif run_base != -1:
            if run_len > best_len:
                best_base, best_len = run_base, run_len
            run_base = -1
    if best_len < 2:
        best_base = -1
    out: list[str] = []
    for i, word in enumerate(words):
        if best_base != -1 and best_base <= i < best_base + best_len:
            if i == best_base:
                out.append(":")
            continue
        if i:
            out.append(":")
        if i == 6 and best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == _IPV4_MAPPED)):
            out.append(".".join(str(b) for b in packed[12:]))
            break
        out.append(f"{word:x}")
    if best_base != -1 and best_base + best_len == 8:
        out.append(":")
    return "".join(out)


def _uuid_text(value: uuid.UUID | str | None) -> str | None:
    return None if value is None else str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def canonical_event_text(
    *,
    id: uuid.UUID | str,
    seq: int,
    occurred_at: dt.datetime | str,
    event_type: str,
    user_id: uuid.UUID | str | None,
    session_id: uuid.UUID | str | None,
    contract_id: str | None,
    ip_address: Address | None,
    user_agent: str | None,
    event_data: Mapping[str, Any],
) -> str:
    """`audit_event_canonical(...)`. `occurred_at` may be given already rendered (as an export holds it)."""
    return canonical_json(
        [
            _uuid_text(id),
            int(seq),
            occurred_at if isinstance(occurred_at, str) else occurred_at_text(occurred_at),
            event_type,
            _uuid_text(user_id),
            _uuid_text(session_id),
            contract_id,
            None if ip_address is None else inet_text(ip_address),
            user_agent,
            event_data,
        ]
    )


def event_hash(prev_hash: bytes, canonical_text: str) -> bytes:
    """`audit_event_hash(...)`: the link of one event to its predecessor."""
    return hashlib.sha256(prev_hash + canonical_text.encode("utf-8")).digest()
