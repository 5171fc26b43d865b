"""A reliability chart: stated confidence against observed accuracy, over the diagonal of perfect calibration.

A point on the diagonal means "confidence 90" was right nine times in ten; a point below it, that the
stated confidence promised more than the reviews found (overconfidence). One line per series (a field),
each point a confidence bucket at its midpoint. It plots what it is given and fetches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from widgets.charts import Chart

# Theme variables the series take in turn: as many fields as FIELD_NAMES holds get told apart.
SERIES_COLOURS = ("primary", "warning", "success", "accent", "secondary", "error")
_TICKS = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class ReliabilitySeries:
    """One line: ``points`` are (stated confidence, observed accuracy), both in percent."""

    label: str
    points: tuple[tuple[float, float], ...]


class ReliabilityChart(Chart):
    """Observed accuracy (up) against stated confidence (across), 0-100 % both ways, with the diagonal."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series: list[ReliabilitySeries] = []

    def show(self, series: Sequence[ReliabilitySeries]) -> None:
        """Plot ``series``; with no point in any of them, say so in words instead of empty axes."""
        self.series = [each for each in series if each.points]
        if not self.series:
            self.show_message("No reviewed values in this period: nothing to plot yet.")
            return
        self._plotted()

    def draw(self) -> None:
        plt = self.plt
        plt.plot([0, 100], [0, 100], color=self.colour("foreground-muted"), marker="braille", label="perfect")
        for index, each in enumerate(self.series):
            colour = self.colour(SERIES_COLOURS[index % len(SERIES_COLOURS)])
            xs = [stated for stated, _ in each.points]
            ys = [observed for _, observed in each.points]
            plt.plot(xs, ys, color=colour, marker="braille", label=each.label)
            # A bucket on its own (no neighbour to draw a line to) still shows as a mark.
            plt.scatter(xs, ys, color=colour, marker="●")
        plt.xlim(0, 100)
        plt.ylim(0, 100)
        plt.xticks(list(_TICKS), [str(tick) for tick in _TICKS])
        plt.yticks(list(_TICKS), [f"{tick}%" for tick in _TICKS])
        plt.xlabel("stated")
