"""Service level math (pure): error budget left over the SLO period, multi-window burn rates.

Definitions (Google SRE workbook, "Alerting on SLOs"):

- error ratio over a window = failed / all requests, i.e. the request-weighted mean of the
  error ratio samples (``sum(rps_i * err_i) / sum(rps_i)``);
- burn rate = error ratio / (1 - availability objective): 1.0 spends the budget exactly over
  the period, 14.4 over 1h spends 2 % of a 30-day budget;
- budget left = 1 - error ratio over the period / (1 - objective) (negative = overspent);
- latency: the fraction of samples whose quantile (p95 by default) met ``latency_ms``;
  its budget is ``1 - latency_target``.

Inputs are chart series as returned by ``MetricsBackend.chart``: ``rps``, ``error %``,
``p50 ms``, ``p95 ms``, ``p99 ms``. Missing data gives ``None``, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from backends.domain.models import Frozen, HealthSample, Series
from backends.domain.slo_config import Objective, SloConfig

BURN_WINDOWS_S = (3600, 6 * 3600)
"""The two burn-rate windows: 1h (fast) and 6h (slow)."""


def _series(series: Sequence[Series], name: str) -> Series | None:
    return next((s for s in series if s.name == name), None)


def _in_window(series: Series | None, start: datetime | None, end: datetime | None):
    if series is None:
        return {}
    return {p.at: p.value for p in series.points
            if p.value is not None and math.isfinite(p.value)
            and (start is None or p.at > start) and (end is None or p.at <= end)}


def weighted_error_ratio(series: Sequence[Series], start: datetime | None = None,
                         end: datetime | None = None) -> float | None:
    """Request-weighted error ratio (0..1) over ``(start, end]`` from ``rps`` and
    ``error %`` series; None when there is no sample with both figures and traffic."""
    rps = _in_window(_series(series, "rps"), start, end)
    err = _in_window(_series(series, "error %"), start, end)
    num = den = 0.0
    for at, r in rps.items():
        e = err.get(at)
        if e is None or r <= 0:
            continue
        num += r * e / 100.0
        den += r
    return num / den if den > 0 else None


def burn_rate(error_ratio: float | None, availability: float | None) -> float | None:
    """Error ratio / error budget ratio; None when either is unknown."""
    if error_ratio is None or availability is None or availability >= 1:
        return None
    return error_ratio / (1.0 - availability)


def budget_left(error_ratio: float | None, availability: float | None) -> float | None:
    """Fraction of the error budget left (1 = untouched, 0 = spent, < 0 = overspent)."""
    burn = burn_rate(error_ratio, availability)
    return None if burn is None else 1.0 - burn


def latency_good_fraction(series: Sequence[Series], quantile: str, threshold_ms: float | None,
                          start: datetime | None = None, end: datetime | None = None
                          ) -> float | None:
    """Fraction of samples in ``(start, end]`` whose ``quantile`` met ``threshold_ms``."""
    if threshold_ms is None:
        return None
    values = list(_in_window(_series(series, f"{quantile} ms"), start, end).values())
    if not values:
        return None
    return sum(v <= threshold_ms for v in values) / len(values)


def latency_budget_left(good: float | None, target: float) -> float | None:
    """Latency budget left: 1 - bad fraction / (1 - target)."""
    if good is None:
        return None
    return 1.0 - (1.0 - good) / (1.0 - target)


def budget_minutes(availability: float | None, period_days: int) -> float | None:
    """The whole error budget as minutes of full outage over the period."""
    if availability is None:
        return None
    return (1.0 - availability) * period_days * 1440.0


class SloStatus(Frozen):
    """One model's SLO figures at one instant (None = not enough data)."""

    model: str
    objective: Objective
    period_days: int
    error_ratio_1h: float | None = None
    error_ratio_6h: float | None = None
    burn_1h: float | None = None
    burn_6h: float | None = None
    budget_left: float | None = None
    latency_good: float | None = None
    latency_budget_left: float | None = None
    level: str = "unknown"


def level_of(burn_1h: float | None, burn_6h: float | None, left: float | None,
             fast: float, slow: float) -> str:
    """``bad`` when the 1h burn reaches ``fast`` (and the 6h one confirms it when known) or
    the budget is spent; ``warn`` when the 6h burn reaches ``slow``; ``ok``; or ``unknown``."""
    if burn_1h is None and burn_6h is None and left is None:
        return "unknown"
    if left is not None and left <= 0:
        return "bad"
    if burn_1h is not None and burn_1h >= fast and (burn_6h is None or burn_6h >= slow):
        return "bad"
    if (burn_6h is not None and burn_6h >= slow) or (burn_1h is not None and burn_1h >= fast):
        return "warn"
    return "ok"


def evaluate(model: str, config: SloConfig, at: datetime, recent: Sequence[Series],
             period: Sequence[Series] = ()) -> SloStatus:
    """SLO status of ``model`` at ``at`` from ``recent`` (a chart covering >= 6h) and
    ``period`` (a chart covering the SLO period; empty = budget unknown)."""
    obj = config.objective_for(model)
    e1 = weighted_error_ratio(recent, at - timedelta(seconds=BURN_WINDOWS_S[0]), at)
    e6 = weighted_error_ratio(recent, at - timedelta(seconds=BURN_WINDOWS_S[1]), at)
    b1, b6 = burn_rate(e1, obj.availability), burn_rate(e6, obj.availability)
    start = at - timedelta(days=config.period_days)
    left = budget_left(weighted_error_ratio(period, start, at), obj.availability) if period else None
    good = latency_good_fraction(period or recent, obj.latency_quantile, obj.latency_ms,
                                 start if period else None, at)
    return SloStatus(
        model=model, objective=obj, period_days=config.period_days,
        error_ratio_1h=e1, error_ratio_6h=e6, burn_1h=b1, burn_6h=b6, budget_left=left,
        latency_good=good, latency_budget_left=latency_budget_left(good, obj.latency_target),
        level=level_of(b1, b6, left, config.fast_burn, config.slow_burn),
    )


FleetBurn = Callable[[str, HealthSample | None], tuple[float | None, str]]
"""``(model name, health) -> (1h burn rate, level: ok | warn | bad | unknown)``."""


def fleet_burn(config: SloConfig) -> FleetBurn:
    """A rule for the fleet table: ``(model, health) -> (1h burn rate, level)`` from the
    health sample's ``error_ratio_1h``/``_6h`` (filled by the backends with a constant
    number of queries), the model's objective and the config's burn thresholds. The error
    budget over the period is not known here (the model detail shows it), so the level
    comes from the burn rates alone (see :func:`level_of`)."""
    objectives: dict[str, float | None] = {}

    def rule(model: str, health: HealthSample | None) -> tuple[float | None, str]:
        if health is None:
            return None, "unknown"
        if model not in objectives:
            if len(objectives) > 10_000:
                objectives.clear()
            objectives[model] = config.objective_for(model).availability
        avail = objectives[model]
        b1 = burn_rate(health.error_ratio_1h, avail)
        b6 = burn_rate(health.error_ratio_6h, avail)
        return b1, level_of(b1, b6, None, config.fast_burn, config.slow_burn)

    return rule
