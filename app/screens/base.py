"""What every full screen of the workstation shares (dialogs have theirs in app/dialogs/base.py)."""

from __future__ import annotations

from textual.screen import Screen

from app.caller import ServiceCaller
from app.screens.palette import ScreenKeysCommands
from widgets.plain import draw_inputs_plain


class WorkstationScreen(ServiceCaller, Screen[None]):
    """A full screen of the workstation; its keys are offered in the command palette too."""

    COMMANDS = {ScreenKeysCommands}

    def _on_mount(self) -> None:
        # A search box, a chat question, a filter: pasted text is drawn safely (widgets.plain).
        draw_inputs_plain(self)

    def on_screen_resume(self) -> None:
        """A screen shown again after a while reads the settings again: an admin on another
        workstation may have changed the threshold (at most one reload a minute, see app/session.py)."""
        if self.workstation.logged_in and self.session.settings_stale:
            self.run_worker(self.session.refresh_settings(), group="settings", exit_on_error=False)
