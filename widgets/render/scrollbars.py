"""A line-API view's row count changed: only its scrollbar's thumb, if it moved.

``widgets.repaint.set_virtual_size`` (Textual's ``Widget._scroll_update`` after a new
virtual size) repaints the whole view and its vertical scrollbar each time its length
changes. A view that repaints its changed lines itself (``AlertTable``: a few hundred
alerts come and go each read, so the count changes nearly every refresh) needs neither:
the scrollbar (~4 ms a refresh at 48 lines, through Rich) draws the same thumb unless
its cells moved, and the lines are the view's business. Mirrors
``textual/scrollbar.py`` (``ScrollBar._render_bar``, ``ScrollBarRender.render_bar``:
where the thumb starts and ends, in eighths of a cell) and ``textual/widget.py``
(``Widget._refresh_scrollbars``, ``_scroll_update``), textual 8.2.
"""

from __future__ import annotations

from math import ceil

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar

__all__ = ["set_length_quietly"]


def _thumb(bar: ScrollBar, virtual: int) -> tuple[int, int, int] | None:
    """(bar length, first and last eighth of the thumb) the bar draws for a view
    ``virtual`` lines long (None: no thumb)."""
    size = bar.size.height
    window = bar.window_size if bar.window_size < virtual else 0
    window, virtual = ceil(window), ceil(virtual)
    if not (window and size and virtual and size != virtual):
        return None
    bars = len(bar.renderer.VERTICAL_BARS)
    thumb = max(1, window / (virtual / size))
    position = (size - thumb) * (bar.position / (virtual - window))
    start = int(position * bars)
    return size, start, start + ceil(thumb * bars)


def set_length_quietly(view: ScrollView, size: Size) -> bool:
    """``view.virtual_size = size`` for a view whose width stays and whose scrollbars
    neither come nor go: the scroll clamped, the vertical scrollbar repainted only when
    its thumb moves, the view not repainted (its caller repaints the lines that change).
    False (nothing done) in any other case: then ``set_virtual_size``."""
    old = view.virtual_size
    if size == old:
        return True
    if (not view.is_mounted or not view.container_size or view.styles.auto_dimensions
            or size.width != old.width or view.show_horizontal_scrollbar
            or view.styles.overflow_y != "auto" or view.styles.overflow_x != "auto"):
        return False
    width, height = view.container_size
    if size.width > width - view.styles.scrollbar_size_vertical:
        return False  # a horizontal scrollbar could come with the vertical one
    shown = view.show_vertical_scrollbar
    if shown != (size.height > height) or shown != (old.height > height):
        return False  # the vertical scrollbar comes or goes: a layout
    if shown:
        bar = view.vertical_scrollbar
        before = _thumb(bar, bar.window_virtual_size)
        view.set_reactive(ScrollView.virtual_size, size)
        bar.set_reactive(ScrollBar.window_virtual_size, size.height)
        if _thumb(bar, size.height) != before:
            bar.refresh()
    else:
        view.set_reactive(ScrollView.virtual_size, size)
    view.scroll_y = view.validate_scroll_y(view.scroll_y)
    return True
