"""Repaint only what changed in a line-API (ScrollView) widget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget

if TYPE_CHECKING:  # the mixins below are for widgets: the type checker sees them as one
    _WidgetHost = Widget
else:  # at run time a plain mixin (no second Widget base in the MRO)
    _WidgetHost = object


def refresh_runs(view: ScrollView, lines: list[int], offset: int = 0) -> None:
    """Repaint ``lines`` (ascending virtual line numbers, + ``offset``) of ``view``, one
    region per run of consecutive lines."""
    start: int | None = None
    prev = 0
    for y in lines:
        if start is not None and y == prev + 1:
            prev = y
            continue
        if start is not None:
            view.refresh_lines(start + offset, prev - start + 1)
        start = prev = y
    if start is not None:
        view.refresh_lines(start + offset, prev - start + 1)


def fitted_width(view: ScrollView) -> int:
    """The virtual width of a view that draws each line at its visible width: the width
    less the vertical scrollbar's, whether that shows or not. The view's full width would
    bring a horizontal scrollbar (a line lost, two cells of scroll) whenever the vertical
    one shows."""
    return max(0, view.size.width - view.styles.scrollbar_size_vertical)


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """``view.virtual_size = size`` without a layout of the whole screen when the widget's
    own box cannot change (no ``auto`` width or height): only its scrollbars follow, and a
    layout happens only if one of them appears or goes. Textual's reactive lays out the
    screen on every change: at 20,000 GPUs the fleet's GPU panel (the 100 busiest, grouped
    by node, so a varying number of lines) cost a full layout, ~50 ms, each refresh."""
    if size == view.virtual_size:
        return
    if not view.is_mounted or not view.container_size or view.styles.auto_dimensions:
        view.virtual_size = size
        return
    view.set_reactive(ScrollView.virtual_size, size)
    # Textual's own update after a layout (private; textual is pinned to a minor series):
    # scrollbar visibility (itself a layout when it changes), sizes and the scroll clamped
    view._scroll_update(size)
    view.refresh()


class ComponentStyles(_WidgetHost):
    """Mixin for line-API widgets: cached component styles (``<prefix>--<name>``), and a
    render cache, both dropped when the theme or CSS changes. The widget sets
    ``self._styles = {}`` and ``self._cache = {}`` in ``__init__``."""

    COMPONENT_PREFIX = ""
    _styles: dict[str, Style]
    _cache: dict[tuple, Strip]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def _style(self, name: str) -> Style:
        """``base`` is the widget's own style; any other name a component class."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = (
                self.rich_style if name == "base"
                else self.get_component_rich_style(f"{self.COMPONENT_PREFIX}--{name}"))
        return style


class PrestyledLines(_WidgetHost):
    """Mixin for line-API widgets (before the Textual class in the bases) whose
    :meth:`render_line` hands out cached strips: their content rows are served fully
    styled -- border, padding, line filters -- from a cache keyed by the content strip,
    so an unchanged line costs a dict look-up and a changed one a join, instead of
    Textual's per-line styling pass (``StylesCache.render_line``, ~0.1 ms a line, most
    of a refresh at 2,000 GPUs). Border and padding rows, and any widget with effects
    that pass cannot reproduce this way (tint, opacity, hatch, outline, text opacity),
    take Textual's own path. The frame (what surrounds the content on a row) is taken
    from one row Textual itself rendered, so it is exactly Textual's."""

    _FINAL_MAX = 512

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.__dict__["_line_frame"] = None
        self.__dict__["_final"] = {}
        self.__dict__["_neutral"] = {}

    def render_lines(self, crop: Region) -> list[Strip]:
        frame = self._frame_for_lines()
        if frame is None:
            return super().render_lines(crop)
        top, bottom, width, prefix, suffix, content_width, inner, filters, background = frame
        y1, y2 = crop.y, crop.bottom
        a, b = max(y1, top), min(y2, bottom)
        if a >= b:
            return super().render_lines(crop)
        strips: list[Strip] = []
        if y1 < a:
            strips.extend(super().render_lines(Region(crop.x, y1, crop.width, a - y1)))
        # keyed by the content strip's identity (strips are not hashable); the entry keeps
        # that strip alive, so its id cannot be reused while the entry exists
        final_cache: dict[int, tuple[Strip, Strip]] = self.__dict__.setdefault("_final", {})
        if len(final_cache) > self._FINAL_MAX:
            final_cache.clear()
        render_line = self.render_line
        x1, x2 = crop.x, crop.right
        whole = x1 == 0 and x2 >= width
        for y in range(a, b):
            content = render_line(y - top)
            entry = final_cache.get(id(content))
            if entry is not None and entry[0] is content:
                final = entry[1]
            else:
                fitted = (content if content.cell_length == content_width
                          else content.adjust_cell_length(content_width, inner))
                segments = list(fitted)
                if not self._filters_neutral(segments, filters, background):
                    for line_filter in filters:
                        segments = line_filter.apply(segments, background)
                final = Strip([*prefix, *segments, *suffix], width)
                final_cache[id(content)] = (content, final)
            strips.append(final if whole else final.crop(x1, x2))
        if b < y2:
            strips.extend(super().render_lines(Region(crop.x, b, crop.width, y2 - b)))
        return strips

    def _filters_neutral(self, segments: list[Segment], filters: tuple,
                         background: Color) -> bool:
        """Whether the line filters leave every segment of a line as it is (they map
        each segment's style on its own: a style they leave alone once, they always
        do, for this background); most lines then skip them."""
        known: dict[Style | None, bool] = self.__dict__.setdefault("_neutral", {})
        if len(known) > 1024:
            known.clear()
        for segment in segments:
            style = segment.style
            neutral = known.get(style)
            if neutral is None:
                probe = [Segment(" ", style)]
                neutral = known[style] = all(
                    line_filter.apply(probe, background)[0].style == style
                    for line_filter in filters)
            if not neutral:
                return False
        return True

    def _frame_for_lines(self) -> tuple | None:
        """(first and last+1 content rows, width, the filtered strips left and right of
        the content, content width, inner style, filters, background), or None when
        this widget must take Textual's path."""
        size = self.outer_size
        base_background, background = self.background_colors
        filters = tuple(self.get_line_filters())
        key = (size, base_background, background, filters)
        cached = self.__dict__.get("_line_frame")
        if cached is not None and cached[0] == key:
            return cached[1]
        frame = self._make_frame(size, background, filters)
        self.__dict__["_line_frame"] = (key, frame)
        self.__dict__["_final"] = {}
        self.__dict__["_neutral"] = {}
        return frame

    def _make_frame(self, size: Size, background: Color, filters: tuple) -> tuple | None:
        styles = self.styles
        if (styles.tint.a or self.opacity != 1.0
                or styles.text_opacity != 1.0
                or (styles.has_rule("hatch") and styles.hatch != "none")
                or any(edge for edge, _ in styles.outline)):
            return None
        gutter = styles.gutter
        width, height = size
        content_width = width - gutter.width
        top, bottom = gutter.top, height - gutter.bottom
        if content_width <= 0 or bottom <= top:
            return None
        # one content row as Textual renders it: its left and right parts are the frame
        probe = Widget.render_lines(self, Region(0, top, width, 1))
        if len(probe) != 1 or probe[0].cell_length != width:
            return None
        row = probe[0]
        prefix = row.crop(0, gutter.left)
        suffix = row.crop(width - gutter.right, width)
        base_background, _ = self.background_colors
        inner = VisualStyle(background=base_background + background).rich_style
        return (top, bottom, width, prefix, suffix, content_width, inner, filters, background)
