"""Varied, realistic arguments for the measured calls, drawn at random from the benchmark data.

Repeating one call with one argument measures a cache; a reviewer's day touches different contracts,
accounts, words and places in the queue. These are read once, before measuring, on the owner's
connection (they are the bench's own bookkeeping, not service calls).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from services.review import QueueCursor

_WORD = re.compile(r"[A-Za-z]{5,}")
# Words whose hits are many or few: full-text cost depends on how common a word is.
COMMON_WORDS = ("refund", "waiver", "cancellation", "premium", "lienholder")


@dataclass(frozen=True)
class WriteItem:
    """A pending, unclaimed extraction a write benchmark may correct and approve."""

    extraction_id: uuid.UUID
    contract_id: str
    version: int
    premium: Decimal | None

    def corrected_premium(self) -> str:
        """A value different from the current one (the service refuses a correction to the same)."""
        return f"{(self.premium or Decimal(0)) + Decimal('1.00'):.2f}"


@dataclass(frozen=True)
class Samples:
    cursors: list[QueueCursor]
    extraction_ids: list[uuid.UUID]
    contract_ids: list[str]
    accounts: list[str]
    words: list[str]


async def draw_samples(conn: asyncpg.Connection, count: int, rng: random.Random) -> Samples:
    """`count` of each kind of argument (fewer when the database is smaller)."""
    pending = await conn.fetch(
        "SELECT queue_rank, extracted_at, id FROM extractions WHERE status = 'pending' "
        "ORDER BY random() LIMIT $1",
        count,
    )
    contracts = await conn.fetch(
        "SELECT c.contract_id, c.account_number, e.id, c.document_text FROM contracts c "
        "JOIN extractions e ON e.contract_id = c.contract_id ORDER BY random() LIMIT $1",
        count,
    )
    words: set[str] = set()
    for row in contracts[: max(1, count // 4)]:
        found = _WORD.findall(row["document_text"] or "")
        words.update(w.lower() for w in rng.sample(found, min(3, len(found))))
    vocabulary = sorted(words) + list(COMMON_WORDS)
    return Samples(
        cursors=[
            QueueCursor(queue_rank=r["queue_rank"], extracted_at=r["extracted_at"], extraction_id=r["id"])
            for r in pending
        ],
        extraction_ids=[r["id"] for r in contracts],
        contract_ids=[r["contract_id"] for r in contracts],
        accounts=[r["account_number"] for r in contracts],
        words=[rng.choice(vocabulary) for _ in range(count)],
    )


async def tail_items(conn: asyncpg.Connection, count: int, skip: int = 0) -> list[WriteItem]:
    """Pending, unclaimed items from the far end of the queue (most confident, newest).

    Writes take their items there so that they leave the head of the queue, where claims and the first
    queue page are measured, as it was.
    """
    rows = await conn.fetch(
        """
        SELECT id, contract_id, version, gap_insurance_premium FROM extractions
         WHERE status = 'pending' AND claimed_by IS NULL
         ORDER BY queue_rank DESC, extracted_at DESC, id DESC
         OFFSET $2 LIMIT $1
        """,
        count,
        skip,
    )
    return [WriteItem(r["id"], r["contract_id"], r["version"], r["gap_insurance_premium"]) for r in rows]
