"""Slim, immutable projections of the API objects the caches keep.

A cache keeps only what the console shows (a Pod is ~15 fields, not ~200): memory stays
small at thousands of pods, and a record can be shared across snapshots because it is a
frozen dataclass holding only tuples, strings, numbers and read-only mappings.
Actions never use these: they read the full object fresh from the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping

GPU = "nvidia.com/gpu"
GPU_PRODUCT = "nvidia.com/gpu.product"
GPU_MEMORY = "nvidia.com/gpu.memory"
REVISION = "deployment.kubernetes.io/revision"
ARGO_REVISION = "rollout.argoproj.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
LAST_ACTION = "pitboard.io/last-action"
APPROVALS = "pitboard.io/approvals"  # = backends.actions.approvals.APPROVALS (kept import-light)
#: pitboard's own annotations, carried to ``ModelService.annotations``.
OWN_ANNOTATIONS = (APPROVALS, LAST_ACTION)
ISVC_LABEL = "serving.kserve.io/inferenceservice"
_EMPTY: Mapping[str, str] = MappingProxyType({})


def frozen_map(d: Any) -> Mapping[str, str]:
    """A read-only copy of a str->str mapping (empty mappings share one object)."""
    if not d or not isinstance(d, dict):
        return _EMPTY
    return MappingProxyType({str(k): str(v) for k, v in d.items()})


def own_annotations(meta: Any) -> Mapping[str, str]:
    """pitboard's own annotations (:data:`OWN_ANNOTATIONS`) of an object's metadata, as a
    read-only mapping (text values only; anything else is not ours and is left out)."""
    ann = (meta.get("annotations") if isinstance(meta, dict) else None) or {}
    if not isinstance(ann, dict):
        return _EMPTY
    own = {k: ann[k] for k in OWN_ANNOTATIONS if isinstance(ann.get(k), str)}
    return MappingProxyType(own) if own else _EMPTY


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 from the API ("2024-05-01T10:00:00Z") to an aware datetime, else None."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_int(value: Any) -> int | None:
    """An int from an int or a decimal string (as Go's ParseInt), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip() or "x"):
        return int(value)
    return None


def _gpu_quantity(resources: Any) -> int:
    if not isinstance(resources, dict):
        return 0
    for section in ("requests", "limits"):  # extended resources: requests == limits
        value = (resources.get(section) or {}).get(GPU)
        n = parse_int(value) if value is not None else None
        if n is not None:
            return max(n, 0)
    return 0


def pod_gpus(spec: Any) -> int:
    """nvidia.com/gpu requested by a pod spec (containers; init containers as max)."""
    if not isinstance(spec, dict):
        return 0
    main = sum(_gpu_quantity(c.get("resources")) for c in spec.get("containers") or []
               if isinstance(c, dict))
    init = max([_gpu_quantity(c.get("resources")) for c in spec.get("initContainers") or []
                if isinstance(c, dict)] or [0])
    return max(main, init)


def images(template: Any) -> tuple[str, ...]:
    """Container images of a pod template (or pod spec) in order."""
    spec = (template or {}).get("spec", template) if isinstance(template, dict) else None
    if not isinstance(spec, dict):
        return ()
    return tuple(str(c.get("image")) for c in spec.get("containers") or []
                 if isinstance(c, dict) and c.get("image"))


def controller_of(meta: dict) -> tuple[str | None, str | None, str | None]:
    """(kind, name, uid) of the controller ownerReference, or Nones."""
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref.get("kind"), ref.get("name"), ref.get("uid")
    return None, None, None


def _version(obj: dict) -> str | None:
    """app.kubernetes.io/version of the pod template (what runs), else of the object."""
    key = "app.kubernetes.io/version"
    tmpl = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return (tmpl.get("labels") or {}).get(key) or ((obj.get("metadata") or {}).get("labels")
                                                   or {}).get(key)


@dataclass(frozen=True, slots=True)
class Meta:
    name: str
    namespace: str | None
    uid: str | None
    labels: Mapping[str, str]
    created: datetime | None


def _meta(obj: dict) -> Meta:
    m = obj.get("metadata") or {}
    return Meta(str(m.get("name", "")), m.get("namespace"), m.get("uid"),
                frozen_map(m.get("labels")), parse_time(m.get("creationTimestamp")))


@dataclass(frozen=True, slots=True)
class DeploymentRec:
    meta: Meta
    revision: str | None
    change_cause: str | None
    last_action: str | None
    generation: int | None
    observed_generation: int | None
    replicas: int | None
    ready: int | None
    updated: int | None
    available: int | None
    status_replicas: int | None
    paused: bool
    images: tuple[str, ...]
    timed_out: bool
    version: str | None = None
    own: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


def slim_deployment(obj: dict) -> DeploymentRec:
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    status = obj.get("status")
    ann = m.get("annotations") or {}
    st = status if isinstance(status, dict) else {}
    has_status = bool(st)

    def count(key: str) -> int | None:
        return parse_int(st.get(key, 0)) if has_status else None

    timed_out = any(c.get("type") == "Progressing" and c.get("reason") ==
                    "ProgressDeadlineExceeded" for c in st.get("conditions") or []
                    if isinstance(c, dict))
    return DeploymentRec(
        _meta(obj), ann.get(REVISION), ann.get(CHANGE_CAUSE), ann.get(LAST_ACTION),
        parse_int(m.get("generation")), parse_int(st.get("observedGeneration")),
        parse_int(spec.get("replicas", 1)), count("readyReplicas"), count("updatedReplicas"),
        count("availableReplicas"), count("replicas"), bool(spec.get("paused")),
        images(spec.get("template")), timed_out, _version(obj), own_annotations(m),
    )


@dataclass(frozen=True, slots=True)
class ReplicaSetRec:
    meta: Meta
    owner_kind: str | None
    owner_uid: str | None
    revision: str | None
    argo_revision: str | None
    change_cause: str | None
    last_action: str | None
    images: tuple[str, ...]
    template_labels: Mapping[str, str]
    replicas: int | None
    ready: int | None


def slim_replicaset(obj: dict) -> ReplicaSetRec:
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    ann = m.get("annotations") or {}
    kind, _, uid = controller_of(m)
    tmpl = spec.get("template") or {}
    st = obj.get("status") or {}
    return ReplicaSetRec(
        _meta(obj), kind, uid, ann.get(REVISION), ann.get(ARGO_REVISION), ann.get(CHANGE_CAUSE),
        ann.get(LAST_ACTION), images(tmpl), frozen_map((tmpl.get("metadata") or {}).get("labels")),
        parse_int(spec.get("replicas")), parse_int(st.get("readyReplicas", 0)) if st else None,
    )


@dataclass(frozen=True, slots=True)
class PodRec:
    name: str
    namespace: str | None
    owner_kind: str | None
    owner_uid: str | None
    isvc: str | None
    node: str | None
    gpus: int
    phase: str | None
    ready: bool


def slim_pod(obj: dict) -> PodRec:
    m, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    kind, _, uid = controller_of(m)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in st.get("conditions") or [] if isinstance(c, dict))
    return PodRec(str(m.get("name", "")), m.get("namespace"), kind, uid,
                  (m.get("labels") or {}).get(ISVC_LABEL), spec.get("nodeName"),
                  pod_gpus(spec), st.get("phase"), ready)


