"""Drift: per-feature series against its threshold, worst first, with crossing times.

Pure helpers (ordering, window clipping, when a feature crossed its threshold) and
:class:`DriftPanel`, one feature's chart. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from backends.domain.health import crossed_at
from backends.domain.models import DriftSeries, Point, Series
from widgets.series_chart import SeriesChart, finite
from widgets.text import fmt_num, safe


def drift_ratio(d: DriftSeries) -> float | None:
    """Latest value / threshold (> 1 = over), None without data or threshold."""
    latest = finite(d.latest)
    if latest is None or not d.threshold or d.threshold <= 0:
        return None
    return latest / d.threshold


def clip(points: Sequence[Point], start: datetime | None, end: datetime | None) -> tuple[Point, ...]:
    """The points inside ``[start, end]``."""
    return tuple(p for p in points if (start is None or p.at >= start) and (end is None or p.at <= end))


def worst_first(series: Sequence[DriftSeries]) -> list[DriftSeries]:
    """Features ordered by latest/threshold, highest first (no data last)."""
    return sorted(series, key=lambda d: (drift_ratio(d) is None, -(drift_ratio(d) or 0.0),
                                         d.feature))


def model_summary(drift: Sequence[DriftSeries]) -> list[tuple[str, int, int, DriftSeries | None]]:
    """(model, features over threshold, features, worst feature) per model, worst first."""
    by: dict[str, list[DriftSeries]] = {}
    for d in drift:
        by.setdefault(d.model, []).append(d)
    rows = []
    for model, feats in by.items():
        ordered = worst_first(feats)
        over = sum(1 for d in feats if (drift_ratio(d) or 0.0) > 1.0)
        rows.append((model, over, len(feats), ordered[0] if ordered else None))
    rows.sort(key=lambda r: (-r[1], -(drift_ratio(r[3]) or 0.0) if r[3] else 0.0, r[0]))
    return rows


def panel_title(d: DriftSeries, points: Sequence[Point]) -> Text:
    """``feature · psi 0.221 > 0.2 · crossed 12:30`` (literal)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(safe(d.feature, 40))
    latest = finite(d.latest)
    op = ">" if latest is not None and latest > d.threshold else "≤"
    out.append(f" · {safe(d.method, 10)} {fmt_num(latest, '{:.3g}')} {op} {d.threshold:g}")
    when = crossed_at(points, d.threshold)
    if when is not None:
        out.append(f" · crossed {when:%m-%d %H:%M}Z")
    return out


class DriftPanel(Vertical):
    """One feature: its series over the window and the threshold line."""

    DEFAULT_CSS = """
    DriftPanel { height: 9; border: round $primary-muted; border-title-color: $text-accent; }
    DriftPanel.-over { border: round $error; border-title-color: $error; }
    """

    def __init__(self, drift: DriftSeries, start: datetime | None, end: datetime | None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.drift, self.start, self.end = drift, start, end

    def compose(self) -> ComposeResult:
        yield SeriesChart()

    def on_mount(self) -> None:
        self.update(self.drift, self.start, self.end)

    def update(self, drift: DriftSeries, start: datetime | None, end: datetime | None) -> None:
        """Show ``drift`` clipped to ``[start, end]``."""
        self.drift, self.start, self.end = drift, start, end
        pts = clip(drift.points, start, end)
        self.border_title = panel_title(drift, clip(drift.points, None, end))
        self.set_class((drift_ratio(drift) or 0.0) > 1.0, "-over")
        charts = self.query(SeriesChart)
        if not charts:  # not composed yet: on_mount shows the latest data
            return
        charts.first().show([Series(name=drift.feature, points=pts)], start=start,
                                         end=end, threshold=drift.threshold)
