"""Keys in the order they were typed, each to where the previous one left the focus.

Textual forwards a key to whatever has focus when the App reads it, not when the key before it
has been handled. Typed fast, "rita<tab>secret" all lands in the username (the tab moves the
focus only once the username box handles it), and keys typed right after one that opens a dialog
reach the dialog before it has focused its first field, and are dropped. So the App sends one
key at a time: the next only once the widget that took the previous one has handled it (and with
it any focus change it made), and only to a screen that is mounted and has placed its focus.
"""

from __future__ import annotations

import time

from textual import events
from textual.app import App
from textual.screen import Screen

# Keys typed while the screen they are meant for is not ready are looked at again this often, and wait at
# most MAX_KEY_HOLD_SECONDS for a screen that never focuses anything.
KEY_RETRY_SECONDS = 0.01
MAX_KEY_HOLD_SECONDS = 0.5
# A key that something stopped on its way to the App's bindings counts as handled after this long.
KEY_DONE_SECONDS = 0.2


class KeysInTypedOrder(App[None]):
    """The App's part that sends keys on one at a time (mixed into the workstation's App)."""

    def __init__(self) -> None:
        super().__init__()
        # Keys typed before the previous one was handled or while the screen was not ready for them.
        self._held_keys: list[events.Key] = []
        self._key_in_flight: events.Key | None = None
        self._in_flight_since = 0.0
        self._recheck_scheduled = False
        # Since when held keys wait for the screen to focus something (None: they do not wait).
        self._waiting_since: float | None = None
        self._keys_went_to: Screen | None = None
        # True while the App changes screens under the keys (a session ending): they wait.
        self._settling = False

    def hold_keys(self) -> None:
        """Keep keys back until release_keys: the screen they are meant for is being prepared."""
        self._settling = True

    def release_keys(self) -> None:
        self._settling = False
        self.call_later(self._send_held_key)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._key_in_flight is not None or self._held_keys or not self._ready_for_keys():
                self._held_keys.append(event)
                self._wait_for_screen()
                return
            await self._send_key(event)
            return
        await super().on_event(event)

    async def _send_key(self, key: events.Key) -> None:
        target = self.focused or self.screen
        self._keys_went_to = self.screen
        self._key_in_flight = key
        await super().on_event(key)
        if not key.is_forwarded:
            # A priority binding took it here and then: done.
            self._key_done(key)
            return
        # Runs after the key in the target's own queue: a key the target used (a letter in a box) is
        # done then; one it passed on is done when it reaches the App's bindings (_on_key), or, caught
        # by something on the way, after KEY_DONE_SECONDS at the latest (_recheck_held_keys).
        self._in_flight_since = time.monotonic()
        target.call_later(self._key_handled_by_target, key)

    def _key_handled_by_target(self, key: events.Key) -> None:
        if key._stop_propagation:
            self._key_done(key)

    def _on_key(self, event: events.Key) -> None:
        # Textual calls App._on_key (the bindings) right after this, before anything else in the App's
        # queue: the next key, sent through that queue, comes after the bindings of this one.
        self._key_done(event)

    def _key_done(self, key: events.Key) -> None:
        if self._key_in_flight is not key:
            return
        self._key_in_flight = None
        if self._held_keys:
            self.call_later(self._send_held_key)

    async def _send_held_key(self) -> None:
        if self._key_in_flight is not None or not self._held_keys:
            return
        if not self._ready_for_keys():
            self._wait_for_screen()
            return
        await self._send_key(self._held_keys.pop(0))

    def _ready_for_keys(self) -> bool:
        screen = self.screen
        if self._settling or not screen.is_mounted:
            return False
        # A screen new to the keys, with fields to type into, has first to focus one of them (its
        # on_mount asks for it), or to have waited long enough that it evidently wants none.
        if screen is self._keys_went_to or screen.focused is not None or not screen.focus_chain:
            self._waiting_since = None
            return True
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if now - self._waiting_since > MAX_KEY_HOLD_SECONDS:
            self._waiting_since = None
            return True
        return False

    def _wait_for_screen(self) -> None:
        """Look again shortly (one timer at a time, and only while keys are held back)."""
        if not self._recheck_scheduled:
            self._recheck_scheduled = True
            self.set_timer(KEY_RETRY_SECONDS, self._recheck_held_keys)

    async def _recheck_held_keys(self) -> None:
        self._recheck_scheduled = False
        key = self._key_in_flight
        if key is not None:
            if time.monotonic() - self._in_flight_since < KEY_DONE_SECONDS:
                self._wait_for_screen()
                return
            # Caught on its way to the App (a widget stopped it): it is as done as it will be.
            self._key_in_flight = None
        await self._send_held_key()
