"""The footer of key bindings, rebuilt only when the keys it shows change.

Textual's Footer rebuilds every key widget whenever the screen's bindings are
announced as updated, which happens on every screen switch and every
refresh_bindings(). On the review screen that rebuild was most of the time
between a key press and the next item; here it happens only when the keys,
their labels or their enabled state differ from what is on show.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[tuple[str, str, bool], ...] | None = None

    def _wanted(self, screen: Screen) -> tuple[tuple[str, str, bool], ...]:
        return tuple(
            (binding.key, binding.description, enabled)
            for _, binding, enabled, _ in screen.active_bindings.values()
            if binding.show
        )

    def bindings_changed(self, screen: Screen) -> None:
        wanted = self._wanted(screen)
        if wanted == self._shown and self._bindings_ready:
            return
        self._shown = wanted
        super().bindings_changed(screen)