@dataclass(frozen=True, slots=True)
class NodeRec:
    name: str
    gpu_capacity: int | None
    gpu_allocatable: int | None
    product: str | None
    memory_mib: float | None


def slim_node(obj: dict) -> NodeRec:
    m, st = obj.get("metadata") or {}, obj.get("status") or {}
    labels = m.get("labels") or {}
    mem = parse_int(labels.get(GPU_MEMORY))
    return NodeRec(str(m.get("name", "")), parse_int((st.get("capacity") or {}).get(GPU)),
                   parse_int((st.get("allocatable") or {}).get(GPU)), labels.get(GPU_PRODUCT),
                   float(mem) if mem is not None else None)


@dataclass(frozen=True, slots=True)
class EventRec:
    name: str
    namespace: str | None
    kind: str | None
    object_name: str | None
    reason: str | None
    message: str | None
    type: str | None
    last: datetime | None
    count: int | None


def slim_event(obj: dict) -> EventRec:
    m, inv = obj.get("metadata") or {}, obj.get("involvedObject") or obj.get("regarding") or {}
    last = (parse_time(obj.get("lastTimestamp")) or parse_time(obj.get("eventTime"))
            or parse_time(m.get("creationTimestamp")))
    return EventRec(str(m.get("name", "")), m.get("namespace"), inv.get("kind"), inv.get("name"),
                    obj.get("reason"), obj.get("message") or obj.get("note"), obj.get("type"),
                    last, parse_int(obj.get("count")))


