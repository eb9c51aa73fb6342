"""Border titles set only when they change.

Assigning ``border_title`` / ``border_subtitle`` repaints the whole widget, even with the
same value: on a refresh that would undo the "only changed lines are redrawn" work of the
line-API widgets. These helpers remember what was set and skip identical assignments.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from widgets.render.border import can_repaint_subtitle, repaint_subtitle


def _key(value: object) -> object:
    if isinstance(value, Text):
        return ("text", value.plain, tuple(value.spans), value.style)
    return value


def set_border_title(widget: Widget, title: str | Text | None) -> None:
    """``widget.border_title = title`` unless it already shows exactly that."""
    key = _key(title)
    if getattr(widget, "_pb_border_title", _MISSING) != key:
        widget._pb_border_title = key  # type: ignore[attr-defined]  # our mark, kept on Textual's Widget
        widget.border_title = title


def set_border_subtitle(widget: Widget, subtitle: str | Text | None) -> None:
    """``widget.border_subtitle = subtitle`` unless it already shows exactly that. A
    subtitle replacing another on a mounted widget repaints only the bottom border row
    (the descriptor repaints the whole widget: for the GPU panel, whose subtitle carries
    the average utilisation, that was every line, border and scrollbar each refresh)."""
    key = _key(subtitle)
    old = getattr(widget, "_pb_border_subtitle", _MISSING)
    if old == key:
        return
    widget._pb_border_subtitle = key  # type: ignore[attr-defined]  # our mark, kept on Textual's Widget
    if old is _MISSING or old is None or subtitle is None or not can_repaint_subtitle(widget):
        widget.border_subtitle = subtitle
        return
    repaint_subtitle(widget, subtitle)


_MISSING = object()
