"""A DataTable that keeps each cell's rendering while the cell's value is the same object.

Textual's ``DataTable`` keys its cell renders on ``_update_count``
(``textual/widgets/_data_table.py``, ``DataTable._render_cell``): one ``update_cell`` --
one changed figure -- makes every visible cell render again through Rich (padding, style,
cropping: most of a view's refresh at 20,000 GPUs). Here a cell's lines are kept by its
position and drawing state (style, width, cursor, hover, the table's pseudo classes) and
reused while the value stored in the cell is the very object rendered: a cell that
``update_cell`` replaced, a moved row (``sort``), another width or another theme
(``notify_style_update``) renders again, as in Textual; the others cost a dictionary look-up.
What is drawn is exactly what ``DataTable`` draws.
"""

from __future__ import annotations

from textual.coordinate import Coordinate
from textual.widgets import DataTable

__all__ = ["CellCachedTable"]


class CellCachedTable(DataTable):
    """``DataTable`` with cell renders kept across updates of other cells."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pb_cells: dict[tuple, tuple[object, object]] = {}

    def _render_cell(self, row_index: int, column_index: int, base_style, width: int,
                     cursor: bool = False, hover: bool = False):
        if row_index < 0 or column_index < 0:  # header and row labels: Textual's own cache
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)
        row_key, column_key = self.coordinate_to_cell_key(Coordinate(row_index, column_index))
        value = self.get_cell(row_key, column_key)
        key = (row_index, column_index, base_style, width, cursor, hover,
               self._show_hover_cursor, self._pseudo_class_state, self.rows[row_key].height)
        hit = self._pb_cells.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if len(self._pb_cells) > 8 * max(64, self.row_count * len(self.columns)):
            self._pb_cells.clear()  # bounded: positions x drawing states
        self._pb_cells[key] = (value, lines)
        return lines

    def clear(self, columns: bool = False):
        self._pb_cells.clear()
        return super().clear(columns)

    def notify_style_update(self) -> None:
        self._pb_cells.clear()  # a theme or focus style change: draw every cell again
        super().notify_style_update()
