"""The alerts table, drawn with the line API, and (re-exported from
:mod:`widgets.alert_data`) the rows it shows.

Data in: :meth:`AlertTable.show_rows` with :class:`AlertRow` values and the columns.
Intents out: :class:`AlertTable.RowHighlighted` (cursor moved) and
:class:`AlertTable.RowSelected` (enter, or a click on the selected row).

It looks and behaves like the ``DataTable`` it replaces (row cursor, hover, keys, clicks;
``tests/console/test_alert_table.py`` holds the two side by side), but only the visible
rows are drawn and a row's line is kept by what it shows (its cells, cursor, hover,
widths): when new alerts move a few hundred rows, a row on screen costs a look-up, where
the DataTable drew every moved row again through Rich. The one difference: a row's
segments carry the column in their meta but not the row (so a moved row keeps its
line); clicks and hover read the row from the mouse position instead.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.alert_data import (LIVE_ONLY, NO_SOURCE, SEVERITY_LABEL, SEVERITY_RANK,
                                STATE_RANK, STATE_SHORT, WIDE, AlertFacts, AlertRow,
                                PreparedAlerts, alert_key, columns_fit, columns_for,
                                detail_text, filter_facts, join_model, join_services,
                                make_rows, matches,
                                max_widths, prepare_alerts, services_by_name, severity_rank,
                                since, sort_alerts, state_rank)
from widgets.render.scrollbars import set_length_quietly
from widgets.repaint import ComponentStyles, PrestyledLines, refresh_runs, set_virtual_size

__all__ = ["LIVE_ONLY", "NO_SOURCE", "SEVERITY_LABEL", "SEVERITY_RANK", "STATE_RANK",
           "STATE_SHORT", "WIDE", "AlertFacts", "AlertRow", "AlertTable", "PreparedAlerts",
           "alert_key", "columns_fit", "columns_for", "detail_text", "filter_facts",
           "join_model", "join_services", "make_rows", "matches", "max_widths", "prepare_alerts",
           "services_by_name", "severity_rank", "since", "sort_alerts", "state_rank"]

PAD = 1
"""Cells of padding on each side of a cell (DataTable's ``cell_padding``)."""
HEADER = -1
"""The header's row index (as DataTable's)."""


class AlertTable(PrestyledLines, ComponentStyles, ScrollView, can_focus=True):
    """Alerts with a fixed header line, a row cursor and per-row line caching; severity
    colours come from theme variables (component classes)."""

    COMPONENT_PREFIX = "alert-table"

    # DataTable's own rules (textual/widgets/_data_table.py) for what this table uses,
    # then the alerts' colours
    DEFAULT_CSS = """
    AlertTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .alert-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .alert-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .alert-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .alert-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .alert-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .alert-table--header-hover {
            background: $accent 30%;
        }
        & > .alert-table--hover {
            background: $block-hover-background;
        }
    }
    AlertTable > .alert-table--critical { color: $error; text-style: bold; }
    AlertTable > .alert-table--warning { color: $warning; }
    AlertTable > .alert-table--info { color: $accent; }
    AlertTable > .alert-table--other { color: $text; }
    AlertTable > .alert-table--name { text-style: bold; }
    AlertTable > .alert-table--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "alert-table--cursor", "alert-table--hover", "alert-table--header",
        "alert-table--header-hover", "alert-table--critical", "alert-table--warning",
        "alert-table--info", "alert-table--other", "alert-table--name", "alert-table--muted"}

    # DataTable's keys (a row cursor), enter named for the footer
    BINDINGS = [
        Binding("enter", "select_cursor", "Model", tooltip="Open the model of the "
                "selected alert"),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "cursor_right", "Cursor right", show=False),
        Binding("left", "cursor_left", "Cursor left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]

    class _RowMessage(Message):
        def __init__(self, table: "AlertTable", cursor_row: int) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row

        @property
        def control(self) -> "AlertTable":
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to row ``cursor_row``."""

    class RowSelected(_RowMessage):
        """Enter (or a click) on the selected row ``cursor_row``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: list[AlertRow] = []
        self._labels: tuple[str, ...] = ()
        self._widths: tuple[int, ...] = ()
        self._cursor = 0
        self._hover = 0  # a row index, or HEADER
        self._show_hover = False
        self._cache: dict[tuple, Strip] = {}
        self._styles: dict[str, Style] = {}
        self._metas: dict[tuple, Style] = {}
        self._cell_styles: dict[tuple, tuple[Style, Style]] = {}  # (edge, text) of a cell
        self._drawn: dict[int, tuple | None] = {}  # row index -> what its line showed last
        self._frame = (0, 0, 0, False)

    # -- data -----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def rows(self) -> list[AlertRow]:
        """The rows shown, in order."""
        return self._rows

    @property
    def columns(self) -> list[tuple[str, int]]:
        """(label, width) of each column."""
        return list(zip(self._labels, self._widths))

    def show_rows(self, rows: list[AlertRow], columns: list[tuple[str, int]]) -> None:
        """Show ``rows`` in ``columns`` ((label, width) each); a row whose line is on screen
        and shows the same is not drawn again. The cursor stays at its index (clamped)."""
        labels = tuple(label for label, _ in columns)
        widths = tuple(width for _, width in columns)
        if (labels, widths) != (self._labels, self._widths):
            self._labels, self._widths = labels, widths
            self._cache.clear()
            self.refresh()  # every line, the header too
        self._rows = rows
        if len(self._cache) > 4 * (self.scrollable_content_region.height + 16):
            self._cache.clear()
        size = Size(sum(w + 2 * PAD for w in widths), len(rows) + 1)
        if not set_length_quietly(self, size):  # only the changed lines are repainted
            set_virtual_size(self, size)
        cursor = max(0, min(self._cursor, len(rows) - 1))
        if cursor != self._cursor:
            self.move_cursor(row=cursor)
        self._refresh_changed()

    def _refresh_changed(self) -> None:
        """Repaint the visible rows whose line would change (not the header)."""
        top, height = int(self.scroll_y), self.scrollable_content_region.height - 1
        rows, drawn = self._rows, self._drawn
        changed = [i for i in range(top, top + max(0, height))
                   if drawn.get(i, ()) != (self._row_key(rows[i], i) if i < len(rows) else None)]
        refresh_runs(self, changed, offset=1)  # line 0 is the header

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on ``row`` (clamped) and, with ``scroll``, scroll it into view."""
        row = max(0, min(row, len(self._rows) - 1))
        old, self._cursor = self._cursor, row
        if row != old:
            self._refresh_row(old)
            self._refresh_row(row)
            if row < len(self._rows):
                self.post_message(self.RowHighlighted(self, row))
        if scroll or row != old:  # DataTable scrolls to a moved cursor in any case
            self._scroll_cursor_into_view(animate and scroll)

    def _refresh_row(self, index: int) -> None:
        y = index - int(self.scroll_y)
        if 0 <= y < self.scrollable_content_region.height - 1:
            self.refresh_lines(y + 1, 1)

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        """As DataTable: the least scroll that shows the cursor's row below the header."""
        visible = max(1, self.scrollable_content_region.height - 1)
        top, row = int(self.scroll_y), self._cursor
        if row < top:
            self.scroll_to(y=row, animate=animate, force=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=animate, force=True)

    def _set_hover(self, active: bool, row: int | None = None) -> None:
        before = (self._show_hover, self._hover)
        self._show_hover = active
        if row is not None:
            self._hover = row
        if (self._show_hover, self._hover) != before:
            for index in {before[1], self._hover}:
                if index == HEADER:
                    self.refresh_lines(0, 1)
                else:
                    self._refresh_row(index)

    # -- actions (DataTable's, for a row cursor) ------------------------------------------
    def action_cursor_up(self) -> None:
        self._set_hover(False)
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._set_hover(False)
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_left(self) -> None:
        self._set_hover(False)
        self.scroll_left()

    def action_cursor_right(self) -> None:
        self._set_hover(False)
        self.scroll_right()

    def action_page_down(self) -> None:
        self._set_hover(False)
        height = self.scrollable_content_region.height - 1
        self.scroll_relative(y=height, animate=False, force=True)
        self.move_cursor(row=self._cursor + height, scroll=False)

    def action_page_up(self) -> None:
        self._set_hover(False)
        height = self.scrollable_content_region.height - 1
        self.scroll_relative(y=-height, animate=False)
        self.move_cursor(row=self._cursor - height, scroll=False)

    def action_scroll_top(self) -> None:
        self._set_hover(False)
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self._set_hover(False)
        self.move_cursor(row=len(self._rows) - 1)

    def action_scroll_home(self) -> None:
        self._set_hover(False)
        self.scroll_x = 0

    def action_scroll_end(self) -> None:
        self._set_hover(False)
        self.scroll_x = self.max_scroll_x

    def action_select_cursor(self) -> None:
        self._set_hover(False)
        if self._rows:
            self.post_message(self.RowSelected(self, self._cursor))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``enter`` follows the screen's rule (dimmed when the alert has no model)."""
        if action == "select_cursor":
            return self.screen.check_action("open_model", parameters)
        return super().check_action(action, parameters)

    # -- mouse ----------------------------------------------------------------------------
    def _row_at(self, event: events.MouseEvent) -> int | None:
        """The row index under the mouse (HEADER on the header), None off the rows."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        if offset.y == 0:
            return HEADER
        index = offset.y - 1 + int(self.scroll_y)
        return index if 0 <= index < len(self._rows) else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        row = self._row_at(event)
        self._set_hover(row is not None, row)

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(False)

    def on_click(self, event: events.Click) -> None:
        self._set_hover(True)
        row = self._row_at(event)
        if row is None or row == HEADER:
            return
        again = row == self._cursor
        self.move_cursor(row=row, scroll=False)
        if again:
            self.post_message(self.RowSelected(self, row))
        self._scroll_cursor_into_view(animate=True)
        event.stop()

    # -- rendering ------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()  # the component styles and lines go too
        self._cell_styles.clear()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        # geometry once per frame rather than once per line
        self._frame = (int(self.scroll_x), int(self.scroll_y), self.size.width,
                       self.has_focus)
        return super().render_lines(crop)

    def _row_key(self, row: AlertRow, index: int) -> tuple:
        """What a row's line shows (equal keys draw the same line)."""
        hover = self._show_hover and self._hover == index
        return (row.key, row.cells, index == self._cursor, hover)

    def render_line(self, y: int) -> Strip:
        sx, sy, width, focus = self._frame
        if y == 0:
            hover = self._show_hover and self._hover == HEADER
            key: tuple = (HEADER, self._labels, hover, focus, self._widths, width, sx)
            strip = self._cache.get(key)
            if strip is None:
                strip = self._cache[key] = self._draw(
                    HEADER, tuple((label, "") for label in self._labels), False, hover,
                    width, sx)
            return strip
        index = y - 1 + sy
        if index >= len(self._rows):
            self._drawn[index] = None
            return Strip.blank(width, self._style("base"))
        row = self._rows[index]
        shown = self._drawn[index] = self._row_key(row, index)
        key = (shown, focus, self._widths, width, sx)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._cache[key] = self._draw(index, row.cells, shown[2], shown[3],
                                                  width, sx)
        return strip

    def _meta(self, **meta: object) -> Style:
        key = tuple(meta.items())
        style = self._metas.get(key)
        if style is None:
            style = self._metas[key] = Style.from_meta(meta)
        return style

    def _component(self, header: bool, cursor: bool, hover: bool) -> tuple[Style, Style]:
        """(component style, post style) of a cell: DataTable's
        ``_get_styles_to_render_cell`` for a row cursor, cursor colours from CSS."""
        component = Style()
        if hover:
            component += self._style("hover")
            if header:
                component += self._style("header-hover")
        if cursor:
            component += self._style("cursor")
        return component, Style.from_color(color=component.color) + Style.null()

    def _draw(self, index: int, cells, cursor: bool, hover: bool, width: int,
              sx: int) -> Strip:
        """One line as DataTable draws it: each cell ``Styled(Padding(Text(text,
        style, no_wrap, overflow=ellipsis), (0, 1)), pre, post)``, then the rest of the
        width in the row's style, cropped to the view."""
        base = self._style("base")
        header = index == HEADER
        row_style = self._style("header") if header else base
        component, post = self._component(header, cursor, hover)
        segments: list[Segment] = []
        append = segments.append
        last: Style | None = None  # the style of segments[-1]: runs of one style are merged
        pad = " " * PAD
        used = 0
        known = self._cell_styles
        for column, ((text, style_name), size) in enumerate(zip(cells, self._widths)):
            styles = known.get((index == HEADER, column, cursor, hover, style_name))
            if styles is None:
                pre = row_style + (self._meta(row=HEADER, column=column) if header
                                   else self._meta(column=column)) + component
                styles = known[(header, column, cursor, hover, style_name)] = (
                    pre + post,
                    pre + (self._style(style_name) if style_name else Style.null()) + post)
            edge, styled = styles
            if cell_len(text) > size:
                text = set_cell_size(text, size - 1) + "…" if size > 0 else ""
            fill = size - cell_len(text)
            used += size + 2 * PAD
            for part, style in ((pad, edge), (text, styled), (" " * fill, edge), (pad, edge)):
                if not part:
                    continue
                if style == last:
                    segments[-1] = Segment(segments[-1].text + part, style)
                else:
                    append(Segment(part, style))
                    last = style
        extend = row_style + component + (
            self._meta(row=HEADER, column=0, out_of_bounds=True) if header
            else self._meta(column=0, out_of_bounds=True))
        if width > used:
            if extend == last:
                segments[-1] = Segment(segments[-1].text + " " * (width - used), extend)
            else:
                append(Segment(" " * (width - used), extend))
        if not sx and used <= width:
            return Strip(segments, width)  # exactly the view's width: nothing to crop
        strip = Strip(segments).crop(sx, sx + width)
        return strip.adjust_cell_length(width, base).simplify()
