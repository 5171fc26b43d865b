"""What every dialog of the workstation shares: it calls services as screens do, over a screen."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.screen import ModalScreen

from app.caller import ServiceCaller

ResultType = TypeVar("ResultType")


class WorkstationDialog(ServiceCaller, ModalScreen[ResultType], Generic[ResultType]):
    """A dialog over a screen."""
