"""Breakpoint classes set up front.

Textual adds a screen's breakpoint classes (``-narrow`` / ``-wide``) on its first Resize,
after every widget was styled once -- and a class change on the screen restyles all of
them again. Setting the classes the current width calls for when the screen is created
makes that first Resize a no-op.
"""

from __future__ import annotations

from textual.screen import Screen


def preset_breakpoints(screen: Screen) -> None:
    """Add the horizontal breakpoint class of the app's current width to ``screen``."""
    try:
        width = screen.app.size.width
    except RuntimeError:  # no running app (NoActiveAppError): Resize will do it
        return
    points = screen.HORIZONTAL_BREAKPOINTS
    if points is None:
        points = screen.app.HORIZONTAL_BREAKPOINTS or []
    for point, name in sorted(points, reverse=True):
        if width >= point:
            screen.add_class(name, update=False)
            return
