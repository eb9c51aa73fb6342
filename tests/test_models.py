"""Domain models: frozen, explicit None for missing values, no fake zeros."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from backends.domain.models import (
    Alert,
    CostBurn,
    DriftSeries,
    FleetSnapshot,
    GpuDevice,
    HealthSample,
    ModelService,
    Point,
    ServiceKind,
    SourceStatus,
    TrafficTarget,
    fast_constructor,
    fast_wrapper,
    finite_or_none,
)

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, expected", [
    (None, None), (0, 0.0), (1.5, 1.5), ("2.5", 2.5), (float("nan"), None),
    (float("inf"), None), (float("-inf"), None), ("NaN", None), ("+Inf", None), ("abc", None),
])
def test_finite_or_none(raw, expected):
    assert finite_or_none(raw) == expected


def test_models_are_frozen_and_reject_unknown_fields():
    gpu = GpuDevice(node="n1", index=0, util_percent=50)
    with pytest.raises(ValidationError):
        gpu.util_percent = 10  # type: ignore[misc]
    with pytest.raises(ValidationError):
        GpuDevice(node="n1", index=0, utilisation=3)  # type: ignore[call-arg]


def test_prometheus_garbage_becomes_none_not_zero():
    h = HealthSample(model="m", at=T0, rps=float("nan"), error_ratio=float("inf"), p95_ms=0.0)
    assert h.rps is None and h.error_ratio is None
    assert h.p95_ms == 0.0  # a real zero stays a zero
    assert Point(at=T0, value=float("nan")).value is None


def test_gpu_memory_percent_needs_both_figures():
    assert GpuDevice(node="n", index=0, memory_used_mib=40, memory_total_mib=80).memory_percent == 50
    assert GpuDevice(node="n", index=0, memory_used_mib=40).memory_percent is None
    assert GpuDevice(node="n", index=0, memory_used_mib=40, memory_total_mib=0).memory_percent is None
    assert not GpuDevice(node="n", index=0).allocated
    assert GpuDevice(node="n", index=0, pod="p").allocated


def test_service_key_and_canary():
    svc = ModelService(name="rec/[x]", namespace="ml", cluster="prod", kind=ServiceKind.INFERENCE_SERVICE,
                       traffic=(TrafficTarget(revision="a", percent=90),
                                TrafficTarget(revision="b", percent=10, role="canary")))
    assert svc.key == "prod/ml/InferenceService/rec/[x]"
    assert svc.key.split("/", 3)[3] == "rec/[x]"
    assert svc.canary is not None and svc.canary.revision == "b"
    assert ModelService(name="m", namespace="ml", cluster="c").canary is None


def test_drift_latest_skips_gaps_and_breach_needs_data():
    pts = (Point(at=T0, value=0.1), Point(at=T0 + timedelta(minutes=1), value=0.3),
           Point(at=T0 + timedelta(minutes=2), value=None))
    d = DriftSeries(model="m", feature="f", threshold=0.2, points=pts)
    assert d.latest == 0.3 and d.breached
    empty = DriftSeries(model="m", feature="f", threshold=0.2)
    assert empty.latest is None and not empty.breached


def test_worst_drift_is_relative_to_threshold():
    snap = FleetSnapshot(taken_at=T0, context="c", drift=(
        DriftSeries(model="m", feature="a", threshold=1.0, points=(Point(at=T0, value=0.9),)),
        DriftSeries(model="m", feature="b", threshold=0.1, points=(Point(at=T0, value=0.2),)),
        DriftSeries(model="other", feature="z", threshold=0.1, points=(Point(at=T0, value=5),)),
    ))
    assert snap.worst_drift("m").feature == "b"
    assert snap.worst_drift("absent") is None


def test_cost_over_budget_is_unknown_without_figures():
    assert CostBurn().over_budget is None
    assert CostBurn(month_projection=10, monthly_budget=5).over_budget is True
    assert CostBurn(month_projection=4, monthly_budget=5).over_budget is False


def test_source_age_and_snapshot_json_round_trip():
    st = SourceStatus(name="metrics", last_success=T0)
    assert st.age(T0 + timedelta(seconds=42)) == 42
    assert SourceStatus(name="x").age(T0) is None
    snap = FleetSnapshot(taken_at=T0, context="c", sources={"metrics": st},
                         gpus=(GpuDevice(node="n", index=0, util_percent=None),))
    again = FleetSnapshot.model_validate_json(snap.model_dump_json())
    assert again == snap
    assert again.gpus[0].util_percent is None


def test_trusted_constructors_equal_the_validated_models_and_share_one_fields_set():
    new_gpu, new_sample = fast_constructor(GpuDevice), fast_constructor(HealthSample)
    a = new_gpu(node="n", index=0, util_percent=50.0, pod="p")
    b = new_gpu(node="n", index=1, util_percent=60.0, pod="q")
    assert a == GpuDevice(node="n", index=0, util_percent=50.0, pod="p")
    assert a.model_fields_set == {"node", "index", "util_percent", "pod"}
    # the names passed are one set shared by every instance made with them (memory: a
    # set of names costs more than the figures), never changed by a copy of one of them
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    c = a.model_copy(update={"util_percent": 70.0, "cluster": "x"})
    assert c.model_fields_set == {"node", "index", "util_percent", "pod", "cluster"}
    assert b.model_fields_set == {"node", "index", "util_percent", "pod"}
    with pytest.raises(ValidationError):
        b.util_percent = 1.0  # frozen: nothing can add a name to the shared set
    s = new_sample(model="m", at=T0, rps=1.0)
    assert s == HealthSample(model="m", at=T0, rps=1.0)
    wrap = fast_wrapper(GpuDevice)
    row = {**{n: None for n in GpuDevice.model_fields}, "node": "n", "index": 2,
           "xid_current": False, "slices": ()}
    d, e = wrap(dict(row)), wrap({**row, "index": 3})
    assert d == GpuDevice(node="n", index=2)
    assert d.__pydantic_fields_set__ is e.__pydantic_fields_set__
    assert d.model_fields_set == set(GpuDevice.model_fields)


def test_trusted_constructors_call_default_factories_once_per_instance():
    new_alert = fast_constructor(Alert)
    a, b = new_alert(name="X"), new_alert(name="Y", labels={"k": "v"})
    assert a == Alert(name="X") and b == Alert(name="Y", labels={"k": "v"})
    assert a.labels == {} and a.labels is not new_alert(name="X").labels  # fresh each time
    assert a.model_fields_set == {"name"}


def test_a_scale_request_asks_for_0_to_1000_replicas():
    from pydantic import ValidationError

    from backends.domain.actions import MAX_REPLICAS, ActionKind, ActionRequest, parse_replicas

    assert parse_replicas(" 3 ") == 3 and parse_replicas(str(MAX_REPLICAS)) == MAX_REPLICAS
    for bad, says in (("1001", "at most 1000 replicas"), ("-1", "not a replica count"),
                      ("1e3", "not a replica count"), ("99999999999999999999", "at most 1000")):
        with pytest.raises(ValueError, match=says):
            parse_replicas(bad)
    with pytest.raises(ValidationError, match="less than or equal to 1000"):
        ActionRequest(kind=ActionKind.SCALE, service_key="c/ns/Deployment/m", replicas=1001)
