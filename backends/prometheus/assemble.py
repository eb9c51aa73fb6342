"""Turn query answers into domain models: GPUs, health, drift. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import NamedTuple

from backends.domain.models import (
    DriftSeries,
    GpuDevice,
    GpuSlice,
    HealthSample,
    ModelService,
    Point,
    fast_constructor,
)
from backends.prometheus.client import Sample
from backends.prometheus.calc import (
    NAMESPACE_LABELS,
    NODE_LABELS,
    POD_LABELS,
    UUID_LABELS,
    bucket_quantile,
    dcgm_value,
    first_label,
    highest,
    parse_le,
    quantile_reason,
    total,
    xid_state,
)
from backends.prometheus.profiles import MetricProfile

Answers = Mapping[str, Sequence[Sample]]  # query key -> samples


class ModelJoiner:
    """Maps metric label values and pod names to ``ModelService.name``."""

    _LABEL_KEYS = ("pitboard.io/model", "app.kubernetes.io/name", "model",
                   "serving.kserve.io/inferenceservice")

    def __init__(self, services: Sequence[ModelService],
                 cluster_of: Callable[[str], str] | None = None):
        """``cluster_of``: a context's value of the cluster label, when series carry one."""
        self.cluster_of = cluster_of
        self.names: dict[str, list[ModelService]] = defaultdict(list)
        self.aliases: dict[str, str] = {}
        for svc in services:
            self.names[svc.name].append(svc)
            for key in self._LABEL_KEYS:
                value = svc.labels.get(key)
                if value:
                    self.aliases.setdefault(value, svc.name)
        self.extra: set[str] = set()

    def resolve(self, value: str, namespace: str | None = None) -> str:
        """The service name a metric's model label value stands for (itself if unknown)."""
        if value in self.names:
            return value
        if value in self.aliases:
            return self.aliases[value]
        tail = value.rsplit("/", 1)[-1]
        if tail in self.names:
            return tail
        self.extra.add(value)
        return value

    def owner(self, name: str, namespace: str | None, cluster: str | None
              ) -> ModelService | None:
        """The one service that series of ``name`` from ``namespace`` and ``cluster`` (the
        cluster label's value) are of; None when none or several could be. The cluster
        label, when configured and present, must match the service's context; the
        namespace narrows only a name several services share (a lone service keeps the
        figures of its name, as it always did: some exporters label their own namespace)."""
        found = self.names.get(name, [])
        if self.cluster_of is not None and cluster is not None:
            found = [s for s in found if self.cluster_of(s.cluster) == cluster]
        if len(found) > 1 and namespace is not None:
            found = [s for s in found if s.namespace is None or s.namespace == namespace]
        return found[0] if len(found) == 1 else None

    def from_pod(self, pod: str, namespace: str | None = None) -> str | None:
        """Longest known model name that prefixes ``pod`` (``<name>-<hash>-<id>``)."""
        parts = pod.split("-")
        for cut in range(len(parts), 0, -1):
            cand = "-".join(parts[:cut])
            svcs = self.names.get(cand)
            if svcs:
                if namespace and all(s.namespace and s.namespace != namespace for s in svcs):
                    continue
                return cand
            if cand in self.aliases:
                return self.aliases[cand]
            if cand in self.extra:
                return cand
        return None


def apply_model_regex(profile: MetricProfile, value: str) -> str:
    """The model name inside a label value (KServe: ``fraud-predictor`` -> ``fraud``)."""
    if not profile.model_regex:
        return value
    m = re.match(profile.model_regex, value)
    if m and m.groupdict().get("model"):
        return m.group("model")
    return value


# -- GPUs -------------------------------------------------------------------------------
MIG_PROFILE_LABEL = "GPU_I_PROFILE"
MIG_ID_LABEL = "GPU_I_ID"
# the figures a MIG instance has of its own (dcgm-exporter: the profiling fields and the
# framebuffer per GPU instance; DCGM_FI_DEV_GPU_UTIL is not reported under MIG); the
# others (temperature, power, XID) are the GPU's, whatever labels their series carry
_PER_INSTANCE = frozenset({"util", "mem_used", "mem_free", "mem_total"})


