"""SVG snapshots of the fleet screen when the cluster holds no model: the explanation of
what was looked for (kube.kinds.workload.looked_for) in the table's place, at 80x24 and
160x48. Update with ``pytest snapshots/test_snapshots_empty.py --snapshot-update`` and
read the SVGs."""

from __future__ import annotations

import pytest

from backends.demo.fleet import FrozenClock
from backends.domain.sources import ClusterPart
from backends.kube.config import KubernetesConfig
from backends.kube.kinds import KINDS
from backends.kube.kinds.workload import looked_for
from console.app import make_app
from console.config import load_settings
from console.controllers.state import Backends
from console.wiring import build_demo
from snapshots.test_snapshots_views import FROZEN, SIZES

SERVED = ("Deployment", "StatefulSet", "InferenceService")


def empty_app():
    """The demo's clock and audit, but a cluster that found nothing (as a real cluster
    serving no Argo, LWS or LLMInferenceService CRD, with ordinary unlabelled web pods)."""
    cfg = load_settings(refresh=3600, demo={"enabled": True})
    demo = build_demo(cfg, clock=FrozenClock(FROZEN))
    cluster = demo.cluster
    part = ClusterPart(context="prod-eu", namespace="ml-serving", search=looked_for(
        KubernetesConfig(), "prod-eu", ["ml-serving"], list(SERVED),
        [k for k in KINDS if k not in SERVED]))
    cluster.read = lambda: part  # type: ignore[method-assign]
    return make_app(cfg, Backends(cluster=cluster, clock=demo.clock, extra=demo.extra))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_empty_fleet_explains_what_was_looked_for(snap_compare, size):
    async def settle(pilot):
        for _ in range(100):
            await pilot.pause(0.02)
            if pilot.app.fleet_screen.snapshot is not None:
                break
        await pilot.pause()

    assert snap_compare(empty_app(), terminal_size=size, run_before=settle)
