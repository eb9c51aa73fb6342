"""Frozen domain models shared by every backend and the console.

Every value that can be missing is explicit ``None`` -- never a fake zero. A panel
shows "n/a" for ``None``; a ``0.0`` means the source really reported zero.
All timestamps are timezone-aware UTC ``datetime``s.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Frozen(BaseModel):
    """Base for all domain models: immutable, hashable where fields allow, no extras."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def finite_or_none(value: float | None) -> float | None:
    """Map NaN/+Inf/-Inf (which Prometheus happily returns) to ``None``."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class ServiceKind(str, Enum):
    DEPLOYMENT = "Deployment"
    INFERENCE_SERVICE = "InferenceService"
    ROLLOUT = "Rollout"
    STATEFUL_SET = "StatefulSet"
    LEADER_WORKER_SET = "LeaderWorkerSet"
    LLM_INFERENCE_SERVICE = "LLMInferenceService"


TrafficRole = Literal["stable", "canary", "latest", "previous"]


class TrafficTarget(Frozen):
    """One leg of a traffic split: e.g. stable 90 % / canary 10 %."""

    revision: str
    percent: float
    role: TrafficRole = "stable"
    version: str | None = None


ROLE_ORDER: dict[str, int] = {"stable": 0, "canary": 1, "previous": 2, "latest": 3}


def ordered_traffic(legs: tuple[TrafficTarget, ...] | list[TrafficTarget]
                    ) -> tuple[TrafficTarget, ...]:
    """A split in the one order every kind shows it: stable, canary, then the others."""
    return tuple(sorted(legs, key=lambda t: ROLE_ORDER.get(t.role, 9)))


def traffic_text(legs: tuple[TrafficTarget, ...]) -> str:
    """``stable 90 / canary 10`` (roles named, stable first); "" for no split."""
    return " / ".join(f"{t.role} {t.percent:g}" for t in ordered_traffic(legs))


def running_version(image_tag: str | None, label: str | None) -> tuple[str | None, str | None]:
    """(version, version_label): what runs (the image tag, else the label), and the label
    when it says something else."""
    version = image_tag or label
    return version, (label if label and label != version else None)


class ModelService(Frozen):
    """A model as it is served in a cluster (Deployment, InferenceService or Rollout)."""

    name: str
    namespace: str
    cluster: str = Field(description="kubeconfig context (or 'demo')")
    kind: ServiceKind = ServiceKind.DEPLOYMENT
    version: str | None = Field(None, description="what runs: the image tag of the current "
                                                 "revision (else its version label)")
    version_label: str | None = Field(
        None, description="the app.kubernetes.io/version label, when it differs from the "
                          "running image tag (e.g. after kubectl set image): shown beside it")
    image: str | None = None
    replicas_desired: int | None = None
    replicas_ready: int | None = None
    traffic: tuple[TrafficTarget, ...] = Field(
        (), description="the split, stable first, then canary, then the others")
    traffic_note: str | None = Field(
        None, description="why the split is not known (shown with its '—'), e.g. no "
                          "cluster source: nobody measured it, and replay invents none")
    gpus: int | None = Field(None, description="nvidia.com/gpu requested by its pods")
    runtime: str | None = Field(None, description="vllm | triton | kserve | http ...")
    rollout_in_progress: bool = False
    paused: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="pitboard's own annotations on the object (e.g. pitboard.io/approvals)")
    unlabelled: bool = Field(
        False, description="found without the model label (it requests GPUs or carries "
                           "app.kubernetes.io/name): shown, read-only until adopted")
    adopt: tuple[str, ...] = Field(
        (), description="how to adopt an unlabelled one: the config line, then the kubectl "
                        "command that labels it")
    notes: tuple[str, ...] = Field(
        (), description="what could not be read and why (e.g. no traffic split in KServe's "
                        "raw deployment mode), shown in the model detail")

    @property
    def key(self) -> str:
        """Stable identity across refreshes: cluster/namespace/kind/name."""
        return f"{self.cluster}/{self.namespace}/{self.kind.value}/{self.name}"

    @staticmethod
    def parse_key(key: str) -> tuple[str, str, str, str] | None:
        """``cluster/namespace/kind/name`` -> its four parts; None when malformed.

        Both ends may hold "/": context names do (EKS ARNs ``...:cluster/prod``) and model
        names may (hostile names); a namespace never does and the kind is one of
        ServiceKind. The split is at the first ``/<namespace>/<Kind>/`` after a non-empty
        cluster. Prefer carrying the key with the service over parsing it."""
        best: tuple[str, str, str, str] | None = None
        best_at = len(key or "")
        for kind in ServiceKind:
            marker = f"/{kind.value}/"
            at = (key or "").find(marker)
            while 0 <= at < best_at:
                cluster, sep, namespace = key[:at].rpartition("/")
                name = key[at + len(marker):]
                if sep and cluster and namespace and name:
                    best, best_at = (cluster, namespace, kind.value, name), at
                    break
                at = key.find(marker, at + 1)
        return best

    @property
    def canary(self) -> TrafficTarget | None:
        return next((t for t in self.traffic if t.role == "canary"), None)

    @property
    def version_text(self) -> str | None:
        """``v1.4.3 (label v1.4.2)`` when the label lags what runs, else the version."""
        if self.version_label and self.version_label != self.version:
            return f"{self.version or '?'} (label {self.version_label})"
        return self.version

    @property
    def traffic_text(self) -> str:
        """``stable 90 / canary 10``, the same way for every kind ("" without a split)."""
        return traffic_text(self.traffic)


class Revision(Frozen):
    """One entry of a model's release history."""

    number: int
    version: str | None = None
    image: str | None = None
    created: datetime | None = None
    change_cause: str | None = None
    who: str | None = None
    current: bool = False
    traffic_percent: float | None = None


