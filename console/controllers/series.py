"""Range data for the deep views, fetched in thread workers (blocking calls allowed here).

- model charts: ``MetricsBackend.chart`` (range queries, one model, only what is on screen);
- SLO figures: one 6h chart (burn rates) and one chart over the SLO period (budget left);
- per-GPU and LLM extra series (TTFT, tokens/s, queue, KV cache): a backend method when it
  has one (``gpu_chart`` / ``model_extra_chart``); otherwise the console's own session
  history (live only).

Every function returns frozen ``Series`` tuples; ``points_in`` counts what was fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from backends.domain.sources import MetricsBackend
from backends.domain.models import GpuDevice, Point, Series
from backends.domain.slo import BURN_WINDOWS_S, SloStatus, evaluate
from backends.domain.slo_config import SloConfig


GPU_FIELDS = (("util %", lambda g: g.util_percent), ("mem %", lambda g: g.memory_percent),
              ("temp C", lambda g: g.temperature_c), ("power W", lambda g: g.power_watts))
LLM_FIELDS = (("TTFT p95 ms", "ttft_p95_ms"), ("tokens/s", "tokens_per_s"),
              ("queue", "queue_depth"), ("KV cache %", "kv_cache_percent"))


def points_in(series: Sequence[Series]) -> int:
    """How many points ``series`` hold (the range-query cost of a fetch)."""
    return sum(len(s.points) for s in series)


def has_range(metrics: MetricsBackend | None, method: str) -> bool:
    """Whether range series of that kind come from ``metrics`` (its ``method``: every
    backend that can give them, the demo included) rather than from the console's session
    history."""
    return metrics is not None and callable(getattr(metrics, method, None))


def gpu_series(metrics: MetricsBackend, gpu: GpuDevice, window_s: int, end: datetime
               ) -> tuple[Series, ...] | None:
    """util/mem/temp/power of one GPU over the window; None = not available from the
    backend (the caller then uses session history)."""
    fn = getattr(metrics, "gpu_chart", None)
    # by UUID and cluster too: node names may repeat across the clusters of one store
    return tuple(fn(gpu.node, gpu.index, window_s, end, uuid=gpu.uuid, cluster=gpu.cluster)
                 ) if callable(fn) else None


def llm_series(metrics: MetricsBackend, model: str, window_s: int, end: datetime,
               services: Sequence = ()) -> tuple[Series, ...] | None:
    """TTFT, tokens/s, queue depth and KV cache of one model; None = not available."""
    fn = getattr(metrics, "model_extra_chart", None)
    if not callable(fn):
        return None
    # the service's own series when the backend tells services apart
    return tuple(fn(model, window_s, end, service=next(iter(services), None)))


def slo_status(metrics: MetricsBackend, model: str, config: SloConfig, end: datetime,
               recent: Sequence[Series] | None = None, service=None) -> tuple[SloStatus, int]:
    """SLO figures of ``model`` (``service``'s series, when given) at ``end`` and the number
    of points fetched for them. ``recent`` = a chart already covering >= 6h (saves one
    range query)."""
    fetched = 0
    if recent is None:
        recent = metrics.chart(model, BURN_WINDOWS_S[1], end, service=service)
        fetched += points_in(recent)
    period = metrics.chart(model, config.period_days * 86400, end, service=service)
    fetched += points_in(period)
    return evaluate(model, config, end, recent, period), fetched


def from_history(samples: Sequence[tuple[datetime, tuple[float | None, ...]]],
                 names: Sequence[str], start: datetime) -> tuple[Series, ...]:
    """Series from session history rows ``(at, values)`` newer than ``start``."""
    rows = [(at, vals) for at, vals in samples if at >= start]
    return tuple(Series(name=name, points=tuple(Point(at=at, value=vals[i]) for at, vals in rows))
                 for i, name in enumerate(names))
