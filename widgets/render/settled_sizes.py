"""A layout that moves a panel is one layout, not two.

When a layout gives a widget a new size, Textual's ``Screen._refresh_layout`` hands each
widget its region through ``Widget._size_updated``, which sets the reactive
``virtual_size`` -- declared ``layout=True``: any change asks for *another* layout of the
screen at the next tick, and that second layout repaints every moved widget again. For a
plain container (``Horizontal``, ``Vertical``: the compositor arranges its children, it
draws nothing of its own), a text of its own height that does not scroll (``TextLines``:
the problem strip, the cost panel; it draws its lines, sized by that very layout) and for
a scrollbar (placed by its widget's arrangement; it
draws from ``window_size`` / ``window_virtual_size``, which ``Widget._scroll_update``
sets), the virtual size that layout just computed is all there is: the second layout
recomputes the same geometry. On the fleet screen at 3,000 models the problem strip's
first line (an incident starting) moved the panels below it and cost two layouts and two
full repaints (~20 + ~10 ms); the second is gone here.

These widgets take the new virtual size quietly (``_size_updated(..., layout=False)``:
Textual's own path for a scroll-only reflow, ``set_reactive`` instead of the reactive's
setter); everything else ``_size_updated`` does (dirty on a new size, the container size,
the scrollbars' update for a scrollable widget, the Resize event the screen sends) is
unchanged. Mirrors ``textual/widget.py`` (``Widget._size_updated``, the
``vertical_scrollbar`` / ``horizontal_scrollbar`` properties) and ``textual/screen.py``
(``Screen._refresh_layout``), textual 8.2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.scrollbar import ScrollBar

# The mixins below are plain classes, not Widget subclasses: a Widget subclass placed
# before ``ScrollView`` in a widget's bases would carry the attributes Textual gives each
# Widget class (can_focus, bindings, reactives...) ahead of ScrollView's own.
if TYPE_CHECKING:
    from textual.widget import Widget as _Base
else:
    _Base = object

__all__ = ["QuietScrollBar", "SettledHorizontal", "SettledScrollbars", "SettledSize",
           "SettledVertical"]


class SettledSize(_Base):
    """Mixin for a widget that neither scrolls nor draws from its virtual size (a
    container, a line-API text of its own height): its virtual size, once a layout
    computed it, asks for no other layout."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class SettledHorizontal(SettledSize, Horizontal):
    """``Horizontal``, one layout per move."""


class SettledVertical(SettledSize, Vertical):
    """``Vertical``, one layout per move."""


class QuietScrollBar(SettledSize, ScrollBar):
    """A scrollbar whose new length asks for no second layout."""


def _quieted(bar: ScrollBar) -> ScrollBar:
    """``bar`` as a :class:`QuietScrollBar` (the same object, its class narrowed)."""
    if type(bar) is ScrollBar:
        bar.__class__ = QuietScrollBar
    return bar


class SettledScrollbars(_Base):
    """Mixin for a scrollable widget: the scrollbars Textual creates for it are
    :class:`QuietScrollBar` (the same objects, their class narrowed on creation)."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        return _quieted(super().vertical_scrollbar)

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        return _quieted(super().horizontal_scrollbar)
