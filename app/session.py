"""The logged-in session the screens work with, and the narrow view of the App they may use.

The App creates a `WorkstationSession` at login and drops it when the session ends; the screens
reach it, and the few things of the App they need before and around a session, through the
`Workstation` protocol. So no screen imports the App, and the App's modules form no circle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from services.config import SystemSettings, get_system_settings
from services.context import Actor, ServiceContext

if TYPE_CHECKING:
    from services.auth import LoginResult
    from services.review import Decision
    from services.runtime import Runtime
    from services.settings import Settings

# An admin on another workstation may change a setting: a screen shown again reloads the settings
# when they are older than this, so a change reaches every workstation within about a minute.
SETTINGS_MAX_AGE_SECONDS = 60.0


class WorkstationSession:
    """Who is logged in, the context every service call receives, and the system settings.

    The one holder of `SystemSettings` on a workstation: screens read `session.settings` when they
    draw, so a refresh reaches all of them.
    """

    def __init__(
        self, context: ServiceContext, *, on_end: Callable[[str], None], on_logout: Callable[[], None]
    ) -> None:
        self.context = context
        # Defaults until the areas are entered: a temporary password must be changed before the
        # services answer anything else, the settings included.
        self.settings = SystemSettings()
        # The reviewer's last approve/reject, offered for undo while the next item is on screen.
        self.last_decision: Decision | None = None
        self._on_end = on_end
        self._on_logout = on_logout
        self._settings_loaded_at: float | None = None

    @property
    def user(self) -> Actor:
        return self.context.actor

    def end(self, message: str) -> None:
        """The session is over (expired, revoked): back to the login screen with this message."""
        self._on_end(message)

    def log_out(self) -> None:
        """End the session on purpose: the service gives back the person's claims."""
        self._on_logout()

    async def refresh_settings(self) -> None:
        """Read the system settings again (at login, after an admin saves one)."""
        self.settings = await get_system_settings(self.context)
        self._settings_loaded_at = time.monotonic()

    @property
    def settings_stale(self) -> bool:
        """Read more than a minute ago (settings not loaded yet wait for the areas to be entered)."""
        loaded = self._settings_loaded_at
        return loaded is not None and time.monotonic() - loaded >= SETTINGS_MAX_AGE_SECONDS


class Workstation(Protocol):
    """What the screens may use of the App: the process settings, the connection, the session."""

    settings: Settings
    demo_logins: list[tuple[str, str, str]]
    runtime: Runtime | None

    @property
    def logged_in(self) -> bool: ...

    @property
    def session(self) -> WorkstationSession:
        """The current session; SessionExpired when nobody is logged in."""
        ...

    def connect(self) -> object:
        """Open the database (again) in the background."""
        ...

    async def signed_in(self, result: LoginResult) -> None:
        """Start the session of a person who has just logged in."""
        ...