class GpuSlice(Frozen):
    """A share of one GPU, shown on its own line under it: a MIG instance (dcgm-exporter's
    ``GPU_I_PROFILE`` / ``GPU_I_ID`` labels, with its own utilisation and memory), or one of
    the pods time-slicing the GPU (dcgm-exporter copies the device's figures onto one series
    per pod: such a share has no utilisation of its own, ``util_percent`` None)."""

    mig_profile: str | None = Field(None, description="MIG profile, e.g. '1g.10gb'; "
                                                      "None = a time-sliced share")
    instance: str | None = Field(None, description="MIG GPU instance id (GPU_I_ID)")
    util_percent: float | None = None
    memory_used_mib: float | None = None
    memory_total_mib: float | None = None
    pod: str | None = None
    namespace: str | None = None
    model: str | None = Field(None, description="ModelService.name holding this share")

    _norm = field_validator("util_percent", "memory_used_mib", "memory_total_mib",
                            mode="before")(finite_or_none)

    @property
    def label(self) -> str:
        """``MIG 1g.10gb/7`` or ``shared``."""
        if self.mig_profile is None:
            return "shared"
        return f"MIG {self.mig_profile}" + (f"/{self.instance}" if self.instance else "")

    @property
    def memory_percent(self) -> float | None:
        if self.memory_used_mib is None or not self.memory_total_mib:
            return None
        return 100.0 * self.memory_used_mib / self.memory_total_mib


class GpuDevice(Frozen):
    """One physical GPU (dcgm-exporter view, joined to pods/models). A MIG or time-sliced
    GPU lists its shares in ``slices``; its own ``pod``/``model`` are then the first
    share's (so it counts as allocated), and temperature, power and XID stay the GPU's."""

    node: str
    index: int
    uuid: str | None = None
    model_name: str | None = Field(None, description="e.g. 'NVIDIA H100 80GB HBM3'")
    util_percent: float | None = None
    util_avg_percent: float | None = Field(
        None, description="utilisation averaged over the window (idle is judged on it)")
    memory_used_mib: float | None = None
    memory_total_mib: float | None = None
    power_watts: float | None = None
    temperature_c: float | None = None
    last_xid: int | None = Field(
        None, description="the last XID code the GPU reported (dcgm-exporter keeps it for "
                          "good: it stays after the error is over); None = none (0) or unknown")
    xid_at: datetime | None = Field(
        None, description="when last_xid appeared (None = before the look-back, or unknown)")
    xid_current: bool = Field(
        False, description="last_xid is new within the window: the GPU is in trouble now "
                           "(red); an older XID is history, not an alarm")
    pod: str | None = None
    namespace: str | None = None
    model: str | None = Field(None, description="ModelService.name holding this GPU")
    hourly_cost: float | None = None
    cluster: str | None = Field(
        None, description="kubeconfig context of its node (as ModelService.cluster); "
                          "None = not told (one context, or a source without it)")
    slices: tuple[GpuSlice, ...] = Field(
        (), description="MIG instances or time-sliced pods, each its own line; () = whole")

    _norm = field_validator(
        "util_percent", "util_avg_percent", "memory_used_mib", "memory_total_mib",
        "power_watts", "temperature_c", "hourly_cost", mode="before",
    )(finite_or_none)

    @property
    def memory_percent(self) -> float | None:
        if self.memory_used_mib is None or not self.memory_total_mib:
            return None
        return 100.0 * self.memory_used_mib / self.memory_total_mib

    @property
    def allocated(self) -> bool:
        return self.pod is not None

    @property
    def mig(self) -> bool:
        """Partitioned into MIG instances (utilisation is then per instance)."""
        return any(s.mig_profile is not None for s in self.slices)

    @property
    def models(self) -> tuple[str, ...]:
        """Every model this GPU serves: its own, and each share's (in order, once)."""
        return tuple(dict.fromkeys(m for m in (self.model, *(s.model for s in self.slices))
                                   if m is not None))


