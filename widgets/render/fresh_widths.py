"""DataTables whose cells are always drawn at their columns' current widths.

Textual 8.2's ``DataTable`` measures new rows on its next idle (``_on_idle`` ->
``_update_dimensions``), but keys its cell, row and line renders on ``_update_count``
without the column widths (``textual/widgets/_data_table.py``: ``_render_cell``,
``_render_line_in_row``, ``_render_line``), and ``_update_dimensions`` does not bump it.
A frame drawn between ``add_row`` and that idle (a busy machine, or a screen repainting
for another widget at that moment) draws each cell at the column's old width -- a new
column at its label's width, "second column, long text" as "s" -- and that render is
then reused until something else changes (tests/console/test_table_widths.py). And
``clear()`` keeps every column's measured width, so a column never shrinks back after
one long value, however short what it shows now.

:class:`FreshWidths` (first in the bases, before ``DataTable``) fixes both: a change of
any column's width after measuring invalidates every render (a new ``_update_count``),
and ``clear()`` without ``columns`` measures an auto-width column again from its label.
:class:`Table` is the plain ``DataTable`` with it, for screens that yield one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.render import measure
from textual.widgets import DataTable

__all__ = ["FreshWidths", "Table"]

if TYPE_CHECKING:
    _Base = DataTable[Any]
else:
    _Base = object


class FreshWidths(_Base):
    """Mixin for a ``DataTable`` subclass (before ``DataTable`` in its bases)."""

    def _column_widths(self) -> tuple[int, ...]:
        return (self._label_column.content_width,
                *(column.get_render_width(self) for column in self.columns.values()))

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        before = self._column_widths()
        super()._update_dimensions(new_rows)
        if self._column_widths() != before:
            self._update_count += 1  # in every render cache's key: all drawn again
            self.refresh()

    def clear(self, columns: bool = False) -> Any:
        out = super().clear(columns)
        if not columns:
            console = self.app.console
            for column in self.columns.values():
                if column.auto_width:  # as add_column measured it: the label alone
                    column.content_width = measure(console, column.label, 1)
        return out


class Table(FreshWidths, DataTable[Any]):
    """A plain ``DataTable`` drawn at its columns' current widths (see the module)."""
