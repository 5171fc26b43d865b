"""Ten million audit events with an intact hash chain, in about a minute of CPU.

The insert trigger links events one at a time under a lock, which is right
for a live system and far too slow for a bulk load. Here the chain is
computed in Python exactly as the trigger computes it — SHA-256 of the
previous hash and the event's canonical text — and the rows go in by COPY
with the trigger bypassed (`session_replication_role = replica`, which needs
a superuser). The canonical text of every distinct event_data value and user
agent is rendered by PostgreSQL itself, and the first rows are checked
against `audit_event_canonical()` before anything is written, so the two can
never drift apart: a mismatch stops the load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass

import asyncpg

from services.extraction.rules import RULES_VERSION

AUDIT_COLUMNS = (
    "id", "seq", "occurred_at", "event_type", "user_id", "session_id", "contract_id", "ip_address",
    "user_agent", "event_data", "prev_hash", "hash",
)  # fmt: skip
CHUNK_BYTES = 1 << 20

# (event type, weight, concerns a contract, done by the system rather than a person)
EVENT_MIX = (
    ("view", 30, True, False),
    ("extract", 18, True, True),
    ("search", 12, False, False),
    ("claim", 10, True, False),
    ("approve", 9, True, False),
    ("correct", 4, True, False),
    ("release", 3, True, False),
    ("chat", 3, True, False),
    ("login", 4, False, False),
    ("logout", 3, False, False),
    ("reject", 1, True, False),
    ("login_failed", 1, False, False),
    ("reopen", 1, True, False),
)
SEARCH_WORDS = ("pro rata", "Honda", "short-rate", "Rule of 78", "cancellation fee", "Ford", "Texas",
                "actuarial", "GAP-2024-0", "4100", "lienholder", "Toyota Camry", "refund")  # fmt: skip


def _event_data_pool(rng: random.Random) -> dict[str, list[dict[str, object]]]:
    """A few dozen realistic event_data values per type; rows pick from them."""
    fields = ("gap_insurance_premium", "refund_calculation_method", "cancellation_fee")
    pool: dict[str, list[dict[str, object]]] = {
        "view": [{"screen": s} for s in ("review", "search", "history")],
        "extract": [
            {"provider": p, "model": m, "prompt_tokens": rng.randint(3_000, 6_000) if p != "rules" else 0,
             "completion_tokens": rng.randint(200, 500) if p != "rules" else 0,
             "cost_usd": f"{rng.uniform(0.01, 0.03):.6f}" if p != "rules" else "0", "ms": rng.randint(3, 9_000)}
            for p, m in (("rules", f"rules-{RULES_VERSION}"), ("anthropic", "claude-sonnet-4-5"),
                         ("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"))
            for _ in range(8)
        ],
        "search": [{"query": w, "kind": k, "results": rng.randint(0, 500)}
                   for w in SEARCH_WORDS for k in ("fulltext", "contract_id")],
        "claim": [{"lease_minutes": 15}],
        "approve": [{"version": v} for v in range(1, 5)],
        "correct": [{"field": f, "old": f"{o}.00", "new": f"{o + d}.00", "reason_code": r, "version": 1}
                    for f in fields for o in (695, 895, 1195) for d in (-100, 50)
                    for r in ("misread_value", "wrong_source")],
        "release": [{}],
        "chat": [{"question_chars": n, "provider": "rules"} for n in (24, 57, 90)],
        "login": [{}],
        "logout": [{"reason": "logout"}, {"reason": "idle"}],
        "reject": [{"reason": r} for r in ("Document is illegible", "Wrong contract attached")],
        "login_failed": [{"reason": "wrong_password"}],
        "reopen": [{"reason": "Customer disputed the refund amount"}],
    }  # fmt: skip
    return pool


@dataclass(frozen=True)
class _Rendered:
    text: str  # the server's jsonb text: both the canonical form and the value loaded
    csv: str  # the same, quoted as a CSV field


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


async def _render(conn: asyncpg.Connection, values: Sequence[str], cast: str) -> list[str]:
    """PostgreSQL's own text of each value (jsonb key order and escaping come from the server)."""
    rows = await conn.fetch(
        f"SELECT to_jsonb(v::{cast})::text AS t FROM unnest($1::text[]) WITH ORDINALITY u(v, n) ORDER BY n",
        list(values),
    )
    return [r["t"] for r in rows]


@dataclass
class AuditSeedPlan:
    count: int
    start_seq: int
    prev_hash: bytes
    start: dt.datetime
    end: dt.datetime
    contract_ids: Sequence[str]
    users: Sequence[uuid.UUID]
    seed: int = 0


class _Clock:
    """Canonical and CSV timestamps from integer microseconds, formatting each day only once."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def text(self, micros: int) -> str:
        day, rest = divmod(micros, 86_400_000_000)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = dt.datetime.fromtimestamp(day * 86_400, dt.UTC).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        hour, rest = divmod(rest, 3_600_000_000)
        minute, rest = divmod(rest, 60_000_000)
        second, micro = divmod(rest, 1_000_000)
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}Z"


def _uuid_text(bits: int) -> str:
    """The text of a UUID from 128 random bits, as PostgreSQL prints it (no uuid.UUID object: 10M of them)."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class _Vocabulary:
    """Everything rows pick from, with the server's own rendering of each value."""

    data: dict[str, list[_Rendered]]
    agents: list[str]
    agent_texts: list[str]


