"""A table of text rows drawn with the line API, looking as Textual's ``DataTable`` with
a row cursor draws it.

Data in: the column labels (constructor) and :meth:`RowTable.show_rows`, tuples of
strings whose first cell names the row (its key: the cursor stays on its row when the
rows are re-ordered). Intents out: :class:`RowTable.RowSelected` (enter on a row).

Only visible lines are rendered, each from a cache, and a refresh repaints only the
lines whose text (or cursor) changed: the cost view's tables, re-ordered by $/h with
new figures on every refresh, cost a ``DataTable`` most of that refresh in re-rendered
cells (see widgets/render/cell_cache.py). What is drawn is what ``DataTable`` draws for
one-line plain-text cells with ``cell_padding`` 1: the same characters, one style per
line (the header's, the cursor's or the table's), no zebra stripes, no hover cursor.
Keys as ``DataTable``'s with ``cursor_type="row"``: up/down, page up/down,
ctrl+home/ctrl+end move the cursor; left/right/home/end scroll sideways; enter selects.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from widgets.line_table import DATATABLE_BINDINGS, LineTable, datatable_css

__all__ = ["RowTable"]

Row = tuple[str, ...]
PAD = 1
"""Blank cells each side of a cell (``DataTable.cell_padding``'s default)."""


def column_widths(labels: Sequence[str], rows: Sequence[Row]) -> tuple[int, ...]:
    """Each column's content width: its widest cell or its label."""
    widths = [cell_len(label) for label in labels]
    for row in rows:
        for x, cell in enumerate(row[:len(widths)]):
            n = cell_len(cell)
            if n > widths[x]:
                widths[x] = n
    return tuple(widths)


def line_text(cells: Sequence[str], widths: Sequence[int], right: frozenset[int]) -> str:
    """One row as text: each cell padded (or cut with an ellipsis) to its column."""
    out = []
    for x, width in enumerate(widths):
        text = cells[x] if x < len(cells) else ""
        n = cell_len(text)
        if n > width:
            text = _cut(text, width)
            n = cell_len(text)
        fill = " " * (width - n)
        out.append(f" {fill}{text} " if x in right else f" {text}{fill} ")
    return "".join(out)


def _cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, the last one an ellipsis."""
    return set_cell_size(text, width - 1) + "…" if width > 0 else ""


class RowTable(LineTable):
    """Rows of text under a fixed header line, with a row cursor that follows its row."""

    COMPONENT_PREFIX = "row-table"
    COLUMN_GAP = 2 * PAD

    DEFAULT_CSS = datatable_css("RowTable", "row-table")
    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor"}
    BINDINGS = [Binding("enter", "select_cursor", "Select", show=False), *DATATABLE_BINDINGS]

    cursor_row: reactive[int] = reactive(0, repaint=False)  # the watcher repaints two lines

    class RowSelected(Message):
        """Enter was pressed on a row (``key``: its first cell)."""

        def __init__(self, table: "RowTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "RowTable":
            return self.table

    def __init__(self, *labels: str, right: frozenset[int] | None = None, **kwargs) -> None:
        """``labels``: the column headers; ``right``: the columns justified right (all
        but the first by default)."""
        super().__init__(**kwargs)
        self.labels: tuple[str, ...] = labels
        self._right = right if right is not None else frozenset(range(1, len(labels)))
        self._rows: tuple[Row, ...] = ()
        self._index: dict[str, int] = {}
        self._widths = column_widths(labels, ())

    def on_mount(self) -> None:
        self._sync_size()

    # -- data -----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows shown, in order."""
        return self._rows

    @property
    def widths(self) -> tuple[int, ...]:
        """Each column's content width (without its padding)."""
        return self._widths

    @property
    def selected_key(self) -> str | None:
        """The name of the row under the cursor, if any."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row][0]
        return None

    def get_row_at(self, index: int) -> Row:
        return self._rows[index]

    def get_row_index(self, key: str) -> int:
        """Index of the (first) row named ``key`` (KeyError when absent)."""
        return self._index[key]

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        self.cursor_row = max(0, min(row, len(self._rows) - 1)) if self._rows else 0

    def show_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``: the cursor stays on its row's name (to the top when that name is
        gone); only lines whose text changed are repainted. Columns keep their widths
        while the names are the same ones and every value fits (figures changing by a
        digit do not make the table jump); else they fit the rows again."""
        rows = tuple(rows)
        if rows == self._rows:
            return
        keep = self.selected_key
        fitted = column_widths(self.labels, rows)
        same_names = sorted(r[0] for r in rows) == sorted(r[0] for r in self._rows)
        widths = self._widths if same_names and all(
            a <= b for a, b in zip(fitted, self._widths)) else fitted
        self._rows = rows
        self._index = {}
        for i, r in enumerate(rows):
            self._index.setdefault(r[0], i)
        if widths != self._widths:
            self._widths = widths
            self._cache.clear()
            self.refresh()  # the header and every line
        self._sync_size()
        row = self._index.get(keep, 0) if keep is not None else self.cursor_row
        self.cursor_row = max(0, min(row, len(rows) - 1)) if rows else 0
        self._refresh_changed()

    def _line_key(self, index: int) -> tuple:
        return (self._rows[index], index == self.cursor_row)

    def watch_cursor_row(self, old: int, row: int) -> None:
        self._scroll_to_row(row)
        self._refresh_changed()

    # -- actions --------------------------------------------------------------------------
    def action_select_cursor(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_resize(self) -> None:
        self._cache.clear()

    # -- rendering ------------------------------------------------------------------------
    def _render_header(self) -> Strip:
        _, _, width, focus = self._frame
        # header labels to the left, as DataTable draws them
        return self._cached_line(("header", self._widths, width, focus), self.labels,
                                 self._style("header"), frozenset())

    def _render_row(self, index: int, shown: tuple) -> Strip:
        _, _, width, focus = self._frame
        row, cursor = shown
        base = self._style("base")
        return self._cached_line((row, cursor, self._widths, width, focus), row,
                                 base + self._style("cursor") if cursor else base, self._right)

    def _cached_line(self, key: tuple, cells: Sequence[str], style: Style,
                     right: frozenset[int]) -> Strip:
        sx, _, width, _ = self._frame
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > 4 * max(16, len(self._rows)) + 16:
                self._cache.clear()
            text = line_text(cells, self._widths, right)
            length = cell_len(text)
            if width > length:  # the row's style to the table's edge, as DataTable draws it
                text += " " * (width - length)
                length = width
            strip = self._cache[key] = Strip([Segment(text, style)], length)
        if sx == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(sx, sx + width, style)
