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
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from widgets.alert_data import (LIVE_ONLY, NO_SOURCE, SEVERITY_LABEL, SEVERITY_RANK,
                                STATE_RANK, STATE_SHORT, WIDE, AlertFacts, AlertRow,
                                PreparedAlerts, alert_key, columns_fit, columns_for,
                                detail_text, filter_facts, join_model, join_services,
                                make_rows, matches,
                                max_widths, prepare_alerts, services_by_name, severity_rank,
                                since, sort_alerts, state_rank)
from widgets.line_table import DATATABLE_BINDINGS, LineTable, datatable_css
from widgets.render.scrollbars import set_length_quietly
from widgets.repaint import set_virtual_size

__all__ = ["LIVE_ONLY", "NO_SOURCE", "SEVERITY_LABEL", "SEVERITY_RANK", "STATE_RANK",
           "STATE_SHORT", "WIDE", "AlertFacts", "AlertRow", "AlertTable", "PreparedAlerts",
           "alert_key", "columns_fit", "columns_for", "detail_text", "filter_facts",
           "join_model", "join_services", "make_rows", "matches", "max_widths", "prepare_alerts",
           "services_by_name", "severity_rank", "since", "sort_alerts", "state_rank"]

PAD = 1
"""Cells of padding on each side of a cell (DataTable's ``cell_padding``)."""
HEADER = -1
"""The header's row index (as DataTable's)."""


class AlertTable(LineTable):
    """Alerts with a fixed header line, a row cursor and per-row line caching; severity
    colours come from theme variables (component classes)."""

    COMPONENT_PREFIX = "alert-table"
    COLUMN_GAP = 2 * PAD
    _NOT_DRAWN = ()  # a line not drawn yet is repainted

    # DataTable's own rules for what this table uses, then its hover and the alerts' colours
    DEFAULT_CSS = datatable_css("AlertTable", "alert-table") + """
    AlertTable > .alert-table--header-hover { background: $accent 30%; }
    AlertTable > .alert-table--hover { background: $block-hover-background; }
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

    # DataTable's keys (a row cursor; LineTable's and these), enter named for the footer
    BINDINGS = [
        Binding("enter", "select_cursor", "Model", tooltip="Open the model of the "
                "selected alert"),
        Binding("right", "cursor_right", "Cursor right", show=False),
        Binding("left", "cursor_left", "Cursor left", show=False),
        *DATATABLE_BINDINGS,
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
        self._cursor = 0
        self._hover = 0  # a row index, or HEADER
        self._show_hover = False
        self._metas: dict[tuple, Style] = {}
        self._cell_styles: dict[tuple, tuple[Style, Style]] = {}  # (edge, text) of a cell

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
        self._sync_size()
        cursor = max(0, min(self._cursor, len(rows) - 1))
        if cursor != self._cursor:
            self.move_cursor(row=cursor)
        self._refresh_changed()

    def _sync_size(self) -> None:
        size = Size(self._line_length(), self.row_count + 1)
        if not set_length_quietly(self, size):  # only the changed lines are repainted
            set_virtual_size(self, size)

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
        self._scroll_to_row(self._cursor, animate=animate, force=True)

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
    def action_cursor(self, delta: int) -> None:
        self._set_hover(False)
        super().action_cursor(delta)

    def action_cursor_left(self) -> None:
        self._set_hover(False)
        self.scroll_left()

    def action_cursor_right(self) -> None:
        self._set_hover(False)
        self.scroll_right()

    def action_page(self, direction: int) -> None:
        """As DataTable: the view scrolls a page (down: even where it cannot), then the
        cursor moves as far."""
        self._set_hover(False)
        height = self.scrollable_content_region.height - 1
        self.scroll_relative(y=direction * height, animate=False, force=direction > 0)
        self.move_cursor(row=self._cursor + direction * height, scroll=False)

    def action_edge(self, end: int) -> None:
        self._set_hover(False)
        super().action_edge(end)

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

    def _clicked(self, event: events.Click) -> None:
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

    def _view_width(self) -> int:
        return self.size.width

    def _line_key(self, index: int) -> tuple:
        row = self._rows[index]
        hover = self._show_hover and self._hover == index
        return (row.key, row.cells, index == self._cursor, hover)

    def _render_header(self) -> Strip:
        sx, _, width, focus = self._frame
        hover = self._show_hover and self._hover == HEADER
        key: tuple = (HEADER, self._labels, hover, focus, self._widths, width, sx)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._cache[key] = self._draw(
                HEADER, tuple((label, "") for label in self._labels), False, hover, width, sx)
        return strip

    def _render_row(self, index: int, shown: tuple) -> Strip:
        sx, _, width, focus = self._frame
        key = (shown, focus, self._widths, width, sx)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._cache[key] = self._draw(index, self._rows[index].cells, shown[2],
                                                  shown[3], width, sx)
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
