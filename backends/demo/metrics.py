"""The demo fleet's metrics backend: GPU telemetry, serving health, drift and cost.

Instant values are a pure function of ``(seed, entity, 15 s bucket, release timeline)``;
a part is computed once per bucket and state generation, then served from a cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

from backends.domain.sources import MetricsBackend, MetricsPart
from backends.demo.catalog import NAMESPACE, DriftSpec, GpuSlot, pod_name
from backends.demo.actions import leg_name
from backends.demo.slo import DemoSlo
from backends.demo.sim import (
    BUCKET_S,
    IDLE_UTIL_PERCENT,
    bucket_of,
    day_start,
    diurnal,
    lane,
    mix64,
    noise,
    to_dt,
    unit,
)
from backends.demo.state import DemoState, Leg, SvcState
from backends.domain.errors import NotFoundError
from backends.domain.gpus import cost_shares, filtered, matches, page, summarize
from backends.domain.models import (
    CostBurn,
    DriftSeries,
    GpuDevice,
    GpuScope,
    GpuSlice,
    HealthSample,
    ModelService,
    Point,
    Series,
    fast_constructor,
    fast_wrapper,
)

SOURCE = "demo"
DRIFT_STEP_S = 1800
_K = 0x9E3779B97F4A7C15
# rps, error_ratio, p50, p95, p99, ttft_p95, tokens_per_s, queue_depth, kv_cache_percent,
# itl_p95, prompt_tokens_per_s, avg_latency_ms, queue_ms
Values = tuple
ITL_MS = 30.0  # inter-token latency p95 of an unloaded LLM leg
PROMPT_PER_OUTPUT = 4.0  # prompt tokens per generated token (chat and code prompts)


def leg_values(st: SvcState, leg: Leg, ts: float, load: float, total_rps: float) -> Values:
    """Health of one traffic leg at ``ts`` (None where the source would have no data)."""
    spec, rev = st.spec, leg.rev
    rps = total_rps * leg.percent / 100.0
    llm = spec.llm
    if rps <= 0.0:
        return (0.0, None, None, None, None, None, 0.0 if llm else None, None, None, None,
                0.0 if llm else None, None, None)
    bits = noise(spec.key ^ ((rev.number * _K) & 0xFFFFFFFFFFFFFFFF), bucket_of(ts))
    u0, u1, u2, u3 = lane(bits, 0), lane(bits, 1), lane(bits, 2), lane(bits, 3)
    err = min(1.0, spec.base_err * rev.err_mult * (0.75 + 0.5 * u1) * (0.8 + 0.4 * load))
    p50 = spec.p50_ms * rev.lat_mult * (0.85 + 0.3 * load) * (0.95 + 0.1 * u2)
    p95 = p50 * spec.tail95 * (0.95 + 0.1 * u3)
    p99 = p95 * spec.tail99 * (0.97 + 0.06 * u0)
    ttft = tokens = queue = kv = itl = prompt = avg = queued = None
    if llm:
        ttft = (spec.ttft_ms or 400.0) * rev.lat_mult * (0.7 + 0.6 * load * load) * (
            0.95 + 0.1 * u1)
        tokens = rps * (spec.out_tokens or 200.0)
        queue = float(max(0, round((load - 0.75) * 60.0 * (0.8 + 0.4 * u2))))
        kv = min(99.0, 30.0 + 62.0 * load * (0.95 + 0.1 * u3))
        itl = ITL_MS * rev.lat_mult * (0.8 + 0.5 * load) * (0.95 + 0.1 * u0)  # batch pressure
        prompt = tokens * PROMPT_PER_OUTPUT
    elif spec.runtime == "triton":
        queue = float(round(load * 3.0 * u2))
        queued = p50 * 0.15 * load * load * (0.8 + 0.4 * u0)  # batching waits grow with load
        avg = p50 * 1.2 + queued  # a mean sits above the median of a right-skewed latency
    return (rps, err, p50, p95, p99, ttft, tokens, queue, kv, itl, prompt, avg, queued)


def _wavg(pairs: list[tuple[float, float | None]]) -> float | None:
    num = den = 0.0
    for w, v in pairs:
        if v is not None and w > 0:
            num += w * v
            den += w
    return num / den if den > 0 else None


def model_values(st: SvcState, ts: float) -> tuple[Values, list[tuple[Leg, Values]]]:
    """Whole-model health and per-leg health at ``ts`` under the split in effect then."""
    spec = st.spec
    load = diurnal(ts, spec.peak_hour)
    total = spec.base_rps * load * (0.96 + 0.08 * lane(noise(spec.key, bucket_of(ts)), 0))
    legs = [(leg, leg_values(st, leg, ts, load, total)) for leg in st.legs_at(ts)]
    if len(legs) == 1:
        return legs[0][1], legs
    vals = [v for _, v in legs]
    rps = sum(v[0] for v in vals)

    def col(i: int) -> float | None:
        return _wavg([(v[0], v[i]) for v in vals])

    def total_of(i: int) -> float | None:
        xs = [v[i] for v in vals if v[i] is not None]
        return sum(xs) if xs else None

    whole = (rps, col(1), col(2), col(3), col(4), col(5), total_of(6), total_of(7), col(8),
             col(9), total_of(10), col(11), col(12))
    return whole, legs


# Trusted constructors (no validation, no pydantic schema built): the demo computes these
# values itself, finite and of the right types (tests/demo/test_trusted_parts.py holds
# them equal to the validated models)
_new_sample = fast_constructor(HealthSample)
_wrap_gpu = fast_wrapper(GpuDevice)
_new_slice = fast_constructor(GpuSlice)
_new_drift = fast_constructor(DriftSeries)
_new_cost = fast_constructor(CostBurn)
_new_part = fast_constructor(MetricsPart)
XID_REPEAT_S = 240
_M64 = (1 << 64) - 1
_INV16 = 1.0 / 65536.0
_new_point = fast_constructor(Point)


# engine (ServiceSpec.runtime) -> the metric profile the Prometheus backend would pick
# for it (backends/prometheus/profiles.py; HealthSample.profile / .engine as it reports)
ENGINE_PROFILE = {"vllm": "vllm", "sglang": "sglang", "tgi": "tgi", "triton": "triton",
                  "ray-serve": "ray_vllm_", "llm-d": "gaie", "kserve": "kserve",
                  "knative": "knative", "http": "http"}
# Values indices an engine's profile has no metric for (shown as "—"): TGI has no TTFT
# and no KV gauge; the inference gateway (llm-d / GAIE) no queue, KV or inter-token figure
_ENGINE_LACKS = {"tgi": (5, 8), "llm-d": (7, 8, 9)}
# engines exporting requests being served now (running = rps x median latency here)
_RUNNING = frozenset({"vllm", "sglang", "tgi", "ray-serve", "llm-d"})


def _sample(name: str, rev: str | None, at: datetime, v: Values,
            slo: tuple[float | None, float | None] = (None, None),
            engine: str | None = None) -> HealthSample:
    lacks = _ENGINE_LACKS.get(engine or "")
    if lacks:
        v = tuple(None if i in lacks else x for i, x in enumerate(v))
    running = None
    if engine in _RUNNING and v[0] is not None:
        running = float(round(v[0] * (v[2] or 0.0) / 1000.0))
    return _new_sample(
        model=name, namespace=NAMESPACE, revision=rev, at=at, rps=v[0], error_ratio=v[1],
        p50_ms=v[2], p95_ms=v[3], p99_ms=v[4], ttft_p95_ms=v[5], tokens_per_s=v[6],
        queue_depth=v[7], kv_cache_percent=v[8], itl_p95_ms=v[9], prompt_tokens_per_s=v[10],
        avg_latency_ms=v[11], queue_ms=v[12], error_ratio_1h=slo[0], error_ratio_6h=slo[1],
        running_requests=running, profile=ENGINE_PROFILE.get(engine or ""),
        engine=engine)


class DemoMetrics(MetricsBackend):
    """Simulated Prometheus: dcgm-like GPU figures, serving health, PSI drift, cost."""

    def __init__(self, state: DemoState, clock: Callable[[], datetime]):
        self.state = state
        self.clock = clock
        self._cache: OrderedDict[tuple, MetricsPart] = OrderedDict()
        self._scope_cache: OrderedDict[tuple, MetricsPart] = OrderedDict()
        # parts kept (each holds every GPU's row): 8 up to 2,000 GPUs; 2 past that, where
        # one part is ~50 MB at 20,000 GPUs and the console reads scoped pages anyway
        self._cache_max = 8 if len(state.catalog.gpus) <= 2000 else 2
        self._drift_cache: tuple[int, tuple[DriftSeries, ...]] | None = None
        self._month_cache: dict[tuple[float, float, float], float] = {}
        self._slo = DemoSlo()

    # ------------------------------------------------------------------ read
    def read(self, services: Sequence[ModelService] = (), window_s: int = 300,
             at: datetime | None = None, *, gpu_scope: GpuScope | None = None
             ) -> MetricsPart:
        """Figures at ``at`` (None = the clock's now), snapped to the 15 s scrape bucket.
        ``services`` restricts health and drift to those names (empty = every model);
        cost and ``gpu_summary`` always cover the whole fleet, GPU rows too unless
        ``gpu_scope`` narrows them to a page (chosen as a metrics server would)."""
        ts = (at or self.clock()).timestamp()
        bucket = bucket_of(ts)
        with self.state.lock:
            key = (bucket, self.state.gen)
            part = self._cache.get(key)
            if part is None:
                part = self._compute(bucket * BUCKET_S)
                self._cache[key] = part
                while len(self._cache) > self._cache_max:
                    self._cache.popitem(last=False)
        if gpu_scope is not None:
            part = self._scoped(key, part, gpu_scope)
        names = {s.name for s in services}
        if not names or names >= part.health.keys():
            return part
        return part.model_copy(update={
            "health": {k: v for k, v in part.health.items() if k in names},
            "revision_health": {k: v for k, v in part.revision_health.items() if k in names},
            "drift": tuple(d for d in part.drift if d.model in names),
        })

    def _scoped(self, key: tuple, part: MetricsPart, scope: GpuScope) -> MetricsPart:
        """``part`` with the GPU rows of ``scope`` only (cached per part and scope)."""
        cache_key = (key, scope)
        scoped = self._scope_cache.get(cache_key)
        if scoped is None:
            summary = part.gpu_summary
            if scope.cluster is not None:  # a read within one context: its GPUs only
                summary = summarize(tuple(g for g in part.gpus if g.cluster == scope.cluster),
                                    IDLE_UTIL_PERCENT, scope)
            elif summary is not None and filtered(scope):
                summary = summary.model_copy(update={"matching": sum(
                    1 for g in part.gpus if matches(g, scope, IDLE_UTIL_PERCENT))})
            scoped = part.model_copy(update={
                "gpus": page(part.gpus, scope, IDLE_UTIL_PERCENT), "gpu_scope": scope,
                "gpu_summary": summary})
            self._scope_cache[cache_key] = scoped
            while len(self._scope_cache) > self._cache_max:
                self._scope_cache.popitem(last=False)
        return scoped

    def _compute(self, ts: float) -> MetricsPart:
        at = to_dt(ts)
        health, rev_health = {}, {}
        for st in self.state.services:
            name = st.spec.name
            whole, legs = model_values(st, ts)
            engine = st.spec.runtime
            health[name] = _sample(name, None, at, whole, self._slo.ratios(st, ts), engine)
            rev_health[name] = tuple(_sample(name, leg_name(st, lg.rev.number), at, v,
                                             engine=engine)
                                     for lg, v in legs)
        gpus = self._gpus(ts)
        return _new_part(gpus=gpus, health=health, revision_health=rev_health,
                         drift=self._drift(ts), cost=self._cost(ts, gpus), queries=0,
                         gpu_summary=summarize(gpus, IDLE_UTIL_PERCENT),
                         profiles=("demo",))

    def _gpus(self, ts: float) -> tuple[GpuDevice, ...]:
        """dcgm-like figures for every GPU (hot path: ~2,000 GPUs per new bucket)."""
        bm = (bucket_of(ts) * 0xD1B54A32D192ED03) & _M64
        per_svc = [(st.spec.util_peak * diurnal(ts, st.spec.peak_hour), st.spec.mem_frac,
                    st.spec.name) for st in self.state.services]
        out: list[GpuDevice] = []
        append, wrap, mix = out.append, _wrap_gpu, mix64
        # the failing GPU raises XID 79 again every few minutes: always new within the
        # window (dcgm-exporter reports 0 on every other GPU: no XID, None here)
        xid_at = to_dt(ts - (ts - self.state.catalog.anchor_ts) % XID_REPEAT_S)
        for g, pod in zip(self.state.catalog.gpus, self.state.gpu_pods()):
            bits = mix(g.key ^ bm)
            u1 = ((bits >> 16) & 0xFFFF) * _INV16
            u2 = ((bits >> 32) & 0xFFFF) * _INV16
            u3 = ((bits >> 48) & 0xFFFF) * _INV16
            gt = g.gtype
            if g.service is None:
                util, mem = 0.0, float(int(u1 * 3))
                power = gt.idle_w * (0.9 + 0.1 * u2)
                temp = 28.0 + 5.0 * u3
                model = namespace = None
            else:
                peak, mem_frac, model = per_svc[g.service]
                util = peak * (0.92 + 0.16 * (bits & 0xFFFF) * _INV16)
                util = float(round(util if util < 100.0 else 100.0))
                mem = float(round(gt.memory_mib * mem_frac * (0.98 + 0.02 * u1)))
                power = gt.idle_w + (gt.tdp_w - gt.idle_w) * util * 0.01 * (0.9 + 0.1 * u2)
                temp = 31.0 + 0.42 * util + 3.0 * u3
                namespace = NAMESPACE
            if g.hot:
                temp = 87.0 + 2.0 * u3
            slices: tuple[GpuSlice, ...] = ()
            util_avg: float | None = util
            whole_util: float | None = util
            if g.mig:  # per instance; no whole-GPU utilisation under MIG (as dcgm reports)
                slices = self._mig_slices(g, per_svc, bits)
                busy = [x.util_percent for x in slices if x.util_percent is not None]
                whole_util, util_avg = None, max(busy) if busy else None
                mem = float(sum(x.memory_used_mib or 0.0 for x in slices))
                mean = sum(busy) / len(busy) if busy else 0.0
                power = gt.idle_w + (gt.tdp_w - gt.idle_w) * mean * 0.01 * (0.9 + 0.1 * u2)
                temp = 31.0 + 0.42 * mean + 3.0 * u3
            last_xid, at_xid, current = (79, xid_at, True) if g.hot else (None, None, False)
            if g.old_xid is not None:  # long cleared: the last code and when, not red
                last_xid, at_xid = g.old_xid[0], to_dt(self.state.catalog.anchor_ts
                                                       - g.old_xid[1])
            append(wrap({
                "node": g.node, "index": g.index, "uuid": g.uuid, "model_name": gt.model_name,
                "util_percent": whole_util, "util_avg_percent": util_avg,
                "memory_used_mib": mem, "memory_total_mib": gt.memory_mib,
                "power_watts": round(power, 1), "temperature_c": float(round(temp)),
                "last_xid": last_xid, "xid_at": at_xid,
                "xid_current": current, "pod": pod, "namespace": namespace,
                "model": model, "hourly_cost": gt.price_per_hour, "cluster": None,
                "slices": slices}))
        return tuple(out)

    def _mig_slices(self, g: GpuSlot, per_svc: list[tuple[float, float, str]],
                    bits: int) -> tuple[GpuSlice, ...]:
        """Each MIG instance of ``g``: its service's utilisation and memory share, its pod
        (after a release, the pod of the service's current template)."""
        out = []
        cat = self.state.catalog
        for k, m in enumerate(g.mig):
            if m.service is None:
                out.append(_new_slice(mig_profile=m.profile, instance=m.instance,
                                      util_percent=0.0, memory_used_mib=0.0,
                                      memory_total_mib=m.memory_mib))
                continue
            peak, mem_frac, name = per_svc[m.service]
            st = self.state.services[m.service]
            u = ((bits >> (8 * k)) & 0xFF) / 255.0
            util = float(round(min(100.0, peak * (0.92 + 0.16 * u))))
            pod = pod_name(cat.seed, name, st.history[st.current].template, m.replica) \
                if st.gen else m.pod
            out.append(_new_slice(mig_profile=m.profile, instance=m.instance,
                                  util_percent=util,
                                  memory_used_mib=float(round(m.memory_mib * mem_frac)),
                                  memory_total_mib=m.memory_mib, pod=pod, namespace=NAMESPACE,
                                  model=name))
        return tuple(out)

    # ------------------------------------------------------------------ drift
    def drift_value(self, d: DriftSpec, ts: float) -> float:
        """PSI of one feature at ``ts``; a climbing feature rises over the UTC day
        (shifted by its ``phase_h``) and falls back once a day, as after a retrain."""
        bits = noise(d.key, int(ts // DRIFT_STEP_S))
        if d.climbs:
            frac = ((ts - day_start(ts)) / 86400.0 + d.phase_h / 24.0) % 1.0
            return round(d.base + 0.36 * frac + 0.01 * (lane(bits, 0) - 0.5), 4)
        return round(d.base * (0.85 + 0.3 * lane(bits, 0)), 4)

    def _drift(self, ts: float) -> tuple[DriftSeries, ...]:
        step = int(ts // DRIFT_STEP_S)
        if self._drift_cache is not None and self._drift_cache[0] == step:
            return self._drift_cache[1]
        last = step * DRIFT_STEP_S
        times = [t for t in range(int(day_start(ts)), last + 1, DRIFT_STEP_S)]
        dts = [to_dt(t) for t in times]
        out = tuple(
            _new_drift(model=d.model, feature=d.feature, method="psi", threshold=d.threshold,
                       points=tuple(_new_point(at=dt, value=self.drift_value(d, t))
                                    for t, dt in zip(times, dts)))
            for d in self.state.catalog.drift)
        self._drift_cache = (step, out)
        return out

    # ------------------------------------------------------------------ cost
    def _cost(self, ts: float, gpus: tuple[GpuDevice, ...]) -> CostBurn:
        hourly = idle = free = 0.0
        n_idle = n_free = 0
        by_model: dict[str, float] = {}
        for g in gpus:
            price = g.hourly_cost or 0.0
            hourly += price
            for model, part in cost_shares(g):  # MIG instances pay for their slices
                if model is not None:
                    by_model[model] = by_model.get(model, 0.0) + price * part
            if g.model is not None:
                if g.util_avg_percent is not None and g.util_avg_percent < IDLE_UTIL_PERCENT:
                    idle += price
                    n_idle += 1
            elif g.pod is None:
                free += price
                n_free += 1
        midnight = day_start(ts)
        today = hourly * (ts - midnight) / 3600.0
        now = to_dt(ts)
        month_start = datetime(now.year, now.month, 1, tzinfo=timezone.utc).timestamp()
        nxt = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1,
                       tzinfo=timezone.utc).timestamp()
        mtd = self._past_days(month_start, midnight, hourly) + today
        projection = mtd + hourly * (nxt - ts) / 3600.0
        return _new_cost(hourly=round(hourly, 4), today=round(today, 2),
                         month_to_date=round(mtd, 2), month_projection=round(projection, 2),
                         monthly_budget=self.state.catalog.monthly_budget,
                         idle_hourly=round(idle, 4), idle_gpus=n_idle,
                         unallocated_hourly=round(free, 4), unallocated_gpus=n_free,
                         spend_basis="GPUs",
                         by_model={k: round(v, 4) for k, v in by_model.items()},
                         source="demo price table")

    def _past_days(self, month_start: float, midnight: float, hourly: float) -> float:
        """Cost of the month's finished days (autoscaling made each day differ a little)."""
        key = (month_start, midnight, hourly)
        if key not in self._month_cache:
            seed = self.state.catalog.seed
            total = 0.0
            t = month_start
            while t < midnight:
                total += hourly * 24.0 * (0.93 + 0.1 * unit(seed, "day-cost", int(t // 86400)))
                t += 86400
            self._month_cache[key] = total
        return self._month_cache[key]

    # ------------------------------------------------------------------ chart
    def chart(self, model: str, window_s: int, at: datetime | None = None, *,
              service: ModelService | None = None) -> tuple[Series, ...]:
        """rps, error %, p50/p95/p99 ms over ``window_s`` ending at ``at`` (91 points);
        the last point equals :meth:`read` at the same instant. (Demo model names are
        unique: ``service`` changes nothing.)"""
        if window_s <= 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        end = bucket_of((at or self.clock()).timestamp()) * BUCKET_S
        with self.state.lock:
            st = self.state.get(model)
            if st is None:
                raise NotFoundError(f"model {model!r} not found in the demo fleet",
                                    source=SOURCE, status=404)
            n = 90
            step = window_s / n
            rows = []
            for k in range(n, -1, -1):
                t = end - k * step
                rows.append((to_dt(t), model_values(st, t)[0]))
        cols = (("rps", 0, 1.0), ("error %", 1, 100.0), ("p50 ms", 2, 1.0),
                ("p95 ms", 3, 1.0), ("p99 ms", 4, 1.0))
        return tuple(
            Series(name=label, points=tuple(
                _new_point(at=dt, value=None if v[i] is None else v[i] * scale)
                for dt, v in rows))
            for label, i, scale in cols)


    # ------------------------------------------------------------------ sampled series
    def gpu_chart(self, node: str, index: int, window_s: int, end: datetime, *,
                  uuid: str | None = None, cluster: str | None = None
                  ) -> tuple[Series, ...]:
        """util/mem/temp/power of one GPU: :meth:`read` sampled at ``SAMPLES`` instants
        over the window (the same figures the fleet showed at each instant). The GPU of
        ``uuid`` when given (demo node names are unique: ``cluster`` changes nothing)."""
        rows: list[tuple[datetime, GpuDevice | None]] = []

        def mine(g: GpuDevice) -> bool:
            return g.uuid == uuid if uuid else (g.node == node and g.index == index)
        for at in _instants(window_s, end):
            part = self.read((), 300, at)
            rows.append((at, next((g for g in part.gpus if mine(g)), None)))
        return tuple(Series(name=name, points=tuple(
            Point(at=at, value=None if g is None else get(g)) for at, g in rows))
            for name, get in GPU_FIELDS)

    def model_extra_chart(self, model: str, window_s: int, end: datetime, *,
                          service: ModelService | None = None) -> tuple[Series, ...]:
        """TTFT p95, tokens/s, queue depth and KV cache of one model at ``SAMPLES``
        instants, as :meth:`read` would report them (same 15 s bucket, same figures)
        without computing the whole fleet once per instant."""
        instants = _instants(window_s, end)
        with self.state.lock:
            st = self.state.get(model)
            rows = [(at, None if st is None else
                     model_values(st, bucket_of(at.timestamp()) * BUCKET_S)[0])
                    for at in instants]
        return tuple(Series(name=name, points=tuple(
            Point(at=at, value=None if v is None else v[i]) for at, v in rows))
            for i, name in zip(_LLM_VALUES, LLM_NAMES))


SAMPLES = 24
"""Points per sampled series."""
GPU_FIELDS = (("util %", lambda g: g.util_percent), ("mem %", lambda g: g.memory_percent),
              ("temp C", lambda g: g.temperature_c), ("power W", lambda g: g.power_watts))
LLM_NAMES = ("TTFT p95 ms", "tokens/s", "queue", "KV cache %")
_LLM_VALUES = (5, 6, 7, 8)
"""Indexes of TTFT p95, tokens/s, queue depth, KV cache % in :func:`model_values`."""


def _instants(window_s: int, end: datetime, n: int = SAMPLES) -> list[datetime]:
    step = window_s / (n - 1)
    return [end - timedelta(seconds=step * (n - 1 - i)) for i in range(n)]
