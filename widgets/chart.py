"""Latency / error chart of one model (plotext, drawn off the UI thread).

Building a plotext figure costs tens of milliseconds, so :class:`LatencyChart` does not
build it in ``render()``: :func:`build_chart` draws a fresh plotext figure (its own
``textual_plotext.plot.Plot`` object per call, never plotext's shared module-level
figure) and cuts it into ready :class:`~textual.strip.Strip` lines in a thread worker;
the widget (line API) only hands those lines out, so a redraw costs the UI thread next to
nothing. A new figure is drawn when the series, the widget's content size or the app
theme change; a result for an outdated request is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import NamedTuple

from rich.segment import Segment
from rich.color import Color as RichColor
from rich.style import Style as RichStyle
from rich.text import Text
from textual.color import Color
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from backends.domain.models import Series
from widgets.render.plotext_theme import plotext_theme
from widgets.repaint import PrestyledLines
from widgets.text import safe
from widgets.text_lines import text_strips

LATENCY_NAMES = ("p50", "p95", "p99")


def xy(series: Series, end) -> tuple[list[float], list[float]]:
    """Minutes before ``end`` and values; gaps (None) are dropped."""
    xs, ys = [], []
    for p in series.points:
        if p.value is None:
            continue
        xs.append((p.at - end).total_seconds() / 60.0)
        ys.append(p.value)
    return xs, ys


def _kind(name: str) -> str:
    low = name.lower()
    if "err" in low:
        return "error"
    if any(k in low for k in LATENCY_NAMES) or "latency" in low or "ms" in low:
        return "latency"
    return "other"


RGB = tuple[int, int, int]
#: Series colours from the app theme, by what the series name contains.
SERIES_COLORS = (("p50", "primary"), ("p95", "secondary"), ("p99", "warning"),
                 ("err", "error"))
LEGEND_MIN_HEIGHT = 10
DEFAULT_PALETTE = ((0, 120, 215), (0, 160, 160), (255, 166, 43), (186, 60, 91))


def chart_colors(variables: dict[str, str]) -> tuple[RGB, RGB, tuple[RGB, ...]]:
    """(surface, foreground, series palette) of the app theme's variables, as RGB."""
    palette = tuple(Color.parse(variables[var]).rgb if var in variables else default
                    for (_, var), default in zip(SERIES_COLORS, DEFAULT_PALETTE))
    return (Color.parse(variables.get("surface", "black")).rgb,
            Color.parse(variables.get("foreground", "white")).rgb, palette)


def series_color(name: str, palette: tuple[RGB, ...]) -> RGB | None:
    """The palette colour for a series named ``name`` (None: plotext picks one)."""
    low = name.lower()
    return next((rgb for (key, _), rgb in zip(SERIES_COLORS, palette) if key in low), None)


def legend_line(entries: Sequence[tuple[str, RGB | None, bool]], width: int,
                surface: RGB, foreground: RGB) -> Text:
    """One line naming each plotted series in its colour, left-axis series first, then the
    right-axis ones (marked so), exactly ``width`` cells (names shown literally)."""
    base = RichStyle(color=RichColor.from_rgb(*foreground), bgcolor=RichColor.from_rgb(*surface))
    line = Text(style=base, no_wrap=True, overflow="crop", end="")
    for name, rgb, right in sorted(entries, key=lambda e: e[2]):  # stable: left, then right
        mark = base + RichStyle(color=RichColor.from_rgb(*rgb)) if rgb else base
        line.append(" ━", mark)
        line.append(" " + safe(name, 40) + (" (right)" if right else "") + " ")
    line.truncate(width, overflow="ellipsis", pad=True)
    return line


class Figure(NamedTuple):
    """A drawn chart: its text (``plain``) and its lines, exactly ``width`` cells each."""

    plain: str
    strips: tuple[Strip, ...]


def _strips(text: Text, width: int, height: int) -> tuple[Strip, ...]:
    """``text`` cut into ``height`` lines of exactly ``width`` cells (thread-safe)."""
    out = text_strips(text, width)[:height]
    out += [Strip([Segment(" " * width)], width)] * (height - len(out))
    return tuple(out)


