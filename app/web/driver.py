"""Textual's web driver, for a workstation process that `refund-review serve` runs for one browser tab."""

from __future__ import annotations

import os
from typing import Any

from textual import messages
from textual.app import App
from textual.drivers.web_driver import WebDriver


class WorkstationWebDriver(WebDriver):
    """Ends the workstation when the server that runs it has gone.

    textual-serve asks a tab's process to quit when the tab closes; but if the server itself goes away
    (killed, crashed), the process only sees the end of its standard input, or a broken pipe on its
    output. Textual's driver then stops reading and lets the app run on, holding a session and its claims
    for nobody, or fails in the middle of drawing, before the app can end the session. Here either is a
    quit like any other: the workstation ends the session and gives back the claims, and whatever it
    would still have drawn goes nowhere.
    """

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._output_gone = False
        # Every write of the driver (screen data, meta, files) goes through this one function.
        self._write = self._write_or_quit

    def _write_or_quit(self, data: bytes) -> int:
        if not self._output_gone:
            try:
                return os.write(self.fileno, data)
            except (BrokenPipeError, ConnectionResetError):
                self._output_gone = True
                self._app.post_message(messages.ExitApp())
        return len(data)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        # Set when the app stops on its own (a quit); clear when the input ended under it.
        if not self.exit_event.is_set():
            self._app.post_message(messages.ExitApp())
