"""The demo's SLO error ratios (1h/6h): hand-computed from its samples, equal to what the
model detail computes from its 6h chart, and believable against the default objective."""

from __future__ import annotations

import pytest

from backends.domain.actions import ActionKind, ActionRequest
from backends.demo.metrics import model_values
from backends.demo.slo import GRID_S
from backends.domain.slo import burn_rate, evaluate, fleet_burn, level_of
from backends.domain.slo_config import SloConfig
from tests.demo.conftest import T0, key_of

STANDARD = ("llm-chat", "code-assist", "text-embedder", "fraud-scorer", "recommender",
            "reranker", "vision-detector", "speech-asr", "legacy-sentiment", "doc-ocr")


def by_hand(fleet, name: str, ts: float, window: int) -> float:
    """sum(rps * err) / sum(rps) over the 4-minute grid points in (ts - window, ts]."""
    st = fleet.state.get(name)
    num = den = 0.0
    t = ts - ts % GRID_S
    while t > ts - window:
        whole = model_values(st, t)[0]
        if whole[1] is not None and whole[0] > 0:
            num += whole[0] * whole[1]
            den += whole[0]
        t -= GRID_S
    return num / den


@pytest.mark.parametrize("offset", [0, 100, 3 * 3600 + 7])
def test_ratios_equal_hand_computed(fleet, clock, offset):
    clock.advance(offset)
    ts = clock().timestamp()
    health = fleet.metrics.read((), 300).health
    for name in STANDARD:
        h = health[name]
        assert h.error_ratio_1h == pytest.approx(by_hand(fleet, name, ts, 3600), rel=1e-12)
        assert h.error_ratio_6h == pytest.approx(by_hand(fleet, name, ts, 21600), rel=1e-12)


def test_equal_to_the_model_detail_figures(fleet):
    """At an instant on the grid (14:00), the table's figures are exactly those the model
    detail computes from the 6h chart (backends.domain.slo.evaluate)."""
    assert T0.timestamp() % GRID_S == 0
    cfg = SloConfig()
    health = fleet.metrics.read((), 300).health
    for name in ("llm-chat", "recommender", "fraud-scorer"):
        status = evaluate(name, cfg, T0, fleet.metrics.chart(name, 21600, T0))
        assert health[name].error_ratio_1h == pytest.approx(status.error_ratio_1h, rel=1e-12)
        assert health[name].error_ratio_6h == pytest.approx(status.error_ratio_6h, rel=1e-12)
        burn, level = fleet_burn(cfg)(name, health[name])
        assert burn == pytest.approx(status.burn_1h, rel=1e-12)
        assert level == level_of(status.burn_1h, status.burn_6h, None, cfg.fast_burn,
                                 cfg.slow_burn)


def test_believable_against_the_default_objective(fleet):
    """99.9 %: healthy models burn well under 1x and keep most of their 28-day budget;
    the recommender (bad canary) burns fast enough to warn."""
    cfg = SloConfig()
    assert cfg.default.availability == 0.999
    part = fleet.metrics.read((), 300)
    rule = fleet_burn(cfg)
    for name in STANDARD:
        h = part.health[name]
        burn, level = rule(name, h)
        if name == "recommender":
            assert burn > 6 and level in ("warn", "bad")
            legs = part.revision_health[name]
            assert legs[1].error_ratio > 5 * legs[0].error_ratio > 0  # canary clearly bad
            assert legs[1].error_ratio - legs[0].error_ratio > 0.01   # fails the gate
        else:
            assert 0.0002 <= h.error_ratio_1h <= 0.0009, name  # 0.02-0.09 %
            assert burn < 1 and level == "ok", name
    left = {}
    for name in ("llm-chat", "fraud-scorer", "recommender"):
        period = fleet.metrics.chart(name, cfg.period_days * 86400, T0)
        left[name] = evaluate(name, cfg, T0, fleet.metrics.chart(name, 21600, T0),
                              period).budget_left
    assert left["llm-chat"] > 0.2 and left["fraud-scorer"] > 0.5
    assert left["recommender"] < 0  # the burning model has spent its budget


def test_rollback_stops_the_burn(fleet, clock):
    """Cached samples follow the release state: after the recommender's rollback, the next
    hour's ratio is the stable revision's only."""
    before = fleet.metrics.read((), 300).health["recommender"]
    fleet.cluster.execute(ActionRequest(kind=ActionKind.ROLLBACK, actor="t", reason="t",
                                        service_key=key_of(fleet, "recommender")))
    clock.advance(3600 + GRID_S)
    ts = clock().timestamp()
    after = fleet.metrics.read((), 300).health["recommender"]
    assert after.error_ratio_1h == pytest.approx(by_hand(fleet, "recommender", ts, 3600),
                                                 rel=1e-12)
    assert after.error_ratio_1h < before.error_ratio_1h / 1.5
    assert burn_rate(after.error_ratio_1h, 0.999) < 6


def test_missing_health_is_unknown_not_zero():
    rule = fleet_burn(SloConfig())
    assert rule("x", None) == (None, "unknown")
