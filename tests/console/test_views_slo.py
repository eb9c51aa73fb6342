"""SLO math against hand-computed values: budget left, multi-window burn rates, levels."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.models import Point, Series
from backends.domain.slo import (
    budget_left, budget_minutes, burn_rate, evaluate, latency_good_fraction, level_of,
    weighted_error_ratio,
)
from backends.domain.slo_config import DisplayConfig, SloConfig

END = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def chart(rows, step_s=600):
    """rows: (rps, error %, p95 ms), oldest first, the last one at END."""
    n = len(rows)
    at = [END - timedelta(seconds=step_s * (n - 1 - i)) for i in range(n)]

    def s(name, i):
        return Series(name=name, points=tuple(Point(at=t, value=r[i]) for t, r in zip(at, rows)))

    return (s("rps", 0), s("error %", 1), s("p95 ms", 2))


def test_weighted_error_ratio_by_hand():
    # 100 rps at 1 % and 300 rps at 0 % -> 1 failed per 400 -> 0.25 %
    rows = [(100.0, 1.0, 10.0), (300.0, 0.0, 10.0)]
    assert weighted_error_ratio(chart(rows)) == pytest.approx(0.0025)
    # gaps and zero traffic are skipped, never counted as zeros
    rows = [(None, 5.0, 1.0), (0.0, 50.0, 1.0), (200.0, None, 1.0), (100.0, 2.0, 1.0)]
    assert weighted_error_ratio(chart(rows)) == pytest.approx(0.02)
    assert weighted_error_ratio(chart([(None, None, None)])) is None


def test_burn_rate_and_budget_by_hand():
    assert burn_rate(0.001, 0.999) == pytest.approx(1.0)
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4)
    assert budget_left(0.0005, 0.999) == pytest.approx(0.5)
    assert budget_left(0.002, 0.999) == pytest.approx(-1.0)
    assert burn_rate(None, 0.999) is None and burn_rate(0.1, None) is None
    assert budget_minutes(0.999, 30) == pytest.approx(43.2)


def test_latency_good_fraction():
    rows = [(1.0, 0.0, v) for v in (100.0, 200.0, 600.0, None)]
    assert latency_good_fraction(chart(rows), "p95", 500) == pytest.approx(2 / 3)
    assert latency_good_fraction(chart(rows), "p95", None) is None


def test_multi_window_burns_from_one_chart():
    # 36 ten-minute samples = 6h. Last hour (6 samples): 2 % errors; the 5 hours before: 0 %.
    rows = [(100.0, 0.0, 100.0)] * 30 + [(100.0, 2.0, 100.0)] * 6
    cfg = SloConfig(default={"availability": 0.999, "latency_ms": 500})
    status = evaluate("m", cfg, END, chart(rows), chart(rows))
    assert status.error_ratio_1h == pytest.approx(0.02)       # 6 samples in (END-1h, END]
    assert status.burn_1h == pytest.approx(20.0)
    assert status.error_ratio_6h == pytest.approx(0.02 * 6 / 36)  # all 36 in (END-6h, END]
    assert status.burn_6h == pytest.approx(20.0 / 6)
    assert status.level == "bad"  # the period budget is overspent too
    assert status.latency_good == pytest.approx(1.0)


def test_levels():
    assert level_of(None, None, None, 14.4, 6) == "unknown"
    assert level_of(1.0, 1.0, 0.9, 14.4, 6) == "ok"
    assert level_of(3.0, 7.0, 0.5, 14.4, 6) == "warn"
    assert level_of(15.0, 7.0, 0.5, 14.4, 6) == "bad"
    assert level_of(15.0, 2.0, 0.5, 14.4, 6) == "warn"  # a 1h spike the 6h window denies
    assert level_of(0.1, 0.1, -0.1, 14.4, 6) == "bad"


def test_config_overrides_and_accents():
    cfg = SloConfig(default={"availability": 0.99, "latency_ms": 300},
                    models={"llm": {"latency_ms": 5000}})
    assert cfg.objective_for("llm").latency_ms == 5000
    assert cfg.objective_for("llm").availability == 0.99
    assert cfg.objective_for("other").latency_ms == 300
    display = DisplayConfig(accents={"prod-eu": "#ff0000"})
    assert display.accent_for("prod-eu") == "#ff0000"
    assert display.accent_for("prod-us", protected=True) == "red"
    assert display.accent_for("dev") is None
    with pytest.raises(ValueError, match="not a colour"):
        DisplayConfig(accents={"x": "not-a-colour"})
