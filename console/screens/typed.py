"""Pitboard's screens as the type checker sees them: their ``self.app`` is the PitboardApp.

Textual types ``self.app`` as ``App[object]``, which knows nothing of ``app.navigator``,
``app.records`` and the rest. Its own remedy is the descriptor
``textual.getters.app(PitboardApp)`` on the class; here it is declared for the type checker
only. At run time these names are Textual's own classes (``PitboardScreen`` is ``Screen``,
``ScreenHost`` is ``object``): no isinstance check on every ``self.app``, no import of
``console.app`` from the screens (that would be an import circle), and each screen's bases,
CSS type names and behaviour are exactly what they were.

- ``PitboardScreen``: base of the pitboard screens that use the app's attributes.
- ``ScreenHost``: base of a mixin made for those screens (``FooterFitMixin``,
  ``ActionKeysMixin``): to the type checker it is such a screen, so the mixin's
  ``super()`` calls and ``self.refresh_bindings()`` are checked against Textual's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

__all__ = ["PitboardScreen", "ScreenHost"]

if TYPE_CHECKING:
    from textual import getters
    from textual.screen import ScreenResultType

    from console.app import PitboardApp

    class PitboardScreen(Screen[ScreenResultType]):
        app = getters.app(PitboardApp)

    ScreenHost = PitboardScreen[Any]
else:
    PitboardScreen = Screen
    ScreenHost = object
