"""Prometheus metrics backend (Prometheus, Thanos, Mimir) on ``prometheus-api-client``.

One refresh sends a constant number of instant queries whatever the fleet size: each active
profile's templates, grouped with ``sum by``/``by (pod)``; quantiles are computed from bucket
rates so one query gives model *and* revision figures. ``chart`` sends range queries for one
model only. Construction is cheap (no network); the profile probe runs on the first read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from backends.domain.ahead import Ahead
from backends.domain.sources import MetricsBackend, MetricsPart
from backends.domain.errors import BackendError
from backends.domain.gpus import summarize
from backends.domain.models import GpuDevice, GpuScope, ModelService, Series
from backends.prometheus.assemble import (
    ModelJoiner,
    build_drift,
    build_gpus,
    drift_reason,
    build_health,
    pod_model_map,
)
from backends.prometheus.chart import (
    WHOLE,
    Scope,
    chart_series,
    GpuIdent,
    GpuSlot,
    extra_series,
    gpu_identities,
    gpu_series,
    revision_error_series,
)
from backends.prometheus.client import SOURCE, PromClient, QueryRejected, Sample, Tally, short
from backends.prometheus.cost import (
    Pricer,
    cost_burn,
    priced_gpus,
    priced_summary,
    service_resolver,
    month_to_date,
    node_prices,
    seconds_since_midnight,
    seconds_since_month_start,
)
from backends.prometheus.discovery import PrometheusDiscovery
from backends.prometheus.gpu_scope import (
    CHUNK,
    SUMMARY_PARTS,
    GpuQueries,
    _alternatives,
    merge_summaries,
    metric_name,
    page_match,
    read_summary,
)
from backends.prometheus.calc import duration, matcher, promql_string as _promql_str, xid_step
from backends.prometheus.profiles import render
from backends.prometheus.slo import SLO_KEY, apply_slo, slo_query, slo_ratios
from backends.prometheus.config import PrometheusConfig

__all__ = ["PrometheusMetrics", "PrometheusDiscovery", "render"]

log = logging.getLogger(__name__)


class PrometheusMetrics(MetricsBackend):
    """GPU, serving health, drift and cost figures from Prometheus via metric profiles."""

    def __init__(self, config: PrometheusConfig):
        self.config = config
        self.client = PromClient(config)
        self._active: tuple[str, ...] | None = None
        self._probed_at = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._ahead: Ahead | None = None  # the probe begun by warm(), for the read to take
        #: model name -> [(profile, raw label value, namespace)] from the last read.
        self._index: dict[str, list[tuple[str, str, str | None]]] = {}
        self._joiner: ModelJoiner | None = None  # the last read's services, by model name
        #: (cluster label value, node, GPU index) -> (profile, identity label, value) from
        #: the last read; by UUID too (``gpu_chart``).
        self._gpu_index: dict[GpuSlot, GpuIdent] = {}
        self._gpu_uuids: dict[str, GpuIdent] = {}
        #: Queries the server rejected in the last read (bad template): shown as a reason.
        self.warnings: tuple[str, ...] = ()
        # series told apart by the cluster label: a read can be within one context
        self.reads_by_cluster = bool(config.cluster_label)

    # -- profiles -----------------------------------------------------------------------
    @property
    def active_profiles(self) -> tuple[str, ...]:
        """Profiles found by the last probe (empty before the first read)."""
        return self._active or ()

    def probe(self, at: datetime | None = None) -> tuple[str, ...]:
        """Which profiles have data: one query for all of them (per profile on rejection)."""
        profiles = self.config.profiles
        auto = {n: p for n, p in profiles.items() if p.enabled is None and p.probe}
        found = {n for n, p in profiles.items() if p.enabled}
        if auto:
            parts = [
                f'label_replace(group({" or ".join(p.probe)}), "pitboard_profile", '
                f'"{n}", "", "")' for n, p in auto.items()
            ]
            try:
                samples = self.client.query(" or ".join(parts), at)
                found |= {prof for s in samples if (prof := s.labels.get("pitboard_profile"))}
            except QueryRejected:
                rejected: list[QueryRejected] = []
                for n, part in zip(auto, parts, strict=True):
                    try:
                        if self.client.query(part, at):
                            found.add(n)
                    except QueryRejected as exc:
                        log.warning("probe of profile %s rejected: %s", n, exc)
                        rejected.append(exc)
                if len(rejected) == len(parts):
                    raise rejected[0] from None
        active = [n for n in profiles if n in found]
        active = [n for n in active
                  if not (profiles[n].fallback_for and profiles[n].fallback_for in active)]
        self._active = tuple(active)
        self._probed_at = time.monotonic()
        return self._active

    def warm(self) -> None:
        """Begin the probe of the profiles (one query) in a thread now; the first read
        takes it (``backends.domain.ahead``)."""
        if self._active is None and self._ahead is None:
            self._ahead = Ahead(lambda: self.probe(None), "prometheus-probe")

    def ensure_probed(self, at: datetime | None) -> None:
        """Probe the profiles when none was found yet or the last probe is stale. The
        probe begun by :meth:`warm` is waited for, and its error raised, once."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.take()
        stale = time.monotonic() - self._probed_at >= self.config.probe_interval_s
        if not self._active or stale:  # nothing found yet: look again next refresh
            self.probe(at)

    # -- execution --------------------------------------------------------------------------
    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.config.max_concurrency,
                                                thread_name_prefix="pitboard-prom")
            return self._pool

    def run_all(self, plan: list[tuple[str, str, str]], call: Callable[[str], list[Sample]]
                ) -> dict[tuple[str, str], list]:
        """Run (profile, key, promql) concurrently. Transport failures raise the first
        error (in plan order); rejected queries are left out and listed in ``warnings``."""
        abort = threading.Event()  # first transport failure: skip what has not started
        tallies = self.client.current_tallies()  # the caller's counts go on in the pool

        def task(promql: str) -> list[Sample]:
            if abort.is_set():
                raise _Skipped()
            try:
                with self.client.counting_into(tallies):
                    return call(promql)
            except QueryRejected:
                raise
            except BackendError:
                abort.set()
                raise

        futures = [(p, k, self._executor().submit(task, q)) for p, k, q in plan]
        results: dict[tuple[str, str], list] = {}
        warnings: list[str] = []
        first: BackendError | None = None
        for p, k, fut in futures:
            try:
                results[(p, k)] = fut.result()
            except _Skipped:
                pass
            except QueryRejected as exc:
                warnings.append(f"{p}.{k}: {exc}")
            except BackendError as exc:
                first = first or exc
            except Exception as exc:  # noqa: BLE001 - never leak a library error
                first = first or BackendError(f"query failed: {short(exc)}", source=SOURCE)
        self.warnings = tuple(warnings)
        if first is not None:
            raise first
        return results

    # -- read -------------------------------------------------------------------------------
    def read(self, services: Sequence[ModelService], window_s: int,
             at: datetime | None = None, *, gpu_scope: GpuScope | None = None
             ) -> MetricsPart:
        """Instant figures at ``at`` (None = now), rates over ``window_s``; with
        ``gpu_scope``, GPU rows for that page only and every GPU aggregated by the server
        (``backends.prometheus.gpu_scope``): ``SUMMARY_PARTS`` + 1 queries more than
        without, whatever the fleet size, and answers the size of the page. Its
        ``queries`` and ``bytes_read`` are this read's own (a chart read at the same time
        is not counted in them)."""
        with self.client.tally() as tally:
            return self._read(tally, services, window_s, at, gpu_scope)

    def _read(self, tally: Tally, services: Sequence[ModelService], window_s: int,
              at: datetime | None, gpu_scope: GpuScope | None) -> MetricsPart:
        now = at or datetime.now(timezone.utc)
        self.client.prepare()
        self.ensure_probed(at)
        cfg = self.config
        window = max(int(window_s), cfg.min_rate_window_s)
        values = {
            "window": duration(window),
            "step": duration(max(window / 30, 15)),
            # steps strictly after midnight (5 min each) for today; the finished days end
            # just before midnight (1 h steps), so no step is counted twice
            "today": duration(max(seconds_since_midnight(now) - 1, 1)),
            "today_end": duration(seconds_since_midnight(now) + 1),
            "past_days": duration(max(seconds_since_month_start(now)
                                      - seconds_since_midnight(now), 1)),
            "month": duration(max(seconds_since_month_start(now), 3600)),
            "drift_window": duration(cfg.drift_history_s),
            "drift_step": duration(max(cfg.drift_history_s // 240, 15)),
            "xid_lookback": duration(cfg.xid_lookback_s),
            "xid_step": duration(xid_step(cfg.xid_lookback_s)),
        }
        kinds = {n: cfg.profiles[n].kind for n in self.active_profiles}
        scoped = self._scoped(gpu_scope, kinds, values, now, window)
        plan: list[tuple[str, str, str]] = []
        for name in self.active_profiles:
            profile = cfg.profiles[name]
            for key, template in profile.queries.items():
                if key != "discover" and not (scoped and scoped.defers(name, key)):
                    plan.append((name, key, render(template, profile,
                                                   cluster_label=cfg.cluster_label, **values)))
            slo = slo_query(profile)
            if slo is not None:
                plan.append((name, SLO_KEY, slo))
        if scoped:
            plan += scoped.first_plan()
        results = self.run_all(plan, lambda q: self.client.query(q, now))
        if scoped:  # the page's own rows, its pods and its nodes' prices
            scoped.merge_chunks(results)  # the summary's parts
            warned = self.warnings
            second = scoped.second_plan(results)
            if second:
                results.update(self.run_all(second, lambda q: self.client.query(q, now)))
                self.warnings = warned + self.warnings
                scoped.merge_chunks(results)

        def answers(name: str) -> dict[str, list[Sample]]:
            return {k: v for (p, k), v in results.items() if p == name}

        joiner = ModelJoiner(services, cfg.cluster_of if cfg.cluster_label else None)
        index: dict[str, list[tuple[str, str, str | None]]] = {}
        serving = [(n, cfg.profiles[n], answers(n)) for n, k in kinds.items() if k == "serving"]
        served = build_health(serving, joiner, cfg.quantiles, now, index, cfg.cluster_label)
        health = served.health
        ratios = [slo_ratios(a.get(SLO_KEY, ()), p, joiner) for _, p, a in serving]
        apply_slo(health, ratios)
        # the by-name SLO ratios also belong to a service no other service shares a name with
        sole = {svc.key: svc.name for svc in services if len(joiner.names[svc.name]) == 1}
        apply_slo(served.by_service, [{k: r[n] for k, n in sole.items() if n in r}
                                      for r in ratios])
        pod_models: dict = {}
        for n in (n for n, k in kinds.items() if k == "pods"):
            pod_models.update(pod_model_map(answers(n), cfg.profiles[n], joiner))
        by_node: dict[str, float] = {}
        today = month = total = None
        for n in (n for n, k in kinds.items() if k == "cost"):
            a = answers(n)
            by_node.update(node_prices(a.get("gpu_price", ())))
            total = total if total is not None else _scalar(a.get("total"))
            if today is None and month is None:
                day = _scalar(a.get("today"))
                at_midnight = seconds_since_midnight(now) == 0  # nothing spent today yet:
                # the shortest range ($today, 1 s) would still hold midnight's own step,
                # which the finished days ($past_days) count
                if (day is None or at_midnight) and "today" in a and (
                        a.get("gpu_price") or total is not None):
                    day = 0.0  # a cost source, no 5-minute step since midnight yet
                today = day
                month = month_to_date(day, _scalar(a.get("past_days")),
                                      _scalar(a.get("month")))
        pricer = Pricer(by_node, cfg.gpu_prices, cfg.default_gpu_price)
        gpus = []
        gpu_index: dict[GpuSlot, GpuIdent] = {}
        contexts = {svc.cluster for svc in services}
        for n in (n for n, k in kinds.items() if k == "gpu"):
            gpus += build_gpus(answers(n), cfg.profiles[n], pod_models, joiner, pricer,
                               at=now, window_s=cfg.xid_current_s, cluster_label=cfg.cluster_label,
                               context_of=lambda v: cfg.context_for(v, contexts))
            for slot, ident in gpu_identities(answers(n).get("util", ()), n,
                                              cfg.cluster_label).items():
                gpu_index.setdefault(slot, ident)
        contexts_list = sorted(contexts)
        # each model's service in its context, when the series tell the contexts apart
        service_of = service_resolver(services) if cfg.cluster_label else None
        if scoped:
            figures = [read_summary(results.get((n, SUMMARY_KEY), ()), gq,
                                    lambda v: cfg.context_for(v, contexts_list),
                                    lambda m: joiner.resolve(m),
                                    lambda pod, ns: pod_models.get((ns, pod))
                                    or pod_models.get((None, pod))
                                    or joiner.from_pod(pod, ns))
                       for n, gq in scoped.queries.items()]
            summary = merge_summaries(figures, scoped.chosen_any)
            priced = priced_summary(figures, pricer, service_of)
        else:
            summary = summarize(gpus, cfg.idle_util_percent)
            priced = priced_gpus(gpus, cfg.idle_util_percent, service_of)
        sources = pricer.sources
        cost = cost_burn(priced, sources, at=now, idle_util=cfg.idle_util_percent,
                         budget=cfg.monthly_budget, today=today, month=month,
                         total_hourly=total)
        drift = []
        for n in (n for n, k in kinds.items() if k == "drift"):
            drift += build_drift(answers(n).get("drift", ()), cfg.profiles[n], joiner,
                                 cfg.drift_thresholds, cfg.drift_threshold)
        reason = None if drift else drift_reason(cfg.profiles)
        self._index = index
        self._joiner = joiner
        self._gpu_index = gpu_index
        self._gpu_uuids = {ident[2]: ident for ident in gpu_index.values()
                           if ident[1] != "gpu"}
        return MetricsPart(
            gpus=tuple(gpus), health=health, revision_health=served.revisions,
            service_health=served.by_service,
            service_revision_health=served.revisions_by_service, drift=tuple(drift),
            drift_reason=reason,
            cost=cost, gpu_summary=summary, gpu_scope=gpu_scope if scoped else None,
            queries=tally.queries, bytes_read=tally.bytes_read, profiles=self.active_profiles,
        )

    def _scoped(self, scope: GpuScope | None, kinds: Mapping[str, str],
                values: dict[str, str],
                now: datetime, window: int) -> _ScopedRead | None:
        """The plan of a scoped read, when every active GPU profile can be read so
        (``identity_labels`` set); None: every GPU row by row."""
        cfg = self.config
        gpu_profiles = [n for n, k in kinds.items() if k == "gpu"]
        if scope is None or not gpu_profiles or not all(
                cfg.profiles[n].identity_labels for n in gpu_profiles):
            return None
        pods = next((cfg.profiles[n] for n, k in kinds.items() if k == "pods"), None)
        cost = next((n for n, k in kinds.items()
                     if k == "cost" and "gpu_price" in cfg.profiles[n].queries), None)
        price = render(cfg.profiles[cost].queries["gpu_price"], cfg.profiles[cost],
                       **values) if cost else None
        # a scope within one context (``:ctx``): every GPU series of the read, summary and
        # page, that cluster's (the label's value on them); no cluster label: one cluster
        within = (matcher(cfg.cluster_label, cfg.cluster_of(scope.cluster))
                  if scope.cluster is not None and cfg.cluster_label else "")
        queries = {n: GpuQueries(cfg.profiles[n], values, cfg.cluster_label, pods, price,
                                 within)
                   for n in gpu_profiles}
        # an XID is current while it appeared within xid_current_s, as on the GPU rows
        current = cfg.xid_current_s
        lookback = duration(current + xid_step(cfg.xid_lookback_s))
        return _ScopedRead(scope, queries, cfg.idle_util_percent,
                           now.timestamp() - current, lookback,
                           [n for n, k in kinds.items() if k == "pods"], cost, cfg)

    # -- charts -----------------------------------------------------------------------------
    def chart(self, model: str, window_s: int, at: datetime | None = None, *,
              service: ModelService | None = None) -> tuple[Series, ...]:
        """rps, error %, p50/p95/p99 ms for one model over ``window_s`` (range queries);
        only ``service``'s series when given (see :meth:`_scope`)."""
        end = at or datetime.now(timezone.utc)
        self.client.prepare()
        self.ensure_probed(at)
        scope = self._scope(model, service)
        return chart_series(self, self._targets(model, scope), model, int(window_s), end,
                            scope)

    def revision_error_chart(self, model: str, window_s: int, at: datetime | None = None, *,
                             service: ModelService | None = None) -> tuple[Series, ...]:
        """Error % per revision of one model over ``window_s``: 2 range queries per
        serving profile (and label value) that has a revision label, none otherwise."""
        end = at or datetime.now(timezone.utc)
        self.client.prepare()
        self.ensure_probed(at)
        scope = self._scope(model, service)
        return revision_error_series(self, self._targets(model, scope), model,
                                     int(window_s), end, scope)

    def model_extra_chart(self, model: str, window_s: int, at: datetime | None = None, *,
                          service: ModelService | None = None) -> tuple[Series, ...]:
        """TTFT p95 ms, tokens/s, queue and KV cache % of one model (range queries)."""
        end = at or datetime.now(timezone.utc)
        self.client.prepare()
        self.ensure_probed(at)
        scope = self._scope(model, service)
        return extra_series(self, self._targets(model, scope), model, int(window_s), end,
                            scope)

    def gpu_chart(self, node: str, index: int, window_s: int, at: datetime | None = None,
                  *, uuid: str | None = None, cluster: str | None = None
                  ) -> tuple[Series, ...]:
        """util %, mem %, temp C and power W of one GPU (range queries selecting it by
        its UUID as seen in the last read; by node and index before any read).

        ``uuid`` / ``cluster`` (``GpuDevice.uuid`` / ``.cluster``, the context) tell apart
        GPUs of same-named nodes in several clusters (one store behind
        ``cluster_label``): the GPU of that UUID, else of that cluster's node; without
        them, the first such GPU the last read saw."""
        end = at or datetime.now(timezone.utc)
        self.client.prepare()
        self.ensure_probed(at)
        cfg = self.config
        value = cfg.cluster_of(cluster) if cluster is not None and cfg.cluster_label else None
        ident = self._gpu_uuids.get(uuid) if uuid else None
        if ident is None:
            if value is not None:
                ident = self._gpu_index.get((value, node, index))
            else:
                ident = next((i for (_, n, x), i in self._gpu_index.items()
                              if n == node and x == index), None)
        if ident is not None and ident[1] != "gpu":
            value = None  # a UUID is the GPU's in every cluster
        targets: list[tuple[str, str | None, str | None]] = [ident] if ident else [
            (n, None, None) for n in self.active_profiles
            if cfg.profiles[n].kind == "gpu"]
        return gpu_series(self, targets, node, index, int(window_s), end, value)

    def _scope(self, model: str, service: ModelService | None) -> Scope:
        """The series of ``model`` that are ``service``'s, told apart as the last read told
        its figures apart (``ModelJoiner.owner``): its cluster's when ``cluster_label`` is
        set, its namespace's when other services share the name, none when neither
        pins it down."""
        if service is None:
            return WHOLE
        cfg = self.config
        label = cfg.cluster_label
        cluster = cfg.cluster_of(service.cluster) if label else None
        match = matcher(label, cluster) if label and cluster is not None else ""
        joiner = self._joiner
        named = joiner.names.get(model, ()) if joiner is not None else ()
        if joiner is None or not named:  # not read yet, or not a known service's name
            return Scope(match=match)
        owner = joiner.owner(model, service.namespace, cluster)
        if owner is None or owner.key != service.key:
            return Scope(unknown=True)
        return Scope(namespace=service.namespace if len(named) > 1 else None, match=match)

    def _targets(self, model: str, scope: Scope = WHOLE) -> list[tuple[str, str, str | None]]:
        """(profile, raw label value, namespace) to query for ``model``: one per profile
        and label value (their answers hold every namespace's series)."""
        found = self._index.get(model) or [
            (n, model, None) for n in self.active_profiles
            if self.config.profiles[n].kind == "serving"
        ]
        if scope.namespace is not None:
            found = [t for t in found if t[2] in (scope.namespace, None)]
        targets: dict[tuple[str, str], tuple[str, str, str | None]] = {}
        for target in found:
            targets.setdefault((target[0], target[1]), target)
        # two engine families in one namespace: no chart, as no figure (assemble.two_engines)
        families: dict[str | None, set[str]] = {}
        for pname, _raw, ns in targets.values():
            family = self.config.profiles[pname].family
            if family:
                families.setdefault(ns, set()).add(family)
        return [t for t in targets.values() if len(families.get(t[2], ())) < 2]

    def range_all(self, plan: list[tuple[str, str, str]], start: datetime, end: datetime,
                  step: int) -> dict[tuple[str, str], list]:
        """Run range queries concurrently (used by ``chart``)."""
        return self.run_all(plan, lambda q: self.client.query_range(q, start, end, step))

    def close(self) -> None:
        """Stop the query threads and release connections."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        self.client.close()


SUMMARY_KEY, PAGE_KEY = "__summary", "__page"
CHUNK_SEP = "#"


class _ScopedRead:
    """The queries of one scoped read: the summary and page queries first (with the
    serving ones), then each GPU profile's per-GPU queries narrowed to the page, the
    pods profile's to its pods and OpenCost's node prices to its nodes."""

    def __init__(self, scope: GpuScope, queries: dict[str, GpuQueries],
                 idle_util: float, since_ts: float, lookback: str, pods: list[str],
                 cost: str | None, config: PrometheusConfig):
        self.scope, self.queries, self.config = scope, queries, config
        self.pods, self.cost = pods, cost
        self.chosen = {n: gq.filter(scope, idle_util, since_ts, lookback)
                       for n, gq in queries.items()}
        self.chosen_any = any(self.chosen.values())
        self.idle_util, self.since_ts, self.lookback = idle_util, since_ts, lookback

    def __bool__(self) -> bool:
        return True

    def defers(self, profile: str, key: str) -> bool:
        """Whether ``profile``'s ``key`` is read for the page only (second round)."""
        return (profile in self.queries or profile in self.pods
                or (profile == self.cost and key == "gpu_price"))

    def first_plan(self) -> list[tuple[str, str, str]]:
        plan = []
        for n, gq in self.queries.items():
            chosen = self.chosen[n]
            parts = gq.summary_parts(self.scope, chosen, self.idle_util, self.since_ts,
                                     self.lookback, SUMMARY_PARTS)
            plan += [(n, f"{SUMMARY_KEY}{CHUNK_SEP}{i}", q) for i, q in enumerate(parts)]
            plan.append((n, PAGE_KEY, gq.page(self.scope, chosen)))
        return plan

    def second_plan(self, results: dict[tuple[str, str], list]) -> list[tuple[str, str, str]]:
        cfg = self.config
        plan: list[tuple[str, str, str]] = []
        pods: set[str] = set()
        node_sets: list[str] = []
        for n, gq in self.queries.items():
            page = results.get((n, PAGE_KEY))
            if not page:
                continue
            matches, _ids, page_pods, _nodes = page_match(page, gq)
            pods |= page_pods
            for i, match in enumerate(matches):
                for key in gq.profile.queries:
                    if key != "discover":
                        plan.append((n, f"{key}{CHUNK_SEP}{i}", gq.q(key, match)))
                if gq.node_labels:  # the page's nodes, as OpenCost names them
                    labels = ", ".join(gq.node_labels)
                    quoted = ", ".join(f'"{x}"' for x in gq.node_labels)
                    node_sets.append(f'label_join(group by ({labels}) '
                                     f'({gq.q("util", match)}), "node", "", {quoted})')
        listed = sorted(pods)
        for n in self.pods:
            profile = cfg.profiles[n]
            name = metric_name(profile.probe[0]) if profile.probe else None
            for key, template in profile.queries.items():
                for i in range(0, len(listed) if name else 0, CHUNK):
                    sel = f'{name}{{pod=~{_promql_str(_alternatives(listed[i:i + CHUNK]))}}}'
                    plan.append((n, f"{key}{CHUNK_SEP}{i}",
                                 f"({render(template, profile)}) and on (namespace, pod)"
                                 f" group by (namespace, pod) ({sel})"))
        if self.cost is not None:
            profile = cfg.profiles[self.cost]
            price = render(profile.queries["gpu_price"], profile)
            for i, nodes in enumerate(node_sets):
                plan.append((self.cost, f"gpu_price{CHUNK_SEP}{i}",
                             f"({price}) and on (node) group by (node) ({nodes})"))
        return plan

    @staticmethod
    def merge_chunks(results: dict[tuple[str, str], list]) -> None:
        """Put the answers of a key's chunks together under the key."""
        for (n, key) in [k for k in results if CHUNK_SEP in k[1]]:
            results.setdefault((n, key.split(CHUNK_SEP)[0]), []).extend(results.pop((n, key)))


class _Skipped(Exception):
    """A query not sent because an earlier one of the same refresh failed."""


def _scalar(samples) -> float | None:
    if not samples:
        return None
    return samples[0].value

