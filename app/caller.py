"""What every workstation screen and dialog shares: the session, its context, one way to handle failures.

Screens call services only from workers (`@work(exclusive=True,
exit_on_error=False)`), so the terminal never freezes; a failed worker lands
in `on_worker_state_changed`, which turns it into a notification a person can
act on. An ended session sends the user back to log in.
"""

from __future__ import annotations

import logging
from typing import cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from app.session import Workstation, WorkstationSession
from services.context import ServiceContext
from services.errors import SavedButNotReloaded, ServiceError, SessionExpired
from widgets.plain import notify_plain

log = logging.getLogger(__name__)


def report_failure(screen: Screen, error: BaseException | None) -> None:
    """Show a failed service call as a notification; an ended session returns to the login."""
    workstation = cast(Workstation, screen.app)
    if isinstance(error, SessionExpired):
        # A worker that outlived its session (logout, lock, expiry) has nothing to report: the login
        # screen is already showing or on its way.
        if workstation.logged_in:
            workstation.session.end(error.message)
        return
    if isinstance(error, SavedButNotReloaded):
        notify_plain(screen, error.message, title=error.title, severity="warning", timeout=15)
        return
    if isinstance(error, ServiceError):
        notify_plain(screen, error.message, title=error.title, severity="error", timeout=8)
        return
    log.exception("unexpected error in a worker", exc_info=error)
    screen.notify(
        # Not "nothing was saved": an unexpected error may come after a commit.
        f"Something unexpected went wrong ({type(error).__name__}). Reload (r where the screen has it) to "
        "see what was saved before trying again; if it keeps happening, tell your administrator.",
        title="Unexpected error",
        severity="error",
        timeout=10,
    )


class ServiceCaller:
    """What screens and dialogs that call services share: the session, the context, failure handling."""

    @property
    def workstation(self) -> Workstation:
        return cast(Workstation, self.app)  # type: ignore[attr-defined]

    @property
    def session(self) -> WorkstationSession:
        return self.workstation.session

    @property
    def ctx(self) -> ServiceContext:
        return self.session.context

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            report_failure(self, event.worker.error)  # type: ignore[arg-type]
