"""Range queries for what is on screen: one model's chart (rps, error %, p50/p95/p99 ms),
its LLM extras (TTFT p95, tokens/s, queue, KV cache) and one GPU's telemetry.

Each query carries the profile's ``$match`` (one model, or one GPU by its UUID), the step
comes from the window (:func:`chart_step`), and answers are filtered again client-side, so
a user template without ``$match`` still gives the right (if costlier) series.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from backends.domain.models import Point, Series
from backends.prometheus.assemble import apply_model_regex
from backends.prometheus.calc import (
    NODE_LABELS,
    UUID_LABELS,
    bucket_quantile,
    chart_step,
    dcgm_value,
    duration,
    first_label,
    highest,
    matcher,
    parse_le,
    total,
)
from backends.prometheus.config import PrometheusConfig
from backends.prometheus.profiles import render


class RangeQueries(Protocol):
    """What the charts need of the metrics backend (``PrometheusMetrics``): its settings
    and its concurrent range queries."""

    config: PrometheusConfig

    def range_all(self, plan: list[tuple[str, str, str]], start: datetime, end: datetime,
                  step: int) -> dict[tuple[str, str], list]: ...

@dataclass(frozen=True)
class Scope:
    """Which series of a model name are one service's: those of its ``namespace`` (set
    only when several services share the name), of its cluster (``match``: a label
    matcher, when ``[prometheus] cluster_label`` is set); ``unknown``: theirs cannot be
    told apart from a same-named service's (no series are its own)."""

    namespace: str | None = None
    match: str = ""
    unknown: bool = False

    def admits(self, profile, labels: dict[str, str]) -> bool:
        return self.namespace is None or first_label(
            labels, profile.namespace_labels) == self.namespace


WHOLE = Scope()
"""Every series of the model name (no service given)."""

CHART_KEYS = ("requests", "errors", "latency")
SERIES_NAMES = ("rps", "error %", "p50 ms", "p95 ms", "p99 ms")
EXTRA_NAMES = ("TTFT p95 ms", "tokens/s", "queue", "KV cache %")
"""Names of :func:`extra_series` (the console's ``LLM_FIELDS``)."""
GPU_NAMES = ("util %", "mem %", "temp C", "power W")
"""Names of :func:`gpu_series` (the console's ``GPU_FIELDS``)."""
GPU_KEYS = ("util", "mem_used", "mem_free", "mem_total", "power", "temp")


def _serving_range(backend: RangeQueries, targets: list[tuple[str, str, str | None]],
                   keys: tuple[str, ...], window_s: int, end: datetime,
                   scope: Scope = WHOLE) -> dict:
    """Range results of the serving queries ``keys`` for each (profile, raw label value)
    target, keyed by (target index, key); the step and rate window follow ``window_s``."""
    if scope.unknown:
        return {}
    cfg = backend.config
    step = chart_step(window_s)
    rate_window = duration(max(2 * step, cfg.min_rate_window_s))
    plan: list[tuple[str, str, str]] = []
    for i, (pname, raw, _ns) in enumerate(targets):
        profile = cfg.profiles.get(pname)
        if profile is None or profile.kind != "serving" or not profile.model_label:
            continue
        for key in keys:
            template = profile.queries.get(key)
            if template:
                match = ",".join(filter(None, (matcher(profile.model_label, raw),
                                               scope.match)))
                plan.append((f"{i}", key, render(template, profile, window=rate_window,
                                                 match=match)))
    if not plan:
        return {}
    return backend.range_all(plan, end - timedelta(seconds=window_s), end, step)


def chart_series(backend: RangeQueries, targets: list[tuple[str, str, str | None]],
                 model: str, window_s: int, end: datetime,
                 scope: Scope = WHOLE) -> tuple[Series, ...]:
    """Query each (profile, raw label value) target; the first with data wins per figure."""
    cfg = backend.config
    results = _serving_range(backend, targets, CHART_KEYS, window_s, end, scope)

    stamps: set[float] = set()
    rps: dict[float, float] = {}
    errs: dict[float, float] | None = {}
    buckets: dict[float, dict[float, float]] = {}
    latency_to_ms = 1000.0
    for i, (pname, raw, _ns) in enumerate(targets):
        profile = cfg.profiles.get(pname)
        if profile is None:
            continue

        def mine(key: str, _i=i, _p=profile, _raw=raw):
            for s in results.get((f"{_i}", key), ()):
                if _is_model(_p, s.labels, _raw, model) and scope.admits(_p, s.labels):
                    yield s

        r = _sum_by_ts(mine("requests"))
        if r and not rps:
            rps = r
            errs = _sum_by_ts(mine("errors"))
            if not errs and ("errors" not in profile.queries or profile.errors_need_series):
                errs = None  # this profile (or this engine) cannot tell errors
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