def build_gpus(answers: Answers, profile: MetricProfile,
               pod_models: Mapping[tuple[str | None, str], str],
               joiner: ModelJoiner,
               price_of: Callable[[str, str | None], float | None] | None = None, *,
               at: datetime | None = None, window_s: float | None = None,
               cluster_label: str | None = None,
               context_of: Callable[[str], str] | None = None) -> list[GpuDevice]:
    """One GpuDevice per UUID (or cluster+node+index), fields from each query of the
    profile; ``price_of(node, gpu model name)`` gives its $/h; an XID is current when it
    appeared within ``window_s`` before ``at``; ``cluster_label``: the label naming its
    cluster, whose value ``context_of`` turns into ``GpuDevice.cluster`` (the context).

    Series carrying ``GPU_I_ID`` are a MIG instance's: each instance becomes a
    ``GpuSlice`` with its own utilisation, memory and pod; a GPU whose series name several
    pods (time-slicing: dcgm-exporter copies the device's figures per pod) gets one
    ``GpuSlice`` per pod and its figures counted once."""
    gpus: dict[tuple, dict] = {}
    contexts: dict[str, str] = {}
    ignore = re.compile(profile.ignore_pods) if profile.ignore_pods else None
    at_ts = at.timestamp() if at is not None else None
    for key in ("util", "util_avg", "mem_used", "mem_free", "mem_total", "power", "temp",
                "xid", "xid_since"):
        for s in answers.get(key, ()):
            lab = s.labels
            uuid = first_label(lab, UUID_LABELS)
            node = first_label(lab, NODE_LABELS)
            idx = lab.get("gpu")
            cluster = lab.get(cluster_label) if cluster_label else None
            ident = ("u", uuid) if uuid else ("n", cluster, node, idx)
            g = gpus.setdefault(ident, {"node": node, "uuid": uuid, "index": idx,
                                        "cluster": None, "pods": {}, "mig": {}})
            g["node"] = g["node"] or node
            g["index"] = g["index"] if g["index"] is not None else idx
            if cluster and g["cluster"] is None:
                context = contexts.get(cluster)
                if context is None:
                    context = contexts[cluster] = context_of(cluster) if context_of else cluster
                g["cluster"] = context
            g.setdefault("model_name", lab.get("modelName"))
            pod = workload_pod(lab, ignore)
            label_model = lab.get(profile.model_label) if profile.model_label else None
            # DCGM's blank sentinels and NaN are no value
            value = s.value if key == "xid_since" else dcgm_value(s.value)
            inst = lab.get(MIG_ID_LABEL)
            if inst and key in _PER_INSTANCE:
                m = g["mig"].setdefault(inst, {"profile": lab.get(MIG_PROFILE_LABEL),
                                               "pods": {}})
                if pod:
                    m["pods"].setdefault(pod, label_model)
                if m.get(key) is None:
                    m[key] = value
                continue
            if pod:
                g["pods"].setdefault(pod, label_model)
            if label_model:
                g["model"] = label_model
            # first series with a value wins (the per-pod copies of a shared GPU's figure)
            if g.get(key) is None:
                g[key] = value

    def model_of(pod: tuple[str, str | None] | None, label_model: str | None) -> str | None:
        if label_model:
            return joiner.resolve(label_model, pod[1] if pod else None)
        if pod is None:
            return None
        name, ns = pod
        return pod_models.get((ns, name)) or pod_models.get((None, name)) \
            or joiner.from_pod(name, ns)

    out: list[GpuDevice] = []
    for g in gpus.values():
        slices = _slices(g, model_of)
        pods = sorted(g["pods"].items(), key=lambda kv: (kv[0][1] or "", kv[0][0]))
        if not g["mig"] and len(pods) > 1:  # time-sliced: one line per pod
            slices = tuple(GpuSlice(pod=p, namespace=ns, model=model_of((p, ns), lm))
                           for (p, ns), lm in pods)
        used, free, tot = g.get("mem_used"), g.get("mem_free"), g.get("mem_total")
        if tot is None and used is not None and free is not None:
            tot = used + free
        if used is None and g["mig"]:  # the GPU's framebuffer: its instances' together
            whole = list({x.instance: x for x in slices}.values())
            used = total([x.memory_used_mib for x in whole])
            tot = total([x.memory_total_mib for x in whole])
        owner_pod, owner_ns = pods[0][0] if pods else (None, None)
        model = g.get("model")
        model = joiner.resolve(model, owner_ns) if model else model_of(
            pods[0][0] if pods else None, None)
        if slices and owner_pod is None:  # the first share's owner: the GPU is allocated
            first = next((x for x in slices if x.pod), None)
            if first is not None:
                owner_pod, owner_ns, model = first.pod, first.namespace, first.model
        price = price_of(g.get("node") or "", g.get("model_name")) if price_of else None
        xid, since, current = xid_state(g.get("xid"), g.get("xid_since"), at_ts, window_s)
        try:
            index = int(g["index"]) if g.get("index") is not None else -1
        except ValueError:
            index = -1
        out.append(GpuDevice(
            node=g.get("node") or "", index=index, uuid=g.get("uuid"),
            model_name=g.get("model_name"), util_percent=g.get("util"),
            util_avg_percent=g.get("util_avg"),
            memory_used_mib=used, memory_total_mib=tot, power_watts=g.get("power"),
            temperature_c=g.get("temp"), last_xid=xid, xid_current=current,
            xid_at=datetime.fromtimestamp(since, timezone.utc) if since is not None else None,
            pod=owner_pod, namespace=owner_ns, model=model, hourly_cost=price,
            cluster=g["cluster"], slices=slices,
        ))
    out.sort(key=lambda d: (d.node, d.index, d.cluster or "", d.uuid or ""))
    return out


