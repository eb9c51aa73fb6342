"""Same (seed, clock time) -> identical output; different seeds differ; no call-order effects."""

from __future__ import annotations

from datetime import timedelta

from backends.demo.fleet import FrozenClock, make_demo
from backends.domain.models import GpuDevice, HealthSample
from tests.demo.conftest import T0


def _dump(fleet, window_s: int = 300):
    cluster = fleet.cluster.read()
    metrics = fleet.metrics.read(cluster.services, window_s)
    chart = fleet.metrics.chart("llm-chat", 3600)
    return (cluster.model_dump_json(), metrics.model_dump_json(),
            [s.model_dump_json() for s in chart],
            [a.model_dump_json() for a in fleet.alerts.alerts()])


def test_same_seed_and_time_give_identical_output():
    a = make_demo(seed=7, clock=FrozenClock(T0))
    b = make_demo(seed=7, clock=FrozenClock(T0))
    assert _dump(a) == _dump(b)


def test_call_order_does_not_matter():
    a = make_demo(seed=7, clock=FrozenClock(T0))
    b = make_demo(seed=7, clock=FrozenClock(T0))
    # b is asked about other instants and models first
    b.metrics.chart("recommender", 86400)
    b.metrics.read((), 300, at=T0 - timedelta(hours=5))
    b.alerts.alerts()
    assert _dump(a) == _dump(b)


def test_different_seeds_differ():
    a = make_demo(seed=7, clock=FrozenClock(T0))
    b = make_demo(seed=8, clock=FrozenClock(T0))
    ga = [g.util_percent for g in a.metrics.read((), 300).gpus]
    gb = [g.util_percent for g in b.metrics.read((), 300).gpus]
    assert ga != gb
    assert [g.uuid for g in a.cluster.read().gpus] != [g.uuid for g in b.cluster.read().gpus]
    # ... but the fleet's shape is the same
    assert [s.name for s in a.cluster.read().services] == [
        s.name for s in b.cluster.read().services]


def test_values_change_with_time_and_are_stable_within_a_scrape_bucket(fleet, clock):
    first = fleet.metrics.read((), 300)
    clock.advance(5)  # same 15 s bucket
    assert fleet.metrics.read((), 300) == first
    clock.advance(55)
    later = fleet.metrics.read((), 300)
    assert later.health["llm-chat"].rps != first.health["llm-chat"].rps
    # instants snap to the start of their 15 s scrape bucket
    assert later.health["llm-chat"].at == first.health["llm-chat"].at + timedelta(seconds=60)


def test_fast_constructed_models_equal_validated_ones(fleet):
    part = fleet.metrics.read((), 300)
    for g in part.gpus:
        assert GpuDevice.model_validate(g.model_dump()) == g
    for h in part.health.values():
        assert HealthSample.model_validate(h.model_dump()) == h
    for g in fleet.cluster.read().gpus:
        assert GpuDevice.model_validate(g.model_dump()) == g


def test_default_clock_is_real_utc_now():
    fleet = make_demo(seed=1)
    now = fleet.clock()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert fleet.cluster.read().services


_DIGEST = """
import hashlib
from datetime import datetime, timezone
from backends.demo.fleet import FrozenClock, make_demo
f = make_demo(seed=7, clock=FrozenClock(datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)),
              hostile=True)
c = f.cluster.read()
blob = c.model_dump_json() + f.metrics.read(c.services, 300).model_dump_json()
print(hashlib.sha256(blob.encode()).hexdigest())
"""


def test_identical_across_processes_and_hash_seeds():
    import os
    import subprocess
    import sys

    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True,
                             text=True, timeout=60, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
