"""plotext themes matching a Textual theme (textual-plotext's private theme helpers)."""

from __future__ import annotations

RGB = tuple[int, int, int]


def plotext_theme(app_theme: str, surface: RGB, foreground: RGB) -> str:
    """Register (once) and name the plotext theme matching the Textual theme
    ``app_theme`` (surface background, foreground text), as textual-plotext's "auto"
    (``textual_plotext.plot._rgbify_theme``); the name holds the colours, so a theme
    redefined under the same name gets its own."""
    from plotext._dict import themes  # noqa: PLC0415 - plotext after the first frame
    from textual_plotext.plot import _rgbify_theme, _sequence  # noqa: PLC0415 - same

    name = "textual-auto-{}-{:02x}{:02x}{:02x}-{:02x}{:02x}{:02x}".format(
        app_theme, *surface, *foreground)
    if name not in themes:  # the same value whichever thread registers it first
        themes[name] = _rgbify_theme(surface, surface, foreground, "default", list(_sequence))
    return name
