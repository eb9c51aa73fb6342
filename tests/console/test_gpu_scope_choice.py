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


def test_the_subtitle_of_a_page_tells_the_fleets_figures():
    from backends.domain.models import GpuScope
    from widgets.gpu_plan import fleet_subtitle, plan_gpus

    fleet = GpuSummary(gpus=20000, nodes=10000, util_avg_percent=47.6, hot=12, xid_current=3)
    assert fleet_subtitle(100, fleet, FLEET_SCOPE) == (
        "busiest 100 of 20,000 · avg util 48% · 12 hot · 3 XID · 10,000 nodes")
    assert fleet_subtitle(40, GpuSummary(gpus=900), GpuScope(sort="idle", limit=40)) == (
        "40 of 900 · util n/a")
    gpus = demo_backends(n_gpus=16, n_models=4).cluster.read().gpus
    assert plan_gpus(gpus).subtitle.startswith(f"{len(gpus)} GPUs · ")  # every GPU: its own


async def test_the_fleet_screens_gpu_panel_past_gpu_rows_max_says_page_of_fleet(settings):
    from console.app import make_app
    from tests.console.conftest import wait_for, wait_loaded
    from widgets.gpu_grid import GpuGrid

    backends = demo_backends(n_gpus=GPU_ROWS_MAX + 400, n_models=60)
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        grid = app.fleet_screen.query_one(GpuGrid)
        await wait_for(pilot, lambda: app.state.metrics is not None
                       and app.state.metrics.gpu_scope is not None)
        summary = app.state.metrics.gpu_summary
        await wait_for(pilot, lambda: str(grid.border_subtitle).startswith("busiest"))
        assert str(grid.border_subtitle).startswith(
            f"busiest {len(app.state.metrics.gpus)} of {GPU_ROWS_MAX + 400:,} · "
            f"avg util {summary.util_avg_percent:.0f}%")
        assert str(grid.border_subtitle).endswith(f" · {summary.nodes:,} nodes")


def test_only_the_live_unnarrowed_gpus_are_told_as_a_page_of_the_fleet():
    from datetime import datetime, timezone

    from backends.domain.sources import MetricsPart
    from console.controllers.state import FleetState

    at = datetime(2026, 12, 7, tzinfo=timezone.utc)
    gpus = demo_backends(n_gpus=16, n_models=4).cluster.read().gpus
    state = FleetState()
    part = MetricsPart(gpus=gpus, gpu_summary=GpuSummary(gpus=20000), gpu_scope=FLEET_SCOPE)
    state.succeeded("cluster", ClusterPart(context="c"), at)
    state.succeeded("metrics", part, at)
    shown = state.snapshot(at).gpus
    assert state.live_gpus(shown)  # the snapshot of now: the page of the fleet
    assert not state.live_gpus(shown[:3])  # narrowed by :ctx: not the fleet's page
    assert not state.live_gpus(tuple(list(shown)))  # another tuple: a replayed instant
