"""The simulated fleet looks like a real one: diurnal traffic, drift, canary, hot GPU, cost."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.gpus import cost_shares

from backends.demo.fleet import GPU_TYPES
from backends.domain.errors import NotFoundError
from backends.domain.gpus import idle_util_of
from tests.demo.conftest import T0

DAY = datetime(2026, 11, 21, tzinfo=timezone.utc)


def test_default_fleet_shape(fleet):
    part = fleet.cluster.read()
    assert part.context == "demo" and part.namespace == "ml-serving"
    assert len(part.services) == 17
    nodes = {}
    for g in part.gpus:
        nodes.setdefault(g.node, []).append(g.model_name)
    assert {n: len(v) for n, v in nodes.items()} == {
        "gpu-h100-a": 8, "gpu-h100-b": 8, "gpu-h100-c": 8, "gpu-a100-a": 8, "gpu-l4-a": 4,
        "gpu-a100-mig": 2}
    assert set(nodes["gpu-l4-a"]) == {"NVIDIA L4"}
    kinds = {s.kind.value for s in part.services}
    assert kinds == {"Deployment", "InferenceService", "Rollout"}
    llm = next(s for s in part.services if s.name == "llm-chat")
    assert llm.runtime == "vllm" and llm.image == "registry.example.com/ml/llm-chat:v1.4.2"
    assert any(s.runtime == "triton" for s in part.services)
    for s in part.services:
        revs = part.revisions[s.key]
        assert 3 <= len(revs) <= 6
        assert [r.number for r in revs] == sorted((r.number for r in revs), reverse=True)
        assert all(r.created < T0 and r.change_cause and r.who and r.image for r in revs)
        assert sum(r.current for r in revs) == 1
        assert revs[0].current and revs[0].version == s.version


def test_traffic_is_diurnal(fleet):
    night = fleet.metrics.read((), 300, at=DAY + timedelta(hours=3))
    peak = fleet.metrics.read((), 300, at=DAY + timedelta(hours=15))
    for name in ("llm-chat", "fraud-scorer", "text-embedder"):
        assert peak.health[name].rps > 2 * night.health[name].rps
    # smooth: consecutive hours differ by well under a factor of two
    hourly = [fleet.metrics.read((), 300, at=DAY + timedelta(hours=h)).health["llm-chat"].rps
              for h in range(24)]
    assert max(hourly) == max(hourly[12:19])
    assert all(0.6 < b / a < 1.6 for a, b in zip(hourly, hourly[1:]))


def test_drift_crosses_threshold_during_the_day(fleet):
    def climbing(at):
        part = fleet.metrics.read((), 300, at=at)
        return next(d for d in part.drift if d.model == "fraud-scorer"
                    and d.feature == "merchant_category")

    morning, evening = climbing(DAY + timedelta(hours=4)), climbing(DAY + timedelta(hours=20))
    assert morning.method == "psi" and morning.threshold == 0.2
    assert not morning.breached and evening.breached
    values = [p.value for p in evening.points]
    assert values[0] < 0.2 < values[-1]
    assert evening.points[0].at == DAY
    # the other features stay quiet
    part = fleet.metrics.read((), 300, at=DAY + timedelta(hours=20))
    assert [f"{d.model}/{d.feature}" for d in part.drift if d.breached] == [
        "fraud-scorer/merchant_category"]
    assert part.drift  # several monitored features


def test_canary_is_worse_than_stable(fleet):
    svc = next(s for s in fleet.cluster.read().services if s.name == "recommender")
    assert svc.kind.value == "InferenceService"
    assert svc.canary is not None and svc.canary.percent == 10
    for hour in (3, 9, 14, 20):
        legs = fleet.metrics.read((), 300, at=DAY + timedelta(hours=hour)
                                  ).revision_health["recommender"]
        stable, canary = legs
        assert (stable.revision, canary.revision) == (svc.traffic[0].revision,
                                                      svc.canary.revision)
        assert canary.error_ratio > 3 * stable.error_ratio
        assert canary.p95_ms > stable.p95_ms
        assert canary.rps == pytest.approx(stable.rps / 9)


def test_whole_model_health_combines_legs(fleet):
    part = fleet.metrics.read((), 300)
    whole, legs = part.health["recommender"], part.revision_health["recommender"]
    assert whole.rps == pytest.approx(sum(h.rps for h in legs))
    assert whole.error_ratio == pytest.approx(
        sum(h.rps * h.error_ratio for h in legs) / whole.rps)
    single = part.revision_health["llm-chat"]
    assert len(single) == 1 and single[0].rps == part.health["llm-chat"].rps


def test_hot_gpu_with_xid_and_alert(fleet):
    gpus = fleet.metrics.read((), 300).gpus
    hot = [g for g in gpus if g.temperature_c >= 85]
    assert len(hot) == 1
    assert hot[0].last_xid == 79 and 86 <= hot[0].temperature_c <= 90
    # besides it, one GPU whose XID 48 cleared hours ago: its code and when, not red
    old = [g for g in gpus if g.last_xid is not None and g is not hot[0]]
    assert [(g.node, g.index, g.last_xid, g.xid_current) for g in old] == [
        ("gpu-a100-mig", 1, 48, False)]
    assert (T0 - old[0].xid_at).total_seconds() == 3 * 3600 + 420
    # new within any window of 4 minutes or more: red now, and when it appeared
    assert [g.uuid for g in gpus if g.xid_current] == [hot[0].uuid]
    assert 0 <= (T0 - hot[0].xid_at).total_seconds() < 240
    alerts = fleet.alerts.alerts()
    xid = [a for a in alerts if a.gpu_uuid == hot[0].uuid]
    assert {a.name for a in xid} == {"GpuXidError", "GpuTemperatureHigh"}
    for a in alerts:
        assert a.summary and a.runbook_url.startswith("https://") and a.severity
        assert a.starts_at is not None and a.starts_at <= T0
        assert a.model is not None or a.gpu_uuid is not None
    names = {a.name for a in alerts}
    assert {"CanaryErrorRateHigh", "FeatureDriftHigh", "GpuAllocatedIdle"} <= names


def test_idle_and_free_gpus(fleet):
    gpus = fleet.metrics.read((), 300).gpus
    idle = [g for g in gpus if g.allocated and idle_util_of(g) < 10]
    free = [g for g in gpus if not g.allocated]
    assert idle and all(g.model == "legacy-sentiment" for g in idle)
    assert free and all(g.util_percent == 0 and g.model is None for g in free)
    cost = fleet.metrics.read((), 300).cost
    assert cost.idle_hourly == pytest.approx(sum(g.hourly_cost for g in idle))
    assert cost.idle_hourly > 0
    # even at the traffic trough, busy models keep their GPUs above the idle line
    for hour in (3, 4, 5):
        night = fleet.metrics.read((), 300, at=DAY + timedelta(hours=hour)).gpus
        assert {g.model for g in night if g.allocated and idle_util_of(g) < 10} == {
            "legacy-sentiment"}


def test_cost_arithmetic(fleet, clock):
    part = fleet.metrics.read((), 300)
    cost, gpus = part.cost, part.gpus
    prices = {t.model_name: t.price_per_hour for t in GPU_TYPES.values()}
    assert all(g.hourly_cost == prices[g.model_name] for g in gpus)
    # hourly = every GPU on the nodes = allocated (by model) + unallocated, where a MIG
    # instance pays for its compute slices and the slices nobody holds are unallocated
    free = sum(g.hourly_cost * part for g in gpus for m, part in cost_shares(g) if m is None)
    assert cost.hourly == pytest.approx(sum(cost.by_model.values()) + free)
    mig = next(g for g in gpus if g.slices)
    assert cost.by_model["tiny-llm"] == pytest.approx(mig.hourly_cost * 3 / 7, abs=1e-4)  # 3g.40gb
    assert cost.by_model["embed-mini"] == pytest.approx(mig.hourly_cost * 3 / 7, abs=1e-4)  # 2g + 1g
    assert cost.hourly == pytest.approx(24 * 4.10 + 10 * 2.90 + 4 * 0.80)
    assert cost.by_model["llm-chat"] == pytest.approx(8 * 4.10)
    assert "doc-ocr" not in cost.by_model  # CPU only: no GPU cost known, not a fake 0
    assert cost.today == pytest.approx(cost.hourly * 14, abs=0.01)  # since UTC midnight
    assert cost.month_to_date > 20 * 24 * cost.hourly * 0.9 + cost.today
    remaining_h = (datetime(2026, 12, 1, tzinfo=timezone.utc) - T0).total_seconds() / 3600
    assert cost.month_projection == pytest.approx(
        cost.month_to_date + remaining_h * cost.hourly, abs=0.02)
    assert cost.monthly_budget and cost.over_budget is not None
    clock.advance(3600)
    later = fleet.metrics.read((), 300).cost
    assert later.today == pytest.approx(cost.today + cost.hourly, abs=0.01)
    assert later.month_to_date == pytest.approx(cost.month_to_date + cost.hourly, abs=0.01)


def test_missing_figures_are_none_not_zero(fleet):
    part = fleet.metrics.read((), 300)
    for name in ("fraud-scorer", "text-embedder", "recommender", "doc-ocr"):
        h = part.health[name]
        assert h.ttft_p95_ms is None and h.tokens_per_s is None and h.kv_cache_percent is None
    llm = part.health["llm-chat"]
    assert llm.ttft_p95_ms > 0 and llm.tokens_per_s > 0 and 0 < llm.kv_cache_percent <= 100
    assert part.health["text-embedder"].queue_depth is None  # plain HTTP server: no queue
    assert part.health["fraud-scorer"].queue_depth is not None  # Triton reports one
    for h in part.health.values():
        assert 0 <= h.error_ratio <= 1 and h.p50_ms < h.p95_ms < h.p99_ms
    cluster_gpu = fleet.cluster.read().gpus[0]
    assert cluster_gpu.util_percent is None and cluster_gpu.temperature_c is None


def test_chart_matches_read(fleet):
    series = fleet.metrics.chart("recommender", 3600)
    assert [s.name for s in series] == ["rps", "error %", "p50 ms", "p95 ms", "p99 ms"]
    assert all(60 <= len(s.points) <= 120 for s in series)
    rps, err = series[0], series[1]
    assert rps.points[-1].at == T0
    assert rps.points[0].at == T0 - timedelta(hours=1)
    h = fleet.metrics.read((), 300).health["recommender"]
    assert rps.points[-1].value == pytest.approx(h.rps)
    assert err.points[-1].value == pytest.approx(100 * h.error_ratio)
    assert series[3].points[-1].value == pytest.approx(h.p95_ms)
    assert fleet.metrics.chart("llm-chat", 86400)[0].points[0].at == T0 - timedelta(days=1)


def test_chart_unknown_model_raises(fleet):
    with pytest.raises(NotFoundError):
        fleet.metrics.chart("no-such-model", 300)


def test_read_filters_health_by_services(fleet):
    services = [s for s in fleet.cluster.read().services if s.name == "llm-chat"]
    part = fleet.metrics.read(services, 300)
    assert set(part.health) == {"llm-chat"} and set(part.revision_health) == {"llm-chat"}
    assert len(part.gpus) == 38  # GPUs and cost cover the whole fleet


def test_a_feature_is_past_its_threshold_at_any_hour(fleet):
    """Opened at any hour, the demo shows a drifting model (two ramps, shifted 11.5 h)."""
    for quarter in range(0, 24 * 4):
        at = DAY + timedelta(minutes=15 * quarter)
        part = fleet.metrics.read((), 300, at=at)
        breached = {d.feature for d in part.drift if d.model == "fraud-scorer" and d.breached}
        assert breached, f"no feature past its threshold at {at:%H:%M}"