GPU_HOT_C = 80.0
"""A GPU at or above this temperature is hot (``widgets.levels.TEMP_HOT_C``, the red)."""

GpuSort = Literal["node", "util", "memory", "temp", "power", "cost", "idle"]
GpuState = Literal["idle", "xid", "hot", "free"]


class GpuScope(Frozen):
    """Which GPUs a metrics read returns one row each for (``MetricsBackend.read``'s
    ``gpu_scope``): the first ``limit`` by ``sort`` (highest first; ``idle``: the least
    used allocated GPUs first; ``node``: the busiest, shown in node order) among those
    matching every filter given. Every other GPU counts only in ``GpuSummary``, so the
    bytes read stay those of the page whatever the fleet size."""

    sort: GpuSort = "util"
    limit: int = Field(100, ge=1, le=1000)
    state: GpuState | None = Field(None, description="only GPUs in that state")
    text: str | None = Field(
        None, description="words each matching (case-insensitive, part of) the node, pod, "
                          "UUID or GPU model name")
    node: str | None = None
    cluster: str | None = Field(
        None, description="kubeconfig context (GpuDevice.cluster): the read within it -- its "
                          "GPUs only, in the page, the summary and the cost figures")
    model: str | None = Field(None, description="GPUs held by this model's pods")


class GpuSummary(Frozen):
    """Fleet-wide GPU figures (every GPU, whatever the page holds), aggregated by the
    metrics server when the read was scoped (``count``/``sum``/``avg``)."""

    gpus: int = 0
    nodes: int | None = None
    allocated: int | None = None
    util_avg_percent: float | None = None
    hot: int | None = Field(None, description=f"GPUs at or above {GPU_HOT_C:.0f} C")
    xid_current: int | None = Field(None, description="GPUs with an XID new in the window")
    idle_allocated: int | None = Field(
        None, description="allocated GPUs whose (window-averaged) utilisation is below the "
                          "idle threshold")
    by_cluster: dict[str, int] = Field(
        default_factory=dict, description="context -> GPUs (empty when not told)")
    by_model: dict[str, int] = Field(default_factory=dict, description="model -> GPUs held")
    matching: int | None = Field(
        None, description="GPUs matching the scope's filters (None: no filter, all of them)")
    server_side: bool = Field(
        False, description="aggregated by the metrics server (False: counted from every "
                           "GPU's row, as read)")


