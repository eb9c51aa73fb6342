"""Cost figures: OpenCost prices per node, a config price table as the fallback."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import datetime

from backends.domain.models import CostBurn, GpuDevice
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
        if model_name not in self._table:
            self._table[model_name] = table_price(model_name, self.prices, self.default)
        price = self._table[model_name]
        if price is not None:
            self.sources.add("price table")
        return price


def cost_burn(gpus: Sequence[GpuDevice], sources: set[str], *, at: datetime,
              idle_util: float, budget: float | None, today: float | None,
              month: float | None) -> CostBurn:
    """Fleet $/h (GPUs with a known price), per model, idle allocated GPUs, projection."""
    priced = [(g, g.hourly_cost) for g in gpus if g.hourly_cost is not None]
    hourly = sum(cost for _, cost in priced) if priced else None
    by_model: dict[str, float] = {}
    for g, cost in priced:
        if g.model:
            by_model[g.model] = by_model.get(g.model, 0.0) + cost
    idle = [cost for g, cost in priced
            if g.allocated and g.util_percent is not None and g.util_percent < idle_util]
    projection = None
    if month is not None and hourly is not None:
        days = calendar.monthrange(at.year, at.month)[1]
        end = at.replace(day=days, hour=23, minute=59, second=59, microsecond=999999)
        projection = month + hourly * max(0.0, (end - at).total_seconds()) / 3600.0
    return CostBurn(
        hourly=hourly, today=today, month_to_date=month, month_projection=projection,
        monthly_budget=budget, idle_hourly=sum(idle) if priced else None,
        by_model=by_model, source=" + ".join(sorted(sources)) if sources else "n/a",
    )


def seconds_since_midnight(at: datetime) -> int:
    return int((at - at.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds())


def seconds_since_month_start(at: datetime) -> int:
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int((at - start).total_seconds())