def revision_error_series(backend: RangeQueries, targets: list[tuple[str, str, str | None]],
                          model: str, window_s: int, end: datetime,
                          scope: Scope = WHOLE) -> tuple[Series, ...]:
    """Error % of each revision of one model over the window (the requests and errors
    queries of its serving profiles, grouped by their ``revision_label`` as the instant
    per-revision figures are): one series per revision, named by it. Two range queries
    per (profile, label value) target; profiles without a revision label send none. The
    first target with a revision's requests wins, as for the instant figures."""
    cfg = backend.config
    with_revisions = [t for t in targets if (p := cfg.profiles.get(t[0])) is not None
                      and p.revision_label and "errors" in p.queries]
    results = _serving_range(backend, with_revisions, ("requests", "errors"), window_s, end,
                             scope)
    found: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
    for i, (pname, raw, _ns) in enumerate(with_revisions):
        profile = cfg.profiles[pname]
        label = profile.revision_label or ""
        per: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
        for k, key in enumerate(("requests", "errors")):
            for s in results.get((f"{i}", key), ()):
                rev = s.labels.get(label)
                if rev and _is_model(profile, s.labels, raw, model) \
                        and scope.admits(profile, s.labels):
                    per[rev][k].append(s)
        for rev, (reqs, errs) in per.items():
            if reqs and rev not in found:
                found[rev] = (_sum_by_ts(reqs), _sum_by_ts(errs))

    def pct(reqs: dict[float, float], errs: dict[float, float], ts: float) -> float | None:
        total_ = reqs.get(ts)
        return 100.0 * errs.get(ts, 0.0) / total_ if total_ else None

    return tuple(Series(name=rev, points=tuple(
        Point(at=datetime.fromtimestamp(ts, timezone.utc), value=pct(reqs, errs, ts))
        for ts in sorted(reqs))) for rev, (reqs, errs) in sorted(found.items()))


def _sum_by_ts(samples) -> dict[float, float]:
    out: dict[float, float] = defaultdict(float)
    for s in samples:
        for ts, v in s.points:
            if v is not None:
                out[ts] += v
    return dict(out)


# -- LLM extras of one model ---------------------------------------------------------------
def extra_series(backend: RangeQueries, targets: list[tuple[str, str, str | None]],
                 model: str, window_s: int, end: datetime,
                 scope: Scope = WHOLE) -> tuple[Series, ...]:
    """TTFT p95 ms, tokens/s, queue and KV cache % of one model over the window; the first
    target (profile) with data wins per figure, as for the instant figures."""
    cfg = backend.config
    keys = ("ttft", "tokens", "queue", "kv_cache")
    results = _serving_range(backend, targets, keys, window_s, end, scope)
    ttft: dict[float, dict[float, float]] = {}
    ttft_ms = 1000.0
    found: dict[str, dict[float, float | None]] = {}
    for i, (pname, raw, _ns) in enumerate(targets):
        profile = cfg.profiles.get(pname)
        if profile is None:
            continue
        mine = [(key, s) for key in keys for s in results.get((f"{i}", key), ())
                if _is_model(profile, s.labels, raw, model) and scope.admits(profile, s.labels)]
        if not ttft:
            b: dict[float, dict[float, float]] = defaultdict(lambda: defaultdict(float))
            for key, s in mine:
                le = parse_le(s.labels.get("le")) if key == "ttft" else None
                if le is not None:
                    for ts, v in s.points:
                        if v is not None:
                            b[ts][le] += v
            if b:
                ttft, ttft_ms = b, profile.latency_to_ms
        for key, combine in (("tokens", total), ("queue", total), ("kv_cache", highest)):
            if key in found:
                continue
            per_ts: dict[float, list[float | None]] = defaultdict(list)
            for k, s in mine:
                if k == key:
                    for ts, v in s.points:
                        per_ts[ts].append(v)
            if per_ts:
                found[key] = {ts: combine(vs) for ts, vs in per_ts.items()}
    stamps = sorted(set(ttft).union(*(d.keys() for d in found.values())))

    def p95(ts: float) -> float | None:
        v = bucket_quantile(cfg.quantiles[1], ttft[ts].items()) if ts in ttft else None
        return None if v is None else v * ttft_ms

    getters = (p95, found.get("tokens", {}).get, found.get("queue", {}).get,
               found.get("kv_cache", {}).get)
    return tuple(Series(name=name, points=_points(stamps, get))
                 for name, get in zip(EXTRA_NAMES, getters, strict=True))