class HealthSample(Frozen):
    """Serving health of one model (or one revision of it) at one instant."""

    model: str
    namespace: str | None = None
    revision: str | None = Field(None, description="None = whole model; else a revision/leg")
    at: datetime
    rps: float | None = None
    error_ratio: float | None = Field(None, description="0..1")
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    ttft_p95_ms: float | None = None
    tokens_per_s: float | None = Field(None, description="generated (output) tokens per second")
    queue_depth: float | None = None
    kv_cache_percent: float | None = Field(
        None, description="KV cache in use, the fullest replica's (the one that saturates)")
    running_requests: float | None = Field(
        None, description="requests being served now (summed over replicas)")
    itl_p95_ms: float | None = Field(None, description="inter-token latency p95 (LLMs)")
    prompt_tokens_per_s: float | None = Field(None, description="prompt (input) tokens/s")
    avg_latency_ms: float | None = Field(
        None, description="mean request latency, from a cumulative duration counter (Triton)")
    queue_ms: float | None = Field(None, description="mean time a request waits queued (Triton)")
    profile: str | None = Field(
        None, description="metric profile the figures came from (the first with data when "
                          "several claim the model), e.g. 'vllm', 'sglang', 'gaie'")
    engine: str | None = Field(None, description="serving engine of that profile")

    _norm = field_validator(
        "rps", "error_ratio", "p50_ms", "p95_ms", "p99_ms", "ttft_p95_ms", "tokens_per_s",
        "queue_depth", "kv_cache_percent", "running_requests", "itl_p95_ms",
        "prompt_tokens_per_s", "avg_latency_ms", "queue_ms", mode="before",
    )(finite_or_none)

    error_ratio_1h: float | None = Field(
        None, description="request-weighted error ratio (0..1) over the last hour (SLO burn)")
    error_ratio_6h: float | None = Field(
        None, description="request-weighted error ratio (0..1) over the last 6 hours")

    _norm_slo = field_validator("error_ratio_1h", "error_ratio_6h", mode="before")(
        finite_or_none)

    reasons: dict[str, str] = Field(
        default={},  # a plain default: fast_constructor (the demo) fills plain defaults only
        description="figure (field name) -> why it is None: 'vllm does not expose TTFT', "
                    "'no series matched (vllm)', 'histogram has no +Inf bucket', "
                    "'two engines (vllm, sglang) report this model' ... shown on focus")


class Point(Frozen):
    at: datetime
    value: float | None

    _norm = field_validator("value", mode="before")(finite_or_none)


class Series(Frozen):
    """A named time series for charts (None values are gaps)."""

    name: str
    points: tuple[Point, ...] = ()


class DriftSeries(Frozen):
    model: str
    feature: str
    method: str = "psi"
    threshold: float
    points: tuple[Point, ...] = ()

    @property
    def latest(self) -> float | None:
        for p in reversed(self.points):
            if p.value is not None:
                return p.value
        return None

    @property
    def breached(self) -> bool:
        v = self.latest
        return v is not None and v > self.threshold


class CostBurn(Frozen):
    """Fleet cost figures; each may be missing independently.

    ``hourly`` is the GPUs' $/h; ``total_hourly`` every node's (CPU, memory and GPUs)
    where the source knows it. ``today``, ``month_to_date`` and ``month_projection`` count
    what ``spend_basis`` says, and month-to-date includes today (never below it)."""

    hourly: float | None = Field(None, description="GPU $/h: the GPUs seen, each priced")
    total_hourly: float | None = Field(
        None, description="$/h of all nodes (OpenCost node_total_hourly_cost), GPUs included")
    today: float | None = None
    month_to_date: float | None = None
    month_projection: float | None = None
    monthly_budget: float | None = None
    idle_hourly: float | None = Field(
        None, description="allocated GPUs whose utilisation averaged over the window is "
                          "below the idle threshold")
    idle_gpus: int | None = Field(None, description="how many GPUs idle_hourly counts")
    unallocated_hourly: float | None = Field(None, description="GPUs no pod holds")
    unallocated_gpus: int | None = Field(None, description="how many GPUs no pod holds")
    spend_basis: str | None = Field(
        None, description="what today / month_to_date / month_projection count: "
                          "'all nodes' or 'GPUs'")
    by_model: dict[str, float] = Field(default_factory=dict)
    by_service: dict[str, float] = Field(
        default_factory=dict, description="ModelService.key -> $/h, where the GPUs tell "
        "their cluster: a model name several contexts serve gets each one's own (by_model "
        "sums them); empty otherwise")
    source: str = "n/a"

    @property
    def over_budget(self) -> bool | None:
        if self.month_projection is None or self.monthly_budget is None:
            return None
        return self.month_projection > self.monthly_budget


class Alert(Frozen):
    name: str
    severity: str | None = None
    state: str = "firing"
    starts_at: datetime | None = None
    summary: str | None = None
    runbook_url: str | None = None
    model: str | None = None
    gpu_uuid: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class AuditEntry(Frozen):
    """One append-only audit row; ``hash``/``prev_hash`` chain the log."""

    seq: int
    at: datetime
    actor: str
    kind: str = Field(description="intent | outcome | note | incident | approval | cancel ...")
    action: str | None = None
    target: str | None = None
    reason: str | None = None
    outcome: str | None = None
    detail: dict = Field(default_factory=dict)
    intent_seq: int | None = None
    incident_id: int | None = None
    prev_hash: str
    hash: str
    damaged: str | None = Field(
        None, description="why the stored row cannot be read as written (edited behind the "
                          "store: detail not JSON, at not a time...); None when intact")


