"""Cost figures: OpenCost prices per node, a config price table as the fallback."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from backends.domain.gpus import cost_shares
from backends.domain.models import CostBurn, GpuDevice, ModelService
from backends.prometheus.client import Sample
from backends.prometheus.calc import NODE_LABELS, first_label


def table_price(model_name: str | None, prices: Mapping[str, float],
                default: float | None) -> float | None:
    """$/h for a GPU model from the config table: exact name, else the longest key contained
    in the name (case-insensitive), else ``default``."""
    if model_name:
        if model_name in prices:
            return prices[model_name]
        low = model_name.lower()
        hits = [k for k in prices if k.lower() in low]
        if hits:
            return prices[max(hits, key=len)]
    return default


def node_prices(samples: Sequence[Sample]) -> dict[str, float]:
    """OpenCost ``gpu_price`` answer -> node -> $/h per GPU."""
    out: dict[str, float] = {}
    for s in samples:
        node = s.labels.get("node") or first_label(s.labels, NODE_LABELS)
        if node and s.value is not None:
            out[node] = s.value
    return out


class Pricer:
    """$/h of one GPU: OpenCost's price for its node, else the config table; remembers
    which sources priced something (``CostBurn.source``)."""

    def __init__(self, by_node: Mapping[str, float], prices: Mapping[str, float],
                 default: float | None):
        self.by_node, self.prices, self.default = by_node, prices, default
        self.sources: set[str] = set()
        self._table: dict[str | None, float | None] = {}

    def __call__(self, node: str, model_name: str | None) -> float | None:
        price = self.by_node.get(node)
        if price is not None:
            self.sources.add("opencost")
            return price
        price = self.table(model_name)
        if price is not None:
            self.sources.add("price table")
        return price

    def table(self, model_name: str | None) -> float | None:
        """The config table's $/h for a GPU model name (no OpenCost)."""
        if model_name not in self._table:
            self._table[model_name] = table_price(model_name, self.prices, self.default)
        return self._table[model_name]


class _Sum:
    def __init__(self) -> None:
        self.hourly = 0.0
        self.count = 0

    def add(self, price: float | None, n: int = 1) -> None:
        if price is not None and n > 0:
            self.hourly += price * n
            self.count += n


ServiceOf = Callable[[str | None, str | None, str], str | None]
"""(context, namespace or None, model name) -> the ``ModelService.key`` serving it there."""


def service_resolver(services: Sequence[ModelService]) -> ServiceOf:
    """:data:`ServiceOf` for ``services``: the service of that name in that context (and
    namespace, when told); None when no context is told, or two services there could be
    the one (the same name in two namespaces, the namespace not told)."""
    exact: dict[tuple[str, str, str], str] = {}
    by_name: dict[tuple[str, str], str | None] = {}
    for svc in services:
        exact.setdefault((svc.cluster, svc.namespace, svc.name), svc.key)
        pair = (svc.cluster, svc.name)
        by_name[pair] = svc.key if pair not in by_name else None

    def resolve(context: str | None, namespace: str | None, model: str) -> str | None:
        if context is None:
            return None
        if namespace:
            key = exact.get((context, namespace, model))
            if key is not None:
                return key
        return by_name.get((context, model))
    return resolve


class Priced:
    """Sums of GPU $/h: every priced GPU, the idle and the unallocated ones, per model
    (and per service, where the GPUs tell their context)."""

    def __init__(self) -> None:
        self.count = 0
        self.hourly = 0.0
        self.by_model: dict[str, float] = {}
        self.by_service: dict[str, float] = {}
        self.idle = _Sum()
        self.free = _Sum()

    def add_model(self, model: str, value: float, service: str | None) -> None:
        self.by_model[model] = self.by_model.get(model, 0.0) + value
        if service is not None:
            self.by_service[service] = self.by_service.get(service, 0.0) + value

    def add(self, price: float | None, n: int = 1) -> None:
        if price is None or n <= 0:
            return
        self.count += n
        self.hourly += price * n



def priced_gpus(gpus: Sequence[GpuDevice], idle_util: float,
                service_of: ServiceOf | None = None) -> Priced:
    """Each GPU's own price (``GpuDevice.hourly_cost``), as read row by row;
    ``service_of``: each holder's service, by the GPU's context and pod namespace."""
    out = Priced()
    for g in gpus:
        cost = g.hourly_cost
        if cost is None:
            continue
        out.add(cost)
        for model, part in cost_shares(g):  # a MIG or time-sliced GPU: each holder its part
            if model:
                out.add_model(model, cost * part, service_of(g.cluster, g.namespace, model)
                              if service_of is not None else None)
        if g.allocated and _idle(g, idle_util):
            out.idle.add(cost)
        if not g.allocated:
            out.free.add(cost)
    return out


