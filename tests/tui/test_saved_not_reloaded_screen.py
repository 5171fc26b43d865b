"""On screen: a correction whose read-back dies after the commit says it was saved, and r shows it."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import pytest

from app.dialogs.correction_dialog import CorrectionRequest
from app.screens.queue import QueueScreen
from app.screens.review import ReviewScreen
from app.workstation import RefundReviewApp
from tests.fixtures.connections import kill_read_backs
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until


async def test_the_screen_says_saved_and_r_reloads(
    workstation: RefundReviewApp,
    make_context,
    add_contract,
    superuser: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_context("reviewer", username="rita")
    item = await add_contract(premium_confidence=40)
    app = workstation
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "rita", PASSWORD)
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        screen: ReviewScreen = app.screen  # type: ignore[assignment]
        seen_version = screen.detail.version
        killed = kill_read_backs(monkeypatch, superuser)
        screen._correct("gap_insurance_premium", CorrectionRequest("1300", "misread_value", "scan p.2"))
        await wait_until(pilot, lambda: bool(app._notifications))
        messages = [n.message for n in app._notifications]
        assert killed
        assert any(m.endswith("Saved. The screen could not reload: press r.") for m in messages), messages
        assert not any("nothing was saved" in m for m in messages)
        assert screen.detail.version == seen_version  # the screen still shows what it had
        monkeypatch.undo()
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.detail.version == seen_version + 1)
        premium = next(f for f in screen.detail.fields if f.name == "gap_insurance_premium")
        assert premium.value == Decimal("1300.00") and premium.corrected
    stored = await superuser.fetchval("SELECT gap_insurance_premium FROM extractions WHERE id = $1", item.id)
    assert stored == Decimal("1300.00")