@dataclass(frozen=True, slots=True)
class Leg:
    revision: str
    percent: float | None
    latest: bool
    tag: str | None


@dataclass(frozen=True, slots=True)
class InferenceServiceRec:
    meta: Meta
    canary_percent: int | None
    model_format: str | None
    runtime: str | None
    storage_uri: str | None
    image: str | None
    latest_rolledout: str | None
    previous_rolledout: str | None
    latest_ready: str | None
    latest_created: str | None
    traffic: tuple[Leg, ...]
    ready: bool | None
    own: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


def slim_isvc(obj: dict) -> InferenceServiceRec:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    pred = spec.get("predictor") or {}
    model = pred.get("model") or {}
    comp = ((st.get("components") or {}).get("predictor") or {})
    legs = tuple(
        Leg(str(t.get("revisionName") or t.get("configurationName") or "?"),
            float(t["percent"]) if isinstance(t.get("percent"), (int, float)) else None,
            bool(t.get("latestRevision")), t.get("tag"))
        for t in comp.get("traffic") or [] if isinstance(t, dict))
    conds = [c for c in st.get("conditions") or [] if isinstance(c, dict) and c.get("type") == "Ready"]
    containers = pred.get("containers") or []
    image = next((c.get("image") for c in containers if isinstance(c, dict)), None)
    fmt = model.get("modelFormat") or {}
    return InferenceServiceRec(
        _meta(obj), parse_int(pred.get("canaryTrafficPercent")),
        fmt.get("name") if isinstance(fmt, dict) else None, model.get("runtime"),
        model.get("storageUri") or pred.get("storageUri"), image,
        comp.get("latestRolledoutRevision"), comp.get("previousRolledoutRevision"),
        comp.get("latestReadyRevision"), comp.get("latestCreatedRevision"), legs,
        (conds[0].get("status") == "True") if conds else None,
        own_annotations(obj.get("metadata")),
    )


@dataclass(frozen=True, slots=True)
class RolloutRec:
    meta: Meta
    paused: bool
    pause_conditions: int
    aborted: bool
    current_step_index: int | None
    step_weights: tuple[int | None, ...]
    strategy: str | None
    current_pod_hash: str | None
    stable_rs: str | None
    canary_weight: int | None
    phase: str | None
    message: str | None
    replicas: int | None
    ready: int | None
    updated: int | None
    available: int | None
    images: tuple[str, ...]
    version: str | None = None
    own: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


def slim_rollout(obj: dict) -> RolloutRec:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    strategy = spec.get("strategy") or {}
    canary = strategy.get("canary")
    steps = (canary or {}).get("steps") or [] if isinstance(canary, dict) else []
    weights = tuple(parse_int(s.get("setWeight")) if isinstance(s, dict) else None for s in steps)
    w = (((st.get("canary") or {}).get("weights") or {}).get("canary") or {}).get("weight")
    return RolloutRec(
        _meta(obj), bool(spec.get("paused")), len(st.get("pauseConditions") or []),
        bool(st.get("abort")), parse_int(st.get("currentStepIndex")), weights,
        "canary" if canary is not None else ("blueGreen" if "blueGreen" in strategy else None),
        st.get("currentPodHash"), st.get("stableRS"), parse_int(w), st.get("phase"),
        st.get("message"), parse_int(spec.get("replicas", 1)),
        parse_int(st.get("readyReplicas", 0)) if st else None,
        parse_int(st.get("updatedReplicas", 0)) if st else None,
        parse_int(st.get("availableReplicas", 0)) if st else None,
        images(spec.get("template")), _version(obj), own_annotations(obj.get("metadata")),
    )
