"""Range queries for one model's chart: rps, error %, p50/p95/p99 ms."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from backends.models import Point, Series
from backends.prom_assemble import apply_model_regex
from backends.prom_math import bucket_quantile, chart_step, duration, matcher, parse_le
from backends.prom_profiles import render

if TYPE_CHECKING:  # pragma: no cover
    from backends.prometheus import PrometheusMetrics

CHART_KEYS = ("requests", "errors", "latency")
SERIES_NAMES = ("rps", "error %", "p50 ms", "p95 ms", "p99 ms")


def chart_series(backend: PrometheusMetrics, targets: list[tuple[str, str, str | None]],
                 model: str, window_s: int, end: datetime) -> tuple[Series, ...]:
    """Query each (profile, raw label value) target; the first with data wins per figure."""
    cfg = backend.config
    step = chart_step(window_s)
    start = end - timedelta(seconds=window_s)
    rate_window = duration(max(2 * step, cfg.min_rate_window_s))
    plan: list[tuple[str, str, str]] = []
    for i, (pname, raw, _ns) in enumerate(targets):
        profile = cfg.profiles.get(pname)
        if profile is None or profile.kind != "serving" or not profile.model_label:
            continue
        for key in CHART_KEYS:
            template = profile.queries.get(key)
            if template:
                q = render(template, profile, window=rate_window,
                           match=matcher(profile.model_label, raw))
                plan.append((f"{i}", key, q))
    results = backend.range_all(plan, start, end, step) if plan else {}

    stamps: set[float] = set()
    rps: dict[float, float] = {}
    errs: dict[float, float] = {}
    buckets: dict[float, dict[float, float]] = {}
    latency_to_ms = 1000.0
    for i, (pname, raw, ns) in enumerate(targets):
        profile = cfg.profiles.get(pname)
        if profile is None:
            continue

        def mine(key: str, _i=i, _p=profile, _raw=raw, _ns=ns):
            for s in results.get((f"{_i}", key), ()):
                value = s.labels.get(_p.model_label or "")
                if value != _raw and apply_model_regex(_p, value or "") != model:
                    continue
                yield s

        r = _sum_by_ts(mine("requests"))
        if r and not rps:
            rps = r
            errs = _sum_by_ts(mine("errors"))
            if not errs and "errors" not in profile.queries:
                errs = None  # this profile cannot tell errors
        if not buckets:
            b: dict[float, dict[float, float]] = defaultdict(lambda: defaultdict(float))
            for s in mine("latency"):
                le = parse_le(s.labels.get("le"))
                if le is None:
                    continue
                for ts, v in s.points:
                    if v is not None:
                        b[ts][le] += v
            if b:
                buckets, latency_to_ms = b, profile.latency_to_ms
        stamps |= set(r)
    stamps |= set(buckets)

    def pts(fn) -> tuple[Point, ...]:
        return tuple(Point(at=datetime.fromtimestamp(ts, timezone.utc), value=fn(ts))
                     for ts in sorted(stamps))

    def err_pct(ts: float) -> float | None:
        total = rps.get(ts)
        if errs is None or not total:
            return None
        return 100.0 * errs.get(ts, 0.0) / total

    def quant(q: float):
        def f(ts: float) -> float | None:
            v = bucket_quantile(q, buckets[ts].items()) if ts in buckets else None
            return None if v is None else v * latency_to_ms
        return f

    q50, q95, q99 = cfg.quantiles
    return (
        Series(name=SERIES_NAMES[0], points=pts(rps.get)),
        Series(name=SERIES_NAMES[1], points=pts(err_pct)),
        Series(name=SERIES_NAMES[2], points=pts(quant(q50))),
        Series(name=SERIES_NAMES[3], points=pts(quant(q95))),
        Series(name=SERIES_NAMES[4], points=pts(quant(q99))),
    )


def _sum_by_ts(samples) -> dict[float, float]:
    out: dict[float, float] = defaultdict(float)
    for s in samples:
        for ts, v in s.points:
            if v is not None:
                out[ts] += v
    return dict(out)
