"""What every dialog of the workstation shares: it calls services as screens do, over a screen."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.screen import ModalScreen

from app.caller import ServiceCaller
from widgets.plain import draw_inputs_plain

ResultType = TypeVar("ResultType")


class WorkstationDialog(ServiceCaller, ModalScreen[ResultType], Generic[ResultType]):
    """A dialog over a screen."""

    def _on_mount(self) -> None:
        # Every input of every dialog draws pasted or prefilled text safely (widgets.plain).
        draw_inputs_plain(self)