def build_chart(window: str, series: Sequence[Series], width: int, height: int,
                theme: tuple) -> Figure:
    """The chart of ``series`` over ``window`` as ``width`` x ``height`` cells, cut into
    lines ready to show: nothing is left to convert on the UI thread.

    ``theme``: (Textual theme name, surface, foreground). Thread-safe: each call draws
    on its own plotext figure. Series names are shown literally (control characters
    escaped)."""
    from textual_plotext.plot import Plot  # noqa: PLC0415 - plotext after the first frame

    app_theme, surface, foreground = theme[:3]
    palette = theme[3] if len(theme) > 3 else DEFAULT_PALETTE
    plt = Plot()
    ends = [s.points[-1].at for s in series if s.points]
    legend: list[tuple[str, RGB | None, bool]] = []
    if not ends:
        plt.title("no data")
    else:
        end = max(ends)
        for s in series:
            kind = _kind(s.name)
            if kind == "other":
                continue
            xs, ys = xy(s, end)
            if not xs:
                continue
            rgb = series_color(s.name, palette)
            right = kind == "error"
            # no plotext legend (it overlays the data with odd glyphs): a line of our own
            plt.plot(xs, ys, marker="braille", color=rgb, yside="right" if right else "left")
            legend.append((s.name, rgb, right))
        plt.xlabel(f"min ({safe(window, 10)})")
    # the legend takes a line only where the plot keeps enough of them (not at 80x24)
    top = 1 if legend and height >= LEGEND_MIN_HEIGHT else 0
    plt.plotsize(width, height - top)
    plt._set_size(width, height - top)  # as textual-plotext's render(): resizing needs both
    plt.theme(plotext_theme(app_theme, surface, foreground))
    text = Text.from_ansi(plt.build().rstrip("\n"), no_wrap=True, overflow="crop", end="")
    if top:
        text = Text("\n", end="").join([legend_line(legend, width, surface, foreground), text])
    return Figure(text.plain, _strips(text, width, height))


class LatencyChart(PrestyledLines, Widget, can_focus=True):
    """p50/p95/p99 latency (left axis, ms) and error % (right axis) over a window."""

    DEFAULT_CSS = """
    LatencyChart { width: 1fr; height: 1fr; min-height: 5; }
    """

    class Drawn(Message, bubble=False):
        """A figure finished drawing in the worker thread (for request ``key``)."""

        def __init__(self, key: tuple, figure: Figure) -> None:
            super().__init__()
            self.key, self.figure = key, figure

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._data: tuple[str, str, tuple[Series, ...]] | None = None
        self._asked: tuple | None = None  # the latest figure requested
        self._figure: Figure | None = None  # the latest figure shown

    @property
    def plain(self) -> str:
        """The text of the figure on screen ("" before the first one)."""
        return self._figure.plain if self._figure is not None else ""

    def render_line(self, y: int) -> Strip:
        figure = self._figure
        width = self.content_size.width
        if figure is None or y >= len(figure.strips):
            return Strip.blank(width)
        strip = figure.strips[y]
        return strip if strip.cell_length == width else strip.crop_extend(0, width, None)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._draw())

    def _theme(self) -> tuple:
        return (self.app.theme, *chart_colors(self.app.theme_variables))

    def drawer(self, model: str, window: str):
        """For the worker that fetches the series: a function drawing them at the current
        size and theme, returning (key, figure) for :meth:`show_series` (None: not laid
        out yet). Saves a worker and a frame per redraw."""
        size = self.content_size
        if size.width <= 0 or size.height <= 0 or not self.is_mounted:
            return None
        width, height, theme = size.width, size.height, self._theme()

        def draw(series: Sequence[Series]) -> tuple[tuple, Figure]:
            key = ((model, window, tuple(series)), width, height, theme)
            return key, build_chart(window, series, width, height, theme)

        return draw

    def show_series(self, model: str, window: str, series: Sequence[Series],
                    drawn: tuple[tuple, Figure] | None = None) -> None:
        """Plot ``series`` for ``model`` over ``window``; unchanged data = no redraw.
        ``drawn``: the figure already drawn by :meth:`drawer`'s function, used when it
        still fits the size and theme (else it is drawn again in a worker)."""
        data = (model, window, tuple(series))
        if data == self._data:
            return
        self._data = data
        if drawn is not None:
            key, figure = drawn
            size = self.content_size
            if key == (data, size.width, size.height, self._theme()):
                self._asked, self._figure = key, figure
                self.refresh()
                return
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        """Ask the worker thread for a figure of the current data, size and theme."""
        size = self.content_size
        if self._data is None or size.width <= 0 or size.height <= 0 or not self.is_mounted:
            return
        theme = self._theme()
        key = (self._data, size.width, size.height, theme)
        if key == self._asked:
            return
        self._asked = key
        _model, window, series = self._data

        def draw() -> None:
            self.post_message(self.Drawn(key, build_chart(window, series, size.width,
                                                          size.height, theme)))

        self.run_worker(draw, thread=True, exclusive=True, group="chart-draw",
                        name="chart-draw", description="draw the latency chart",
                        exit_on_error=False)

    def on_latency_chart_drawn(self, message: LatencyChart.Drawn) -> None:
        if message.key == self._asked:
            self._figure = message.figure
            self.refresh()  # the size is fixed by CSS: no layout
