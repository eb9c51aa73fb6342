"""The embedded simulated fleet behind the real backend contracts (``pitboard --demo``).

Usage::

    from backends.demo.fleet import FrozenClock, make_demo
    clock = FrozenClock(datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc))
    fleet = make_demo(seed=7, clock=clock)
    fleet.cluster.read()                      # ClusterPart: services, histories, GPUs
    fleet.metrics.read(services, 300)         # MetricsPart: GPUs, health, drift, cost
    fleet.metrics.chart("llm-chat", 3600)     # rps, error %, p50/p95/p99 series
    fleet.alerts.alerts()                     # firing alerts

Deterministic for ``(seed, clock time)``: values derive from a seeded hash of entity and
15 s time bucket, never from global random state or call order. Rollback and promote change
the simulated state the way Kubernetes, Argo Rollouts and KServe would (see
``backends.demo.state``). Modules: ``demo_sim`` (clock, noise), ``demo_catalog`` (static
fleet), ``demo_state`` (release state), ``demo_cluster``, ``demo_metrics``, ``demo_alerts``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from backends.demo.alerts import DemoAlerts
from backends.demo.catalog import CONTEXT, NAMESPACE, Catalog, build_catalog
from backends.demo.cluster import DemoCluster
from backends.demo.metrics import DemoMetrics
from backends.demo.sim import GPU_TYPES, FrozenClock, real_clock
from backends.demo.state import ROLLOUT_S, DemoState

__all__ = [
    "CONTEXT", "GPU_TYPES", "NAMESPACE", "ROLLOUT_S", "DemoAlerts", "DemoCluster",
    "DemoFleet", "DemoMetrics", "FrozenClock", "make_demo",
]


@dataclass(frozen=True)
class DemoFleet:
    """One simulated fleet: three backends sharing one state and one clock."""

    cluster: DemoCluster
    metrics: DemoMetrics
    alerts: DemoAlerts
    clock: Callable[[], datetime]
    state: DemoState
    seed: int

    @property
    def catalog(self) -> Catalog:
        return self.state.catalog


def make_demo(seed: int = 7, clock: Callable[[], datetime] | None = None,
              n_gpus: int | None = None, n_models: int | None = None,
              hostile: bool = False, read_only: bool = False) -> DemoFleet:
    """Build a demo fleet.

    ``clock`` returns a timezone-aware UTC datetime (default: real now; tests pass a
    :class:`FrozenClock`). ``n_gpus`` None = the standard nodes (H100 x8 three times,
    A100 x8, L4 x4, and an A100 x2 node whose GPU 0 is split into MIG instances and whose
    GPU 1 had an XID hours ago); otherwise nodes of 8 GPUs. ``n_models`` None = the 17
    standard services (one per serving engine among them); more adds synthetic ones. ``hostile`` adds models whose names are Rich markup,
    an ANSI escape, 300 characters and emoji. ``read_only`` makes execute() refuse.
    Raises ValueError for a negative size.
    """
    clk = clock or real_clock
    catalog = build_catalog(seed, clk().timestamp(), n_gpus=n_gpus, n_models=n_models,
                            hostile=hostile)
    state = DemoState(catalog)
    metrics = DemoMetrics(state, clk)
    return DemoFleet(cluster=DemoCluster(state, clk, read_only=read_only), metrics=metrics,
                     alerts=DemoAlerts(state, metrics, clk), clock=clk, state=state, seed=seed)
