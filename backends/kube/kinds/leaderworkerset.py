"""LeaderWorkerSet (leaderworkerset.x-k8s.io/v1, sigs.k8s.io/lws), when that CRD is served:
read only (a model when labelled, adopted or discovered).

- Read (sigs.k8s.io/lws api/leaderworkerset/v1/leaderworkerset_types.go): ``spec.replicas``
  groups of ``spec.leaderWorkerTemplate.size`` pods (one leader from ``leaderTemplate``,
  else ``workerTemplate``, and size-1 workers from ``workerTemplate``); status
  ``readyReplicas`` / ``updatedReplicas`` count groups; conditions ``Available``,
  ``Progressing``, ``UpdateInProgress`` (a rolling update of the templates). Its pods carry
  ``leaderworkerset.sigs.k8s.io/name`` (GPUs are counted from them). No revision history.
- Act: nothing; every action is refused with :data:`UNSUPPORTED`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backends.domain.actions import ActionKind, ActionRequest, Check, RolloutProgress
from backends.domain.models import ModelService, ServiceKind, running_version
from backends.kube.cache import KindSpec
from backends.kube.config import KubernetesConfig
from backends.kube.connect import KubeApi
from backends.kube.kinds.base import (
    VERSION_LABEL,
    Act,
    ReadContext,
    ServiceRead,
    detect_runtime,
    image_tag,
)
from backends.kube.kinds.workload import classify, owner_uid, server_selector, template_gpus
from backends.kube.slim import EMPTY, Meta, images, own_annotations, parse_int, slim_meta

KIND = ServiceKind.LEADER_WORKER_SET
GROUP, VERSION, PLURAL = "leaderworkerset.x-k8s.io", "v1", "leaderworkersets"
CRD = True
UNSUPPORTED = ("{action} is not supported for a LeaderWorkerSet by pitboard (read only); "
               "change it with kubectl")


@dataclass(frozen=True, slots=True)
class LeaderWorkerSetRec:
    meta: Meta
    replicas: int | None
    size: int | None
    ready: int | None
    updated: int | None
    generation: int | None
    observed_generation: int | None
    conditions: Mapping[str, str]  # type -> status ("True"/"False"/"Unknown")
    messages: Mapping[str, str]  # type -> message
    images: tuple[str, ...]
    gpus: int  # per group: the leader's and size-1 workers'
    owner_uid: str | None
    version: str | None = None
    own: Mapping[str, str] = field(default_factory=lambda: EMPTY)


def slim_lws(obj: dict) -> LeaderWorkerSetRec:
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    raw = obj.get("status")
    st: dict = raw if isinstance(raw, dict) else {}
    lwt = spec.get("leaderWorkerTemplate") or {}
    worker = lwt.get("workerTemplate") or {}
    leader = lwt.get("leaderTemplate") or worker
    size = parse_int(lwt.get("size", 1))
    per_group = template_gpus(leader) + max((size or 1) - 1, 0) * template_gpus(worker)
    conds = [c for c in st.get("conditions") or [] if isinstance(c, dict) and c.get("type")]
    labels = ((leader.get("metadata") or {}).get("labels") or {}) if isinstance(leader, dict) \
        else {}
    has = bool(st)
    return LeaderWorkerSetRec(
        slim_meta(obj), parse_int(spec.get("replicas", 1)), size,
        parse_int(st.get("readyReplicas", 0)) if has else None,
        parse_int(st.get("updatedReplicas", 0)) if has else None,
        parse_int(m.get("generation")), parse_int(st.get("observedGeneration")),
        {str(c["type"]): str(c.get("status")) for c in conds},
        {str(c["type"]): str(c.get("message") or "") for c in conds},
        images(leader) + tuple(i for i in images(worker) if i not in images(leader)),
        per_group, owner_uid(m),
        labels.get(VERSION_LABEL) or (m.get("labels") or {}).get(VERSION_LABEL),
        own_annotations(m))


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_lws,
                     label_selector=server_selector(config)),)


def phase(w: LeaderWorkerSetRec) -> tuple[bool, str]:
    """(settled, why not): UpdateInProgress or Progressing True, or groups not ready."""
    if w.conditions.get("UpdateInProgress") == "True":
        return False, w.messages.get("UpdateInProgress") or "rolling update in progress"
    want = w.replicas if w.replicas is not None else 1
    if (w.ready or 0) < want:
        return False, f"{w.ready or 0} of {want} groups ready"
    if w.conditions.get("Progressing") == "True" and w.conditions.get("Available") != "True":
        return False, w.messages.get("Progressing") or "progressing"
    return True, f"{w.ready or 0} groups of {w.size or 1} pods ready"


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    w: LeaderWorkerSetRec
    for w in ctx.objects(PLURAL).values():
        found = classify("leaderworkerset", w.meta.name, w.meta.namespace, w.meta.labels,
                         w.gpus, w.owner_uid is not None, ctx.config)
        if found is None:
            continue
        image = w.images[0] if w.images else None
        version, label = running_version(image_tag(image), w.version)
        svc = ModelService(
            name=w.meta.name, namespace=w.meta.namespace or "", cluster=ctx.context, kind=KIND,
            version=version, version_label=label, image=image, replicas_desired=w.replicas,
            replicas_ready=w.ready, runtime=detect_runtime(w.images),
            rollout_in_progress=not phase(w)[0], labels=dict(w.meta.labels),
            annotations=dict(w.own), unlabelled=found[0], adopt=found[1],
            notes=(f"replicas are groups of {w.size or 1} pods (1 leader, "
                   f"{max((w.size or 1) - 1, 0)} workers)",
                   "release history not read for a LeaderWorkerSet"))
        yield ServiceRead(svc, (), owner_uid=w.meta.uid, lws_pods=True)


def progress(api: KubeApi, obj: dict) -> RolloutProgress:
    w = slim_lws(obj)
    done, message = phase(w)
    return RolloutProgress(done=done, phase="complete" if done else "progressing",
                           ready=w.ready, desired=w.replicas, updated=w.updated,
                           message=message)


ACTIONS: Mapping[ActionKind, Act] = {}


def preflight(obj: dict, request: ActionRequest) -> tuple[Check, ...]:
    return ()
