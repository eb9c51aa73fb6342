"""GPU scopes and summaries over GPU rows a backend holds in full (the demo, a Prometheus
read without a scope): the same answers a metrics server gives to a scoped read, computed
here from every row. Pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from backends.domain.models import GPU_HOT_C, GpuDevice, GpuScope, GpuSummary, fast_constructor


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def idle_util_of(g: GpuDevice) -> float | None:
    """The utilisation idle is judged on: averaged over the window, else the instant one."""
    avg = _finite(g.util_avg_percent)
    return avg if avg is not None else _finite(g.util_percent)


def is_idle(g: GpuDevice, idle_util: float) -> bool:
    """Allocated to a pod and (on average over the window) below ``idle_util`` %."""
    util = idle_util_of(g)
    return g.allocated and util is not None and util < idle_util


def is_hot(g: GpuDevice) -> bool:
    temp = _finite(g.temperature_c)
    return temp is not None and temp >= GPU_HOT_C


def has_current_xid(g: GpuDevice) -> bool:
    return g.last_xid is not None and g.xid_current


STATES: dict[str, Callable[[GpuDevice, float], bool]] = {
    "idle": is_idle,
    "xid": lambda g, _u: has_current_xid(g),
    "hot": lambda g, _u: is_hot(g),
    "free": lambda g, _u: not g.allocated,
}


def matches(g: GpuDevice, scope: GpuScope, idle_util: float) -> bool:
    """Whether ``g`` passes every filter of ``scope`` (state, words, node, cluster, model)."""
    if scope.node is not None and g.node != scope.node:
        return False
    if scope.cluster is not None and g.cluster != scope.cluster:
        return False
    if scope.model is not None and scope.model not in g.models:
        return False
    if scope.state is not None and not STATES[scope.state](g, idle_util):
        return False
    if scope.text:
        hay = " ".join(x for x in (g.node, g.pod, g.uuid, g.model_name,
                                   *(x.pod for x in g.slices)) if x).lower()
        if not all(word in hay for word in scope.text.lower().split()):
            return False
    return True


def filtered(scope: GpuScope) -> bool:
    """Whether ``scope`` filters the GPUs it is read among (beyond its page); its
    ``cluster`` does not: the whole read is within that cluster."""
    return any(v is not None and v != "" for v in (scope.state, scope.text, scope.node,
                                                   scope.model))


def _num(value: float | None) -> float:
    f = _finite(value)
    return -1.0 if f is None else f


def rank_key(sort: str) -> Callable[[GpuDevice], float]:
    """The figure a page is chosen by, highest first (``idle``: the least used first)."""
    if sort == "idle":  # the least used allocated GPUs first, then the others
        return lambda g: (-u if g.allocated and (u := idle_util_of(g)) is not None
                          else -1e9)
    if sort == "memory":
        return lambda g: _num(g.memory_used_mib)
    if sort == "temp":
        return lambda g: _num(g.temperature_c)
    if sort == "power":
        return lambda g: _num(g.power_watts)
    if sort == "cost":
        return lambda g: _num(g.hourly_cost)
    return lambda g: _num(g.util_percent)  # util, and node (the busiest, in node order)


def page(gpus: Sequence[GpuDevice], scope: GpuScope, idle_util: float
         ) -> tuple[GpuDevice, ...]:
    """The GPUs ``scope`` selects, in node order (the order reads give)."""
    chosen = [g for g in gpus if matches(g, scope, idle_util)]
    if len(chosen) > scope.limit:
        key = rank_key(scope.sort)
        chosen = sorted(chosen, key=lambda g: (-key(g), g.node, g.index))[:scope.limit]
    return tuple(sorted(chosen, key=lambda g: (g.node, g.index, g.cluster or "",
                                               g.uuid or "")))


_new_summary = fast_constructor(GpuSummary)
"""Trusted: :func:`summarize` counts (ints) and averages (a float) rows already validated."""


def count_held(g: GpuDevice, by_model: dict[str, int]) -> None:
    """Count ``g``, if allocated, once for each model holding it or a share of it (a shared
    or MIG GPU counts once for each of its models): the GPUs a model holds, as the server's
    summary counts them (``GpuQueries.by_model``) and the cost view shows them."""
    if g.allocated:
        for model in g.models:
            by_model[model] = by_model.get(model, 0) + 1


def summarize(gpus: Sequence[GpuDevice], idle_util: float,
              scope: GpuScope | None = None) -> GpuSummary:
    """Every GPU's figures counted from their rows (``server_side`` False)."""
    utils = [u for g in gpus if (u := _finite(g.util_percent)) is not None]
    by_cluster: dict[str, int] = {}
    by_model: dict[str, int] = {}
    allocated = idle = hot = xid = 0
    nodes: set[tuple[str | None, str]] = set()
    for g in gpus:
        nodes.add((g.cluster, g.node))
        if g.cluster is not None:
            by_cluster[g.cluster] = by_cluster.get(g.cluster, 0) + 1
        allocated += g.allocated
        count_held(g, by_model)
        idle += is_idle(g, idle_util)
        hot += is_hot(g)
        xid += has_current_xid(g)
    matching = None
    if scope is not None and filtered(scope):
        matching = sum(1 for g in gpus if matches(g, scope, idle_util))
    return _new_summary(
        gpus=len(gpus), nodes=len(nodes), allocated=allocated,
        util_avg_percent=sum(utils) / len(utils) if utils else None, hot=hot,
        xid_current=xid, idle_allocated=idle, by_cluster=by_cluster, by_model=by_model,
        matching=matching, server_side=False)


