"""Console state that is not a widget: time windows, the clock, the backends bundle and
the per-source last-good data that builds each :class:`FleetSnapshot`.

Main-thread only: workers hand over immutable parts through messages; nothing here is
shared with a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from backends.domain.errors import StaleError
from backends.domain.sources import AlertsBackend, AuditBackend, ClusterBackend, ClusterPart, MetricsBackend, MetricsPart
from backends.domain.models import Alert, FleetSnapshot, GpuDevice, Health, SourceStatus

Clock = Callable[[], datetime]
SourcePart = ClusterPart | MetricsPart | Sequence[Alert]
"""What one read of a source gives: cluster, metrics, or the alerts firing."""

WINDOWS: tuple[tuple[str, int], ...] = (
    ("15m", 15 * 60), ("1h", 3600), ("6h", 6 * 3600), ("24h", 86400), ("7d", 7 * 86400),
)
WINDOW_SECONDS = dict(WINDOWS)
RATE_WINDOW_S = 300
"""Rates in the table (rps, error %, p95) are over the last 5 minutes."""

SOURCES = ("cluster", "metrics", "alerts")


def next_window(label: str) -> str:
    """The window after ``label`` in the 15m -> 1h -> 6h -> 24h -> 7d cycle."""
    labels = [w for w, _ in WINDOWS]
    i = labels.index(label) if label in labels else 0
    return labels[(i + 1) % len(labels)]


def system_clock() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(timezone.utc)


def as_clock(obj: object | None) -> Clock:
    """Accept a callable returning a datetime, or an object with ``now()``/``__call__``."""
    if obj is None:
        return system_clock
    if hasattr(obj, "now") and callable(obj.now):
        return obj.now
    if callable(obj):
        return obj
    raise TypeError(f"not a clock: {obj!r}")


@dataclass
class Backends:
    """The sources the console reads; any but ``cluster`` may be absent."""

    cluster: ClusterBackend
    metrics: MetricsBackend | None = None
    alerts: AlertsBackend | None = None
    audit: AuditBackend | None = None
    clock: Clock = system_clock
    extra: dict = field(default_factory=dict)

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the configured read sources, in poll order."""
        return tuple(s for s in SOURCES if getattr(self, s) is not None)

    def close(self) -> None:
        """Close every backend that has a ``close`` (errors are swallowed)."""
        for backend in (self.cluster, self.metrics, self.audit):
            close = getattr(backend, "close", None)  # the AuditBackend contract has none
            try:
                if close is not None:
                    close()
            except Exception:  # noqa: BLE001 - closing must never raise on exit
                pass


def merge_gpus(cluster: tuple[GpuDevice, ...], metrics: tuple[GpuDevice, ...]) -> tuple[GpuDevice, ...]:
    """Metrics GPUs enriched with the cluster's allocation (pod/model) where they lack it."""
    if not metrics:
        return cluster
    if not cluster:
        return metrics
    alloc = {(g.node, g.index): g for g in cluster}
    out = []
    for g in metrics:
        c = alloc.get((g.node, g.index))
        if c is not None and g.pod is None and c.pod is not None:
            g = g.model_copy(update={"pod": c.pod, "namespace": c.namespace, "model": c.model})
        out.append(g)
    return tuple(out)


def answered(status: SourceStatus) -> bool:
    """The source reported at least once (data or an error)."""
    return status.last_success is not None or status.error is not None


