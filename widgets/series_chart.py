"""Time-series line chart drawn with braille dots; pure renderer plus a thin widget.

:func:`render_chart` turns series into lines of ``(text, role)`` segments, with no Textual
involved, so it is tested directly. It copes with empty series, a single point, gaps
(``None``), NaN/inf (treated as gaps) and huge values (no overflow, SI labels). An
optional threshold (an SLO or drift limit) is drawn as a dashed line and markers (releases,
pitboard actions, notes) as ticks on the time axis. :class:`SeriesChart` maps roles to
component classes (theme variables only) and redraws only when data or size changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import SupportsFloat, SupportsIndex

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from backends.domain.models import Series
from widgets.repaint import PrestyledLines

Segments = list[tuple[str, str]]
"""One rendered line: (text, role) pairs; roles: s0..s5, axis, threshold, marker, empty."""

PALETTE = 6
SPARKS = "▁▂▃▄▅▆▇█"
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


@dataclass(frozen=True)
class Marker:
    """A tick on the time axis (a release, a pitboard action, a note)."""

    at: datetime
    char: str = "▲"
    label: str = ""


def finite(value: SupportsFloat | SupportsIndex | str | bytes | None) -> float | None:
    """``value`` as a finite float, else None (NaN, inf, None, junk are gaps)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def si(value: float | None, digits: int = 3) -> str:
    """Compact label: 0.012, 3.5, 350, 12k, 4.2M, 1.2T, 3e+15; None -> '—'."""
    if value is None:
        return "—"
    a = abs(value)
    if a >= 1e15:
        return f"{value:.0e}"
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= limit:
            return f"{value / limit:.{digits}g}{suffix}"
    if a == 0:
        return "0"
    return f"{value:.{digits}g}"


def points_of(series: Series) -> list[tuple[float, float | None]]:
    """(epoch seconds, finite value or None) for each point, in time order."""
    out = [(p.at.timestamp(), finite(p.value)) for p in series.points]
    out.sort(key=lambda tv: tv[0])
    return out


def y_range(values: Sequence[float]) -> tuple[float, float]:
    """(low, high) with a little headroom; a flat or single value gets a visible band."""
    lo, hi = min(values), max(values)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    span = hi / 2 - lo / 2  # halves cannot overflow
    pad = span * 0.1
    low = lo - pad if math.isfinite(lo - pad) else lo
    if lo >= 0 > low:
        low = 0.0  # non-negative figures (rps, ms, %) never get a negative axis
    return low, (hi + pad if math.isfinite(hi + pad) else hi)


def _frac(v: float, lo: float, hi: float) -> float:
    span = hi - lo
    if math.isfinite(span) and span > 0:
        return (v - lo) / span
    half = hi / 2 - lo / 2
    return (v / 2 - lo / 2) / half if half > 0 else 0.5


def sparkline(values: Sequence[float | None], width: int) -> str:
    """One-row chart of the last ``width`` values; gaps as spaces."""
    vals = [finite(v) for v in values][-width:] if width > 0 else []
    good = [v for v in vals if v is not None]
    if not good:
        return "·" * max(0, width)
    lo, hi = min(good), max(good)
    out = []
    for v in vals:
        if v is None:
            out.append(" ")
        else:
            f = _frac(v, lo, hi) if hi > lo else 0.5
            out.append(SPARKS[min(len(SPARKS) - 1, max(0, int(f * (len(SPARKS) - 1) + 0.5)))])
    return "".join(out).rjust(width)


def _line(canvas, owner, x0, y0, x1, y1, role) -> None:
    steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    for i in range(steps + 1):
        x = x0 + (x1 - x0) * i // steps
        y = y0 + (y1 - y0) * i // steps
        _dot(canvas, owner, x, y, role)


def _dot(canvas, owner, x, y, role) -> None:
    rows, cols = len(canvas), len(canvas[0])
    cx, cy = x // 2, y // 4
    if 0 <= cy < rows and 0 <= cx < cols:
        canvas[cy][cx] |= _BRAILLE_BITS[y % 4][x % 2]
        owner[cy][cx] = role