def _is_model(profile, labels: dict[str, str], raw: str, model: str) -> bool:
    value = labels.get(profile.model_label or "")
    return value == raw or apply_model_regex(profile, value or "") == model


def _points(stamps, get) -> tuple[Point, ...]:
    return tuple(Point(at=datetime.fromtimestamp(ts, timezone.utc), value=get(ts))
                 for ts in stamps)


# -- one GPU ---------------------------------------------------------------------------------
GpuIdent = tuple[str, str, str]  # (profile, identity label, value)


GpuSlot = tuple[str | None, str, int]  # (cluster label value, node, GPU index)


def gpu_identities(samples, profile_name: str, cluster_label: str | None = None
                   ) -> dict[GpuSlot, GpuIdent]:
    """(cluster, node, index) -> how to select that GPU in ``profile_name``'s queries: its
    UUID label when it has one, else its ``gpu`` label (narrowed to the node and cluster
    client-side); the cluster is the ``cluster_label`` value (None without one)."""
    out: dict[GpuSlot, GpuIdent] = {}
    for s in samples:
        lab = s.labels
        node = first_label(lab, NODE_LABELS) or ""
        cluster = lab.get(cluster_label) if cluster_label else None
        try:
            index = int(lab["gpu"]) if lab.get("gpu") is not None else -1
        except ValueError:
            index = -1
        uuid_label = next((n for n in UUID_LABELS if lab.get(n)), None)
        ident = (profile_name, uuid_label, lab[uuid_label]) if uuid_label else \
            (profile_name, "gpu", lab.get("gpu", ""))
        out.setdefault((cluster, node, index), ident)
    return out


def gpu_series(backend: RangeQueries, targets: list[tuple[str, str | None, str | None]],
               node: str, index: int, window_s: int, end: datetime,
               cluster: str | None = None) -> tuple[Series, ...]:
    """util %, mem %, temp C and power W of one GPU over the window (gauges, no rate);
    ``cluster``: the ``cluster_label`` value the GPU's series carry (selects it among
    same-named nodes of other clusters when it is known by node and index only)."""
    cfg = backend.config
    label_c = cfg.cluster_label if cluster is not None else None
    step = chart_step(window_s)
    start = end - timedelta(seconds=window_s)
    plan: list[tuple[str, str, str]] = []
    for i, (pname, label, value) in enumerate(targets):
        profile = cfg.profiles.get(pname)
        if profile is None or profile.kind != "gpu":
            continue
        match = matcher(label, value) if label and value is not None else ""
        if label_c and cluster is not None:
            match = ",".join(filter(None, (match, matcher(label_c, cluster))))
        for key in GPU_KEYS:
            template = profile.queries.get(key)
            if template:
                plan.append((f"{i}", key, render(template, profile, match=match,
                                                 cluster_label=cfg.cluster_label)))
    results = backend.range_all(plan, start, end, step) if plan else {}

    def mine(i: int, key: str, label: str | None, value: str | None):
        """The GPU's points: every series of it merged by time (the highest value), so a
        series whose labels changed mid-window (pod labels added, Hostname renamed
        hostname, a time-sliced GPU's per-pod twins) stays one line; DCGM blanks: gaps."""
        merged: dict[float, float | None] = {}
        for s in results.get((f"{i}", key), ()):
            lab = s.labels
            if label and label != "gpu":
                ok = lab.get(label) == value
            else:
                ok = lab.get("gpu") == str(index) and first_label(lab, NODE_LABELS) == node
            if ok and label_c and lab.get(label_c, cluster) != cluster:
                ok = False
            if ok:
                for ts, v in s.points:
                    value_now, before = dcgm_value(v), merged.get(ts)
                    if value_now is not None and (before is None or value_now > before):
                        merged[ts] = value_now
                    else:
                        merged.setdefault(ts, None)
        return merged or None

    got: dict[str, dict[float, float | None]] = {}
    for i, (_pname, label, value) in enumerate(targets):
        for key in GPU_KEYS:
            if key not in got:
                pts = mine(i, key, label, value)
                if pts:
                    got[key] = pts
        if got:
            break
    stamps = sorted(set().union(*(d.keys() for d in got.values()))) if got else []

    def mem_pct(ts: float) -> float | None:
        used = got.get("mem_used", {}).get(ts)
        tot = got.get("mem_total", {}).get(ts)
        free = got.get("mem_free", {}).get(ts)
        if tot is None and used is not None and free is not None:
            tot = used + free
        return None if used is None or not tot else 100.0 * used / tot

    getters = (got.get("util", {}).get, mem_pct, got.get("temp", {}).get,
               got.get("power", {}).get)
    return tuple(Series(name=name, points=_points(stamps, get))
                 for name, get in zip(GPU_NAMES, getters, strict=True))
