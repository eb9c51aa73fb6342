"""Latency / error chart of one model (textual-plotext; each widget owns its figure)."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from backends.models import Series

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


class LatencyChart(PlotextPlot, can_focus=True):
    """p50/p95/p99 latency (left axis, ms) and error % (right axis) over a window."""

    DEFAULT_CSS = """
    LatencyChart { height: 1fr; min-height: 5; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._data: tuple[str, str, tuple[Series, ...]] | None = None

    def show_series(self, model: str, window: str, series: Sequence[Series]) -> None:
        """Plot ``series`` for ``model`` over ``window``; unchanged data = no redraw."""
        data = (model, window, tuple(series))
        if data == self._data:
            return
        self._data = data
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("")
        ends = [s.points[-1].at for s in series if s.points]
        if not ends:
            plt.title("no data")
            self.refresh()
            return
        end = max(ends)
        for s in series:
            kind = _kind(s.name)
            if kind == "other":
                continue
            xs, ys = xy(s, end)
            if not xs:
                continue
            plt.plot(xs, ys, label=s.name, marker="braille",
                     yside="right" if kind == "error" else "left")
        plt.xlabel(f"min ({window})")
        self.refresh()