def _mig_order(inst: str) -> tuple[int, str]:
    return (int(inst), inst) if inst.isdigit() else (1 << 30, inst)


def _slices(g: Mapping, model_of: Callable[[tuple[str, str | None] | None, str | None],
                                           str | None]) -> tuple[GpuSlice, ...]:
    """The MIG instances of one GPU's series (in instance id order), one line per pod of
    each (an instance nobody holds: one line, free)."""
    out: list[GpuSlice] = []
    for inst in sorted(g["mig"], key=_mig_order):
        m = g["mig"][inst]
        used, free, tot = m.get("mem_used"), m.get("mem_free"), m.get("mem_total")
        if tot is None and used is not None and free is not None:
            tot = used + free
        pods = sorted(m["pods"].items(), key=lambda kv: (kv[0][1] or "", kv[0][0])) \
            or [(None, None)]
        for pod, label_model in pods:
            out.append(GpuSlice(
                mig_profile=m["profile"] or "?", instance=inst, util_percent=m.get("util"),
                memory_used_mib=used, memory_total_mib=tot,
                pod=pod[0] if pod else None, namespace=pod[1] if pod else None,
                model=model_of(pod, label_model)))
    return tuple(out)


def workload_pod(labels: Mapping[str, str],
                 ignore: re.Pattern | None) -> tuple[str, str | None] | None:
    """(pod, namespace) of the workload using a GPU: ``exported_pod`` (scraped without
    honor_labels), ``pod`` or the old ``pod_name``; the exporter's own pod is skipped."""
    for pod_l, ns_l in zip(POD_LABELS, NAMESPACE_LABELS, strict=True):
        pod = labels.get(pod_l)
        if pod and not (ignore and ignore.search(pod)):
            return pod, labels.get(ns_l)
    return None


def pod_model_map(answers: Answers, profile: MetricProfile,
                  joiner: ModelJoiner) -> dict[tuple[str | None, str], str]:
    """(namespace, pod) -> model from the pods profile (kube-state-metrics pod labels)."""
    out: dict[tuple[str | None, str], str] = {}
    for s in answers.get("pod_model", ()):
        pod = first_label(s.labels, POD_LABELS)
        model = s.labels.get(profile.model_label or "")
        if pod and model:
            ns = first_label(s.labels, NAMESPACE_LABELS)
            name = joiner.resolve(model, ns)
            out[(ns, pod)] = name
            out.setdefault((None, pod), name)
    return out


