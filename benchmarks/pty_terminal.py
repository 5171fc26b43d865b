"""A program in a pseudo-terminal, read as a person would see it: for the workstation measured from outside.

The workstation cost benchmark runs `refund-review` in one, and the SSH test runs the OpenSSH client in
one. A thread keeps reading the terminal: a terminal nobody reads fills up, and the program writing to
it (the workstation, or ssh relaying it) stops until someone does.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping

# Control sequences (CSI, OSC, charset and keypad selections) removed from what the terminal shows.
_CONTROL = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()=>][0-9A-Za-z]?"
)


class PtyTerminal:
    """`command` in a terminal of `columns` x `rows`; `wait_for` text, `type` keys, `close`."""

    def __init__(
        self, command: list[str], env: Mapping[str, str], *, columns: int = 120, rows: int = 40
    ) -> None:
        self._master, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            command,
            stdin=child,
            stdout=child,
            stderr=child,
            env=dict(env),
            close_fds=True,
            start_new_session=True,
        )
        os.close(child)
        self._text: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._text.append(_CONTROL.sub("", chunk.decode("utf-8", "replace")))

    @property
    def screen(self) -> str:
        """Everything shown so far, control sequences removed."""
        with self._lock:
            return "".join(self._text)

    def wait_for(self, text: str, timeout: float = 30) -> float:
        """Seconds until `text` has been shown; AssertionError (with the screen's tail) if it is not."""
        started = time.monotonic()
        while text not in self.screen:
            if time.monotonic() - started > timeout or self.process.poll() is not None:
                ended = "ended" if self.process.poll() is not None else "did not show it in time"
                raise AssertionError(f"waiting for {text!r}, the program {ended}: {self.screen[-3000:]!r}")
            time.sleep(0.02)
        return time.monotonic() - started

    def forget(self) -> None:
        """Drop what was shown so far: the next `wait_for` looks only at what comes after."""
        with self._lock:
            self._text.clear()

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        os.close(self._master)
