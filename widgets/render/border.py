"""A border subtitle replaced by repainting its one row (Textual's private border state)."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget


def can_repaint_subtitle(widget: Widget) -> bool:
    """Whether this Textual stores a border subtitle the way :func:`repaint_subtitle` sets
    it (``Widget._border_subtitle``, written by ``textual.widget._BorderTitle.__set__``)."""
    return widget.is_mounted and hasattr(widget, "_border_subtitle")


def repaint_subtitle(widget: Widget, subtitle: str | Text) -> None:
    """Store ``subtitle`` as Textual's descriptor stores it and repaint only the bottom
    border row (the descriptor repaints the whole widget)."""
    content = Content.from_rich_text(subtitle) if isinstance(subtitle, Text) else subtitle
    widget._border_subtitle = widget.render_str(content).expand_tabs(4).split()[0]
    styles = widget.styles
    if not styles.border_bottom[0]:
        return  # no bottom border: the subtitle is not drawn
    width, height = widget.outer_size
    # refresh regions are relative to the content area: the bottom border row is below it
    widget.refresh(Region(-styles.gutter.left, height - 1 - styles.gutter.top, width, 1))