# -- serving health -----------------------------------------------------------------------
@dataclass
class _Acc:
    requests: list[float | None] = field(default_factory=list)
    errors: list[float | None] = field(default_factory=list)
    tokens: list[float | None] = field(default_factory=list)
    queue: list[float | None] = field(default_factory=list)
    kv: list[float | None] = field(default_factory=list)
    running: list[float | None] = field(default_factory=list)
    prompt: list[float | None] = field(default_factory=list)
    duration: list[float | None] = field(default_factory=list)
    queue_time: list[float | None] = field(default_factory=list)
    latency: dict[float, float] = field(default_factory=lambda: defaultdict(float))
    ttft: dict[float, float] = field(default_factory=lambda: defaultdict(float))
    itl: dict[float, float] = field(default_factory=lambda: defaultdict(float))
    #: query keys that answered NaN or +-Inf for this model (a figure then is "—")
    nan: set[str] = field(default_factory=set)

    def merge(self, other: _Acc) -> None:
        self.nan |= other.nan
        for name in _ACC_LISTS.values():
            getattr(self, name).extend(getattr(other, name))
        for name in _ACC_BUCKETS:
            mine = getattr(self, name)
            for le, v in getattr(other, name).items():
                mine[le] += v


# query key -> _Acc field: summed series, and bucket rates (quantiles)
_ACC_LISTS = {"requests": "requests", "errors": "errors", "tokens": "tokens", "queue": "queue",
              "kv_cache": "kv", "running": "running", "prompt_tokens": "prompt",
              "duration": "duration",
              "queue_time": "queue_time"}
_ACC_BUCKETS = ("latency", "ttft", "itl")


@dataclass(frozen=True)
class ServingKey:
    model: str            # after model_regex (the metric's own name for the model)
    raw: str              # the label value as exported
    namespace: str | None
    revision: str | None
    cluster: str | None = None  # the cluster label's value, when one is configured


def serving_accumulate(answers: Answers, profile: MetricProfile,
                       cluster_label: str | None = None) -> dict[ServingKey, _Acc]:
    """Group a serving profile's answers by model/namespace/revision (and cluster)."""
    accs: dict[ServingKey, _Acc] = defaultdict(_Acc)
    for qkey in (*_ACC_LISTS, *_ACC_BUCKETS):
        for s in answers.get(qkey, ()):
            raw = s.labels.get(profile.model_label or "")
            if not raw:
                continue
            key = ServingKey(
                apply_model_regex(profile, raw), raw,
                first_label(s.labels, profile.namespace_labels),
                s.labels.get(profile.revision_label) if profile.revision_label else None,
                s.labels.get(cluster_label) if cluster_label else None,
            )
            acc = accs[key]
            if s.value is None:  # NaN or +-Inf in the answer (parse_result)
                acc.nan.add(qkey)
            if qkey in _ACC_BUCKETS:
                le = parse_le(s.labels.get("le"))
                if le is not None and s.value is not None:
                    getattr(acc, qkey)[le] += s.value
            else:
                getattr(acc, _ACC_LISTS[qkey]).append(s.value)
    return accs


def _sum(values: list[float | None]) -> float | None:
    """The sum of a figure's series; None when any of them is NaN/Inf (as Prometheus'
    ``sum`` gives NaN): a partial sum would be a wrong number."""
    return None if any(v is None for v in values) else total(values)