async def _vocabulary(conn: asyncpg.Connection, seed: int) -> _Vocabulary:
    pool = _event_data_pool(random.Random(seed))
    data: dict[str, list[_Rendered]] = {}
    for event_type, values in pool.items():
        texts = await _render(conn, [json.dumps(v) for v in values], "jsonb")
        data[event_type] = [_Rendered(t, _csv_field(t)) for t in texts]
    agents = [f"refund-review/0.1.0 (workstation; xterm-256color; ws-{i:02d}; Linux)" for i in range(12)]
    return _Vocabulary(data=data, agents=agents, agent_texts=await _render(conn, agents, "text"))


_DRAW = 8_192  # random choices are drawn this many at a time, in C, rather than one call per field


def _events(
    plan: AuditSeedPlan, vocabulary: _Vocabulary
) -> Iterator[tuple[str, str, tuple[str | None, ...]]]:
    """(canonical text, CSV line without the hashes, typed values) of each planned event, deterministically."""
    rng = random.Random(plan.seed * 7_919 + plan.start_seq)
    weighted = [(t, c, s, vocabulary.data[t]) for t, w, c, s in EVENT_MIX for _ in range(w)]
    agents = [
        (text, _csv_field(agent), agent)
        for text, agent in zip(vocabulary.agent_texts, vocabulary.agents, strict=True)
    ]
    people = [
        (str(u), f"10.20.{i // 250}.{i % 250 + 1}/32", *agents[i % len(agents)])
        for i, u in enumerate(plan.users)
    ]
    contracts = plan.contract_ids or [None]
    sessions: dict[tuple[int, int], str] = {}
    start_us = int(plan.start.timestamp() * 1_000_000)
    step = max(int((plan.end - plan.start).total_seconds() * 1_000_000) // max(plan.count, 1), 1)
    clock = _Clock()
    seq = plan.start_seq
    for first in range(0, plan.count, _DRAW):
        k = min(_DRAW, plan.count - first)
        kinds = rng.choices(weighted, k=k)
        who = rng.choices(range(len(people)), k=k)
        which = rng.choices(contracts, k=k)
        picks = [rng.random() for _ in range(k)]
        for n in range(k):
            event_type, has_contract, by_system, payloads = kinds[n]
            event_id = _uuid_text(rng.getrandbits(128))
            at = start_us + (first + n) * step
            ts = clock.text(at + int(picks[n] * step))
            if by_system:
                user = session = ip = agent = None
                agent_text, agent_csv = "null", ""
            else:
                u = who[n]
                user, ip, agent_text, agent_csv, agent = people[u]
                key = (u, at // 86_400_000_000)
                session = sessions.get(key)
                if session is None:
                    session = sessions[key] = _uuid_text(rng.getrandbits(128))
            contract = which[n] if has_contract else None
            payload = payloads[int(picks[n] * len(payloads))]
            canonical = (
                f'["{event_id}", {seq}, "{ts}", "{event_type}", '
                f"{_q(user)}, {_q(session)}, {_q(contract)}, {_q(ip)}, {agent_text}, {payload.text}]"
            )
            line = (
                f"{event_id},{seq},{ts},{event_type},{user or ''},{session or ''},{contract or ''},{ip or ''},"
                f"{agent_csv},{payload.csv},"
            )
            yield (
                canonical,
                line,
                (event_id, str(seq), ts, event_type, user, session, contract, ip, agent, payload.text),
            )
            seq += 1


def _q(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


async def check_canonical(conn: asyncpg.Connection, plan: AuditSeedPlan, vocabulary: _Vocabulary) -> None:
    """Refuse to load if Python's canonical text differs from the database's on the first rows."""
    for expected, _, values in itertools.islice(_events(plan, vocabulary), 5):
        actual = await conn.fetchval(
            "SELECT audit_event_canonical($1::text::uuid, $2::text::bigint, $3::text::timestamptz, $4::text, "
            "$5::text::uuid, $6::text::uuid, $7::text, $8::text::inet, $9::text, $10::text::jsonb)",
            *values,
        )
        if actual != expected:
            raise RuntimeError(
                f"bulk audit canonical text differs from the database's:\n{expected}\n{actual}"
            )


def audit_chunks(
    plan: AuditSeedPlan, vocabulary: _Vocabulary, on_progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """CSV chunks of the planned events, chained from `plan.prev_hash`; leaves the last hash in the plan."""
    prev = plan.prev_hash
    sha256 = hashlib.sha256
    out: list[str] = []
    size = done = 0
    for canonical, line, _ in _events(plan, vocabulary):
        digest = sha256(prev + canonical.encode()).digest()
        row = f"{line}\\x{prev.hex()},\\x{digest.hex()}\n"
        prev = digest
        out.append(row)
        size += len(row)
        done += 1
        if size >= CHUNK_BYTES:
            yield "".join(out).encode()
            out, size = [], 0
            if on_progress:
                on_progress(done)
    if out:
        yield "".join(out).encode()
    if on_progress:
        on_progress(done)
    plan.prev_hash = prev


async def prepare(conn: asyncpg.Connection, plan: AuditSeedPlan) -> _Vocabulary:
    """Render the vocabulary on the server and check the canonical text before any row is written."""
    vocabulary = await _vocabulary(conn, plan.seed)
    await check_canonical(conn, plan, vocabulary)
    return vocabulary


async def as_async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
