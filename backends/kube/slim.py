"""Slim, immutable projections of the API objects the caches keep.

A cache keeps only what the console shows (a Pod is ~15 fields, not ~200): memory stays
small at thousands of pods, and a record can be shared across snapshots because it is a
frozen dataclass holding only tuples, strings, numbers and read-only mappings.
Actions never use these: they read the full object fresh from the API.

Here: the helpers and the records every kind shares (ReplicaSets, pods, nodes, events);
each kind's own record (``DeploymentRec`` ...) is in its module in ``kube/kinds/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping

GPU = "nvidia.com/gpu"
GPU_RESOURCES = (GPU, "amd.com/gpu")  # the device plugins' whole-GPU resources
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
LWS_LABEL = "leaderworkerset.sigs.k8s.io/name"
EMPTY: Mapping[str, str] = MappingProxyType({})


def frozen_map(d: Any) -> Mapping[str, str]:
    """A read-only copy of a str->str mapping (empty mappings share one object)."""
    if not d or not isinstance(d, dict):
        return EMPTY
    return MappingProxyType({str(k): str(v) for k, v in d.items()})


def own_annotations(meta: Any) -> Mapping[str, str]:
    """pitboard's own annotations (:data:`OWN_ANNOTATIONS`) of an object's metadata, as a
    read-only mapping (text values only; anything else is not ours and is left out)."""
    ann = (meta.get("annotations") if isinstance(meta, dict) else None) or {}
    if not isinstance(ann, dict):
        return EMPTY
    own = {k: ann[k] for k in OWN_ANNOTATIONS if isinstance(ann.get(k), str)}
    return MappingProxyType(own) if own else EMPTY


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
    total = 0
    for name in GPU_RESOURCES:
        for section in ("requests", "limits"):  # extended resources: requests == limits
            value = (resources.get(section) or {}).get(name)
            n = parse_int(value) if value is not None else None
            if n is not None:
                total += max(n, 0)
                break
    return total


def pod_gpus(spec: Any) -> int:
    """Whole GPUs (nvidia.com/gpu, amd.com/gpu) requested by a pod spec (containers; init containers as max)."""
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


def template_version(obj: dict) -> str | None:
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


def slim_meta(obj: dict) -> Meta:
    m = obj.get("metadata") or {}
    return Meta(str(m.get("name", "")), m.get("namespace"), m.get("uid"),
                frozen_map(m.get("labels")), parse_time(m.get("creationTimestamp")))


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
        slim_meta(obj), kind, uid, ann.get(REVISION), ann.get(ARGO_REVISION), ann.get(CHANGE_CAUSE),
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
    lws: str | None = None  # the LeaderWorkerSet its group belongs to (LWS_LABEL)


def slim_pod(obj: dict) -> PodRec:
    m, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    kind, _, uid = controller_of(m)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in st.get("conditions") or [] if isinstance(c, dict))
    return PodRec(str(m.get("name", "")), m.get("namespace"), kind, uid,
                  (m.get("labels") or {}).get(ISVC_LABEL), spec.get("nodeName"),
                  pod_gpus(spec), st.get("phase"), ready,
                  (m.get("labels") or {}).get(LWS_LABEL))


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
    return NodeRec(str(m.get("name", "")), _node_gpus(st.get("capacity")),
                   _node_gpus(st.get("allocatable")), labels.get(GPU_PRODUCT),
                   float(mem) if mem is not None else None)


def _node_gpus(resources: Any) -> int | None:
    """A node's whole GPUs of either vendor (None: the node advertises none)."""
    if not isinstance(resources, dict):
        return None
    found = [n for name in GPU_RESOURCES if (n := parse_int(resources.get(name))) is not None]
    return sum(found) if found else None


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