def _sample(acc: _Acc, profile: MetricProfile, quantiles: Sequence[float], *, model: str,
            namespace: str | None, revision: str | None, at: datetime,
            source: str | None = None, answered: Collection[str] | None = None
            ) -> HealthSample:
    rps, errs = _sum(acc.requests), _sum(acc.errors)
    if rps is None or rps <= 0:
        ratio = None
    elif errs is None:
        # The errors query selects a subset of the requests: no series = no failures
        # (unless the profile says its engine may count none: unknown).
        ratio = 0.0 if "errors" in profile.queries and not profile.errors_need_series \
            else None
    else:
        ratio = min(1.0, errs / rps)
    lat = [bucket_quantile(q, acc.latency.items()) for q in quantiles] \
        if acc.latency else [None, None, None]
    ms = [None if v is None else v * profile.latency_to_ms for v in lat]
    ttft = bucket_quantile(quantiles[1], acc.ttft.items()) if acc.ttft else None
    itl = bucket_quantile(quantiles[1], acc.itl.items()) if acc.itl else None

    def per_request_ms(summed: list[float | None]) -> float | None:
        spent = _sum(summed)
        if spent is None or rps is None or rps <= 0:
            return None
        return spent / rps * profile.duration_to_ms

    sample = HealthSample(
        model=model, namespace=namespace, revision=revision, at=at, rps=rps,
        error_ratio=ratio, p50_ms=ms[0], p95_ms=ms[1], p99_ms=ms[2],
        ttft_p95_ms=None if ttft is None else ttft * profile.latency_to_ms,
        tokens_per_s=_sum(acc.tokens), queue_depth=_sum(acc.queue),
        kv_cache_percent=highest(acc.kv), running_requests=_sum(acc.running),
        itl_p95_ms=None if itl is None else itl * profile.latency_to_ms,
        prompt_tokens_per_s=_sum(acc.prompt), avg_latency_ms=per_request_ms(acc.duration),
        queue_ms=per_request_ms(acc.queue_time), profile=source,
        engine=profile.runtime or source,
    )
    reasons = figure_reasons(sample, acc, profile, source or "", answered)
    return sample.model_copy(update={"reasons": reasons}) if reasons else sample


# HealthSample field -> (the serving query key it comes from, what it is called)
FIGURES: dict[str, tuple[str, str]] = {
    "rps": ("requests", "requests/s"), "error_ratio": ("errors", "errors"),
    "p50_ms": ("latency", "a latency histogram"), "p95_ms": ("latency", "a latency histogram"),
    "p99_ms": ("latency", "a latency histogram"), "ttft_p95_ms": ("ttft", "TTFT"),
    "itl_p95_ms": ("itl", "inter-token latency"), "tokens_per_s": ("tokens", "tokens/s"),
    "prompt_tokens_per_s": ("prompt_tokens", "prompt tokens/s"),
    "queue_depth": ("queue", "a queue"), "kv_cache_percent": ("kv_cache", "KV cache"),
    "running_requests": ("running", "running requests"),
    "avg_latency_ms": ("duration", "request duration"),
    "queue_ms": ("queue_time", "queue time"),
}
_BUCKET_OF = {"p50_ms": "latency", "p95_ms": "latency", "p99_ms": "latency",
              "ttft_p95_ms": "ttft", "itl_p95_ms": "itl"}
_LIST_OF = {"requests": "requests", "errors": "errors", "tokens": "tokens",
            "queue": "queue", "kv_cache": "kv", "running": "running",
            "prompt_tokens": "prompt", "duration": "duration", "queue_time": "queue_time"}


def figure_reasons(sample: HealthSample, acc: _Acc, profile: MetricProfile, pname: str,
                   answered: Collection[str] | None = None) -> dict[str, str]:
    """Why each figure of ``sample`` that is None is so, in the words shown beside its
    "—": the engine does not expose it, no series matched, the query was rejected, a
    series is NaN/Inf, a histogram without +Inf, no requests in the window.
    ``answered``: the query keys the server answered (None: all of them)."""
    engine = profile.runtime or pname
    out: dict[str, str] = {}
    rps_reason: str | None = None
    for name, (key, what) in FIGURES.items():
        if getattr(sample, name) is not None:
            continue
        if key not in profile.queries:
            if name in ("avg_latency_ms", "queue_ms"):
                continue  # engine-specific extras (Triton's counters), shown only when read
            why = f"{engine} does not expose {what}"
        elif answered is not None and key not in answered:
            why = f"query rejected or failed ({pname}: see the warnings)"
        elif key in acc.nan:
            why = f"NaN or Inf in a series ({pname})"
        elif name in _BUCKET_OF:
            buckets = getattr(acc, _BUCKET_OF[name])
            why = (quantile_reason(buckets.items()) if buckets else None) \
                or f"no series matched ({pname})"
        elif name in ("error_ratio", "avg_latency_ms", "queue_ms") and (
                sample.rps is None or sample.rps <= 0) and (
                name != "error_ratio" or "errors" in profile.queries):
            why = "no requests in the window" if sample.rps is not None else (
                rps_reason or "no request rate")
        elif not getattr(acc, _LIST_OF[key]):
            why = (f"no error series: {engine} counts no failures for this model"
                   if name == "error_ratio" else f"no series matched ({pname})")
        else:
            why = f"no value ({pname})"
        if name == "rps":
            rps_reason = why
        out[name] = why
    return out


