"""The keys of the screen on show, by name, in the command palette (ctrl+p).

A screen lists this provider in its COMMANDS; the palette then offers each of the screen's own bindings
(as the user has them mapped, and only while they are enabled) under the screen's name, with its key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenKeysCommands(Provider):
    """The screen's own bindings (not the app's, already offered, nor Screen's focus and copy keys)."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        own = {binding.id for binding in type(screen).BINDINGS if not isinstance(binding, tuple)}
        title = type(screen).__name__.removesuffix("Screen")
        for active in screen.active_bindings.values():
            binding = active.binding
            if active.node is screen and active.enabled and binding.id in own:
                yield (
                    f"{title}: {binding.description}",
                    f"{binding.description} ({self.app.get_key_display(binding)})",
                    partial(self.app.run_action, binding.action, screen),
                )

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
