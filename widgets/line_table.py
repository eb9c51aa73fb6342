"""What the line-API tables share: a fixed header line, rows below it with a row cursor,
only the visible lines drawn, and a refresh that repaints only the lines that changed.

:class:`LineTable` is the base of :class:`widgets.model_table.ModelTable` (the fleet),
:class:`widgets.row_table.RowTable` (the cost view's tables) and
:class:`widgets.alert_rows.AlertTable` (the alerts). A table keeps what is its own: its
columns, rows and messages, its extra keys, and three hooks --

- :attr:`row_count`: how many rows there are;
- :meth:`_line_key`: what a row's line shows (equal keys draw the same line): a refresh
  repaints the visible lines whose key changed since they were last drawn;
- :meth:`_render_header` and :meth:`_render_row`: draw the header line and a row's line.

Line 0 of the view is the header; row ``i`` is line ``i + 1``. :func:`datatable_css` is
``DataTable``'s CSS for what a table that looks like one draws.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.render.settled_sizes import SettledScrollbars
from widgets.repaint import ComponentStyles, PrestyledLines, refresh_runs, set_virtual_size

__all__ = ["DATATABLE_BINDINGS", "LineTable", "datatable_css"]

_DATATABLE_CSS = """
TABLE {
    background: $surface;
    color: $foreground;
    height: auto;
    max-height: 100%;
    &:focus {
        background-tint: $foreground 5%;
        & > .PREFIX--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .PREFIX--header {
            background-tint: $foreground 5%;
        }
    }
    & > .PREFIX--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    &:ansi > .PREFIX--header {
        background: ansi_bright_blue;
        color: ansi_default;
    }
    & > .PREFIX--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
}
"""


def datatable_css(widget: str, prefix: str) -> str:
    """``DataTable``'s rules (textual/widgets/_data_table.py) for what a line table drawn
    as one uses -- its box, the header and the row cursor -- for the widget type
    ``widget`` whose component classes are ``<prefix>--header`` and ``<prefix>--cursor``."""
    return _DATATABLE_CSS.replace("TABLE", widget).replace("PREFIX", prefix)


#: ``DataTable``'s other keys for a row cursor (a table adds its own ``enter``)
DATATABLE_BINDINGS: list[BindingType] = [
    Binding("ctrl+home", "edge(0)", "Top", show=False),
    Binding("ctrl+end", "edge(1)", "Bottom", show=False),
    Binding("home", "scroll_home", "Home", show=False),
    Binding("end", "scroll_end", "End", show=False),
]


class LineTable(PrestyledLines, ComponentStyles, SettledScrollbars, ScrollView, can_focus=True):
    """A header line over rows with a cursor, drawn with the line API (see the module)."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Cursor up", show=False),
        Binding("down", "cursor(1)", "Cursor down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
    ]

    COLUMN_GAP = 2
    """Cells a column's line takes besides its content width (padding, separator)."""
    _NOT_DRAWN: tuple | None = None
    """What :meth:`_refresh_changed` takes a line never drawn to have shown (None, as a
    line below the rows: a blank line is not repainted)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._widths: tuple[int, ...] = ()
        self._cache: dict[tuple, Strip] = {}
        self._styles = {}
        self._drawn: dict[int, tuple | None] = {}  # row index -> what its line showed last
        self._frame = (0, 0, 0, False)  # scroll x, scroll y, line width, focus: this frame

    # -- what a table says ----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """Rows in the table."""
        raise NotImplementedError

    @property
    def cursor_row(self) -> int:
        """The row the cursor is on."""
        raise NotImplementedError

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        raise NotImplementedError

    def _line_key(self, index: int) -> tuple:
        """What row ``index``'s line shows (equal keys draw the same line)."""
        raise NotImplementedError

    def _render_header(self) -> Strip:
        """Line 0 (the geometry of this frame is in ``self._frame``)."""
        raise NotImplementedError

    def _render_row(self, index: int, shown: tuple) -> Strip:
        """Row ``index``'s line; ``shown`` is its :meth:`_line_key`."""
        raise NotImplementedError

    # -- size, scroll, repaint ------------------------------------------------------------
    def _line_length(self) -> int:
        """Cells in a full line: the view's virtual width."""
        return sum(self._widths) + self.COLUMN_GAP * len(self._widths)

    def _sync_size(self) -> None:
        """The virtual size: a full line's width, the header and every row."""
        set_virtual_size(self, Size(self._line_length(), self.row_count + 1))

    def _scroll_to_row(self, row: int, *, animate: bool = False, force: bool = False) -> None:
        """The least scroll that shows ``row`` below the header."""
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=animate, force=force)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=animate, force=force)

    def _refresh_changed(self) -> None:
        """Repaint the visible rows whose line would change (not the header or border)."""
        top, height = int(self.scroll_y), self.scrollable_content_region.height - 1
        drawn, count, line_key, never = self._drawn, self.row_count, self._line_key, self._NOT_DRAWN
        changed = [i for i in range(top, top + max(0, height))
                   if drawn.get(i, never) != (line_key(i) if i < count else None)]
        refresh_runs(self, changed, offset=1)  # line 0 is the header

    # -- actions --------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(
            1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(row=self.row_count - 1 if end else 0)

    def _row_at_line(self, y: int) -> int | None:
        """The row on the widget's line ``y`` (None: the header, or below the rows)."""
        row = y - 1 + int(self.scroll_y)
        return row if y >= 1 and 0 <= row < self.row_count else None

    def on_click(self, event: events.Click) -> None:
        self._clicked(event)

    def _clicked(self, event: events.Click) -> None:
        """A click on a row puts the cursor on it."""
        row = self._row_at_line(event.y)
        if row is not None:
            self.move_cursor(row=row)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- rendering ------------------------------------------------------------------------
    def _view_width(self) -> int:
        """The width lines are drawn to."""
        return self.scrollable_content_region.width

    def render_lines(self, crop: Region) -> list[Strip]:
        # geometry once per frame rather than once per line
        self._frame = (int(self.scroll_x), int(self.scroll_y), self._view_width(),
                       self.has_focus)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if y == 0:
            return self._render_header()
        _, sy, width, _ = self._frame
        index = y - 1 + sy
        if index >= self.row_count:
            self._drawn[index] = None
            return Strip.blank(width, self._style("base"))
        shown = self._drawn[index] = self._line_key(index)
        return self._render_row(index, shown)