def time_label(ts: float, span_s: float) -> str:
    """HH:MM for spans up to a day, else MM-DD (UTC)."""
    dt = datetime.fromtimestamp(ts, timezone.utc)
    return dt.strftime("%H:%M" if span_s <= 86400 else "%m-%d")


def render_chart(series: Sequence[Series], width: int, height: int, *,
                 start: datetime | None = None, end: datetime | None = None,
                 threshold: float | None = None, markers: Sequence[Marker] = (),
                 legend: bool = True) -> list[Segments]:
    """Lines of ``(text, role)`` segments exactly ``width`` cells wide, ``height`` lines."""
    width, height = max(0, width), max(0, height)
    if width == 0 or height == 0:
        return [[] for _ in range(height)]
    data = [(i % PALETTE, s.name, points_of(s)) for i, s in enumerate(series)]
    ys = [v for *_, pts in data for _, v in pts if v is not None]
    threshold = finite(threshold)
    blank = [(" " * width, "axis")]
    if not ys:
        msg = "no data"[:width].center(width)
        return [blank if r != height // 2 else [(msg, "empty")] for r in range(height)]
    if height < 3 or width < 12:
        out: list[Segments] = []
        first = data[0][2]
        out.append([(sparkline([v for _, v in first], width), "s0")])
        return out + [blank] * (height - 1)
    rows: list[Segments] = []
    if legend and height >= 6:
        leg: Segments = []
        used = 0
        for idx, name, _ in data:
            piece = f"■ {name}  "
            if used + len(piece) > width:
                break
            leg.append(("■ ", f"s{idx}"))
            leg.append((f"{name}  ", "axis"))
            used += len(piece)
        if threshold is not None and used + 12 <= width:
            piece = f"╌ limit {si(threshold)}"
            leg.append((piece, "threshold"))
            used += len(piece)
        leg.append((" " * (width - used), "axis"))
        rows.append(leg)
    plot_h = height - len(rows) - 1
    lo, hi = y_range(ys + ([threshold] if threshold is not None else []))
    labels = (si(hi), si(lo))
    lw = min(8, max(len(x) for x in labels))
    plot_w = width - lw - 1
    xs = [t for *_, pts in data for t, _ in pts]
    t0 = start.timestamp() if start else min(xs)
    t1 = end.timestamp() if end else max(xs)
    if t1 <= t0:
        t0, t1 = t0 - 1.0, t0 + 1.0  # single instant: centred
    dots_w, dots_h = plot_w * 2, plot_h * 4
    canvas = [[0] * plot_w for _ in range(plot_h)]
    owner = [[""] * plot_w for _ in range(plot_h)]

    def px(t: float) -> int:
        return min(dots_w - 1, max(0, int((t - t0) / (t1 - t0) * (dots_w - 1) + 0.5)))

    def py(v: float) -> int:
        return min(dots_h - 1, max(0, int((1.0 - _frac(v, lo, hi)) * (dots_h - 1) + 0.5)))

    for idx, _, pts in data:
        prev = None
        for t, v in pts:
            if v is None or t < t0 or t > t1:
                prev = None
                continue
            cur = (px(t), py(v))
            if prev is None:
                _dot(canvas, owner, *cur, f"s{idx}")
            else:
                _line(canvas, owner, *prev, *cur, f"s{idx}")
            prev = cur
    thr_row = py(threshold) // 4 if threshold is not None else None
    for r in range(plot_h):
        label = labels[0] if r == 0 else labels[1] if r == plot_h - 1 else ""
        line: Segments = [(label.rjust(lw)[:lw] + ("┤" if label else "│"), "axis")]
        for c in range(plot_w):
            bits = canvas[r][c]
            if bits:
                line.append((chr(0x2800 + bits), owner[r][c]))
            elif r == thr_row:
                line.append(("╌", "threshold"))
            else:
                line.append((" ", "axis"))
        rows.append(_merge(line))
    rows.append(_axis(lw, plot_w, t0, t1, markers))
    return rows


def _axis(lw: int, plot_w: int, t0: float, t1: float, markers: Sequence[Marker]) -> Segments:
    cells = [" "] * plot_w
    roles = ["axis"] * plot_w
    left, right = time_label(t0, t1 - t0), time_label(t1, t1 - t0)
    if plot_w >= len(left) + len(right) + 1:
        cells[: len(left)] = left
        cells[plot_w - len(right):] = right
    for m in markers:
        t = m.at.timestamp()
        if t0 <= t <= t1:
            c = min(plot_w - 1, int((t - t0) / (t1 - t0) * (plot_w - 1) + 0.5))
            cells[c], roles[c] = (m.char or "▲")[:1], "marker"
    line: Segments = [(" " * lw + "└", "axis")]
    line += [(ch, role) for ch, role in zip(cells, roles)]
    return _merge(line)


def _merge(line: Segments) -> Segments:
    out: Segments = []
    for text, role in line:
        if out and out[-1][1] == role:
            out[-1] = (out[-1][0] + text, role)
        else:
            out.append((text, role))
    return out


def plain(lines: Sequence[Segments]) -> list[str]:
    """The text of rendered lines (for tests and text export)."""
    return ["".join(t for t, _ in line) for line in lines]


ROLES = tuple(f"s{i}" for i in range(PALETTE)) + ("axis", "threshold", "marker", "empty")
"""Every role :func:`render_chart` gives a segment (each a ``chart--<role>`` component class)."""

WAITING = "waiting for data…"


def chart_strips(lines: Sequence[Segments], styles: Mapping[str, Style]) -> tuple[Strip, ...]:
    """Rendered lines as strips, each ``(text, role)`` in ``styles[role]``; thread-safe
    (Rich alone), so a worker can draw a chart and the widget only swap its lines in.

    The segments are the ones Textual made of the chart as one Rich Text (one per
    piece, each with its offset in the style's meta, as Textual marks text for
    selection): pieces of one colour stay apart, as they did on screen and in
    screenshots."""
    out = []
    for y, line in enumerate(lines):
        segments = []
        x = 0
        for text, role in line:
            if text:
                segments.append(Segment(text, styles[role] + Style.from_meta(
                    {"offset": (x, y)})))
                x += cell_len(text)
        out.append(Strip(segments, x))
    return tuple(out)


@dataclass(frozen=True)
class ChartPainter:
    """What a chart needs to be drawn away from its widget: its content size and the
    style of each role (the widget's own style with the role's component style over
    it). Two equal painters draw identical lines."""

    width: int
    height: int
    styles: tuple[tuple[str, Style], ...]

    def draw(self, series: Sequence[Series], *, start: datetime | None = None,
             end: datetime | None = None, threshold: float | None = None,
             markers: Sequence[Marker] = ()) -> DrawnChart:
        """The chart of ``series`` as :meth:`SeriesChart.show` would draw it with this
        painter; thread-safe (for a worker thread)."""
        data = _data_key(series, start, end, threshold, markers)
        return DrawnChart(data, self, self.strips(data))

    def strips(self, data: tuple) -> tuple[Strip, ...]:
        """The lines of ``data`` (a :func:`_data_key`)."""
        series, start, end, threshold, markers = data
        lines = render_chart(series, self.width, self.height, start=start, end=end,
                             threshold=threshold, markers=markers)
        return chart_strips(lines, dict(self.styles))


@dataclass(frozen=True)
class DrawnChart:
    """A chart drawn ahead (in a worker): the data it shows, the painter it was drawn
    with, and its lines. :meth:`SeriesChart.show` takes its lines when both still match."""

    data: tuple
    painter: ChartPainter
    strips: tuple[Strip, ...]


def _data_key(series: Sequence[Series], start: datetime | None, end: datetime | None,
              threshold: float | None, markers: Sequence[Marker]) -> tuple:
    return (tuple(series), start, end, threshold, tuple(markers))


class SeriesChart(PrestyledLines, Widget):
    """Shows series set with :meth:`show`; roles map to theme-coloured component classes.

    Line API: the chart's lines are drawn once per (data, size, styles) -- or ahead in a
    worker (:meth:`painter`, :class:`DrawnChart`) -- and handed out as they are; a
    repaint of an unchanged chart draws nothing again."""

    DEFAULT_CSS = """
    SeriesChart { height: 1fr; min-height: 3; }
    SeriesChart > .chart--s0 { color: $accent; }
    SeriesChart > .chart--s1 { color: $warning; }
    SeriesChart > .chart--s2 { color: $error; }
    SeriesChart > .chart--s3 { color: $success; }
    SeriesChart > .chart--s4 { color: $primary; }
    SeriesChart > .chart--s5 { color: $secondary; }
    SeriesChart > .chart--axis { color: $text-muted; }
    SeriesChart > .chart--threshold { color: $error; }
    SeriesChart > .chart--marker { color: $text-accent; text-style: bold; }
    SeriesChart > .chart--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES = {f"chart--{role}" for role in ROLES}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._data: tuple | None = None
        self._styles: tuple[tuple[str, Style], ...] | None = None
        self._lines: tuple[ChartPainter, tuple[Strip, ...]] | None = None

    def show(self, series: Sequence[Series], *, start: datetime | None = None,
             end: datetime | None = None, threshold: float | None = None,
             markers: Sequence[Marker] = (), drawn: DrawnChart | None = None) -> None:
        """Plot ``series`` over ``[start, end]``; unchanged data = no redraw. ``drawn``:
        the same chart drawn ahead by :meth:`painter`'s painter, used when it shows this
        data at the current size and styles (else the widget draws it when painted)."""
        data = _data_key(series, start, end, threshold, markers)
        if data == self._data:
            return
        self._data = data
        self._lines = None
        if drawn is not None and drawn.data == data and drawn.painter == self.painter():
            self._lines = (drawn.painter, drawn.strips)
        self.refresh()

    @property
    def has_data(self) -> bool:
        return self._data is not None

    def painter(self) -> ChartPainter | None:
        """The painter of this chart at its current size and styles, for a worker to
        draw it ahead (:meth:`ChartPainter.draw`); None before its first layout."""
        width, height = self.content_size
        if width <= 0 or height <= 0 or not self.is_mounted:
            return None
        return ChartPainter(width, height, self._role_styles())

    def _role_styles(self) -> tuple[tuple[str, Style], ...]:
        styles = self._styles
        if styles is None:
            base = self.visual_style.rich_style
            styles = self._styles = tuple(
                (role, base + self.get_component_rich_style(f"chart--{role}", partial=True))
                for role in ROLES)
        return styles

    def render(self) -> Text:
        """What is shown before any data (Textual lays it out, wrapped if narrow)."""
        return Text(WAITING, style=self.get_component_rich_style("chart--empty", partial=True),
                    no_wrap=True)

    def render_line(self, y: int) -> Strip:
        if self._data is None:
            return super().render_line(y)  # the waiting line: Textual's own path
        width, height = self.content_size
        styles = self._role_styles()
        lines = self._lines
        if lines is None or not (lines[0].width == width and lines[0].height == height and (
                lines[0].styles is styles or lines[0].styles == styles)):
            painter = ChartPainter(width, height, styles)
            lines = self._lines = (painter, painter.strips(self._data))
        strips = lines[1]
        # below the lines: blank in the widget's own style, as Textual fills them
        return strips[y] if y < len(strips) else Strip.blank(width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        """Theme or CSS changed: the cached colours are stale."""
        self._styles = None
        self._lines = None
        super().notify_style_update()
