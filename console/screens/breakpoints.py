"""A screen's widgets styled once when it opens, not three times.

Textual adds a screen's breakpoint classes (``-narrow`` / ``-wide``, the fleet screen's
``-tiny`` / ``-short`` / ``-tall`` too) on its first Resize,
after every widget was styled once -- and a class change on the screen restyles all of
them again. Setting the classes the current width calls for before the widgets are
composed makes that first Resize a no-op.

Textual also restyles the whole screen on every ScreenResume. The first one follows the
screen's mount, where every widget was just styled: at 80x24 the fleet screen's restyle
costs ~20-40 ms (~90 style applications counting component classes), for nothing.
Later resumes (back from a modal or a view, perhaps after a theme change) still restyle.
"""

from __future__ import annotations

from textual.events import ScreenResume
from textual.screen import Screen


def preset_breakpoints(screen: Screen) -> None:
    """Add the breakpoint classes of the app's current width and height to ``screen``."""
    try:
        width, height = screen.app.size
    except RuntimeError:  # no running app (NoActiveAppError): Resize will do it
        return
    horizontal = screen.HORIZONTAL_BREAKPOINTS
    if horizontal is None:
        horizontal = screen.app.HORIZONTAL_BREAKPOINTS or []
    vertical = screen.VERTICAL_BREAKPOINTS
    if vertical is None:
        vertical = screen.app.VERTICAL_BREAKPOINTS or []
    for size, points in ((width, horizontal), (height, vertical)):
        for point, name in sorted(points, reverse=True):
            if size >= point:
                screen.add_class(name, update=False)
                break


def skip_first_restyle(screen: Screen, event: ScreenResume) -> None:
    """Call from the screen's own ``on_screen_resume(event)`` (it runs before Textual's):
    the first resume does not restyle the screen its mount just styled."""
    if not getattr(screen, "_pb_resumed", False):
        screen._pb_resumed = True  # type: ignore[attr-defined]  # our mark, kept on Textual's Screen
        event.refresh_styles = False
