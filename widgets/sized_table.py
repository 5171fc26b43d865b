"""A DataTable whose rows are drawn at the widths their cells need, from the first frame that shows them.

Textual's DataTable (8.x) measures new rows when it is next idle and widens its columns then, but it
caches each drawn row under a counter that only adding, updating or removing bumps. When a frame is drawn
between `add_row` and that idle measurement — as happens on a busy host, with a page of rows arriving
at once — the rows are cached at the columns' heading widths ("GAP-2024" for "GAP-2024-000101") and stay
so until the next change of data: for the queue, its next refresh ten seconds later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class SizedDataTable(DataTable[Any]):
    """A DataTable that draws its rows again once their columns are measured."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        widths = [column.get_render_width(self) for column in self.columns.values()]
        super()._update_dimensions(new_rows)
        if widths != [column.get_render_width(self) for column in self.columns.values()]:
            # The rows drawn before this measurement are cached at the old widths: count an update,
            # as adding a row does, so that they are drawn again.
            self._update_count += 1
            self.refresh()
