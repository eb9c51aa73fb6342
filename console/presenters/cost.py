"""The cost view's tables, made from a snapshot: the costliest models with their share and
unit cost, and $/h by namespace and by node (the GPUs read), each already grouped, sorted
and formatted, so the screen only shows them.

At 3,000 models the ranking alone (every model's $/h sorted) is a few milliseconds of pure
Python: the metrics poller makes these rows in its thread (console.presenters.prepare) and
the screen makes them itself only when those were not made of exactly what it shows
(replay, a narrowed context, tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from backends.domain.gpus import count_held
from backends.domain.models import FleetSnapshot, GpuDevice, GpuSummary, HealthSample, ModelService
from widgets.text import MISSING, fmt_money, safe

MAX_MODEL_ROWS = 50
"""Models listed (the costliest): past a couple of screenfuls nobody reads them here."""
MAX_GROUP_ROWS = 20
"""Namespaces and nodes listed (the costliest)."""
LLM_RUNTIMES = ("vllm", "tgi", "llm")
"""Runtimes whose unit is the generated token (``model_detail.is_llm``'s list)."""
DEFAULT_IDLE_UTIL = 10.0
"""Idle below this utilisation % when the settings say nothing (widgets.gpu_table's)."""

Row = tuple[str, ...]


def idle_util_of(settings: object) -> float:
    """The idle threshold (utilisation %) the settings give, else the default."""
    prom = getattr(settings, "prometheus", None)
    return getattr(prom, "idle_util_percent", DEFAULT_IDLE_UTIL)


def is_idle(g: GpuDevice, idle_util: float) -> bool:
    """Allocated to a pod but (nearly) unused now: ``widgets.gpu_table.is_idle``, the
    test the cost view has always used (that module loads Textual; presenters do not)."""
    u = g.util_percent
    return g.allocated and u is not None and math.isfinite(u) and u < idle_util


def unit_cost(hourly: float | None, health: HealthSample | None, llm: bool
              ) -> tuple[float | None, str]:
    """($ per 1k units, unit): generated tokens for LLMs, requests otherwise. None when
    the cost or the throughput is unknown or zero."""
    unit = "1k tok" if llm else "1k req"
    if hourly is None or health is None:
        return None, unit
    rate = health.tokens_per_s if llm else health.rps
    if rate is None or rate <= 0:
        return None, unit
    return hourly / (rate * 3.6), unit  # per hour: rate * 3600 / 1000 thousands


def shared_names_health(snapshot: FleetSnapshot) -> dict[str, HealthSample | None]:
    """Name -> the throughput of every service of that name, for the names several
    services share (one model in several contexts or namespaces): their rps and tokens/s
    summed from each one's own figures (``service_health``), None where one of them is
    not known. ``health[name]`` holds only one of them: a cost summed over all divided
    by one's throughput would be several times too high."""
    groups: dict[str, list[ModelService]] = {}
    for svc in snapshot.services:
        groups.setdefault(svc.name, []).append(svc)
    out: dict[str, HealthSample | None] = {}
    for name, svcs in groups.items():
        if len(svcs) < 2:
            continue
        each = [snapshot.service_health.get(s.key) for s in svcs]
        known = [h for h in each if h is not None]

        def total(field: str) -> float | None:
            vals = [getattr(h, field) for h in known]
            return sum(vals) if len(known) == len(each) and None not in vals else None

        out[name] = HealthSample.model_construct(
            model=name, at=known[0].at, rps=total("rps"),
            tokens_per_s=total("tokens_per_s")) if known else None
    return out


def group_cost(gpus: Sequence[GpuDevice], key: Callable[[GpuDevice], str], idle_util: float
               ) -> list[tuple[str, float | None, int, float | None]]:
    """(group, $/h, GPUs, idle $/h) per group, most expensive first."""
    acc: dict[str, list] = {}
    for g in gpus:
        name = key(g)
        row = acc.setdefault(name, [None, 0, None])
        if g.hourly_cost is not None:
            row[0] = (row[0] or 0.0) + g.hourly_cost
            if is_idle(g, idle_util):
                row[2] = (row[2] or 0.0) + g.hourly_cost
        row[1] += 1
    out = [(k, v[0], v[1], v[2]) for k, v in acc.items()]
    out.sort(key=lambda r: (-(r[1] or 0.0), r[0]))
    return out


@dataclass(frozen=True)
class CostTable:
    """One table's rows (first cell: the row's name) and its border subtitle."""

    rows: tuple[Row, ...]
    subtitle: str


@dataclass(frozen=True)
class CostRows:
    """Everything the cost view shows below its headline figures."""

    idle: int
    """Idle GPUs (allocated, low util): the server's count past a scoped read."""
    models: CostTable
    namespaces: CostTable
    nodes: CostTable


def services_by_name(services: Sequence[ModelService]) -> dict[str, ModelService]:
    return {s.name: s for s in services}


def cost_rows(snapshot: FleetSnapshot, summary: GpuSummary | None, idle_util: float,
              services: Mapping[str, ModelService] | None = None) -> CostRows:
    """The view's rows for ``snapshot``; ``summary``: the fleet-wide GPU figures when the
    metrics read was scoped (the GPUs in the snapshot are then a page of them);
    ``services``: ``snapshot.services`` by name, when the caller keeps it."""
    gpus = snapshot.gpus
    idle = (summary.idle_allocated or 0) if summary is not None else sum(
        1 for g in gpus if is_idle(g, idle_util))
    by_model = dict(snapshot.cost.by_model) or {
        k: v for k, v, _, _ in group_cost(gpus, lambda g: g.model or "(free)", idle_util)
        if v is not None}
    # GPUs each model holds all or a share of: the server's count past a scoped read
    gpu_count: dict[str, int] = dict(summary.by_model) if summary is not None else {}
    for g in gpus if summary is None else ():
        count_held(g, gpu_count)
    if services is None:
        services = services_by_name(snapshot.services)
    total = sum(by_model.values()) or None
    ranked = sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))
    rows: list[Row] = []
    shared = shared_names_health(snapshot)  # a row of a name: all its services' throughput
    for name, hourly in ranked[:MAX_MODEL_ROWS]:
        health = shared[name] if name in shared else snapshot.health.get(name)
        svc = services.get(name)
        # is_llm's test on the figures unit_cost reads (by model name): O(1) a row
        llm = svc is not None and ((svc.runtime or "").lower() in LLM_RUNTIMES or (
            health is not None and health.tokens_per_s is not None))
        unit, label = unit_cost(hourly, health, llm)
        rows.append((safe(name, 40), fmt_money(hourly), MISSING if not total else
                     f"{100 * hourly / total:.0f}%", str(gpu_count.get(name, 0)),
                     MISSING if unit is None else f"{fmt_money(unit, 4)}/{label}",
                     fmt_money(hourly * 24, 0)))
    models = CostTable(tuple(rows), f"the {MAX_MODEL_ROWS} costliest of {len(ranked)} models"
                       if len(ranked) > MAX_MODEL_ROWS else f"{len(rows)} rows")
    tables = []
    for key in (lambda g: g.namespace or "(no namespace)", lambda g: g.node):
        groups = group_cost(gpus, key, idle_util)
        shown = tuple((safe(k, 40), fmt_money(v), str(n), fmt_money(i))
                      for k, v, n, i in groups[:MAX_GROUP_ROWS])
        if summary is not None:  # not every GPU's: say whose
            subtitle = f"of the {len(gpus)} GPUs read (of {summary.gpus})"
        elif len(groups) > MAX_GROUP_ROWS:
            subtitle = f"the {MAX_GROUP_ROWS} costliest of {len(groups)}"
        else:
            subtitle = f"{len(shown)} rows"
        tables.append(CostTable(shown, subtitle))
    return CostRows(idle, models, tables[0], tables[1])