def priced_summary(figures, pricer: Pricer, service_of: ServiceOf | None = None) -> Priced:
    """The same sums from the server's counts (``gpu_scope.SummaryFigures``): OpenCost's
    prices summed on the server by node, the rest counted per GPU model name and priced
    from the config table here; ``service_of``: each model's service in its context."""
    out = Priced()
    for f in figures:
        oc = f.opencost
        for gtype, n in f.types.get("gpus", {}).items():
            total, count = oc.get("gpus", {}).get((gtype, None, None), (0.0, 0))
            if count:
                out.count += count
                out.hourly += total
                pricer.sources.add("opencost")
            table = pricer.table(gtype)
            if table is not None and n - count > 0:
                pricer.sources.add("price table")
            out.add(table, n - count)
        for which, acc in (("idle", out.idle), ("free", out.free)):
            for gtype, n in f.types.get(which, {}).items():
                total, count = oc.get(which, {}).get((gtype, None, None), (0.0, 0))
                acc.hourly += total
                acc.count += count
                acc.add(pricer.table(gtype), n - count)
        for (gtype, model, context), n in f.models.items():
            total, count = oc.get("model", {}).get((gtype, model, context), (0.0, 0))
            table = pricer.table(gtype)
            value = total + (table * (n - count) if table is not None else 0.0)
            if count or (table is not None and n > count):
                out.add_model(model, value, service_of(context, None, model)
                              if service_of is not None else None)
    return out


def cost_burn(gpus: Sequence[GpuDevice] | Priced, sources: set[str], *, at: datetime,
              idle_util: float, budget: float | None, today: float | None,
              month: float | None, total_hourly: float | None = None) -> CostBurn:
    """GPU $/h (GPUs with a known price), all nodes' $/h when known, per model, idle and
    unallocated GPUs, projection.

    Idle = allocated GPUs whose utilisation averaged over the window (the instant value
    where no average was read) is below ``idle_util``; unallocated GPUs are their own
    figure. ``today`` / ``month`` (month-to-date, today included) count all nodes when
    ``total_hourly`` is known, else the GPUs; the projection adds the matching $/h."""
    p = gpus if isinstance(gpus, Priced) else priced_gpus(gpus, idle_util)
    priced = p.count > 0
    hourly = p.hourly if priced else None
    basis = "all nodes" if total_hourly is not None else "GPUs"
    rate = total_hourly if total_hourly is not None else hourly
    projection = None
    if month is not None and rate is not None:
        days = calendar.monthrange(at.year, at.month)[1]
        end = at.replace(day=days, hour=23, minute=59, second=59, microsecond=999999)
        projection = month + rate * max(0.0, (end - at).total_seconds()) / 3600.0
    return CostBurn(
        hourly=hourly, total_hourly=total_hourly, today=today, month_to_date=month,
        month_projection=projection, monthly_budget=budget,
        idle_hourly=p.idle.hourly if priced else None,
        idle_gpus=p.idle.count if priced else None,
        unallocated_hourly=p.free.hourly if priced else None,
        unallocated_gpus=p.free.count if priced else None,
        spend_basis=basis if (today is not None or month is not None) else None,
        by_model=p.by_model, by_service=p.by_service,
        source=" + ".join(sorted(sources)) if sources else "n/a",
    )


def _idle(g: GpuDevice, idle_util: float) -> bool:
    util = g.util_avg_percent if g.util_avg_percent is not None else g.util_percent
    return util is not None and util < idle_util


def month_to_date(today: float | None, past_days: float | None,
                  legacy_month: float | None) -> float | None:
    """Month-to-date = the month's finished days + today (the same ``today``), so never
    below today; a user template's old ``month`` answer is taken as it is."""
    if today is not None:
        return (past_days or 0.0) + today
    if past_days is not None:
        return past_days
    return legacy_month


def seconds_since_midnight(at: datetime) -> int:
    return int((at - at.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds())


def seconds_since_month_start(at: datetime) -> int:
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int((at - start).total_seconds())