class FleetState:
    """Last good part per source and each source's freshness."""

    def __init__(self, context: str = "", namespace: str | None = None) -> None:
        self.context = context
        self.namespace = namespace
        self.cluster: ClusterPart | None = None
        self.metrics: MetricsPart | None = None
        self.alerts: tuple[Alert, ...] | None = None
        self.status: dict[str, SourceStatus] = {}
        self.health_status: dict[str, Health] = {}
        """Each service's health as shown, from the metrics poller (presenters.prepare)."""
        self._gpus_key: tuple[int, int] | None = None
        self._gpus: tuple[GpuDevice, ...] = ()

    def expect(self, sources: tuple[str, ...]) -> None:
        """Register the sources that will report (shown as "…" until they do)."""
        for name in sources:
            self.status.setdefault(name, SourceStatus(name=name))

    def succeeded(self, source: str, part: SourcePart, at: datetime,
                  problem: str | None = None) -> None:
        """Store ``part`` as the last good data of ``source``; ``problem``: what of it
        failed while the rest answered (shown as a partial source, with the reason)."""
        if source == "cluster":
            assert isinstance(part, ClusterPart)
            self.hold_cluster(part)
        elif source == "metrics":
            assert isinstance(part, MetricsPart)  # MetricsBackend.read's contract
            self.metrics = part
        elif source == "alerts":
            assert not isinstance(part, (ClusterPart, MetricsPart))
            self.alerts = tuple(part)
        self.status[source] = SourceStatus(name=source, ok=True, last_success=at, error=problem)

    def hold_cluster(self, part: ClusterPart) -> None:
        """Hold the cluster's ``part`` (a fresh read's, or a stale one's data: see
        :meth:`succeeded` and :meth:`failed`); the status is theirs to set."""
        self.cluster = part
        self.context = part.context or self.context
        self.namespace = part.namespace if part.namespace is not None else self.namespace

    def failed(self, source: str, error: BaseException | str, at: datetime) -> None:
        """Mark ``source`` stale; its last good data is kept -- or, for a cluster that
        listed but whose watch is behind (a :class:`~backends.domain.errors.StaleError`
        carrying that data), the data as listed: never fewer models than were listed."""
        prev = self.status.get(source)
        self.status[source] = SourceStatus(
            name=source, ok=False, last_success=prev.last_success if prev else None,
            error=str(error) or type(error).__name__,
        )
        if source == "cluster" and isinstance(error, StaleError) \
                and isinstance(error.part, ClusterPart):
            self.hold_cluster(error.part)

    @property
    def has_data(self) -> bool:
        return self.cluster is not None

    def held(self) -> tuple:
        """What this state holds now (each part, the merged GPUs, each health): kept by
        the poller when an update replaces them, so they are freed in its thread."""
        return (self.cluster, self.metrics, self.alerts, self._gpus, self.health_status)

    def answered(self) -> bool:
        """Every expected source reported at least once (data or an error)."""
        return bool(self.status) and all(answered(s) for s in self.status.values())

    def adopt_gpus(self, cluster: tuple[GpuDevice, ...], metrics: tuple[GpuDevice, ...],
                   merged: tuple[GpuDevice, ...]) -> None:
        """Take ``merged`` (made off the UI thread) as the merge of these very parts' GPUs."""
        if (self.cluster is not None and self.metrics is not None
                and cluster is self.cluster.gpus and metrics is self.metrics.gpus):
            self._gpus_key, self._gpus = (id(cluster), id(metrics)), merged

    def _merged_gpus(self) -> tuple[GpuDevice, ...]:
        c = self.cluster.gpus if self.cluster else ()
        m = self.metrics.gpus if self.metrics else ()
        key = (id(c), id(m))
        if key != self._gpus_key:
            self._gpus_key, self._gpus = key, merge_gpus(c, m)
        return self._gpus

    def live_gpus(self, gpus: tuple[GpuDevice, ...]) -> bool:
        """Whether ``gpus`` are the live metrics part's GPUs as a snapshot of now shows
        them (not narrowed by ``:ctx``, not a replayed instant's): the part's summary may
        then be told as their fleet's."""
        return self.metrics is not None and gpus is self._merged_gpus()

    def snapshot(self, at: datetime) -> FleetSnapshot:
        """One immutable snapshot of everything known at ``at`` (no validation cost)."""
        c, m = self.cluster, self.metrics
        return FleetSnapshot.model_construct(
            taken_at=at,
            context=self.context,
            namespace=self.namespace,
            services=c.services if c else (),
            revisions=c.revisions if c else {},
            gpus=self._merged_gpus(),
            health=m.health if m else {},
            revision_health=m.revision_health if m else {},
            service_health=m.service_health if m else {},
            service_revision_health=m.service_revision_health if m else {},
            drift=m.drift if m else (),
            drift_reason=m.drift_reason if m else None,
            cost=m.cost if m else MetricsPart().cost,
            alerts=self.alerts or (),
            cluster_search=c.search if c else None,
            sources=dict(self.status),
            status=self.health_status,
        )
