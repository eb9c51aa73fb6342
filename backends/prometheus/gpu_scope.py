"""Fleet-wide GPU figures aggregated by the server, and one page of GPUs read row by row.

A scoped read (``PrometheusMetrics.read(..., gpu_scope=GpuScope(...))``) sends, per GPU
profile that names its identity labels (``MetricProfile.identity_labels``):

1. the *summary* queries (``SUMMARY_PARTS`` of them, sent concurrently): every fleet
   figure as a ``count``/``sum`` ``by (cluster, ...)``, each tagged with a
   ``pitboard_figure`` label, the figures dealt among the parts and joined with ``or`` (GPU count per GPU
   model name, utilisation sum and count, nodes, allocated, idle, hot, current XID, GPUs
   per serving model, per GPU model name for the price table, and OpenCost's price of each
   of them when an OpenCost profile is active, joined by node on the server);
2. one *page* query: ``topk``/``bottomk`` of the scope's sort figure among the GPUs its
   filters select, with the pod labels of each (a page of at most ``GpuScope.limit``);
3. the profile's own per-GPU queries narrowed to the page by a UUID regex (``$match``, 100
   UUIDs a query: a page of up to 100 GPUs is one query per key), the pods profile's query
   narrowed to the page's pods and OpenCost's prices to its nodes.

So the answers' size follows the page, the serving models and the GPU model names, never
the GPU count; the number of queries is fixed (``SUMMARY_PARTS`` + 1 more than an
unscoped read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from backends.domain.models import GPU_HOT_C, GpuScope, GpuSummary
from backends.prometheus.calc import NODE_LABELS, POD_LABELS, NAMESPACE_LABELS, UUID_LABELS
from backends.prometheus.client import Sample
from backends.prometheus.profiles import MetricProfile, render

GPU_MODEL_LABEL = "modelName"
FIGURE = "pitboard_figure"
MODEL = "pitboard_model"
NODE = "pitboard_node"
SUMMARY_PARTS = 4
"""Summary queries of a scoped read (per GPU profile), sent concurrently."""
BLANK = "2147483632"  # DCGM's INT32 blank: every sentinel is at or above it (calc.dcgm_value)


def _q(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _anchored(pattern: str | None) -> str | None:
    """A Python ``re.search`` pattern as a (fully anchored) PromQL regex."""
    if not pattern:
        return None
    return pattern[1:] + ".*" if pattern.startswith("^") else f".*(?:{pattern}).*"


@dataclass
class GpuQueries:
    """PromQL pieces of one GPU profile (templates rendered with this read's values)."""

    profile: MetricProfile
    values: Mapping[str, str]
    cluster_label: str | None
    pods: MetricProfile | None = None  # the active pods profile (pod -> model join)
    price: str | None = None  # OpenCost's $/h per node (``avg by (node) (...)``)
    within: str = ""
    """A matcher every GPU series of this read carries (``cluster="a"``: a scope with a
    ``cluster``): the summary and the page are then that cluster's."""

    @property
    def ids(self) -> list[str]:
        return list(dict.fromkeys([*self.profile.identity_labels,
                                   *([self.cluster_label] if self.cluster_label else [])]))

    @property
    def id_by(self) -> str:
        return ", ".join(self.ids)

    @property
    def node_labels(self) -> list[str]:
        return [n for n in NODE_LABELS if n in self.profile.identity_labels]

    @property
    def uuid_label(self) -> str | None:
        return next((n for n in self.profile.identity_labels if n in UUID_LABELS), None)

    def by(self, *extra: str, cluster: bool = False) -> str:
        """``by (...)`` of a summary figure: the GPU count and the per-model figures per
        cluster (a model name several contexts serve is each one's service); the others
        over every cluster, so the answer does not grow with the clusters either."""
        labels = [self.cluster_label] if cluster and self.cluster_label else []
        return f"by ({', '.join([*labels, *extra])})"

    def q(self, key: str, match: str = "", **values: str) -> str:
        return render(self.profile.queries[key], self.profile,
                      cluster_label=self.cluster_label,
                      match=",".join(m for m in (self.within, match) if m),
                      **{**self.values, **values})

    # -- per-GPU sets (each one series per GPU, labels: identity + GPU model name) ------
    @property
    def util(self) -> str:
        return f"max by ({self.id_by}, {GPU_MODEL_LABEL}) ({self.q('util')})"

    def util_where(self, match: str) -> str:
        return f"max by ({self.id_by}) ({self.q('util', match)})"

    def _pod_matchers(self) -> list[tuple[str, str, str]]:
        """(pod label, namespace label, matcher) of a workload's pod (not the exporter's)."""
        ignore = _anchored(self.profile.ignore_pods)
        return [(p, ns, f'{p}!=""' + (f",{p}!~{_q(ignore)}" if ignore else ""))
                for p, ns in zip(POD_LABELS, NAMESPACE_LABELS, strict=True)]

    @property
    def allocated(self) -> str:
        held = " or ".join(self.util_where(m) for _, _, m in self._pod_matchers())
        return f"({self.util}) and on ({self.id_by}) ({held})"

    @property
    def free(self) -> str:
        return f"({self.util}) unless on ({self.id_by}) ({self.allocated})"

    @property
    def idle_util(self) -> str:
        """Utilisation averaged over the window, else the instant one (one per GPU)."""
        if "util_avg" not in self.profile.queries:
            return self.util
        return f"({self.q('util_avg')}) or on ({self.id_by}) ({self.util})"

    def idle(self, idle_util: float) -> str:
        return (f"({self.allocated}) and on ({self.id_by}) "
                f"(({self.idle_util}) < {idle_util:g})")

    @property
    def hot(self) -> str | None:
        if "temp" not in self.profile.queries:
            return None
        return f"({self.util}) and on ({self.id_by}) (({self.q('temp')}) >= {GPU_HOT_C:g} < {BLANK})"

    def xid_current(self, since_ts: float, lookback: str) -> str | None:
        if not {"xid", "xid_since"} <= self.profile.queries.keys():
            return None
        since = self.q("xid_since", xid_lookback=lookback)
        return (f"({self.util}) and on ({self.id_by}) ((({self.q('xid')}) > 0 < {BLANK}) "
                f"and on ({self.id_by}) (({since}) >= {since_ts:.3f}))")

    def _pods(self, match: str = "") -> str:
        """Each GPU's workload pod as ``namespace``/``pod`` labels (every dialect)."""
        parts = []
        for pod_l, ns_l, m in self._pod_matchers():
            sel = f"max by ({self.id_by}, {GPU_MODEL_LABEL}, {ns_l}, {pod_l}) (" \
                  f"{self.q('util', ','.join(filter(None, (m, match))))})"
            if pod_l != "pod":
                sel = f'label_replace(label_replace({sel}, "pod", "$1", "{pod_l}", "(.+)"), ' \
                      f'"namespace", "$1", "{ns_l}", "(.*)")'
            parts.append(sel)
        return " or ".join(parts)

    @property
    def by_model(self) -> str | None:
        """Allocated GPUs with the serving model holding them in ``pitboard_model``: the
        profile's model label on the series, else the pods profile's pod label (join)."""
        keep = f"{self.id_by}, {GPU_MODEL_LABEL}, {MODEL}"
        ways = []
        label = self.profile.model_label
        if label:
            labelled = self.q("util", f'{label}!=""')
            ways.append(f'max by ({keep}) (label_replace(max by ({self.id_by}, '
                        f'{GPU_MODEL_LABEL}, {label}) ({labelled}), '
                        f'"{MODEL}", "$1", "{label}", "(.+)"))')
        pods = self.pods
        if pods is not None and pods.model_label and pods.probe:
            pl, cb = pods.model_label, (f", {self.cluster_label}" if self.cluster_label else "")
            labels = f"max by (namespace, pod, {pl}{cb}) ({pods.probe[0]})"
            ways.append(f'max by ({keep}) (label_replace(({self._pods()}) * on (namespace, '
                        f'pod{cb}) group_left ({pl}) ({labels}), "{MODEL}", "$1", "{pl}", '
                        f'"(.+)"))')
        if not ways:
            return None
        either = f" or on ({self.id_by}) ".join(f"({w})" for w in ways)
        return f"({either}) and on ({self.id_by}) ({self.allocated})"

    @property
    def unresolved_pods(self) -> str:
        """Allocated GPUs whose model neither label nor join tells, by their pod (the
        model is then read from the pod's name here, as for rows): grows with such pods
        only, none where kube-state-metrics or the exporter label the model."""
        pods = f"max by ({self.id_by}, {GPU_MODEL_LABEL}, namespace, pod) ({self._pods()})"
        held = self.by_model
        return f"({pods}) unless on ({self.id_by}) ({held})" if held else pods

    def priced(self, gpus: str, *extra: str) -> str | None:
        """``gpus`` (one series per GPU) valued at their node's OpenCost $/h; GPUs of an
        unpriced node are left out (the price table prices them)."""
        if self.price is None or not self.node_labels:
            return None
        keep = ", ".join([self.id_by, GPU_MODEL_LABEL, *extra])
        nodes = ", ".join(_q(n) for n in self.node_labels)
        return (f'label_join(group by ({keep}) ({gpus}), "node", "", {nodes}) '
                f"* on (node) group_left () ({self.price})")

    # -- scope ----------------------------------------------------------------------------
    def filter(self, scope: GpuScope, idle_util: float, since_ts: float,
               lookback: str) -> str | None:
        """The GPUs matching every filter of ``scope`` (None: no filter); its ``cluster``
        is not one: the whole read is within it (``within``)."""
        conds: list[str] = []
        if scope.node is not None:
            conds.append(" or ".join(self.util_where(f"{n}={_q(scope.node)}")
                                     for n in self.node_labels or ["Hostname"]))
        if scope.state == "idle":
            conds.append(self.idle(idle_util))
        elif scope.state == "free":
            conds.append(self.free)
        elif scope.state == "hot":
            conds.append(self.hot or "vector(0) < 0")
        elif scope.state == "xid":
            conds.append(self.xid_current(since_ts, lookback) or "vector(0) < 0")
        for word in (scope.text or "").split():
            pattern = _q(f"(?i).*{re.escape(word)}.*")
            labels = [*self.node_labels, *POD_LABELS, *(l for l in self.profile.identity_labels
                                                        if l in UUID_LABELS),
                      GPU_MODEL_LABEL]
            conds.append(" or ".join(self.util_where(f"{lab}=~{pattern}") for lab in labels))
        if scope.model is not None:
            ways = []
            held = self.by_model
            if held is not None:
                ways.append(f'({held}) and on ({MODEL}) label_replace(vector(1), "{MODEL}", '
                            f'{_q(scope.model)}, "", "")')
            prefix = _q(re.escape(scope.model) + "-.+")
            ways += [self.util_where(f"{p}=~{prefix}") for p, _, _ in self._pod_matchers()]
            conds.append(" or ".join(f"({w})" for w in ways))
        if not conds:
            return None
        return f" and on ({self.id_by}) ".join(f"({c})" for c in [self.util, *conds])

    def sort_figure(self, sort: str) -> str:
        queries = self.profile.queries
        key = {"memory": "mem_used", "temp": "temp", "power": "power"}.get(sort)
        figure = f"({self.util}) < {BLANK}"
        if key and key in queries:
            figure = f"({self.q(key)}) < {BLANK}"
        elif sort == "cost":
            figure = self.priced(self.util) or figure
        # a GPU without the figure ranks last (-1), as rows are ranked (domain.gpus.page)
        return f"({figure}) or on ({self.id_by}) (group by ({self.id_by}) ({self.util}) - 2)"

    def page(self, scope: GpuScope, chosen: str | None) -> str:
        """The page: its GPUs' identity and pod labels (``topk``/``bottomk`` of the sort
        figure among ``chosen``, the scope's filter)."""
        if scope.sort == "idle":  # the least used allocated GPUs, then the others
            among = (f"((({self.idle_util}) < {BLANK}) and on ({self.id_by}) "
                     f"({self.allocated})) or on ({self.id_by}) "
                     f"(group by ({self.id_by}) ({self.util}) * 1e9)")
            if chosen:
                among = f"({among}) and on ({self.id_by}) ({chosen})"
            top = f"bottomk({scope.limit}, {among})"
        else:
            among = self.sort_figure(scope.sort)
            if chosen:
                among = f"({among}) and on ({self.id_by}) ({chosen})"
            top = f"topk({scope.limit}, {among})"
        labels = ", ".join([self.id_by, *POD_LABELS, *NAMESPACE_LABELS])
        return f"max by ({labels}) ({self.q('util')}) and on ({self.id_by}) ({top})"

    # -- the summary ------------------------------------------------------------------
    def _figures(self, scope: GpuScope, chosen: str | None, idle_util: float,
                 since_ts: float, lookback: str) -> list[tuple[str, str | None]]:
        figures: list[tuple[str, str | None]] = [
            ("gpus", f"count {self.by(GPU_MODEL_LABEL, cluster=True)} ({self.util})"),
            ("util_sum", f"sum {self.by()} (({self.util}) < {BLANK})"),
            ("util_n", f"count {self.by()} (({self.util}) < {BLANK})"),
            ("alloc", f"count {self.by()} ({self.allocated})"),
            ("idle", f"count {self.by(GPU_MODEL_LABEL)} ({self.idle(idle_util)})"),
            ("free", f"count {self.by(GPU_MODEL_LABEL)} ({self.free})"),
        ]
        if self.node_labels:  # one node whichever spelling its series carry
            nodes = ", ".join(_q(n) for n in self.node_labels)
            figures.append(("nodes", f"count {self.by()} (count {self.by(NODE, cluster=True)} "
                                     f'(label_join({self.util}, "{NODE}", "", {nodes})))'))
        hot = self.hot
        if hot:
            figures.append(("hot", f"count {self.by()} ({hot})"))
        xid = self.xid_current(since_ts, lookback)
        if xid:
            figures.append(("xid", f"count {self.by()} ({xid})"))
        held = self.by_model
        # per model (and per pod whose model only its name tells) by cluster too: one
        # model name served in several contexts is priced for each service -- a series a
        # service, as the serving figures (3,000 models in 20 clusters: 7.62 -> 8.04 MB)
        if held:
            figures.append(("model", f"count {self.by(GPU_MODEL_LABEL, MODEL, cluster=True)} "
                                     f"({held})"))
        pods = self.unresolved_pods
        by_pod = self.by(GPU_MODEL_LABEL, "namespace", "pod", cluster=True)
        figures.append(("pod", f"count {by_pod} ({pods})"))
        if chosen:
            figures.append(("matching", f"count {self.by()} ({chosen})"))
        for name, gpus, extra in (("gpus", self.util, ()), ("idle", self.idle(idle_util), ()),
                                  ("free", self.free, ()), ("model", held, (MODEL,)),
                                  ("pod", pods, ("namespace", "pod"))):
            if gpus is None:
                continue
            priced = self.priced(gpus, *extra)
            if priced is not None:
                by = self.by(GPU_MODEL_LABEL, *extra, cluster=bool(extra))
                figures.append((f"oc_{name}_sum", f"sum {by} ({priced})"))
                figures.append((f"oc_{name}_n", f"count {by} ({priced})"))
        return figures

    def summary(self, scope: GpuScope, chosen: str | None, idle_util: float,
                since_ts: float, lookback: str) -> str:
        """Every summary figure in one query (see :meth:`summary_parts`)."""
        return " or ".join(self.summary_parts(scope, chosen, idle_util, since_ts, lookback,
                                              parts=1))

    def summary_parts(self, scope: GpuScope, chosen: str | None, idle_util: float,
                      since_ts: float, lookback: str, parts: int = 4) -> list[str]:
        """The summary figures as ``parts`` queries, sent at once: a store evaluates the
        branches of one ``or`` one after another, so one query would take the sum of
        its figures' times. Dealt round-robin in a fixed order (the costly joins --
        allocated, idle, free, per model, per pod -- land in different parts); always
        ``parts`` queries (there are more figures than parts)."""
        figures = [(name, expr) for name, expr in self._figures(
            scope, chosen, idle_util, since_ts, lookback) if expr]
        tagged = [f'label_replace({expr}, "{FIGURE}", "{name}", "", "")'
                  for name, expr in figures]
        return [" or ".join(tagged[i::parts]) for i in range(min(parts, len(tagged)))]


CHUNK = 100
"""GPUs per ``$match`` regex: 100 UUIDs stay under VictoriaMetrics' 16 KB query limit
(``-search.maxQueryLen``) even in the XID query, which holds the matcher three times."""


def page_match(samples: Sequence[Sample], gq: GpuQueries) -> tuple[list[str], set[tuple],
                                                                    set[str], set[str]]:
    """(``$match`` selecting the page's GPUs, ``CHUNK`` at a time; their identity tuples,
    their pods, their nodes) from the page query's answer."""
    ids, pods, nodes = set(), set(), set()
    for s in samples:
        lab = s.labels
        ids.add(tuple(lab.get(n, "") for n in gq.ids))
        for p in POD_LABELS:
            if lab.get(p):
                pods.add(lab[p])
        for n in gq.node_labels:
            if lab.get(n):
                nodes.add(lab[n])
    label = gq.uuid_label
    if label is not None:
        values = sorted({u for s in samples if (u := s.labels.get(label))})
    else:
        label = gq.node_labels[0] if gq.node_labels else "Hostname"
        values = sorted(nodes)
    matches = [f"{label}=~{_q(_alternatives(values[i:i + CHUNK]))}"
               for i in range(0, len(values), CHUNK)]
    return matches, ids, pods, nodes


def _alternatives(values: Iterable[str]) -> str:
    """A regex matching exactly these values (none: the empty string only)."""
    return "|".join(re.escape(v) for v in values) or "^$"


def metric_name(selector: str) -> str | None:
    m = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", selector)
    return m.group(1) if m else None


@dataclass
class SummaryFigures:
    """The summary query's answer, summed over clusters; prices applied by the caller."""

    gpus: int = 0
    nodes: int | None = None
    allocated: int = 0
    util_sum: float = 0.0
    util_n: int = 0
    hot: int | None = None
    xid: int | None = None
    matching: int | None = None
    by_cluster: dict[str, int] = field(default_factory=dict)
    # (GPU model name) -> count, per set: gpus, idle, free;
    # (GPU model name, model, context or None) -> count
    types: dict[str, dict[str | None, int]] = field(default_factory=dict)
    models: dict[tuple[str | None, str, str | None], int] = field(default_factory=dict)
    # OpenCost: set -> (GPU model name, model, context) -> (sum $/h, count)
    opencost: dict[str, dict[tuple[str | None, str | None, str | None], tuple[float, int]]] = \
        field(default_factory=dict)

    def idle(self) -> int:
        return sum(self.types.get("idle", {}).values())


def read_summary(samples: Sequence[Sample], gq: GpuQueries,
                 context_of: Callable[[str], str], resolve: Callable[[str], str],
                 pod_model: Callable[[str, str | None], str | None]) -> SummaryFigures:
    """The summary query's answer; ``resolve``: a model label value -> the service name;
    ``pod_model``: (pod, namespace) -> the model holding it (None: not known)."""
    out = SummaryFigures()
    pod_models: dict[tuple[str, str | None], str | None] = {}

    def model_of(lab: Mapping[str, str]) -> str | None:
        if lab.get(MODEL):
            return resolve(lab[MODEL])
        pod = lab.get("pod")
        if not pod:
            return None
        key = (pod, lab.get("namespace") or None)
        if key not in pod_models:
            pod_models[key] = pod_model(*key)
        return pod_models[key]

    for s in samples:
        lab, v = s.labels, s.value
        fig = lab.get(FIGURE)
        if fig is None or v is None:
            continue
        n = int(round(v))
        gtype = lab.get(GPU_MODEL_LABEL) or None
        cluster = lab.get(gq.cluster_label) if gq.cluster_label else None
        if fig == "gpus":
            out.gpus += n
            if gq.cluster_label and lab.get(gq.cluster_label):
                ctx = context_of(lab[gq.cluster_label])
                out.by_cluster[ctx] = out.by_cluster.get(ctx, 0) + n
            out.types.setdefault("gpus", {})[gtype] = out.types.get("gpus", {}).get(gtype, 0) + n
        elif fig in ("idle", "free"):
            t = out.types.setdefault(fig, {})
            t[gtype] = t.get(gtype, 0) + n
        elif fig in ("model", "pod"):
            model = model_of(lab)
            if model is not None:
                key = (gtype, model, context_of(cluster) if cluster else None)
                out.models[key] = out.models.get(key, 0) + n
        elif fig == "util_sum":
            out.util_sum += v
        elif fig == "util_n":
            out.util_n += n
        elif fig == "alloc":
            out.allocated += n
        elif fig == "nodes":
            out.nodes = (out.nodes or 0) + n
        elif fig in ("hot", "xid", "matching"):
            setattr(out, fig, (getattr(out, fig) or 0) + n)
        elif fig.startswith("oc_"):
            _, name, part = fig.split("_", 2)
            model = model_of(lab) if name in ("model", "pod") else None
            if name == "pod":
                if model is None:
                    continue
                name = "model"
            cell = out.opencost.setdefault(name, {})
            where = context_of(cluster) if cluster and name == "model" else None
            total, count = cell.get((gtype, model, where), (0.0, 0))
            cell[(gtype, model, where)] = (total + v, count) if part == "sum" \
                else (total, count + n)
    # a figure asked for with no series back: none (count of nothing)
    if gq.hot is not None and out.hot is None:
        out.hot = 0
    if {"xid", "xid_since"} <= gq.profile.queries.keys() and out.xid is None:
        out.xid = 0
    if gq.node_labels and out.nodes is None:
        out.nodes = 0
    return out


def merge_summaries(figures: Sequence[SummaryFigures], matching_asked: bool) -> GpuSummary:
    """One ``GpuSummary`` of every GPU profile's figures."""
    gpus = sum(f.gpus for f in figures)
    util_n = sum(f.util_n for f in figures)
    by_cluster: dict[str, int] = {}
    by_model: dict[str, int] = {}
    for f in figures:
        for ctx, n in f.by_cluster.items():
            by_cluster[ctx] = by_cluster.get(ctx, 0) + n
        for (_t, model, _ctx), n in f.models.items():
            by_model[model] = by_model.get(model, 0) + n

    def total(name: str) -> int | None:
        vals = [getattr(f, name) for f in figures if getattr(f, name) is not None]
        return sum(vals) if vals else None

    return GpuSummary(
        gpus=gpus, nodes=total("nodes"), allocated=sum(f.allocated for f in figures),
        util_avg_percent=sum(f.util_sum for f in figures) / util_n if util_n else None,
        hot=total("hot"), xid_current=total("xid"),
        idle_allocated=sum(f.idle() for f in figures), by_cluster=by_cluster,
        by_model=by_model,
        matching=(total("matching") or 0) if matching_asked else None, server_side=True)
