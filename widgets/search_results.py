"""The search box and the results table, with their `enter` keys named for the footer and the help.

Input and DataTable both bind `enter` without showing it; a focused widget's binding hides the screen's
for the same key, so these subclasses say what `enter` does where the reader looks for it.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, Input


class SearchBox(Input):
    """The one search box: `enter` searches."""

    BINDINGS = [Binding("enter", "submit", "Search", id="search_submit")]


class SearchResultsTable(DataTable[str | Text]):
    """Contracts found, one per row: `enter` opens the highlighted one (posts DataTable.RowSelected)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open contract", id="search_open")]
