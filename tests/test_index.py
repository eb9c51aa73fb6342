"""backends/domain/index.py: per-refresh lookups by model name, each equal to the plain scan
it replaces, built once per row tuple and never held for more than the last two."""

from __future__ import annotations

import random

from backends.domain import index
from backends.domain.models import (Alert, DriftSeries, GpuDevice, GpuSlice, ModelService,
                                    ServiceKind)

MODELS = ["chat", "embed", "rank", "ocr"]


def fleet(seed: int):
    rnd = random.Random(seed)
    gpus = []
    for i in range(60):
        if i % 7 == 0:  # a MIG GPU shared by two models (and one share of nobody)
            slices = (GpuSlice(mig_profile="1g.10gb", instance="1", model=rnd.choice(MODELS)),
                      GpuSlice(mig_profile="1g.10gb", instance="2", model=rnd.choice(MODELS)),
                      GpuSlice(mig_profile="1g.10gb", instance="3", model=None))
            gpus.append(GpuDevice(node=f"n{i // 8}", index=i % 8, slices=slices))
        else:
            gpus.append(GpuDevice(node=f"n{i // 8}", index=i % 8,
                                  model=rnd.choice([*MODELS, None])))
    drift = tuple(DriftSeries(model=rnd.choice(MODELS), feature=f"f{i}", threshold=0.2)
                  for i in range(20))
    alerts = tuple(Alert(name=f"A{i}", model=rnd.choice([*MODELS, None])) for i in range(20))
    services = tuple(ModelService(name=name, namespace=ns, cluster=cluster,
                                  kind=ServiceKind.DEPLOYMENT)
                     for name in MODELS for ns, cluster in (("a", "prod-1"), ("b", "prod-2"))
                     if not (name == "ocr" and ns == "b"))
    return tuple(gpus), drift, alerts, services


def test_each_lookup_is_the_scan_it_replaces():
    gpus, drift, alerts, services = fleet(7)
    by_gpu = index.gpus_by_model(gpus)
    for name in [*MODELS, "nobody"]:
        scan = [g for g in gpus if name in ({x.model for x in g.slices} if g.slices
                                            else {g.model})]
        assert by_gpu.get(name, []) == scan, name
        assert index.drift_by_model(drift).get(name, []) == [d for d in drift if d.model == name]
        assert index.alerts_by_model(alerts).get(name, []) == [a for a in alerts
                                                                if a.model == name]
    assert index.alerts_by_model(alerts).get(None, []) == [a for a in alerts if a.model is None]
    for s in services:
        assert index.name_shared(s, services) == any(
            o.name == s.name and o.key != s.key for o in services), s.key
    assert index.clusters_of(services) == {"prod-1", "prod-2"}
    assert index.clusters_of(services[:1]) == {"prod-1"}


def test_built_once_per_tuple_and_only_the_last_two_held():
    first, second, third = (fleet(seed)[0] for seed in (1, 2, 3))
    a = index.gpus_by_model(first)
    assert index.gpus_by_model(first) is a  # the same tuple: the same index
    assert index.gpus_by_model(list(first)) is not index.gpus_by_model(list(first))  # a list
    # may change between calls: never cached
    b = index.gpus_by_model(second)
    assert index.gpus_by_model(first) is a and index.gpus_by_model(second) is b
    index.gpus_by_model(third)  # a third tuple: the first is let go
    assert index.gpus_by_model(second) is b
    again = index.gpus_by_model(first)
    assert again is not a and again == a
