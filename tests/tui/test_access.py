"""Who may open which area: f4 dashboard, f5 administration, f6 audit — refused areas say so and stay put."""

from __future__ import annotations

import pytest
from textual.screen import Screen

from app.screens.admin import AdminScreen
from app.screens.audit import AuditScreen
from app.screens.dashboard import DashboardScreen
from app.screens.queue import QueueScreen
from app.workstation import RefundReviewApp
from tests.tui.conftest import PASSWORD
from tests.tui.pilot import log_in, wait_until

AREA_SCREENS: dict[str, type[Screen]] = {"f5": AdminScreen, "f6": AuditScreen, "f4": DashboardScreen}


def refusals(app: RefundReviewApp) -> list[str]:
    return [n.message for n in app._notifications if "not open to your role" in n.message]


@pytest.mark.parametrize(
    ("role", "landing", "opens", "refused"),
    [
        ("reviewer", QueueScreen, [], ["f5", "f6", "f4"]),
        ("supervisor", DashboardScreen, ["f6", "f4"], ["f5"]),
        ("admin", DashboardScreen, ["f5", "f6", "f4"], []),
    ],
)
async def test_areas_open_by_role(
    workstation: RefundReviewApp,
    make_context,
    role: str,
    landing: type[Screen],
    opens: list[str],
    refused: list[str],
) -> None:
    await make_context(role, username="pat")
    async with workstation.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "pat", PASSWORD)
        await wait_until(pilot, lambda: isinstance(workstation.screen, landing))
        for key in refused:
            before = len(refusals(workstation))
            await pilot.press(key)
            await wait_until(pilot, lambda before=before: len(refusals(workstation)) == before + 1)
            assert isinstance(workstation.screen, landing)
        for key in opens:
            await pilot.press(key)
            await wait_until(pilot, lambda key=key: isinstance(workstation.screen, AREA_SCREENS[key]))
        assert len(refusals(workstation)) == len(refused)
