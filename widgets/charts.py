"""The dashboard's charts, drawn with plotext: each plots the figures it is given and fetches none.

A chart re-plots on every render, so that its axes and ticks fit the size it has just been given (a
terminal resized from 80 to 200 columns gets more day labels, not stretched ones). With nothing to
plot it says so in words rather than drawing empty axes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

# The colour names widgets.confidence uses, as the theme's variables that carry them.
_THEME_COLOURS = {"green": "success", "yellow": "warning", "red": "error"}
_DAY_LABEL_CELLS = 10
_MIN_SLOTS = 7


class Chart(PlotextPlot):
    """A plotext plot that draws itself from the figures last given, or a sentence when there are none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._message: str | None = "No figures yet."

    def show_message(self, message: str) -> None:
        """Nothing to plot: say why instead (no approvals in the period, say)."""
        self._message = message
        self.refresh()

    def _plotted(self) -> None:
        self._message = None
        self.refresh()

    def render(self) -> RenderResult:
        if self._message is not None:
            return Text(self._message, style="dim italic")
        self.plt.clear_figure()
        self.draw()
        return super().render()

    def draw(self) -> None:
        raise NotImplementedError

    def colour(self, name: str) -> tuple[int, int, int]:
        """An RGB triple for plotext from the app theme's variable (`primary`) or a confidence colour (`red`)."""
        variable = _THEME_COLOURS.get(name, name)
        return Color.parse(self.app.theme_variables[variable]).rgb


def share_axis(largest: float) -> tuple[int, int]:
    """The end of a percentage axis and its tick step: the first step mark strictly above the largest
    bar, so that even the largest ends inside the frame where it can be read (at the end of the axis it
    would run into the frame, its tick label cut off)."""
    step = next((step for step in (2, 5, 10, 20, 25) if largest < step * 4), 25)
    return step * (math.floor(largest / step) + 1), step


class ShareBars(Chart):
    """Horizontal bars of percentages, one per label; the axis ends at the next ten above the largest."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shares: list[tuple[str, float]] = []

    def show(self, shares: Sequence[tuple[str, float]]) -> None:
        self.shares = list(shares)
        self._plotted()

    def draw(self) -> None:
        plt = self.plt
        # plotext stacks horizontal bars from the bottom up; reversed, the first label is on top.
        labels = [label for label, _ in reversed(self.shares)]
        values = [value for _, value in reversed(self.shares)]
        plt.bar(labels, values, orientation="horizontal", width=0.5, color=self.colour("warning"))
        upper, step = share_axis(max(values, default=0))
        plt.xlim(0, upper)
        ticks = list(range(0, upper + 1, step))
        plt.xticks(ticks, [f"{tick}%" for tick in ticks])


class Histogram(Chart):
    """Vertical bars of counts over labelled buckets, each bar in the colour the caller names."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels: list[str] = []
        self.counts: list[int] = []
        self.colours: list[str] = []

    def show(self, labels: Sequence[str], counts: Sequence[int], colours: Sequence[str]) -> None:
        self.labels, self.counts, self.colours = list(labels), list(counts), list(colours)
        self._plotted()

    def draw(self) -> None:
        plt = self.plt
        # One series per colour: plotext colours a whole series alike.
        for colour in dict.fromkeys(self.colours):
            positions = [i for i, c in enumerate(self.colours) if c == colour]
            plt.bar(positions, [self.counts[i] for i in positions], width=0.7, color=self.colour(colour))
        plt.xlim(-0.5, len(self.labels) - 0.5)
        plt.xticks(list(range(len(self.labels))), self.labels)
        plt.ylim(0, max(max(self.counts, default=0), 1))
        plt.yticks(_integer_ticks(max(self.counts, default=0), rows=self.size.height))


class DailyChart(Chart):
    """A daily count as bars (left axis) and a daily percentage as a line (right axis, 0-100 %)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.days: list[dt.date] = []
        self.counts: list[int] = []
        self.rates: list[float | None] = []

    def show(self, days: Sequence[dt.date], counts: Sequence[int], rates: Sequence[float | None]) -> None:
        """`rates[i]` is None on a day without any rate (nothing decided): the line skips it."""
        self.days, self.counts, self.rates = list(days), list(counts), list(rates)
        self._plotted()

    def draw(self) -> None:
        plt = self.plt
        positions = list(range(len(self.days)))
        plt.bar(positions, self.counts, width=0.6, color=self.colour("primary"))
        plt.ylim(0, max(max(self.counts, default=0), 1))
        plt.yticks(_integer_ticks(max(self.counts, default=0), rows=self.size.height))
        rated = [(x, rate) for x, rate in zip(positions, self.rates, strict=True) if rate is not None]
        if rated:
            xs, ys = [x for x, _ in rated], [rate for _, rate in rated]
            plt.plot(xs, ys, yside="right", marker="hd", color=self.colour("warning"))
            # A day on its own (today, or between days without decisions) still shows as a mark.
            plt.scatter(xs, ys, yside="right", marker="◆", color=self.colour("warning"))
            plt.ylim(0, 100, yside="right")
            plt.yticks([0, 50, 100], ["0%", "50%", "100%"], yside="right")
        # At least _MIN_SLOTS days wide, so that a single day is a bar rather than a wall.
        margin = max(0.0, (_MIN_SLOTS - len(self.days)) / 2)
        plt.xlim(-0.5 - margin, len(self.days) - 0.5 + margin)
        wanted = max(2, min(len(self.days), self.size.width // _DAY_LABEL_CELLS))
        ticks = sorted({round(i * (len(self.days) - 1) / max(wanted - 1, 1)) for i in range(wanted)})
        plt.xticks(ticks, [f"{self.days[i]:%d %b}" for i in ticks])


def _integer_ticks(largest: int, *, rows: int) -> list[int]:
    """Whole-number ticks from 0 to `largest`, no more than every other row of the plot."""
    if largest <= 0:
        return [0]
    step = max(1, math.ceil(largest / max(rows // 2, 1)))
    return list(range(0, largest + 1, step))
