"""Which GPUs a metrics read asks one row each for (``Poller.gpu_scope``): every GPU of a
fleet known to be small, the fleet screen's page of one known to be large -- and of one
whose size nobody knows yet (the first read of a metrics store with no GPUs from
Kubernetes), since every row of 20,000 GPUs costs that first read ~230 MB at its peak."""

from __future__ import annotations

from types import SimpleNamespace

from backends.domain.models import GpuSummary
from backends.domain.sources import ClusterPart
from console.controllers.polling import FLEET_SCOPE, GPU_ROWS_MAX, Poller
from tests.console.conftest import demo_backends


def scope_of(metrics, cluster):
    app = SimpleNamespace(state=SimpleNamespace(metrics=metrics, cluster=cluster),
                          screen=object())  # the fleet screen: no scope of its own
    return Poller(app).gpu_scope()  # type: ignore[arg-type]


def summary(gpus: int):
    return SimpleNamespace(gpu_summary=GpuSummary(gpus=gpus))


def test_the_first_read_of_a_fleet_of_unknown_size_is_scoped():
    assert scope_of(None, None) == FLEET_SCOPE  # nothing answered yet
    assert scope_of(None, ClusterPart(context="c")) == FLEET_SCOPE  # no GPUs in Kubernetes


def test_a_known_size_decides():
    assert scope_of(summary(8), None) is None
    assert scope_of(summary(0), None) is None  # a fleet with no GPUs: nothing to page
    assert scope_of(summary(GPU_ROWS_MAX), None) is None
    assert scope_of(summary(GPU_ROWS_MAX + 1), None) == FLEET_SCOPE
    # the last read's count wins over Kubernetes' allocation
    gpus = demo_backends(n_gpus=16, n_models=4).cluster.read().gpus
    assert gpus and scope_of(summary(GPU_ROWS_MAX + 1), ClusterPart(context="c", gpus=gpus)) \
        == FLEET_SCOPE
    assert scope_of(None, ClusterPart(context="c", gpus=gpus)) is None  # 16 from Kubernetes
