"""The connection dies between COMMIT and the read-back: the message says what was saved, never "nothing"."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from services import review
from services.context import ServiceContext
from services.errors import SavedButNotReloaded
from services.review import claim_next
from tests.fixtures.connections import kill_read_backs
from tests.services.conftest import MakeContext


@pytest.fixture
def kill_read_back(monkeypatch: pytest.MonkeyPatch, superuser: asyncpg.Connection) -> list[int]:
    return kill_read_backs(monkeypatch, superuser)


async def _correct(ctx: ServiceContext, item: uuid.UUID) -> Any:
    return await review.correct_field(
        ctx, item, 2, "gap_insurance_premium", "1300", "misread_value", "scan p.2"
    )


async def _undo(ctx: ServiceContext, item: uuid.UUID) -> Any:
    decision = await review.reject(ctx, item, 2, "no premium stated")
    return await review.undo_last_decision(ctx, item, decision.version)


async def _claim(ctx: ServiceContext, item: uuid.UUID) -> Any:
    return await claim_next(ctx)


CASES: dict[str, tuple[Callable[[ServiceContext, uuid.UUID], Awaitable[Any]], str, str]] = {
    "correction": (_correct, "The GAP premium of {} is corrected.", "correct"),
    "undo": (_undo, "Your decision on {} is undone; it is yours again.", "reopen"),
    "claim": (_claim, "{} is yours to review.", "claim"),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_read_back_that_fails_after_the_commit_says_it_was_saved(
    case: str,
    make_context: MakeContext,
    add_contract: Callable[..., Awaitable[Any]],
    superuser: asyncpg.Connection,
    kill_read_back: list[int],
) -> None:
    call, saved, event_type = CASES[case]
    ctx = await make_context("reviewer")
    item = await add_contract(premium_confidence=40)
    if case != "claim":
        await superuser.execute(
            "UPDATE extractions SET claimed_by = $1, claimed_at = now(), claim_expires_at = now() + interval '1 hour',"
            " version = 2 WHERE id = $2",
            ctx.actor.user_id,
            item.id,
        )
    with pytest.raises(SavedButNotReloaded) as raised:
        await call(ctx, item.id)
    assert kill_read_back, "the read-back never ran"
    message = raised.value.message
    assert message == f"{saved.format(item.contract_id)} Saved. The screen could not reload: press r."
    assert "nothing was saved" not in message
    # What the message says is saved is saved, with its audit event.
    events = await superuser.fetchval(
        "SELECT count(*) FROM audit_events WHERE event_type = $1 AND contract_id = $2",
        event_type,
        item.contract_id,
    )
    assert events == 1
    row = await superuser.fetchrow(
        "SELECT status, claimed_by, gap_insurance_premium FROM extractions WHERE id = $1", item.id
    )
    assert (row["status"], row["claimed_by"]) == ("pending", ctx.actor.user_id)
    if case == "correction":
        assert str(row["gap_insurance_premium"]) == "1300.00"
        assert await superuser.fetchval(
            "SELECT reason_note FROM corrections WHERE extraction_id = $1", item.id
        ) == ("scan p.2")
    # And the screen's r (a fresh read) works once the database answers again.
    detail = await review.get_detail(ctx, item.id)
    assert detail.version == await superuser.fetchval(
        "SELECT version FROM extractions WHERE id = $1", item.id
    )
