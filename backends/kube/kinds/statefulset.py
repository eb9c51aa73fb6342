"""apps/v1 StatefulSet: read only (a model when labelled, adopted or discovered).

- Read: StatefulSets carrying the model label or matching an ``adopt`` selector, and
  (discovery, ``kinds.workload``) those that request GPUs or carry
  ``app.kubernetes.io/name`` without it (unlabelled). A StatefulSet another object
  controls (a LeaderWorkerSet's leader and worker sets) is read through its owner.
  Ready / desired replicas from its status; rolling while ``updateRevision`` differs from
  ``currentRevision`` (``kubectl rollout status statefulset``'s RollingUpdate test) or the
  spec is not observed yet. Its history (ControllerRevisions) is not followed: none shown.
- Act: nothing yet; every action is refused with :data:`UNSUPPORTED`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backends.domain.actions import ActionKind, ActionRequest, Check, RolloutProgress
from backends.domain.models import ModelService, ServiceKind, running_version
from backends.kube.cache import KindSpec
from backends.kube.config import KubernetesConfig
from backends.kube.connect import KubeApi
from backends.kube.kinds.base import Act, ReadContext, ServiceRead, detect_runtime, image_tag
from backends.kube.kinds.workload import classify, owner_uid, server_selector, template_gpus
from backends.kube.slim import EMPTY, Meta, images, own_annotations, parse_int, slim_meta, \
    template_version

KIND = ServiceKind.STATEFUL_SET
GROUP, VERSION, PLURAL = "apps", "v1", "statefulsets"
CRD = False
UNSUPPORTED = ("{action} is not supported for a StatefulSet by pitboard (read only); use "
               "kubectl rollout for it")


@dataclass(frozen=True, slots=True)
class StatefulSetRec:
    meta: Meta
    replicas: int | None
    ready: int | None
    updated: int | None
    generation: int | None
    observed_generation: int | None
    current_revision: str | None
    update_revision: str | None
    images: tuple[str, ...]
    gpus: int
    owner_uid: str | None
    version: str | None = None
    own: Mapping[str, str] = field(default_factory=lambda: EMPTY)


def slim_statefulset(obj: dict) -> StatefulSetRec:
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    raw = obj.get("status")
    st: dict = raw if isinstance(raw, dict) else {}
    has = bool(st)
    return StatefulSetRec(
        slim_meta(obj), parse_int(spec.get("replicas", 1)),
        parse_int(st.get("readyReplicas", 0)) if has else None,
        parse_int(st.get("updatedReplicas", 0)) if has else None,
        parse_int(m.get("generation")), parse_int(st.get("observedGeneration")),
        st.get("currentRevision"), st.get("updateRevision"), images(spec.get("template")),
        template_gpus(spec.get("template")), owner_uid(m), template_version(obj),
        own_annotations(m))


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_statefulset,
                     label_selector=server_selector(config)),)


def phase(s: StatefulSetRec) -> tuple[bool, str]:
    """(settled, why not) as ``kubectl rollout status statefulset/X`` for RollingUpdate."""
    if s.observed_generation is None or (s.generation is not None
                                         and s.observed_generation < s.generation):
        return False, "waiting for the statefulset spec update to be observed"
    want = s.replicas if s.replicas is not None else 1
    if (s.ready or 0) < want:
        return False, f"waiting for {want - (s.ready or 0)} pods to be ready"
    if s.update_revision and s.current_revision and s.update_revision != s.current_revision:
        return False, (f"waiting for the rolling update to complete ({s.updated or 0} pods at "
                       f"revision {s.update_revision})")
    return True, f"{s.ready or 0} pods ready at revision {s.current_revision or 'n/a'}"


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    s: StatefulSetRec
    for s in ctx.objects(PLURAL).values():
        found = classify("statefulset", s.meta.name, s.meta.namespace, s.meta.labels, s.gpus,
                         s.owner_uid is not None, ctx.config)
        if found is None:
            continue
        image = s.images[0] if s.images else None
        version, label = running_version(image_tag(image), s.version)
        svc = ModelService(
            name=s.meta.name, namespace=s.meta.namespace or "", cluster=ctx.context, kind=KIND,
            version=version, version_label=label, image=image, replicas_desired=s.replicas,
            replicas_ready=s.ready, runtime=detect_runtime(s.images),
            rollout_in_progress=not phase(s)[0], labels=dict(s.meta.labels),
            annotations=dict(s.own), unlabelled=found[0], adopt=found[1],
            notes=("release history not read for a StatefulSet (ControllerRevisions)",))
        yield ServiceRead(svc, (), owner_uid=s.meta.uid)


def progress(api: KubeApi, obj: dict) -> RolloutProgress:
    s = slim_statefulset(obj)
    done, message = phase(s)
    return RolloutProgress(done=done, phase="complete" if done else "progressing",
                           ready=s.ready, desired=s.replicas, updated=s.updated,
                           message=message)


ACTIONS: Mapping[ActionKind, Act] = {}


def preflight(obj: dict, request: ActionRequest) -> tuple[Check, ...]:
    return ()
