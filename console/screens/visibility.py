"""Whether a screen is on the terminal: a refresh redraws only the screens that are.

A screen under a view (the fleet under ``:cost``, ``:cost`` under a model's detail) is not
drawn; re-applying each refresh to it costs milliseconds for nothing. Such a screen keeps
the latest snapshot, marks itself stale, and applies it once when it is on top again.
A modal (help, palette, guard) leaves the screen under it visible: that one still updates.
"""

from __future__ import annotations

from textual.screen import ModalScreen, Screen

__all__ = ["covered"]


def covered(screen: Screen) -> bool:
    """True when a full (non-modal) screen lies above ``screen`` in the app's stack."""
    stack = screen.app.screen_stack
    for i, other in enumerate(stack):
        if other is screen:
            return any(not isinstance(s, ModalScreen) for s in stack[i + 1:])
    return False  # not in the stack (being composed, or a test's own): draw it
