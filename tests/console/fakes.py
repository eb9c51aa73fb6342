"""Small in-memory backends for console tests: counting, failing on demand."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from backends.domain.sources import ClusterBackend, ClusterPart, MetricsBackend, MetricsPart
from backends.domain.errors import BackendError
from backends.domain.models import (
    CostBurn, DriftSeries, GpuDevice, HealthSample, ModelService, Point, Revision, Series,
    TrafficTarget,
)

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=timezone.utc)
HOSTILE = ("[bold red]x[/]", "evil\x1b[2Jname", "m" * 300, "🔥-llm-🚀")


def frozen_clock() -> datetime:
    return T0


def services(names=("llm-chat", "embedder", "fraud-scorer") + HOSTILE) -> tuple[ModelService, ...]:
    out = []
    for i, n in enumerate(names):
        traffic = (TrafficTarget(revision="r1", percent=90, role="stable"),
                   TrafficTarget(revision="r2", percent=10, role="canary")) if i == 1 else ()
        out.append(ModelService(name=n, namespace="ml", cluster="fake", version=f"v{i}.0",
                                replicas_desired=2, replicas_ready=2 if i != 2 else 1,
                                traffic=traffic))
    return tuple(out)


class FakeCluster(ClusterBackend):
    context = "fake-ctx"
    namespace = "ml"

    def __init__(self, names=None) -> None:
        self.svcs = services(names) if names else services()
        self.reads = 0
        self.lock = threading.Lock()

    def read(self) -> ClusterPart:
        with self.lock:
            self.reads += 1
        revs = {s.key: tuple(Revision(number=n, version=f"v{n}", created=T0 - timedelta(days=n),
                                      change_cause=f"deploy {n} [b]x[/b]", who="ci",
                                      current=n == 3) for n in (3, 2, 1)) for s in self.svcs}
        return ClusterPart(context=self.context, namespace=self.namespace, services=self.svcs,
                           revisions=revs)

    def plan(self, request):  # pragma: no cover
        raise AssertionError("the console tests never act through this fake")

    def execute(self, request):  # pragma: no cover
        raise AssertionError("the console tests never act through this fake")

    def progress(self, service_key):  # pragma: no cover
        raise AssertionError("the console tests never act through this fake")


class FakeMetrics(MetricsBackend):
    def __init__(self) -> None:
        self.reads = 0
        self.chart_calls: list[tuple[str, int, str | None]] = []  # model, window, service key
        self.fail = False
        self.rps = 100.0
        self.lock = threading.Lock()

    def read(self, services, window_s, at=None, *, gpu_scope=None) -> MetricsPart:
        """Every GPU's row whatever ``gpu_scope`` asks: a small fleet."""
        with self.lock:
            self.reads += 1
        if self.fail:
            raise BackendError("prometheus unreachable: connection refused", source="prometheus")
        health = {s.name: HealthSample(model=s.name, at=T0, rps=self.rps, error_ratio=0.002,
                                       p95_ms=120.0) for s in services}
        gpus = tuple(GpuDevice(node=f"node-{n}", index=i, model_name="NVIDIA H100",
                               util_percent=10.0 * i, memory_used_mib=1000.0 * i,
                               memory_total_mib=80000.0, temperature_c=60.0 + 5 * i,
                               power_watts=300.0, last_xid=79 if (n, i) == (0, 5) else None,
                               model=services[0].name if services else None)
                     for n in range(2) for i in range(6))
        drift = (DriftSeries(model="llm-chat", feature="prompt_len", threshold=0.2,
                             points=(Point(at=T0, value=0.35),)),)
        return MetricsPart(gpus=gpus, health=health, drift=drift,
                           cost=CostBurn(hourly=123.4, today=1500.0, month_projection=90000.0,
                                         monthly_budget=80000.0, source="fake"))

    def chart(self, model, window_s, at=None, *, service=None):
        with self.lock:
            self.chart_calls.append((model, window_s, service.key if service else None))
        pts = tuple(Point(at=T0 - timedelta(seconds=window_s * (10 - k) / 10), value=100.0 + k)
                    for k in range(11))
        return (Series(name="p95 ms", points=pts), Series(name="error %", points=pts[:3]))