class Incident(Frozen):
    id: int
    title: str
    severity: str = "SEV3"
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None = None
    closed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Note(Frozen):
    id: int
    incident_id: int | None
    at: datetime
    author: str
    text: str
    figures: dict = Field(default_factory=dict, description="snapshot of the screen's figures")


class SourceStatus(Frozen):
    """Freshness of one data source (kubernetes, prometheus, alertmanager, audit, demo)."""

    name: str
    ok: bool = True
    last_success: datetime | None = None
    error: str | None = None
    detail: str | None = None

    def age(self, now: datetime) -> float | None:
        if self.last_success is None:
            return None
        return max(0.0, (now - self.last_success).total_seconds())


HealthLevel = Literal["ok", "info", "warn", "bad", "unknown"]
HealthSignal = Literal["replicas", "errors", "canary", "latency", "saturation", "gpu", "drift",
                       "rollout", "alert", "label"]


class Problem(Frozen):
    """One signal out of bounds. ``target`` names what it is about when that is narrower
    than the model (a GPU ``node/index``, a revision); ``since`` when it began, if known."""

    signal: HealthSignal
    level: HealthLevel
    text: str
    value: float | None = None
    threshold: float | None = None
    since: datetime | None = None
    target: str | None = None
    first: bool = False
    """Shown before its signal's other problems of the same level (a current XID before
    the temperature it may cause)."""


class Health(Frozen):
    """A model's status (decided by :func:`backends.domain.health.assess`): the word shown, its level, its problems worst first, and -- for
    "?" -- why nothing is known."""

    status: str
    level: HealthLevel
    problems: tuple[Problem, ...] = ()
    why: str | None = None

    @property
    def worst(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def reasons(self, limit: int = 3) -> str:
        """The problems as one line ("; "-joined), or what the status means."""
        if self.problems and self.level in ("warn", "bad"):
            return "; ".join(p.text for p in self.problems[:limit])
        return self.why or {"OK": "every signal within bounds", "CANARY": "canary in progress",
                            "ROLLING": "rollout in progress"}.get(self.status, "")


class FleetSnapshot(Frozen):
    """Everything one refresh produced. Immutable: posted from workers to the UI."""

    taken_at: datetime
    context: str
    namespace: str | None = None
    services: tuple[ModelService, ...] = ()
    revisions: dict[str, tuple[Revision, ...]] = Field(
        default_factory=dict, description="ModelService.key -> history, newest first"
    )
    gpus: tuple[GpuDevice, ...] = ()
    health: dict[str, HealthSample] = Field(
        default_factory=dict, description="ModelService.name -> whole-model health"
    )
    revision_health: dict[str, tuple[HealthSample, ...]] = Field(
        default_factory=dict, description="ModelService.name -> per-revision/leg health"
    )
    service_health: dict[str, HealthSample] = Field(
        default_factory=dict,
        description="ModelService.key -> whole-model health, from a metrics backend that "
                    "tells services apart (by the series' namespace and cluster label); when "
                    "given, a service has only these figures (see health_of)",
    )
    service_revision_health: dict[str, tuple[HealthSample, ...]] = Field(
        default_factory=dict, description="ModelService.key -> per-revision health, likewise"
    )
    drift: tuple[DriftSeries, ...] = ()
    drift_reason: str | None = Field(
        None, description="why drift is empty (MetricsPart.drift_reason), shown instead of "
                          "waiting for data")
    cost: CostBurn = CostBurn.model_construct()  # trusted: no schema build at import
    alerts: tuple[Alert, ...] = ()
    cluster_search: str | None = Field(
        None, description="why there is no model: what the cluster source looked for and how "
                          "to change it (ClusterPart.search), shown instead of an empty table")
    sources: dict[str, SourceStatus] = Field(default_factory=dict)
    status: dict[str, Health] = Field(
        default_factory=dict, description="ModelService.key -> its health as shown (held "
                                          "steady across refreshes); empty before the first")
    reasons: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="ModelService.key -> figure -> why it is '—' "
                                          "(backends.domain.figures; filled by --once)")

    def metrics_twin(self, service: ModelService) -> ModelService | None:
        """Another service with ``service``'s model name in the same namespace (another
        context's, or one whose namespace is unknown): unless the series carry a cluster
        label, the two services' figures cannot be told apart. None when there is none."""
        for other in self.services:
            if other.name == service.name and other.key != service.key and (
                    other.namespace == service.namespace or other.namespace is None
                    or service.namespace is None):
                return other
        return None

    def health_of(self, service: ModelService) -> HealthSample | None:
        """``service``'s whole-model health, never another service's figures: from
        ``service_health`` when the metrics backend told services apart; else its model
        name's, when no other service has that name or, if one has, when the sample comes
        from ``service``'s namespace and no :meth:`metrics_twin` shares it."""
        if self.service_health:
            return self.service_health.get(service.key)
        from backends.domain.index import name_shared  # noqa: PLC0415 - imports this module

        sample = self.health.get(service.name)
        if sample is None or not name_shared(service, self.services):
            return sample
        if self.metrics_twin(service) is not None or sample.namespace != service.namespace:
            return None
        return sample

    def revision_health_of(self, service: ModelService) -> tuple[HealthSample, ...]:
        """``service``'s per-revision samples, on the same terms as :meth:`health_of`."""
        if self.service_revision_health or self.service_health:
            return self.service_revision_health.get(service.key, ())
        from backends.domain.index import name_shared  # noqa: PLC0415 - imports this module

        samples = self.revision_health.get(service.name, ())
        if not name_shared(service, self.services):
            return samples
        if self.metrics_twin(service) is not None:
            return ()
        return tuple(h for h in samples if h.namespace == service.namespace)

    def worst_drift(self, model: str) -> DriftSeries | None:
        """The model's feature with the highest latest value relative to its threshold."""
        best: DriftSeries | None = None
        best_ratio = -1.0
        for d in self.drift:
            if d.model != model or d.latest is None or d.threshold <= 0:
                continue
            ratio = d.latest / d.threshold
            if ratio > best_ratio:
                best, best_ratio = d, ratio
        return best


