"""SVG charts of an incident window for the HTML postmortem, drawn by matplotlib.

matplotlib (the optional ``export`` extra) draws them with its SVG backend, without pyplot's
global state or a display: one :class:`~matplotlib.figure.Figure` per model, one panel per
figure (error ratio, p95 latency, requests/s, GPU utilisation when known), the incident's
actions, notes and alerts as vertical lines on the shared time axis, each a link to its
timeline entry (``#entry-12``) and tagged like it (``A1``, ``N2``, ``!1``). Text stays
text in the SVG (``svg.fonttype = none``) and the output is deterministic (fixed hash salt,
no date in the metadata), so the same incident gives the same file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from backends.domain.models import Series

MarkKind = Literal["action", "note", "alert"]

PANELS: tuple[tuple[str, str], ...] = (
    ("error %", "error ratio (%)"),
    ("p95 ms", "p95 latency (ms)"),
    ("rps", "requests / s"),
    ("util %", "GPU utilisation (%)"),
)
"""(series name as the metrics backends give it, panel title), top to bottom."""

MARK_STYLE: dict[str, tuple[str, str]] = {
    "action": ("#b03a2e", "--"), "note": ("#1f618d", ":"), "alert": ("#b9770e", "-."),
}
"""Colour and line style per mark kind (the HTML's legend uses the same colours)."""


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed (``pip install 'pitboard[export]'``)."""


@dataclass(frozen=True)
class Mark:
    """One event on the time axis: ``tag`` is drawn, ``anchor`` is the link target;
    ``model`` the model it concerns (None: the whole incident, shown on every chart)."""

    at: datetime
    tag: str
    kind: MarkKind
    anchor: str
    label: str = ""
    model: str | None = None


def _values(series: Series, start: datetime, end: datetime
            ) -> tuple[list[datetime], list[float]]:
    xs: list[datetime] = []
    ys: list[float] = []
    for p in series.points:
        if start <= p.at <= end:
            xs.append(p.at)
            ys.append(p.value if p.value is not None and math.isfinite(p.value) else math.nan)
    return xs, ys


def tag_levels(marks: Sequence[Mark], start: datetime, end: datetime,
               near: float = 0.03, levels: int = 3) -> list[int]:
    """A row (0, 1, 2) per mark's tag, so tags closer than ``near`` of the window to the
    previous one go up a row instead of overprinting it."""
    span = max((end - start).total_seconds(), 1.0)
    out: list[int] = []
    last: float | None = None
    for mark in marks:
        x = (mark.at - start).total_seconds() / span
        level = (out[-1] + 1) % levels if out and last is not None and x - last < near else 0
        out.append(level)
        last = x
    return out


def has_data(series: Series | None) -> bool:
    return series is not None and any(p.value is not None and math.isfinite(p.value)
                                      for p in series.points)


def model_chart_svg(model: str, series: Sequence[Series], start: datetime, end: datetime,
                    marks: Sequence[Mark] = (), *, salt: str = "pitboard") -> str:
    """One model's panels over ``[start, end]`` as an SVG document (text, no XML
    declaration). Panels with no data say so; the GPU panel is left out without data.
    Raises ChartsUnavailable without matplotlib."""
    try:
        import matplotlib  # noqa: PLC0415 - optional dependency
        from matplotlib import dates as mdates  # noqa: PLC0415
        from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError as exc:
        raise ChartsUnavailable("the HTML export draws its charts with matplotlib: "
                                "pip install 'pitboard[export]'") from exc
    marks = sorted(marks, key=lambda m: m.at)
    by_name = {s.name: s for s in series}
    panels = [(name, title) for name, title in PANELS
              if name != "util %" or has_data(by_name.get(name))]
    with matplotlib.rc_context({
            "svg.fonttype": "none", "svg.hashsalt": f"{salt}:{model}",
            "font.family": "sans-serif", "font.size": 9, "axes.titlesize": 9,
            "axes.titlelocation": "left", "axes.spines.top": False,
            "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}):
        fig = Figure(figsize=(9.0, 1.55 * len(panels) + 0.8), layout="constrained")
        FigureCanvasSVG(fig)
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (name, title) in zip(axes, panels):
            ax.set_title(title)
            found = by_name.get(name)
            if has_data(found):
                assert found is not None
                xs, ys = _values(found, start, end)
                ax.plot(xs, ys, color="#2c3e50", linewidth=1.2)
                ax.set_ylim(bottom=0)
            else:
                ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center",
                        va="center", color="#7f8c8d")
            for mark in marks:
                colour, dash = MARK_STYLE[mark.kind]
                line = ax.axvline(mark.at, color=colour, linestyle=dash, linewidth=1.1)
                line.set_url(f"#{mark.anchor}")
        top = axes[0]
        for mark, level in zip(marks, tag_levels(marks, start, end)):
            colour, _dash = MARK_STYLE[mark.kind]
            tag = top.annotate(mark.tag, xy=(mark.at, 1.0), xycoords=("data", "axes fraction"),
                               xytext=(0, 2 + 9 * level), textcoords="offset points",
                               ha="center",
                               va="bottom", fontsize=8, color=colour, fontweight="bold")
            tag.set_url(f"#{mark.anchor}")
        axes[-1].set_xlim(start, end)
        axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=timezone.utc))
        axes[-1].set_xlabel("UTC")
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    # inline: no XML declaration or doctype; the marks' links stay in this document
    return text[text.index("<svg"):].replace(' target="_blank"', "")