class ServingHealth(NamedTuple):
    """What :func:`build_health` gives: figures by model name (the first namespace's or
    cluster's when the series come from several) and by service (``ModelService.key``:
    the figures of each service the series' namespace and cluster pin down)."""

    health: dict[str, HealthSample]
    revisions: dict[str, tuple[HealthSample, ...]]
    by_service: dict[str, HealthSample]
    revisions_by_service: dict[str, tuple[HealthSample, ...]]


def build_health(per_profile: Sequence[tuple[str, MetricProfile, Answers]],
                 joiner: ModelJoiner, quantiles: Sequence[float], at: datetime,
                 index: dict[str, list[tuple[str, str, str | None]]],
                 cluster_label: str | None = None) -> ServingHealth:
    """Whole-model and per-revision health, merged across profiles (first value wins).

    ``index`` is filled with name -> [(profile, raw label value, namespace)] for charts."""
    health: dict[str, HealthSample] = {}
    scope_of: dict[str, tuple[str | None, str | None]] = {}  # name -> (ns, cluster) shown
    by_service: dict[str, HealthSample] = {}
    # -> (revision, namespace, cluster) -> sample: a revision name may recur in another
    # namespace or cluster (KServe names revisions after the service); each stays its own
    revisions: dict[str, dict[tuple[str, str, str], HealthSample]] = defaultdict(dict)
    service_revs: dict[str, dict[str, HealthSample]] = defaultdict(dict)
    # name (and service key) -> engine family -> profile: two families = two engines
    families: dict[str, dict[str, str]] = defaultdict(dict)
    service_families: dict[str, dict[str, str]] = defaultdict(dict)
    for pname, profile, answers in per_profile:
        answered = set(answers)
        accs = serving_accumulate(answers, profile, cluster_label)
        models: dict[tuple[str, str | None, str | None], _Acc] = defaultdict(_Acc)
        raws: dict[tuple[str, str | None, str | None], str] = {}
        for key, acc in accs.items():
            name = joiner.resolve(key.model, key.namespace)
            scope = (name, key.namespace, key.cluster)
            models[scope].merge(acc)
            raws[scope] = key.raw
            if key.revision:
                sample = _sample(acc, profile, quantiles, model=name, namespace=key.namespace,
                                 revision=key.revision, at=at, source=pname,
                                 answered=answered)
                rev = (key.revision, key.namespace or "", key.cluster or "")
                sample = revisions[name].setdefault(rev, sample)
                owner = joiner.owner(name, key.namespace, key.cluster)
                if owner is not None:
                    service_revs[owner.key].setdefault(key.revision, sample)
        for (name, ns, cluster), acc in models.items():
            entry = (pname, raws[(name, ns, cluster)], ns)
            if entry not in index.setdefault(name, []):
                index[name].append(entry)
            new = _sample(acc, profile, quantiles, model=name, namespace=ns, revision=None,
                          at=at, source=pname, answered=answered)
            shown = scope_of.setdefault(name, (ns, cluster))
            if all(a is None or b is None or a == b for a, b in zip(shown, (ns, cluster))):
                health[name] = merge_health(health.get(name), new)
                if profile.family:
                    families[name].setdefault(profile.family, profile.runtime or pname)
            # else another namespace's or cluster's: not mixed into these (by_service
            # tells whose figures are whose)
            owner = joiner.owner(name, ns, cluster)
            if owner is not None:
                by_service[owner.key] = merge_health(by_service.get(owner.key), new)
                if profile.family:
                    service_families[owner.key].setdefault(profile.family,
                                                           profile.runtime or pname)
    for figures, claims in ((health, families), (by_service, service_families)):
        for name, engines in claims.items():
            if len(engines) > 1:
                figures[name] = two_engines(figures[name], tuple(engines.values()))
    rev_out = {name: tuple(revs[k] for k in sorted(revs)) for name, revs in revisions.items()}
    rev_by_service = {key: tuple(revs[r] for r in sorted(revs))
                      for key, revs in service_revs.items()}
    return ServingHealth(health, rev_out, by_service, rev_by_service)


