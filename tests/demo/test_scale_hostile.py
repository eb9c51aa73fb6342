"""Benchmark-size fleets build and read quickly; hostile names stay literal data."""

from __future__ import annotations

import time

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus
from backends.demo.fleet import FrozenClock, make_demo
from tests.demo.conftest import T0

HOSTILE = ("[bold red]x[/]", "\x1b[2J", "\U0001f525")


@pytest.fixture(scope="module")
def big():
    return make_demo(seed=7, clock=FrozenClock(T0), n_gpus=2000, n_models=300)


def test_benchmark_size_builds_and_reads(big):
    cluster = big.cluster.read()
    metrics = big.metrics.read(cluster.services, 300)
    assert len(cluster.services) == 300 and len(metrics.health) == 300
    assert len(metrics.gpus) == 2000 and len(cluster.gpus) == 2000
    assert {len([g for g in metrics.gpus if g.node == n]) for n in {g.node for g in metrics.gpus}
            } == {8}
    assert len({s.name for s in cluster.services}) == 300
    assert len({g.uuid for g in metrics.gpus}) == 2000
    allocated = sum(1 for g in metrics.gpus if g.allocated)
    assert 0.75 * 2000 <= allocated <= 0.9 * 2000  # mostly busy, some free capacity
    assert sum(s.gpus for s in cluster.services) == allocated
    assert metrics.cost.hourly == pytest.approx(
        sum(metrics.cost.by_model.values())
        + sum(g.hourly_cost for g in metrics.gpus if not g.allocated))
    assert big.alerts.alerts()
    assert len(big.metrics.chart(cluster.services[-1].name, 3600)[0].points) == 91


def test_benchmark_size_reads_are_cached_per_tick(big):
    big.cluster.read()
    big.metrics.read((), 300)
    t = time.perf_counter()
    for _ in range(20):
        big.cluster.read()
        big.metrics.read((), 300)
    per_read = (time.perf_counter() - t) / 20
    assert per_read < 0.02  # generous for busy CI; typically well under 2 ms


def test_benchmark_size_actions_work(big):
    svc = next(s for s in big.cluster.read().services if s.canary is not None)
    res = big.cluster.execute(ActionRequest(kind=ActionKind.PROMOTE, service_key=svc.key))
    assert res.status == ActionStatus.SUCCEEDED
    assert next(s for s in big.cluster.read().services if s.key == svc.key).canary is None


def test_small_and_odd_sizes():
    tiny = make_demo(seed=3, clock=FrozenClock(T0), n_gpus=3, n_models=2)
    part = tiny.cluster.read()
    assert len(part.services) == 2 and len(part.gpus) == 3
    assert tiny.metrics.read(part.services, 300).cost.hourly > 0
    empty = make_demo(seed=3, clock=FrozenClock(T0), n_models=0)
    assert empty.cluster.read().services == ()
    assert empty.metrics.read((), 300).health == {}
    with pytest.raises(ValueError):
        make_demo(seed=3, clock=FrozenClock(T0), n_gpus=0)
    with pytest.raises(ValueError):
        make_demo(seed=3, clock=FrozenClock(T0), n_models=-1)


def test_hostile_names_present_and_unchanged():
    fleet = make_demo(seed=7, clock=FrozenClock(T0), hostile=True)
    part = fleet.cluster.read()
    names = [s.name for s in part.services]
    assert "[bold red]x[/]" in names
    assert any("\x1b[2J" in n for n in names)
    assert any(len(n) == 300 for n in names)
    assert any("\U0001f525" in n for n in names)
    metrics = fleet.metrics.read(part.services, 300)
    hostile = [n for n in names if any(h in n for h in HOSTILE) or len(n) == 300]
    assert len(hostile) == 4
    for s in part.services:
        if s.name not in hostile:
            continue
        assert s.key.endswith("/" + s.name)
        revs = part.revisions[s.key]
        assert len(revs) >= 3
        assert metrics.health[s.name].model == s.name
        assert metrics.revision_health[s.name][0].model == s.name
        assert fleet.metrics.chart(s.name, 300)[0].points
        plan = fleet.cluster.plan(ActionRequest(kind=ActionKind.ROLLBACK, service_key=s.key))
        assert plan.object_ref == "deployment/" + s.name
    # hostile text also sits in histories (change causes, versions)
    causes = [r.change_cause for s in part.services for r in part.revisions[s.key]]
    assert any("[link=" in c for c in causes) and any("\x1b[2J" in c for c in causes)
    # the JSON round trip keeps them byte for byte
    again = type(part).model_validate_json(part.model_dump_json())
    assert [s.name for s in again.services] == names
    # the standard fleet is still all there
    assert {"llm-chat", "recommender"} <= set(names)
