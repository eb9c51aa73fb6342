"""Generated exporter data (real names, labels and types) and OpenMetrics output.

Counters grow from a large base so Prometheus' rate() extrapolation never clamps at zero;
histograms are written as cumulative ``_bucket``/``_sum``/``_count`` series.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

STEP_S = 15
H100 = "NVIDIA H100 80GB HBM3"
A100 = "NVIDIA A100-SXM4-40GB"
L40S = "NVIDIA L40S"
EVIL = '[bold red]x[/] "q" \\n\\ 🚀 \x1b[2J'
VLLM_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)
KSERVE_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, math.inf)


@dataclass
class GenSeries:
    name: str
    labels: dict[str, str]
    points: list[tuple[int, float]] = field(default_factory=list)


class Fleet:
    """A set of generated series with helpers to look samples up independently."""

    def __init__(self, times: list[int]):
        self.times = times
        self.series: list[GenSeries] = []

    def steps(self) -> list[int]:
        """Seconds since the previous sample, per timestamp."""
        return [b - a for a, b in zip([self.times[0] - STEP_S, *self.times], self.times)]

    @property
    def t_end(self) -> int:
        return self.times[-1]

    def add(self, name: str, labels: dict[str, str], values: Iterable[float]) -> GenSeries:
        s = GenSeries(name, dict(labels), list(zip(self.times, values, strict=True)))
        self.series.append(s)
        return s

    def add_where(self, name: str, labels: dict[str, str],
                  value_of: Callable[[int], float | None]) -> GenSeries:
        """A series sampled at the grid times where ``value_of(t)`` is not None (a series
        that starts or stops inside the history, as when its labels change)."""
        points = [(t, v) for t in self.times if (v := value_of(t)) is not None]
        s = GenSeries(name, dict(labels), points)
        self.series.append(s)
        return s

    def gauge(self, name: str, labels: dict[str, str], rng: random.Random, lo: float,
              hi: float) -> GenSeries:
        return self.add(name, labels, (round(rng.uniform(lo, hi), 3) for _ in self.times))

    def counter(self, name: str, labels: dict[str, str], rng: random.Random, lo: float,
                hi: float, base: float = 1e6) -> GenSeries:
        value, out = base, []
        for dt in self.steps():
            value += round(rng.uniform(lo, hi) * dt, 3)
            out.append(value)
        return self.add(name, labels, out)

    def histogram(self, name: str, labels: dict[str, str], bounds: Iterable[float],
                  rng: random.Random, weights: list[float], rate: float) -> None:
        """Cumulative buckets: each step adds ~rate*STEP_S observations spread by weights."""
        bounds = list(bounds)
        cum = [1e5 * (i + 1) for i in range(len(bounds))]  # large, monotonic base
        rows: list[list[float]] = [[] for _ in bounds]
        sums, total_sum = [], 1e6
        for dt in self.steps():
            per = [round(rate * dt * w * rng.uniform(0.5, 1.5)) for w in weights]
            n = sum(per)
            running = 0
            for i, c in enumerate(per):
                running += c
                cum[i] += running
                rows[i].append(cum[i])
            total_sum += n * 0.3
            sums.append(total_sum)
        for b, row in zip(bounds, rows, strict=True):
            le = "+Inf" if math.isinf(b) else repr(float(b))
            self.add(f"{name}_bucket", {**labels, "le": le}, row)
        self.add(f"{name}_count", labels, rows[-1])
        self.add(f"{name}_sum", labels, sums)

    # -- independent look-ups ------------------------------------------------------------
    def find(self, name: str, **labels: str) -> list[GenSeries]:
        return [s for s in self.series if s.name == name
                and all(s.labels.get(k) == v for k, v in labels.items())]

    def value_at(self, s: GenSeries, t: int) -> float:
        return next(v for ts, v in s.points if ts == t)

    def rate(self, s: GenSeries, t: int, window: int) -> float:
        """Slope over the samples in (t - window, t] (what rate() gives for these data)."""
        pts = [(ts, v) for ts, v in s.points if t - window < ts <= t]
        (t0, v0), (t1, v1) = pts[0], pts[-1]
        return (v1 - v0) / (t1 - t0)

    def write_openmetrics(self, path, keep: Callable[[int], bool] | None = None) -> None:
        """Write every sample (optionally only timestamps ``keep`` accepts), ``# EOF`` last."""
        with open(path, "w", encoding="utf-8") as fh:
            for s in self.series:
                lab = ",".join(f'{k}="{_esc(v)}"' for k, v in sorted(s.labels.items()))
                head = f"{s.name}{{{lab}}} " if lab else f"{s.name} "
                fh.writelines(f"{head}{_num(v)} {ts}\n" for ts, v in s.points
                              if keep is None or keep(ts))
            fh.write("# EOF\n")


    def write_openmetrics_chunks(self, directory, chunk_s: int = 7200) -> list:
        """One OpenMetrics file per ``chunk_s`` window (promtool re-reads its whole input
        for every 2 h block, so chunks make a long history O(samples))."""
        from pathlib import Path

        handles: dict[int, object] = {}
        try:
            for s in self.series:
                lab = ",".join(f'{k}="{_esc(v)}"' for k, v in sorted(s.labels.items()))
                head = f"{s.name}{{{lab}}} " if lab else f"{s.name} "
                for ts, v in s.points:
                    key = ts - ts % chunk_s
                    fh = handles.get(key)
                    if fh is None:
                        fh = handles[key] = open(Path(directory) / f"chunk-{key}.om", "w",
                                                 encoding="utf-8")
                    fh.write(f"{head}{_num(v)} {ts}\n")
        finally:
            for fh in handles.values():
                fh.write("# EOF\n")
                fh.close()
        return [Path(directory) / f"chunk-{key}.om" for key in sorted(handles)]


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def quantile_from_rates(q: float, rates: dict[float, float]) -> float:
    """Independent histogram quantile (linear interpolation) on cumulative bucket rates."""
    items = sorted(rates.items())
    total = items[-1][1]
    rank = q * total
    prev_b, prev_c = 0.0, 0.0
    for b, c in items:
        if c >= rank:
            if math.isinf(b):
                return prev_b
            return prev_b + (b - prev_b) * (rank - prev_c) / (c - prev_c)
        prev_b, prev_c = b, c
    raise AssertionError("unreachable")


def time_grid(t_end: int, history_s: int, step_s: int = STEP_S) -> list[int]:
    t_end -= t_end % step_s
    return list(range(t_end - history_s, t_end + 1, step_s))
