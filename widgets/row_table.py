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
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.repaint import ComponentStyles, PrestyledLines, refresh_runs, set_virtual_size

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


class RowTable(PrestyledLines, ComponentStyles, ScrollView, can_focus=True):
    """Rows of text under a fixed header line, with a row cursor that follows its row."""

    COMPONENT_PREFIX = "row-table"

    # DataTable's rules (textual/widgets/_data_table.py) for what this table draws
    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor"}
    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor(-1)", "Cursor up", show=False),
        Binding("down", "cursor(1)", "Cursor down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("ctrl+home", "edge(0)", "Top", show=False),
        Binding("ctrl+end", "edge(1)", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]

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
        self._widths: tuple[int, ...] = column_widths(labels, ())
        self._cache: dict[tuple, Strip] = {}
        self._styles: dict = {}
        self._drawn: dict[int, tuple | None] = {}  # row index -> what its line showed last
        self._frame = (0, 0, 0, False)

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

    def _sync_size(self) -> None:
        set_virtual_size(self, Size(sum(self._widths) + 2 * PAD * len(self._widths),
                                    len(self._rows) + 1))

    def _refresh_changed(self) -> None:
        """Repaint the visible rows whose line would change (not the header)."""
        top, height = int(self.scroll_y), self.scrollable_content_region.height - 1
        drawn, cursor, rows = self._drawn, self.cursor_row, self._rows
        changed = [i for i in range(top, top + max(0, height))
                   if drawn.get(i) != ((rows[i], i == cursor) if i < len(rows) else None)]
        refresh_runs(self, changed, offset=1)  # line 0 is the header

    def watch_cursor_row(self, old: int, row: int) -> None:
        self._scroll_to_row(row)
        self._refresh_changed()

    def _scroll_to_row(self, row: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False)

    # -- actions --------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(
            1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(row=len(self._rows) - 1 if end else 0)

    def action_select_cursor(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + int(self.scroll_y)
        if event.y >= 1 and 0 <= row < len(self._rows):
            self.move_cursor(row=row)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self._cache.clear()

    # -- rendering ------------------------------------------------------------------------
    def render_lines(self, crop):
        # geometry once per frame rather than once per line
        self._frame = (int(self.scroll_x), int(self.scroll_y),
                       self.scrollable_content_region.width, self.has_focus)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        sx, sy, width, focus = self._frame
        base = self._style("base")
        if y == 0:
            key: tuple = ("header", self._widths, width, focus)
            cells: Sequence[str] = self.labels
            style = self._style("header")
        else:
            index = y - 1 + sy
            if index >= len(self._rows):
                self._drawn[index] = None
                return Strip.blank(width, base)
            row, cursor = self._rows[index], index == self.cursor_row
            self._drawn[index] = (row, cursor)
            key = (row, cursor, self._widths, width, focus)
            cells = row
            style = base + self._style("cursor") if cursor else base
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > 4 * max(16, len(self._rows)) + 16:
                self._cache.clear()
            # header labels to the left, as DataTable draws them
            text = line_text(cells, self._widths, self._right if y else frozenset())
            length = cell_len(text)
            if width > length:  # the row's style to the table's edge, as DataTable draws it
                text += " " * (width - length)
                length = width
            strip = self._cache[key] = Strip([Segment(text, style)], length)
        if sx == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(sx, sx + width, style)
