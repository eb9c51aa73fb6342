"""Keep a DataTable's rows in step with new values without rebuilding it.

``clear()`` + ``add_row()`` on every refresh makes a DataTable measure every cell again and
may re-lay-out the screen. When the table keeps its shape (same number of rows), only the
cells whose text changed are updated in place; a column grows when a new value is wider
(as rebuilding would make it) and otherwise keeps its width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.cells import cell_len
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Row = tuple[str, ...]


def sync_rows(table: DataTable, rows: Sequence[Row], shown: tuple[Row, ...] | None,
              cell: Callable[[str], object]) -> tuple[Row, ...]:
    """Show ``rows`` (cell texts) in ``table``, ``shown`` being what it shows now (None:
    unknown); ``cell`` turns a text into the cell value. Returns what it shows after."""
    rows = tuple(tuple(r) for r in rows)
    if rows == shown:
        return rows
    if (shown is not None and len(rows) == len(shown) == table.row_count
            and all(len(new) == len(old) for new, old in zip(rows, shown))):
        for y, (new, old) in enumerate(zip(rows, shown)):
            if new == old:
                continue
            for x, (text, before) in enumerate(zip(new, old)):
                if text != before:
                    table.update_cell_at(Coordinate(y, x), cell(text),
                                         update_width=cell_len(text) > cell_len(before))
        return rows
    table.clear()
    for row in rows:
        table.add_row(*(cell(text) for text in row))
    return rows
