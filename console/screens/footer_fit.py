"""Fit the footer to the terminal: the most important keys stay visible at any width.

Textual's Footer shows every ``show=True`` binding in order and cuts the line where the
screen ends (at 80 columns the fleet screen's footer stopped at "n Not…", hiding ``q`` and
``?``). :func:`fit_footer` keeps the footer's order but hides (``show=False``), lowest
priority first, the keys that would not fit; the help screen still lists every key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from textual.binding import ActiveBinding, Binding
from textual.events import Resize

from console.screens.typed import ScreenHost

PALETTE_WIDTH = 14
"""The command palette key docked right: border, "^p palette", padding, and a spare."""


def item_width(display: str, description: str) -> int:
    """Cells one footer key takes: `` k desc `` (one cell of padding each side)."""
    return len(display) + (1 + len(description) if description else 0) + 2


def fit_footer(bindings: dict[str, ActiveBinding], width: int, priority: Sequence[str],
               key_display: Callable[[Binding], str],
               reserve: int = PALETTE_WIDTH) -> dict[str, ActiveBinding]:
    """``bindings`` (a screen's ``active_bindings``) with the shown keys that do not fit in
    ``width`` cells hidden. Keys are kept in ``priority`` order (keys not named there come
    last, in footer order) until one does not fit: that one and every later one are
    hidden (a predictable "the N most important keys"). Returns a new dict; the input is
    not changed."""
    shown = [(key, active) for key, active in bindings.items() if active.binding.show]
    rank = {key: i for i, key in enumerate(priority)}
    order = sorted(range(len(shown)), key=lambda i: (rank.get(shown[i][0], len(rank)), i))
    budget, keep = width - reserve, set()
    seen_actions: set[str] = set()
    for i in order:
        key, active = shown[i]
        if active.binding.action in seen_actions:  # the footer shows one key per action
            keep.add(key)
            continue
        cost = item_width(key_display(active.binding), active.binding.description)
        if cost > budget:
            break
        budget -= cost
        keep.add(key)
        seen_actions.add(active.binding.action)
    out = dict(bindings)
    for key, active in shown:
        if key not in keep:
            out[key] = active._replace(binding=dataclasses.replace(active.binding, show=False))
    return out


class FooterFitMixin(ScreenHost):
    """For a Screen whose footer must fit: ``FOOTER_PRIORITY`` names its keys, most
    important first; ``active_bindings`` (what the footer shows) hides what does not fit
    at the screen's width, refreshed when the width changes."""

    FOOTER_PRIORITY: tuple[str, ...] = ()
    _footer_width: int = 0

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings
        width = self.size.width or self.app.size.width  # composing: not laid out yet
        if not self.FOOTER_PRIORITY or width <= 0:
            return bindings
        return fit_footer(bindings, width, self.FOOTER_PRIORITY, self.app.get_key_display)

    @property
    def unfitted_bindings(self) -> dict[str, ActiveBinding]:
        """``active_bindings`` before fitting (what the help lists as footer keys)."""
        return super().active_bindings

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._footer_width:
            self._footer_width = event.size.width
            self.refresh_bindings()
