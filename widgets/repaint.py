"""Repaint only what changed in a line-API (ScrollView) widget."""

from __future__ import annotations

from rich.style import Style
from textual.scroll_view import ScrollView


def refresh_runs(view: ScrollView, lines: list[int], offset: int = 0) -> None:
    """Repaint ``lines`` (ascending virtual line numbers, + ``offset``) of ``view``, one
    region per run of consecutive lines."""
    start = prev = None
    for y in lines:
        if start is not None and y == prev + 1:
            prev = y
            continue
        if start is not None:
            view.refresh_lines(start + offset, prev - start + 1)
        start = prev = y
    if start is not None:
        view.refresh_lines(start + offset, prev - start + 1)


class ComponentStyles:
    """Mixin for line-API widgets: cached component styles (``<prefix>--<name>``), and a
    render cache, both dropped when the theme or CSS changes. The widget sets
    ``self._styles = {}`` and ``self._cache = {}`` in ``__init__``."""

    COMPONENT_PREFIX = ""

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        self._styles.clear()  # type: ignore[attr-defined]
        self._cache.clear()  # type: ignore[attr-defined]

    def _style(self, name: str) -> Style:
        """``base`` is the widget's own style; any other name a component class."""
        style = self._styles.get(name)  # type: ignore[attr-defined]
        if style is None:
            style = self._styles[name] = (  # type: ignore[attr-defined]
                self.rich_style if name == "base"  # type: ignore[attr-defined]
                else self.get_component_rich_style(f"{self.COMPONENT_PREFIX}--{name}"))  # type: ignore[attr-defined]
        return style
