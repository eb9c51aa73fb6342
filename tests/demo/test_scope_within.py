"""The demo's metrics answer a read within one context (``GpuScope.cluster``) as a
store with a cluster label does: the page and the summary of that context's GPUs only.
Its GPUs carry no cluster (one context), so it says it cannot (``reads_by_cluster``)
and the console never asks it."""

from __future__ import annotations

from backends.demo.fleet import FrozenClock, make_demo
from backends.domain.gpus import summarize
from backends.domain.models import GpuScope
from tests.demo.conftest import T0


def test_a_read_within_a_context_counts_only_its_gpus():
    fleet = make_demo(seed=7, clock=FrozenClock(T0), n_gpus=64, n_models=8)
    assert fleet.metrics.reads_by_cluster is False
    services = fleet.cluster.read().services
    every = fleet.metrics.read(services, 300)
    assert every.gpus and {g.cluster for g in every.gpus} == {None}
    page = fleet.metrics.read(services, 300, gpu_scope=GpuScope(limit=10))
    assert page.gpu_summary.gpus == len(every.gpus) and len(page.gpus) == 10
    within = fleet.metrics.read(services, 300, gpu_scope=GpuScope(limit=10, cluster="other"))
    assert within.gpus == () and within.gpu_summary == summarize((), 10.0)