def merge_health(old: HealthSample | None, new: HealthSample) -> HealthSample:
    """Fill ``old``'s missing figures from ``new`` (profiles earlier in order win); the
    reasons of the figures still missing are both samples' (each said once)."""
    if old is None:
        return new
    patch = {k: v for k, v in new.model_dump(exclude={"reasons"}).items()
             if v is not None and getattr(old, k) is None}
    reasons = {}
    for name in {*old.reasons, *new.reasons}:
        if name in patch:
            continue
        said = [r for r in (old.reasons.get(name), new.reasons.get(name)) if r]
        reasons[name] = "; ".join(dict.fromkeys(said))
    if reasons != old.reasons:
        patch["reasons"] = reasons
    return old.model_copy(update=patch) if patch else old


def two_engines(sample: HealthSample, engines: Sequence[str]) -> HealthSample:
    """The figures of a model two engines report (``vllm:`` and ``sglang:`` series for
    one name in one namespace): every figure "—", saying so. Either engine's figures
    alone would be a part of the traffic shown as the whole, and a blend of the two a
    number no engine measured; the on-call engineer needs to know the name is claimed
    twice (a migration in flight, or one engine's model label set to another's model)."""
    said = f"two engines ({', '.join(engines)}) report this model"
    return HealthSample(model=sample.model, namespace=sample.namespace,
                        revision=sample.revision, at=sample.at,
                        reasons={name: said for name in (*FIGURES, "error_ratio_1h",
                                                         "error_ratio_6h")})


# -- drift --------------------------------------------------------------------------------
_new_point = fast_constructor(Point)


def build_drift(samples: Sequence[Sample], profile: MetricProfile, joiner: ModelJoiner,
                thresholds: Mapping[str, float], default_threshold: float) -> list[DriftSeries]:
    """DriftSeries per model/feature/method; a matrix answer gives history points."""
    out: list[DriftSeries] = []
    utc = timezone.utc
    for s in samples:
        model = s.labels.get(profile.model_label or "model")
        feature = s.labels.get(profile.feature_label)
        if not model or not feature:
            continue
        method = s.labels.get(profile.method_label) or "psi"
        # values are already finite-or-None (parse_result): skip re-validation
        points = tuple(_new_point(at=datetime.fromtimestamp(ts, utc), value=v)
                       for ts, v in s.points)
        out.append(DriftSeries(
            model=joiner.resolve(model, first_label(s.labels, NAMESPACE_LABELS)),
            feature=feature, method=method,
            threshold=thresholds.get(method, default_threshold), points=points,
        ))
    out.sort(key=lambda d: (d.model, d.feature, d.method))
    return out


def drift_reason(profiles: Mapping[str, MetricProfile]) -> str:
    """Why no drift series came back: the names each drift profile looked for and the
    config key that sets one (shown instead of waiting for data that will not come)."""
    drift = {n: p for n, p in profiles.items() if p.kind == "drift"}
    looked = [sel for p in drift.values() if p.enabled is not False for sel in p.probe]
    key = "[prometheus.profiles.drift] queries.drift (and probe)"
    if not drift or all(p.enabled is False for p in drift.values()):
        return f"drift is off: no drift profile is enabled (set {key})"
    return (f"no drift series: looked for {', '.join(looked) or 'the configured query'}; "
            f"point {key} at your drift exporter's gauge (labels model, feature, method)")
