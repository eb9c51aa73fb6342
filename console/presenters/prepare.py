"""Display data made in the metrics poller's thread, so the UI thread only shows it.

At 2,000 GPUs / 300 models a metrics refresh needs the GPUs merged with the cluster's
allocation, 300 formatted table rows and the GPU panel's node grouping: ~10 ms of pure
Python that used to run on the event loop. The poller computes them right after its read
(:class:`FleetPrep`) and posts them with the part; the UI thread uses them only when they
were made from exactly the objects it is about to show (identity checks), and computes
them itself otherwise (another cluster part arrived meanwhile, replay, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from backends.domain.sources import ClusterPart, MetricsPart
from backends.domain.health import (Steady, assess, canary_revisions, canary_since,
                                    since_in_chart)
from backends.domain.models import (Alert, FleetSnapshot, GpuDevice, Health, ModelService,
                                    Problem, Series)
from backends.domain.slo_config import SloConfig
from backends.domain.slo import fleet_burn
from console.controllers.state import merge_gpus
from console.presenters.cost import CostRows, cost_rows, services_by_name
from console.presenters.problems import StripLine, worst_problems
from widgets.gpu_plan import GpuPlan, plan_gpus
from widgets.model_rows import ModelRow, rows_from_snapshot


NO_TIME = datetime.fromtimestamp(0, timezone.utc)
"""``taken_at`` of the snapshot the rows are made from: they read no time."""


@dataclass(frozen=True)
class Prepared:
    """What :class:`FleetPrep` made, and from which objects."""

    cluster: ClusterPart
    part: MetricsPart
    gpus: tuple[GpuDevice, ...]
    rows: list[ModelRow]
    plan: GpuPlan
    status: dict[str, Health]
    """Each service's health as shown (console.controllers.state adopts it)."""
    problems: list[StripLine] = field(default_factory=list)
    """The "what's wrong now" strip's lines, worst first, for ``status``."""
    cost: CostRows | None = None
    """The cost view's rows (console.presenters.cost), for ``cost_idle_util``."""
    cost_idle_util: float | None = None

    def problems_for(self, snapshot: FleetSnapshot) -> list[StripLine] | None:
        """The strip's lines, if ``snapshot`` shows exactly the services and statuses
        they were made of."""
        if snapshot.services is self.cluster.services and snapshot.status is self.status:
            return self.problems
        return None

    def rows_for(self, snapshot: FleetSnapshot) -> list[ModelRow] | None:
        """The rows, if ``snapshot`` shows exactly the services and figures they are of."""
        part = self.part
        if (snapshot.services is self.cluster.services and snapshot.health is part.health
                and snapshot.service_health is part.service_health
                and snapshot.drift is part.drift and snapshot.cost is part.cost
                and snapshot.status is self.status):
            return self.rows
        return None

    def cost_for(self, snapshot: FleetSnapshot, part: object, idle_util: float
                 ) -> CostRows | None:
        """The cost view's rows, if ``snapshot`` (and ``part``, the metrics part whose
        GPU summary the view reads) shows exactly what they were made of."""
        if (self.cost is not None and part is self.part and idle_util == self.cost_idle_util
                and snapshot.cost is self.part.cost and snapshot.gpus is self.gpus
                and snapshot.health is self.part.health
                and snapshot.services is self.cluster.services):
            return self.cost
        return None

    def plan_for(self, gpus: object) -> GpuPlan | None:
        """The GPU panel's plan, if ``gpus`` is the tuple it was made for."""
        return self.plan if gpus is self.gpus else None


Chart = Callable[[ModelService], Sequence[Series]]


class FleetPrep:
    """Used by one thread at a time (the metrics polls never overlap): its caches are its
    own, never shared with the UI thread's."""

    def __init__(self, slo_config: Any) -> None:
        self._slo: SloConfig = slo_config if isinstance(slo_config, SloConfig) else SloConfig()
        self._rule = fleet_burn(self._slo)
        self._row_cache: dict = {}
        self._steady = Steady()
        self._services: tuple[object, dict] = ((), {})

    def __call__(self, cluster: ClusterPart | None, part: MetricsPart,
                 alerts: tuple[Alert, ...] = (), at: datetime | None = None,
                 chart: Chart | None = None, revisions: Chart | None = None,
                 cost_idle_util: float | None = None) -> Prepared | None:
        """Rows, GPU plan and each service's health (the one health model, held steady
        across refreshes: this is the one place that advances it) for these parts.
        ``chart(service)``: the service's chart over the last hour, read once when one of
        its errors or latency problems appears, to say since when it has been there;
        ``revisions(service)``: its error % per revision over the last hour, read once when
        a canary worse than stable appears (:func:`history`); ``cost_idle_util``: the
        idle threshold the cost view's rows are made with (None: not made)."""
        if cluster is None:
            return None
        gpus = merge_gpus(cluster.gpus, part.gpus)
        snapshot = FleetSnapshot.model_construct(  # what health and the rows read
            taken_at=at or NO_TIME, context=cluster.context, services=cluster.services,
            health=part.health, service_health=part.service_health,
            revision_health=part.revision_health,
            service_revision_health=part.service_revision_health, drift=part.drift,
            cost=part.cost, gpus=gpus, alerts=alerts, status={})
        steady = self._steady
        status = {s.key: steady.update(s.key, assess(s, snapshot, self._slo), at,
                                       history(s, chart, revisions))
                  for s in cluster.services}
        steady.forget(status)
        snapshot = snapshot.model_copy(update={"status": status})
        rows = rows_from_snapshot(snapshot, self._row_cache, self._rule)
        cost = None
        if cost_idle_util is not None:
            if self._services[0] is not cluster.services:
                self._services = (cluster.services, services_by_name(cluster.services))
            cost = cost_rows(snapshot, part.page_of_fleet, cost_idle_util, self._services[1])
        return Prepared(cluster, part, gpus, rows, gpu_plan(gpus, part), status,
                        worst_problems(snapshot), cost, cost_idle_util)


def gpu_plan(gpus: Sequence[GpuDevice], part: MetricsPart) -> GpuPlan:
    """The fleet screen's GPU panel for ``gpus`` (the GPUs of ``part``, the metrics part
    they come from): past GPU_ROWS_MAX GPUs a page of the fleet, its subtitle then the
    fleet's figures from the part's GPU summary."""
    summary = part.page_of_fleet
    return plan_gpus(gpus) if summary is None else plan_gpus(gpus, summary, part.gpu_scope)


def history(service: ModelService, chart: Chart | None, revisions: Chart | None = None
            ) -> Callable[[Problem], datetime | None] | None:
    """Since when a new problem of ``service`` has been there, from history: errors and
    latency from its chart (``chart``), a canary's errors from its revisions' error %
    (``revisions``), each read at most once and only when such a problem is new (the
    caller, :class:`Steady`, asks for new problems only); a failed read: None (first
    seen now)."""
    if chart is None and revisions is None:
        return None
    read: dict[str, Sequence[Series]] = {}

    def once(name: str, source: Chart | None) -> Sequence[Series]:
        if name not in read:
            try:
                read[name] = source(service) if source is not None else ()
            except Exception:  # noqa: BLE001 - no history: first seen now
                read[name] = ()
        return read[name]

    def since(problem: Problem) -> datetime | None:
        if problem.signal in ("errors", "latency"):
            return since_in_chart(problem, once("chart", chart))
        if problem.signal == "canary" and problem.text.startswith("canary errors"):
            canary, stable = canary_revisions(service)
            return canary_since(problem, once("revisions", revisions), canary, stable)
        return None

    return since