# -- trusted constructors -----------------------------------------------------------------
def fast_wrapper(cls):
    """Like :func:`fast_constructor` but takes one complete dict of every field, in
    declaration order (the fastest path, for thousands of GPUs per refresh)."""
    new, setattr_ = cls.__new__, object.__setattr__
    # one set for every instance (a set of 20 names is ~1.2 kB, two thirds of a GPU row):
    # a frozen model never adds to it, and model_copy copies it before changing it
    every = set(cls.model_fields)

    def wrap(d: dict):
        m = new(cls)
        setattr_(m, "__dict__", d)
        setattr_(m, "__pydantic_fields_set__", every)
        setattr_(m, "__pydantic_extra__", None)
        setattr_(m, "__pydantic_private__", None)
        return m

    return wrap


def fast_constructor(cls):
    """A constructor for a frozen pydantic model that skips validation (several times faster
    than ``model_construct``), for values already checked or computed here: finite floats,
    right types (the demo's figures; Prometheus samples, finite-or-None once parsed).
    Fields not passed take their default (a default factory is called for each instance).
    No schema is needed: a model made only this way never builds its pydantic schema
    (``defer_build``). Tests check that the result equals the validated model."""
    fields = cls.model_fields
    names = tuple(fields)
    defaults = {n: f.default for n, f in fields.items()
                if not f.is_required() and f.default_factory is None}
    factories = {n: f.default_factory for n, f in fields.items()
                 if f.default_factory is not None}
    wrap = fast_wrapper(cls)
    sets: dict[tuple[str, ...], set[str]] = {}  # shared per set of names passed (as above)

    def fields_set_of(passed: tuple[str, ...]) -> set[str]:
        fields_set = sets.get(passed)
        if fields_set is None:
            fields_set = set(passed)
            if len(sets) < 64:  # call sites pass a handful of combinations
                sets[passed] = fields_set
        return fields_set

    def make(**values):
        m = wrap({n: values[n] if n in values else
                  defaults[n] if n in defaults else factories[n]()
                  for n in names})
        object.__setattr__(m, "__pydantic_fields_set__", fields_set_of(tuple(values)))
        return m

    return make
