"""The demo makes its parts with trusted constructors (no validation, no pydantic schema
built: ``backends.domain.models.fast_constructor``): each part equals, field by field and
type by type, what pydantic validates from the same values, and reading the demo builds
no schema of its own models (the first frame of ``pitboard --demo`` does not wait for it).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from backends.demo.fleet import ROLLOUT_S, FrozenClock, make_demo
from backends.domain.actions import ActionKind, ActionRequest
from tests.demo.conftest import T0, key_of


def revalidated(value):
    """``value`` rebuilt through pydantic's validation, every nested model too, with the
    same fields set."""
    if isinstance(value, BaseModel):
        return type(value)(**{n: revalidated(getattr(value, n)) for n in value.model_fields_set})
    if isinstance(value, dict):
        return {k: revalidated(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(revalidated(v) for v in value)
    return value


def strict(value):
    """A comparable form of ``value`` that tells 90 from 90.0 and a model's fields set."""
    if isinstance(value, BaseModel):
        return (type(value), tuple(sorted(value.model_fields_set)),
                tuple((n, strict(getattr(value, n))) for n in type(value).model_fields))
    if isinstance(value, dict):
        return (dict, tuple((strict(k), strict(v)) for k, v in value.items()))
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(strict(v) for v in value))
    return (type(value), value)


def assert_valid(value) -> None:
    again = revalidated(value)
    assert again == value
    assert strict(again) == strict(value)


def parts(fleet):
    cluster = fleet.cluster.read()
    metrics = fleet.metrics.read(cluster.services, 300)
    return cluster, metrics, fleet.metrics.read((), 300), fleet.alerts.alerts()


@pytest.mark.parametrize("kwargs", [
    {"seed": 7}, {"seed": 3, "hostile": True}, {"seed": 11, "n_gpus": 96, "n_models": 30}])
def test_demo_parts_equal_the_validated_models(kwargs):
    clock = FrozenClock(T0)
    fleet = make_demo(clock=clock, **kwargs)
    for step in range(3):
        cluster, metrics, every, alerts = parts(fleet)
        for part in (cluster, metrics, every, *alerts):
            assert_valid(part)
        assert cluster.services and metrics.health and metrics.drift and cluster.revisions
        assert any(s.traffic for s in cluster.services)
        assert metrics.gpu_summary is not None and metrics.cost.by_model
        if step == 0:  # a rollout in flight (ready < desired), then a new revision
            fleet.cluster.execute(ActionRequest(
                kind=ActionKind.ROLLBACK, service_key=key_of(fleet, "llm-chat"),
                actor="tester", reason="test"))
            clock.advance(ROLLOUT_S / 3)
        else:
            clock.advance(timedelta(hours=7, minutes=3).total_seconds())


def test_the_standard_fleet_has_mig_slices_and_alerts():
    """What the test above covers: MIG shares and alerts are in the standard fleet."""
    fleet = make_demo(seed=7, clock=FrozenClock(T0))
    _cluster, _metrics, every, alerts = parts(fleet)
    assert any(g.slices for g in every.gpus)
    assert alerts


def test_reading_the_demo_builds_no_pydantic_schema():
    """Cluster, metrics and alerts read as the console's first poll reads them: no domain
    model they hold has built its pydantic schema (defer_build, trusted constructors)."""
    code = (
        "from datetime import datetime, timezone\n"
        "from backends.demo.fleet import FrozenClock, make_demo\n"
        "from backends.domain import models, sources\n"
        "fleet = make_demo(clock=FrozenClock(datetime(2026, 11, 21, 14, tzinfo=timezone.utc)))\n"
        "c = fleet.cluster.read()\n"
        "fleet.metrics.read(c.services, 300, gpu_scope=models.GpuScope.model_construct())\n"
        "fleet.alerts.alerts()\n"
        "names = ('TrafficTarget', 'ModelService', 'Revision', 'GpuDevice', 'GpuSlice',\n"
        "         'HealthSample', 'Point', 'DriftSeries', 'CostBurn', 'GpuSummary', 'Alert')\n"
        "built = [n for n in names if getattr(models, n).__pydantic_complete__]\n"
        "built += [n for n in ('ClusterPart', 'MetricsPart')\n"
        "          if getattr(sources, n).__pydantic_complete__]\n"
        "print(' '.join(built))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(Path(__file__).parents[2]))
    assert out.stdout.strip() == ""
