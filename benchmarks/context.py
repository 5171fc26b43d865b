"""What every group of measurements works with: the database, people logged in, and varied arguments."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from benchmarks.samples import Samples, WriteItem
from db.database import Database
from services.auth import login
from services.context import ServiceContext
from services.runtime import user_agent
from synthetic.seeding.scale import SCALE_PASSWORD


@dataclass
class BenchContext:
    db: Database
    # The owner's connection, for the bench's own bookkeeping (drawing samples, putting rows back).
    owner: asyncpg.Connection
    reviewers: list[ServiceContext]
    supervisor: ServiceContext
    samples: Samples
    # Pending items set aside for the write measurements, taken in order by `take_items`.
    write_items: list[WriteItem]
    runs: int
    warmup: int

    def reviewer(self, i: int) -> ServiceContext:
        return self.reviewers[i % len(self.reviewers)]

    def take_items(self, count: int) -> list[WriteItem]:
        if count > len(self.write_items):
            raise RuntimeError(
                f"the queue has too few pending items for the write measurements ({count} wanted); "
                "seed the benchmark database again (run without --reuse)"
            )
        taken, self.write_items = self.write_items[:count], self.write_items[count:]
        return taken


async def log_in(db: Database, bcrypt_rounds: int, usernames: list[str]) -> list[ServiceContext]:
    """Real sessions, opened by the login service as the workstation opens them."""
    results = await asyncio.gather(
        *(
            login(db, bcrypt_rounds, name, SCALE_PASSWORD, ip_address=None, user_agent=user_agent("bench"))
            for name in usernames
        )
    )
    return [ServiceContext(db=db, actor=result.actor) for result in results]
