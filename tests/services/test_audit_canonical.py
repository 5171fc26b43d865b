"""The Python canonical encoder renders exactly what PostgreSQL renders, byte for byte.

The property tests send random values to the real database functions
(`audit_event_canonical`, `audit_event_hash`, `::jsonb::text`, `::inet::text`)
and compare. The JSON sent is written by a deliberately different writer
(insertion-ordered keys, ASCII escapes, exponent notation) so that the
database really re-renders it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.audit.canonical import (
    canonical_event_text,
    canonical_json,
    event_hash,
    inet_text,
    numeric_text,
)

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# What PostgreSQL text can hold: no NUL, no lone surrogates; control characters, quotes,
# backslashes and every plane of Unicode are welcome.
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
tricky_texts = st.one_of(
    texts, st.sampled_from(['"', "\\", "\\u0041", "\n\t\r\b\f\x1f\x7f", "é", "😀", "\u2028"])
)
decimals = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30, places=None
)
small_exponent_decimals = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**20), 10**20),
    st.integers(-30, 30),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    decimals,
    small_exponent_decimals,
    tricky_texts,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(tricky_texts, children, max_size=5)
    ),
    max_leaves=25,
)
event_data = st.dictionaries(tricky_texts, json_values, max_size=6)


def as_input_json(value: Any) -> str:
    """JSON as another program might send it: keys in insertion order, ASCII escapes, exponents."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{as_input_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(as_input_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


@PROPERTY
@given(value=json_values)
async def test_json_values_render_like_jsonb(superuser: asyncpg.Connection, value: Any) -> None:
    rendered = await superuser.fetchval("SELECT $1::text::jsonb::text", as_input_json(value))
    assert canonical_json(value) == rendered


ipv4 = st.builds(
    lambda n, prefix: ipaddress.ip_interface((n, prefix)), st.integers(0, 2**32 - 1), st.integers(0, 32)
)
# Addresses with many zero words, so that every way of compressing them is tried.
ipv6_words = st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8, 0x1234]), min_size=8, max_size=8)
ipv6 = st.builds(
    lambda words, prefix: ipaddress.ip_interface(
        (int.from_bytes(b"".join(w.to_bytes(2, "big") for w in words), "big"), prefix)
    ),
    ipv6_words,
    st.sampled_from([128, 128, 64, 0, 127]),
)


@PROPERTY
@given(address=st.one_of(ipv4, ipv6))
async def test_addresses_render_like_inet(
    superuser: asyncpg.Connection, address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
) -> None:
    text = address.with_prefixlen
    assert inet_text(text) == await superuser.fetchval("SELECT $1::inet::text", text)
    assert inet_text(inet_text(text)) == inet_text(text)


moments = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)
)
optional_uuids = st.one_of(st.none(), st.uuids())


@PROPERTY
@given(
    event_id=st.uuids(),
    seq=st.integers(1, 2**63 - 1),
    occurred_at=moments,
    event_type=tricky_texts,
    user_id=optional_uuids,
    session_id=optional_uuids,
    contract_id=st.one_of(st.none(), tricky_texts),
    ip=st.one_of(st.none(), ipv4, ipv6),
    user_agent=st.one_of(st.none(), tricky_texts),
    data=event_data,
    prev_hash=st.binary(min_size=32, max_size=32),
)
async def test_event_canonical_text_and_hash_match_the_database(
    superuser: asyncpg.Connection,
    event_id: uuid.UUID,
    seq: int,
    occurred_at: dt.datetime,
    event_type: str,
    user_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    contract_id: str | None,
    ip: ipaddress.IPv4Interface | ipaddress.IPv6Interface | None,
    user_agent: str | None,
    data: dict[str, Any],
    prev_hash: bytes,
) -> None:
    ip_text = None if ip is None else ip.with_prefixlen
    args = (event_id, seq, occurred_at, event_type, user_id, session_id, contract_id, ip_text, user_agent)
    db_text, db_hash = await superuser.fetchrow(
        "SELECT audit_event_canonical($1, $2, $3, $4, $5, $6, $7, $8::inet, $9, $10::text::jsonb), "
        "audit_event_hash($11, $1, $2, $3, $4, $5, $6, $7, $8::inet, $9, $10::text::jsonb)",
        *args,
        as_input_json(data),
        prev_hash,
    )
    text = canonical_event_text(
        id=event_id,
        seq=seq,
        occurred_at=occurred_at,
        event_type=event_type,
        user_id=user_id,
        session_id=session_id,
        contract_id=contract_id,
        ip_address=ip_text,
        user_agent=user_agent,
        event_data=data,
    )
    assert text == db_text
    assert event_hash(prev_hash, text) == db_hash


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (Decimal("2.50"), "2.50"),
        (Decimal("1E+2"), "100"),
        (Decimal("1e-7"), "0.0000001"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("150e-1"), "15.0"),
    ],
)
def test_numbers_keep_their_scale_and_never_use_exponents(number: Decimal, text: str) -> None:
    assert numeric_text(number) == text


async def test_floats_render_as_the_database_stores_what_json_dumps_sends(
    superuser: asyncpg.Connection,
) -> None:
    values = [0.1, 1.0, -0.0, 1e-7, 1.5e-7, 1e22, 123456.789, 2.5e16]
    rendered = await superuser.fetchval("SELECT $1::text::jsonb::text", json.dumps(values))
    assert canonical_json(values) == rendered


@pytest.mark.parametrize(
    "value", [{"text": "a\x00b"}, {"n": float("nan")}, {"n": float("inf")}, {1: "key"}, {"s": "\ud800"}, b"x"]
)
def test_values_postgresql_cannot_store_are_refused(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_json(value)
