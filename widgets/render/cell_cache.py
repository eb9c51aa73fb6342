"""A DataTable that draws again only the cells and lines whose values changed.

Textual's ``DataTable`` keys its cell and line renders on ``_update_count``
(``textual/widgets/_data_table.py``, ``DataTable._render_cell`` / ``_render_line``): one
``update_cell`` -- one changed figure -- makes every visible line and cell render again
through Rich (padding, style, cropping: most of a view's refresh at 20,000 GPUs, ~1 ms a
line). Here:

- a line is kept by its position and drawing state (row, crop, width, cursor on that row,
  hover, column widths, the table's pseudo classes) and reused while the values stored in
  its row are the very objects it was drawn from;
- a cell is kept the same way (its value the very object rendered);
- a cell that must be drawn and is a one-line, span-less ``Text`` (every cell pitboard
  puts in a table) is drawn directly -- the same characters with the same styles Rich
  gives it through ``Styled(Padding(text))`` (``tests/console/test_cell_cache.py`` holds
  the two side by side) -- instead of through Rich's renderer.

A replaced cell (``update_cell``), a moved row (``sort``), another width or another theme
(``notify_style_update``) draws again, as in Textual. What is drawn is exactly what
``DataTable`` draws.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._segment_tools import line_crop
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import CellDoesNotExist, CellKey

from widgets.render.fresh_widths import FreshWidths
from widgets.repaint import PrestyledLines

__all__ = ["CellCachedTable"]


class CellCachedTable(FreshWidths, PrestyledLines, DataTable):
    """``DataTable`` with cell and line renders kept across updates of other cells, and
    its lines served fully styled (border, padding) from a cache keyed by the kept line
    (:class:`~widgets.repaint.PrestyledLines`): a repaint of the table's box -- a
    changed figure, or any repaint of the screen around it -- styles again only the
    lines that changed. Drawn at its columns' current widths
    (:class:`~widgets.render.fresh_widths.FreshWidths`)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pseudo_class_state = self.get_pseudo_class_state()  # as DataTable's
        return PrestyledLines.render_lines(self, crop)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pb_cells: dict[tuple, tuple[object, object]] = {}
        self._pb_lines: dict[tuple, tuple[tuple, Strip]] = {}

    # -- lines ---------------------------------------------------------------------------
    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        if (self._labelled_row_exists and self.show_row_labels) or self.fixed_columns \
                or self.fixed_rows:
            return super()._render_line(y, x1, x2, base_style)
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        columns = self.ordered_columns
        row_index: int | None = -1
        if row_key is self._header_row_key:
            values: tuple = tuple(c.label for c in columns)
        else:
            row_index = self._row_locations.get(row_key)
            data = self._data.get(row_key)
            if data is None or row_index is None or row_index < 0:
                return super()._render_line(y, x1, x2, base_style)
            values = tuple(data.values())
        cursor, hover, kind = self.cursor_coordinate, self.hover_coordinate, self.cursor_type
        on_row = kind == "column" or cursor.row == row_index
        hovered = self._show_hover_cursor and (kind == "column" or hover.row == row_index)
        key = (y, line_no, x1, x2, self.size.width, base_style, kind, self.show_cursor,
               self._show_hover_cursor, self._pseudo_class_state, row_key, row_index,
               cursor if on_row else None, hover if hovered else None, self.zebra_stripes,
               tuple(c.get_render_width(self) for c in columns))
        hit = self._pb_lines.get(key)
        if hit is not None and len(hit[0]) == len(values) and all(
                a is b for a, b in zip(hit[0], values)):
            return hit[1]
        if kind == "row" and line_no == 0 and (row_index == -1 or self.rows[row_key].height == 1):
            strip = self._row_line(row_index if row_index is not None else -1, x1, x2,
                                   base_style)
        else:
            strip = super()._render_line(y, x1, x2, base_style)
        if len(self._pb_lines) > 4 * max(64, self.size.height * 4):
            self._pb_lines.clear()  # bounded: lines x drawing states
        self._pb_lines[key] = (values, strip)
        return strip

    def _row_line(self, row_index: int, x1: int, x2: int, base_style: Style) -> Strip:
        """One line of a one-line row (or the header) with a row cursor, no fixed rows
        or columns and no row labels: ``DataTable._render_line_in_row`` and
        ``_render_line``'s steps for that case (test_cell_cache holds them side by
        side), without their per-line look-ups of the widget's background and styles."""
        row_style = self._get_row_style(row_index, base_style)
        cursor_row, hover_row = self.cursor_coordinate.row, self.hover_coordinate.row
        on_cursor, on_hover = cursor_row == row_index, hover_row == row_index
        segments: list[Segment] = []
        used = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            used += width
            segments.extend(self._render_cell(row_index, column_index, row_style, width,
                                              cursor=on_cursor, hover=on_hover)[0])
        extend, _ = self._get_styles_to_render_cell(
            row_index == -1, False, False, hover_row == (row_index or 0), on_cursor,
            self.show_cursor, self._show_hover_cursor, False, False)
        extend = row_style + extend + Style.from_meta(
            {"row": row_index, "column": 0, "out_of_bounds": True})
        width = self.size.width
        segments.append(Segment(" " * max(0, width - used), extend))
        return Strip(line_crop(segments, x1, x2, width)).adjust_cell_length(
            width, base_style).simplify()

    # -- cells ---------------------------------------------------------------------------
    def _render_cell(self, row_index: int, column_index: int, base_style, width: int,
                     cursor: bool = False, hover: bool = False):
        if row_index < 0 or column_index < 0:  # header and row labels: Textual's own cache
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)
        row_key, column_key = self.coordinate_to_cell_key(Coordinate(row_index, column_index))
        value = self.get_cell(row_key, column_key)
        row = self.rows[row_key]
        key = (row_index, column_index, base_style, width, cursor, hover,
               self._show_hover_cursor, self._pseudo_class_state, row.height)
        hit = self._pb_cells.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        lines = None
        if row.height == 1 and column_index >= self.fixed_columns \
                and row_index >= self.fixed_rows:
            lines = self._plain_cell(value, row_index, column_index, base_style, width,
                                     cursor, hover)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width,
                                         cursor, hover)
        if len(self._pb_cells) > 8 * max(64, self.row_count * len(self.columns)):
            self._pb_cells.clear()  # bounded: positions x drawing states
        self._pb_cells[key] = (value, lines)
        return lines

    def _plain_cell(self, value: object, row_index: int, column_index: int, base_style: Style,
                    width: int, cursor: bool, hover: bool) -> list[list[Segment]] | None:
        """The lines Rich makes of a one-line ``Text`` without spans in a cell ``width``
        wide (``Styled(Padding(text, (0, pad)), pre_style, post_style)``, no wrap), or
        None for anything else (then Textual draws it)."""
        if type(value) is not Text or value.spans or value.no_wrap is not True \
                or value.end != "\n" and value.end != "" or value.tab_size not in (None, 8):
            return None
        plain = value.plain
        if "\n" in plain or "\t" in plain or not plain.isprintable() or plain != plain.rstrip():
            return None
        justify = value.justify or "default"
        overflow = value.overflow or "fold"
        if justify not in ("default", "left", "right") or overflow not in ("ellipsis", "crop"):
            return None
        pad = self.cell_padding
        inner = width - 2 * pad
        if inner <= 0:
            return None
        text_style = value.style
        if isinstance(text_style, str):
            try:
                text_style = Style.parse(text_style) if text_style else Style.null()
            except Exception:  # noqa: BLE001 - unusual style: Rich's own path
                return None
        component, post = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        length = cell_len(plain)
        if length > inner:
            plain = (set_cell_size(plain, inner - 1) + "…") if overflow == "ellipsis" \
                else set_cell_size(plain, inner)
            length = cell_len(plain)
        edge = pre + post
        styled = pre + text_style + post
        fill = inner - length
        # "left" and "right" pad inside the text (its style); "default" leaves the rest
        # of the cell to the padding (no text style: a reversed cell is only its text)
        if fill and justify == "right":
            segments = [Segment(" " * fill + plain, styled)]
        elif fill and justify == "left":
            segments = [Segment(plain + " " * fill, styled)]
        elif fill:
            segments = [Segment(plain, styled), Segment(" " * fill, edge)]
        else:
            segments = [Segment(plain, styled)]
        if pad:
            segments = [Segment(" " * pad, edge), *segments, Segment(" " * pad, edge)]
        return [segments]

    # -- size ----------------------------------------------------------------------------
    def _size_is_fixed(self) -> bool:
        """Whether this table's own size does not follow its rows and columns (a
        ``1fr`` or fixed height and width): then a new virtual size moves only its
        scrollbars, not the screen's layout."""
        height, width = self.styles.height, self.styles.width
        return height is not None and not height.is_auto and not (
            width is not None and width.is_auto)

    def _update_dimensions(self, new_rows) -> None:
        """Textual's, but a changed row count or column width lays out the whole
        screen only when this table's size follows them (``virtual_size`` is a
        layout reactive: ~40 ms for the alerts view at every change of its count)."""
        before = self.virtual_size
        self._pb_sizing = True
        try:
            super()._update_dimensions(new_rows)
        finally:
            self._pb_sizing = False
        if not self.__dict__.pop("_pb_layout_skipped", False):
            return
        after, height = self.virtual_size, self.scrollable_content_region.height
        shown = self.show_vertical_scrollbar
        if (shown and after.height <= height) or (not shown and after.height > height):
            super().refresh(layout=True)  # a scrollbar comes or goes: Textual's layout
            return
        if after.width != before.width:
            # a column widened (the model detail's GPUs, once per new widest figure):
            # Textual's own scrollbar update, a layout only if the horizontal one comes
            # or goes (its reactive does it), else its length and the scroll follow
            self._scroll_update(after)
            return
        if shown:  # only the vertical scrollbar's length changed: what the layout does
            bar = self.vertical_scrollbar
            bar.window_virtual_size = after.height
            bar.window_size = self.container_size.height - self.scrollbar_size_horizontal
            bar.refresh()
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def refresh(self, *regions, repaint: bool = True, layout: bool = False,
                recompose: bool = False):
        if layout and self.__dict__.get("_pb_sizing") and self._size_is_fixed():
            layout = False
            self.__dict__["_pb_layout_skipped"] = True
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def set_cells(self, cells) -> None:
        """``update_cell_at`` for each ``(Coordinate, value)`` of ``cells`` with one
        repaint at the end, not one per cell (each repaints the whole table: an alerts
        refresh that moves a few hundred rows changed ~500 cells, ~35 ms). Widths stay."""
        changed = False
        for coordinate, value in cells:
            if not self.is_valid_coordinate(coordinate):
                raise CellDoesNotExist(f"Coordinate {coordinate!r} is invalid.")
            row_key, column_key = self.coordinate_to_cell_key(coordinate)
            self._data[row_key][column_key] = value
            changed = True
        if changed:
            self._update_count += 1
            self.refresh()

    def truncate_rows(self, count: int) -> None:
        """Keep the first ``count`` rows. ``remove_row`` re-indexes every row and asks
        for a screen layout for each row removed (~O(rows) each: a few hundred alerts
        gone at once cost ~0.5 s); rows cut from the end leave the others where they
        are, so here they go in one pass, with a layout only when the table's height
        follows its rows (``height: auto``)."""
        keys = [self._row_locations.get_key(i) for i in range(max(0, count), self.row_count)]
        if not keys:
            return
        for key in keys:
            if key is None:
                continue
            del self._row_locations[key]
            for column_key in self._data.get(key, {}):
                self._updated_cells.discard(CellKey(key, column_key))
            self._new_rows.discard(key)
            del self.rows[key]
            del self._data[key]
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows left
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=not self._size_is_fixed())

    def clear(self, columns: bool = False):
        self._pb_cells.clear()
        self._pb_lines.clear()
        return super().clear(columns)

    def notify_style_update(self) -> None:
        self._pb_cells.clear()  # a theme or focus style change: draw every cell again
        self._pb_lines.clear()
        super().notify_style_update()
