"""SLO error ratios (1h, 6h) of the demo fleet, consistent with its chart series.

The ratio over a window is request-weighted, as ``backends.domain.slo.weighted_error_ratio``
computes it from a chart: ``sum(rps * err) / sum(rps)`` over the samples in
``(at - window, at]``. Samples sit on a fixed grid of ``GRID_S`` seconds (6h / 90, the step
of the demo's 6h chart), so when ``at`` falls on the grid the figures equal the ones the
model detail computes from ``chart(model, 6h, at)``. Per-sample sums are cached per service
and release generation: a live refresh computes one new sample per model every 4 minutes.
"""

from __future__ import annotations

from backends.demo.sim import bucket_of, diurnal, lane, noise
from backends.demo.state import SvcState

GRID_S = 240
WINDOWS_S = (3600, 6 * 3600)
_K = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1


def weighted_sums(st: SvcState, ts: float) -> tuple[float, float]:
    """``(sum over legs of rps * error ratio, sum of rps)`` at ``ts``: the same figures as
    ``demo_metrics.model_values`` (``rps * error_ratio`` of the whole model), without the
    latency and LLM columns."""
    spec = st.spec
    b = bucket_of(ts)
    load = diurnal(ts, spec.peak_hour)
    total = spec.base_rps * load * (0.96 + 0.08 * lane(noise(spec.key, b), 0))
    load_f = 0.8 + 0.4 * load
    num = den = 0.0
    for leg in st.legs_at(ts):
        rps = total * leg.percent / 100.0
        if rps <= 0.0:
            continue
        rev = leg.rev
        bits = noise(spec.key ^ ((rev.number * _K) & _M64), b)
        err = spec.base_err * rev.err_mult * (0.75 + 0.5 * lane(bits, 1)) * load_f
        num += rps * (err if err < 1.0 else 1.0)
        den += rps
    return num, den


class DemoSlo:
    """Cached 1h/6h error ratios per model. Not thread-safe: call under the state lock."""

    def __init__(self, limit: int = 200_000):
        self._cache: dict[tuple[int, int, int], tuple[float, float]] = {}
        self._limit = limit

    def ratios(self, st: SvcState, ts: float) -> tuple[float | None, float | None]:
        """(error ratio over 1h, over 6h) at ``ts``; None when there was no traffic."""
        if len(self._cache) > self._limit:
            self._cache.clear()
        results: dict[int, float | None] = {}
        pending = sorted(WINDOWS_S)  # windows still open, shortest first
        num = den = 0.0
        g = int(ts // GRID_S)
        while pending:  # newest grid point first; close a window once past its start
            t = g * GRID_S
            while pending and t <= ts - pending[0]:
                results[pending.pop(0)] = num / den if den > 0 else None
            if not pending:
                break
            key = (st.spec.index, st.gen, g)
            sums = self._cache.get(key)
            if sums is None:
                sums = self._cache[key] = weighted_sums(st, t)
            num += sums[0]
            den += sums[1]
            g -= 1
        return results[WINDOWS_S[0]], results[WINDOWS_S[1]]
