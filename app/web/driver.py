"""Textual's web driver, for a workstation process that `refund-review serve` runs for one browser tab."""

from __future__ import annotations

from textual import messages
from textual.drivers.web_driver import WebDriver


class WorkstationWebDriver(WebDriver):
    """Ends the workstation when its input ends.

    textual-serve asks a tab's process to quit when the tab closes; but if the server itself goes away
    (killed, crashed), the process only sees the end of its standard input, and Textual's driver then
    stops reading and lets the app run on, holding a session and its claims for nobody. Here the end of
    the input is a quit like any other, so the workstation ends the session and gives back the claims.
    """

    def run_input_thread(self) -> None:
        super().run_input_thread()
        # Set when the app stops on its own (a quit); clear when the input ended under it.
        if not self.exit_event.is_set():
            self._app.post_message(messages.ExitApp())