def owners(g: GpuDevice) -> list[tuple[str | None, str | None, str | None]]:
    """(model, pod, namespace) of each holder of ``g``: its shares' when it has any (MIG
    instances, time-sliced pods), else its own."""
    if g.slices:
        return [(x.model, x.pod, x.namespace) for x in g.slices]
    return [(g.model, g.pod, g.namespace)]


def serves(g: GpuDevice, model: str, namespace: str | None) -> bool:
    """Whether ``model`` of ``namespace`` holds ``g`` or a share of it (a holder whose
    namespace is not known counts)."""
    return any(m == model and (ns is None or ns == namespace) for m, _pod, ns in owners(g))


def mig_compute_slices(model_name: str | None) -> int:
    """Compute slices one GPU of this model splits into under MIG: 4 on an A30, 7 on the
    A100 / H100 / H200 / B200 families (NVIDIA MIG user guide, "Supported MIG Profiles")."""
    return 4 if model_name and "A30" in model_name.upper() else 7


def cost_shares(g: GpuDevice) -> list[tuple[str | None, float]]:
    """Who pays for ``g``, as (model or None for nobody, fraction of its price). A MIG
    instance pays for its compute slices (``3g.40gb`` = 3 of 7 on an A100), the slices no
    instance holds are nobody's; pods time-slicing a GPU share it equally; otherwise the
    holder pays for all of it. The fractions sum to 1."""
    if not g.slices:
        return [(g.model, 1.0)]
    if all(x.mig_profile is None for x in g.slices):
        holders = [x.model for x in g.slices]
        return [(m, 1.0 / len(holders)) for m in holders]
    total = mig_compute_slices(g.model_name)
    shares: list[tuple[str | None, float]] = []
    for x in g.slices:
        head = (x.mig_profile or "").split("g.", 1)[0]
        n = int(head) if head.isdigit() else 0
        shares.append((x.model, n / total))
    used = sum(f for _m, f in shares)
    if used > 1.0 or used <= 0.0:  # an unknown layout: split what is there equally
        return [(x.model, 1.0 / len(g.slices)) for x in g.slices]
    return shares + ([(None, 1.0 - used)] if used < 1.0 else [])
