"""Backend contracts. Small abstract classes; implementations live beside this file.

Rules shared by every implementation:
- Methods block (they run in Textual thread workers) and return frozen models.
- A failure raises ``backends.domain.errors.BackendError`` (or a subclass) with ``source`` set;
  never a bare library exception, never a fake zero.
- No Textual import anywhere in ``backends/``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from typing import TYPE_CHECKING

from pydantic import Field

from backends.domain.errors import NotSupported
from backends.domain.models import (
    Alert,
    AuditEntry,
    CostBurn,
    DriftSeries,
    Frozen,
    GpuDevice,
    GpuScope,
    GpuSummary,
    HealthSample,
    Incident,
    ModelService,
    Note,
    Revision,
    Series,
)

if TYPE_CHECKING:  # annotations only: the action models load with the first action
    from backends.domain.actions import ActionPlan, ActionRequest, ActionResult, RolloutProgress


class ClusterPart(Frozen):
    """What a cluster backend contributes to one refresh."""

    context: str
    namespace: str | None = None
    services: tuple[ModelService, ...] = ()
    revisions: dict[str, tuple[Revision, ...]] = Field(default_factory=dict)
    # GPU allocation known from the cluster (pods' nvidia.com/gpu on nodes); metrics
    # backends enrich these with utilisation. May be empty.
    gpus: tuple[GpuDevice, ...] = ()
    search: str | None = Field(
        None, description="when no model was found: what was looked for (kinds, labels, GPU "
                          "requests, namespaces) and how to change it; None otherwise")


class MetricsPart(Frozen):
    """What a metrics backend contributes to one refresh."""

    gpus: tuple[GpuDevice, ...] = ()
    health: dict[str, HealthSample] = Field(default_factory=dict)
    revision_health: dict[str, tuple[HealthSample, ...]] = Field(default_factory=dict)
    service_health: dict[str, HealthSample] = Field(
        default_factory=dict, description="see FleetSnapshot.service_health")
    service_revision_health: dict[str, tuple[HealthSample, ...]] = Field(
        default_factory=dict, description="see FleetSnapshot.service_revision_health")
    drift: tuple[DriftSeries, ...] = ()
    drift_reason: str | None = Field(
        None, description="why there is no drift (no series matched: the names looked for "
                          "and the config key that sets one); None when drift was read")
    cost: CostBurn = CostBurn.model_construct()  # the defaults; no schema build at import
    gpu_summary: GpuSummary | None = Field(
        None, description="every GPU's figures, aggregated (None: not told)")
    gpu_scope: GpuScope | None = Field(
        None, description="the scope ``gpus`` were read for (None: every GPU)")
    queries: int = Field(0, description="queries sent to produce this part")
    bytes_read: int | None = Field(
        None, description="response bytes read to produce this part (None: not counted)")
    profiles: tuple[str, ...] = Field((), description="active metric profiles")

    @property
    def page_of_fleet(self) -> GpuSummary | None:
        """The fleet's GPU figures when ``gpus`` is only a page of it (a scoped read):
        what a panel showing these rows must tell as the fleet's; None when the rows
        are every GPU (their own figures are the fleet's)."""
        return self.page_of(None)

    def page_of(self, context: str | None) -> GpuSummary | None:
        """:attr:`page_of_fleet` for a console narrowed to ``context`` (None: every
        context): the summary only when the read was within that context (the scope's
        ``cluster``) -- a read of every context, or of another, tells none of its figures."""
        scope = self.gpu_scope
        return self.gpu_summary if scope is not None and scope.cluster == context else None


class ClusterBackend(ABC):
    """Model services, their history, and the release actions on them."""

    #: Shown in the header; the kubeconfig context or "demo".
    context: str = ""
    namespace: str | None = None
    read_only: bool = False

    @property
    def identity(self) -> str | None:
        """Who the cluster knows us as (kubeconfig user / SelfSubjectReview), None if
        unknown. Cheap to read (no request); the console adds it to the audit actor."""
        return None
    #: A simulated cluster (the demo): local ``user@host`` identities may approve there.
    simulated: bool = False

    @abstractmethod
    def read(self) -> ClusterPart:
        """Current services and histories (from caches; cheap). Raises BackendError."""

    @abstractmethod
    def plan(self, request: ActionRequest) -> ActionPlan:
        """Describe what ``request`` would change and run the preflight checks that need the
        cluster (RBAC, target exists, rollout in flight, server-side dry run). No mutation."""

    @abstractmethod
    def execute(self, request: ActionRequest) -> ActionResult:
        """Perform the action for real. Raises ActionRefused, ForbiddenError, ConflictError,
        BackendError. Must never be called when ``read_only``."""

    @abstractmethod
    def progress(self, service_key: str) -> RolloutProgress:
        """How far the rollout of ``service_key`` has got (for the progress bar)."""

    def annotate_approval(self, service_key: str, approver: str, reason: str, at: datetime,
                          *, canary: str | None = None) -> str:
        """Mirror an approval (already in the audit log) on the object itself, so teammates
        see it next to it (Kubernetes: the ``pitboard.io/approvals`` annotation, a JSON
        list). Returns where it was written, e.g. ``deployment/llm-chat``.

        Optional: this default raises ``backends.domain.errors.NotSupported``. Implementations refuse in read-only (ActionRefused, nothing sent), run a
        server-side dry run first, and raise BackendError when it cannot be written."""
        raise NotSupported(f"{type(self).__name__} does not annotate objects",
                           source="cluster")

    def approvals_annotation(self, service_key: str) -> str | None:
        """The object's ``pitboard.io/approvals`` annotation as it is now -- read afresh,
        not from a cache -- or None when it has none. The guard reads it again when a
        promote runs, so a record removed since the preview no longer counts.

        Optional: this default raises ``backends.domain.errors.NotSupported`` (the guard then
        uses what its preview read). BackendError when the object cannot be read."""
        raise NotSupported(f"{type(self).__name__} does not read annotations",
                           source="cluster")

    def mirror_audit(self, service_key: str, anchor: str, chain: str | None, what: str, *,
                     reason: str = "PitboardAudit",
                     annotations: dict[str, str] | None = None,
                     annotate: bool = True) -> list[str]:
        """Leave an audit entry's ``COUNT:HASH`` (``anchor``; ``chain``: the chain's id) on
        the object of ``service_key`` and in an Event about it whose message is ``what``,
        with ``annotations`` added to the object. ``annotate=False``: the Event only (after
        a failed call the object is left exactly as it was). Returns warnings (what did not
        land).

        Optional: this default raises ``backends.domain.errors.NotSupported``."""
        raise NotSupported(f"{type(self).__name__} does not anchor audit entries",
                           source="cluster")

    def warm(self) -> None:
        """Start, in the background, what the first read waits on (discovery, the watch
        caches' first LIST: ``backends.domain.ahead``) and return at once; the first
        read waits for it and raises its error. Never raises. Default: nothing."""

    def close(self) -> None:  # pragma: no cover - default no-op
        """Stop watches/threads."""


class MetricsBackend(ABC):
    """GPU, serving health, drift and cost figures (Prometheus, or the demo)."""

    #: A read can be within one context (``GpuScope.cluster``: its summary, page and cost
    #: that context's): the series carry a cluster label. The demo's are one context.
    reads_by_cluster: bool = False

    @abstractmethod
    def read(
        self, services: Sequence[ModelService], window_s: int, at: datetime | None = None,
        *, gpu_scope: GpuScope | None = None,
    ) -> MetricsPart:
        """Instant figures at ``at`` (None = now), rates over ``window_s``.
        A constant number of queries whatever the fleet size. Raises BackendError.

        ``gpu_scope``: one ``GpuDevice`` only for the GPUs of that page (or node, or
        model), every GPU in ``MetricsPart.gpu_summary`` and the cost figures (those of
        its ``cluster`` when it names one, where ``reads_by_cluster``); None =
        every GPU one row each (small fleets, reports)."""

    @abstractmethod
    def chart(
        self, model: str, window_s: int, at: datetime | None = None, *,
        service: ModelService | None = None,
    ) -> tuple[Series, ...]:
        """Range series for one model's chart: rps, error %, p50/p95/p99 ms. ``service``:
        the service the chart is of, when known: a backend that tells the services of one
        model name apart (namespace, cluster) gives only that service's series."""

    def revision_error_chart(
        self, model: str, window_s: int, at: datetime | None = None, *,
        service: ModelService | None = None,
    ) -> tuple[Series, ...]:
        """One model's error % per revision over ``window_s`` (range queries): one series
        per revision, named by it (the names ``HealthSample.revision`` carries), read when
        a canary worse than stable appears, to say since when. Raises BackendError; a
        backend that cannot tell revisions apart gives none (the default)."""
        return ()

    def warm(self) -> None:
        """As :meth:`ClusterBackend.warm` (e.g. the probe of which exporters have data).
        Default: nothing."""

    def close(self) -> None:  # pragma: no cover
        pass


class AlertsBackend(ABC):
    #: alert labels that may name a model, first present wins (the silence matches on it)
    model_labels: tuple[str, ...] = ("model",)

    @abstractmethod
    def alerts(self) -> tuple[Alert, ...]:
        """Active alerts, joined to models/GPUs by labels. Raises BackendError."""

    def warm(self) -> None:
        """As :meth:`ClusterBackend.warm` (e.g. the HTTP client). Default: nothing."""

    def create_silence(self, matchers: list[dict], starts: datetime, ends: datetime,
                       created_by: str, comment: str) -> str:
        """Create a silence (Alertmanager ``POST /api/v2/silences``: ``matchers`` as it
        takes them); returns its id. It expires on its own at ``ends``.

        Optional: this default raises ``backends.domain.errors.NotSupported``."""
        raise NotSupported(f"{type(self).__name__} cannot silence alerts", source="alerts")

    def silence(self, silence_id: str) -> dict:
        """One silence as the source holds it (``status.state``: active / pending /
        expired, ``endsAt``). Optional, as :meth:`create_silence`."""
        raise NotSupported(f"{type(self).__name__} cannot read silences", source="alerts")


class AuditBackend(ABC):
    """Append-only, hash-chained audit log with incidents and notes."""

    @abstractmethod
    def append(self, kind: str, *, actor: str, **fields) -> AuditEntry:
        """Durably append one entry (committed before return)."""

    @abstractmethod
    def entries(self, *, since: datetime | None = None, target: str | None = None,
                limit: int | None = None) -> list[AuditEntry]:
        """Entries oldest first."""

    @abstractmethod
    def verify(self) -> tuple[bool, str]:
        """(ok, message); message names the first broken entry."""

    @abstractmethod
    def pending_intents(self) -> list[AuditEntry]:
        """Intents with no outcome (a crash mid-action): shown as "outcome unknown"."""

    @abstractmethod
    def open_incident(self, title: str, severity: str, actor: str) -> Incident: ...

    @abstractmethod
    def close_incident(self, incident_id: int, actor: str) -> Incident: ...

    @abstractmethod
    def current_incident(self) -> Incident | None: ...

    @abstractmethod
    def add_note(self, text: str, actor: str, figures: dict | None = None,
                 incident_id: int | None = None) -> Note: ...
