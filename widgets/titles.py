"""Border titles set only when they change.

Assigning ``border_title`` / ``border_subtitle`` repaints the whole widget, even with the
same value: on a refresh that would undo the "only changed lines are redrawn" work of the
line-API widgets. These helpers remember what was set and skip identical assignments.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


def _key(value: object) -> object:
    if isinstance(value, Text):
        return ("text", value.plain, tuple(value.spans), value.style)
    return value


def set_border_title(widget: Widget, title: str | Text | None) -> None:
    """``widget.border_title = title`` unless it already shows exactly that."""
    key = _key(title)
    if getattr(widget, "_pb_border_title", _MISSING) != key:
        widget._pb_border_title = key  # type: ignore[attr-defined]
        widget.border_title = title


def set_border_subtitle(widget: Widget, subtitle: str | Text | None) -> None:
    """``widget.border_subtitle = subtitle`` unless it already shows exactly that."""
    key = _key(subtitle)
    if getattr(widget, "_pb_border_subtitle", _MISSING) != key:
        widget._pb_border_subtitle = key  # type: ignore[attr-defined]
        widget.border_subtitle = subtitle


_MISSING = object()
