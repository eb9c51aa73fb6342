"""KServe InferenceService (serving.kserve.io/v1beta1), when that CRD is served.

- Read: history and traffic split from ``status.components.predictor``
  (``latestRolledoutRevision``, ``previousRolledoutRevision``, ``latestReadyRevision``,
  ``traffic[]``); its pods are those labelled ``serving.kserve.io/inferenceservice``.
- Raw deployment mode (annotation ``serving.kserve.io/deploymentMode`` ``RawDeployment``,
  renamed ``Standard``): KServe runs the predictor as a plain
  Deployment (``<name>-predictor``, controlled by the InferenceService) and reports no
  revisions and no traffic (kserve pkg/apis/serving/v1beta1/inference_service_status.go
  ``PropagateRawStatus``: the ready condition and observedGeneration only;
  ``canaryTrafficPercent`` is not applied). What runs, replicas and history are read from
  that Deployment and its ReplicaSets; the traffic is unknown, said so in ``notes``.
- Act: promote = remove ``spec.predictor.canaryTrafficPercent``; roll back / pin the
  previous revision = ``canaryTrafficPercent: 0``. In raw mode both are refused (there is no
  split to change; the predictor Deployment rolls back with ``kubectl rollout undo``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from backends.domain.actions import ActionKind, ActionRequest, Check, RolloutProgress
from backends.domain.models import (
    ModelService,
    Revision,
    ServiceKind,
    TrafficRole,
    TrafficTarget,
    ordered_traffic,
    running_version,
)
from backends.kube.cache import KindSpec
from backends.kube.config import KubernetesConfig
from backends.kube.connect import KubeApi
from backends.kube.kinds.base import (
    DONE_PHASES,
    VERSION_LABEL,
    Act,
    ReadContext,
    ServiceRead,
    detect_runtime,
    image_tag,
)
from backends.kube.semantics import MERGE_PATCH, ActionSpec, Patch, refuse
import backends.kube.kinds.deployment as deployment
from backends.kube.slim import EMPTY, Meta, own_annotations, parse_int, slim_meta

KIND = ServiceKind.INFERENCE_SERVICE
GROUP, VERSION, PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"
CRD = True
UNSUPPORTED = "{action} is not supported for a InferenceService"
MODE = "serving.kserve.io/deploymentMode"
RAW_MODES = frozenset({"RawDeployment", "Standard"})


# -- read -------------------------------------------------------------------------------------


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
    own: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    mode: str | None = None  # the serving.kserve.io/deploymentMode annotation
    stopped: bool = False  # the Stopped condition is True (serving.kserve.io/stop)
    not_ready: str | None = None  # the Ready condition's reason/message when not True

    @property
    def raw(self) -> bool:
        return self.mode in RAW_MODES


def _mode(obj: dict) -> str | None:
    ann = ((obj.get("metadata") or {}).get("annotations") or {})
    mode = ann.get(MODE) if isinstance(ann, dict) else None
    return str(mode) if mode else None


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
    every = [c for c in st.get("conditions") or [] if isinstance(c, dict)]
    conds = [c for c in every if c.get("type") == "Ready"]
    stopped = any(c.get("type") == "Stopped" and c.get("status") == "True" for c in every)
    why = None
    if conds and conds[0].get("status") != "True":
        why = " ".join(str(x) for x in (conds[0].get("reason"), conds[0].get("message")) if x)
    containers = pred.get("containers") or []
    image = next((c.get("image") for c in containers if isinstance(c, dict)), None)
    fmt = model.get("modelFormat") or {}
    return InferenceServiceRec(
        slim_meta(obj), parse_int(pred.get("canaryTrafficPercent")),
        fmt.get("name") if isinstance(fmt, dict) else None, model.get("runtime"),
        model.get("storageUri") or pred.get("storageUri"), image,
        comp.get("latestRolledoutRevision"), comp.get("previousRolledoutRevision"),
        comp.get("latestReadyRevision"), comp.get("latestCreatedRevision"), legs,
        (conds[0].get("status") == "True") if conds else None,
        own_annotations(obj.get("metadata")), _mode(obj), stopped, why or None,
    )


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    # the Deployments: a raw-mode predictor is one (followed once, by the Deployment kind)
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_isvc),
            *deployment.caches(config))


def predictor_of(ctx: ReadContext, i: InferenceServiceRec) -> deployment.DeploymentRec | None:
    """The raw-mode predictor Deployment: controlled by the InferenceService (the one named
    ``<name>-predictor`` first). None when the Deployments seen hold none."""
    mine = [d for d in ctx.objects(deployment.PLURAL).values()
            if i.meta.uid and getattr(d, "owner_uid", None) == i.meta.uid]
    mine.sort(key=lambda d: d.meta.name != f"{i.meta.name}-predictor")
    return mine[0] if mine else None


def _raw(ctx: ReadContext, i: InferenceServiceRec, ready: int | None
         ) -> tuple[ModelService, tuple[Revision, ...], str | None]:
    """A raw-mode InferenceService read through its predictor Deployment."""
    d = predictor_of(ctx, i)
    notes = [f"{i.mode} mode: KServe splits no traffic (the predictor is a Deployment "
             f"rolled out in place); the traffic is unknown"]
    if i.canary_percent is not None:
        notes.append(f"canaryTrafficPercent {i.canary_percent} is set but not applied in "
                     f"{i.mode} mode")
    if i.stopped:
        notes.append("stopped (serving.kserve.io/stop): no replicas")
    if i.not_ready:
        notes.append(f"not ready: {i.not_ready}")
    image = (d.images[0] if d is not None and d.images else None) or i.image
    tag_from = d.version if d is not None else None
    version, label = running_version(image_tag(image),
                                     tag_from or i.meta.labels.get(VERSION_LABEL))
    if d is None:
        notes.append("its predictor Deployment is not in view (discovery off, or not "
                     "created yet): replicas from pods, no history")
        hist: tuple[Revision, ...] = ()
        desired = 0 if i.stopped else None
        rolling = False
    else:
        hist = deployment.deployment_history(d, ctx.replicasets_by_owner.get(d.meta.uid or "", []))
        desired, ready = d.replicas, d.ready
        rolling = not deployment.deployment_progress(d)[0]
    svc = ModelService(
        name=i.meta.name, namespace=i.meta.namespace or "", cluster=ctx.context, kind=KIND,
        version=version, version_label=label, image=image or i.storage_uri,
        replicas_desired=desired, replicas_ready=ready, traffic=(),
        runtime=detect_runtime(tuple(x for x in (image, i.storage_uri) if x),
                               f"{i.runtime or ''} {i.model_format or ''}") or "kserve",
        rollout_in_progress=rolling, labels=dict(i.meta.labels), annotations=dict(i.own),
        notes=tuple(notes))
    return svc, hist, (d.meta.uid if d is not None else None)


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    isvc_ready: dict[str, int] = {}
    if ctx.pods is not None:  # no pod carrying the label: unknown (not 0)
        for p in ctx.pods.values():
            if p.isvc and p.phase not in DONE_PHASES:
                k = f"{p.namespace}/{p.isvc}"
                isvc_ready[k] = isvc_ready.get(k, 0) + (1 if p.ready else 0)
    i: InferenceServiceRec
    for i in ctx.objects(PLURAL).values():
        if i.raw:
            raw, raw_hist, uid = _raw(ctx, i, isvc_ready.get(f"{i.meta.namespace}/{i.meta.name}"))
            yield ServiceRead(raw, raw_hist, owner_uid=uid, labelled_pods=True)
            continue
        hist, traffic = isvc_history(i)
        images = tuple(x for x in (i.image, i.storage_uri) if x)
        version, label = running_version(image_tag(i.image), i.meta.labels.get(VERSION_LABEL))
        svc = ModelService(
            name=i.meta.name, namespace=i.meta.namespace or "", cluster=ctx.context,
            kind=KIND,
            version=version, version_label=label,
            image=i.image or i.storage_uri, replicas_desired=None,
            replicas_ready=isvc_ready.get(f"{i.meta.namespace}/{i.meta.name}"),
            traffic=traffic,
            runtime=detect_runtime(images, f"{i.runtime or ''} {i.model_format or ''}") or "kserve",
            rollout_in_progress=(i.canary_percent is not None and i.canary_percent not in (0, 100))
            or (i.latest_created is not None and i.latest_created != i.latest_ready),
            labels=dict(i.meta.labels), annotations=dict(i.own))
        yield ServiceRead(svc, hist, labelled_pods=True)


def _knative_number(name: str, fallback: int) -> int:
    m = re.search(r"-(\d+)$", name or "")
    return int(m.group(1)) if m else fallback


def isvc_history(i: InferenceServiceRec) -> tuple[tuple[Revision, ...], tuple[TrafficTarget, ...]]:
    """KServe: revisions named in status.components.predictor and the traffic split."""
    names: list[str] = []
    for n in (i.latest_created, i.latest_ready, i.latest_rolledout, i.previous_rolledout,
              *(leg.revision for leg in i.traffic)):
        if n and n not in names:
            names.append(n)
    pct = {leg.revision: leg.percent for leg in i.traffic}
    current = i.latest_rolledout or i.latest_ready
    revs = [Revision(number=_knative_number(n, len(names) - k), version=None,
                     image=None, current=(n == current), traffic_percent=pct.get(n))
            for k, n in enumerate(names)]
    revs.sort(key=lambda r: r.number, reverse=True)
    traffic: list[TrafficTarget] = []
    for leg in i.traffic:
        if leg.percent is None:
            continue
        role: TrafficRole
        if leg.latest and i.canary_percent is not None and leg.revision != i.latest_rolledout:
            role = "canary"
        elif leg.revision == i.latest_rolledout or leg.percent >= 100:
            role = "stable"
        elif leg.revision == i.previous_rolledout:
            role = "previous"
        else:
            role = "latest" if leg.latest else "stable"
        traffic.append(TrafficTarget(revision=leg.revision, percent=leg.percent, role=role))
    return tuple(revs), ordered_traffic(traffic)


def progress(api: KubeApi, obj: dict) -> RolloutProgress:
    """Settled only when the controller acted: ``status.observedGeneration`` caught up
    with ``metadata.generation``, the latest created revision is ready, and the
    predictor's traffic is what ``canaryTrafficPercent`` asks for (unset or 100: the
    latest ready revision takes 100 %; N: the latest takes N %; 0: the previous one takes
    everything). A Ready condition False with ProgressDeadlineExceeded is stuck."""
    i = slim_isvc(obj)
    meta, st = obj.get("metadata") or {}, obj.get("status") or {}
    generation, observed_gen = parse_int(meta.get("generation")), parse_int(
        st.get("observedGeneration"))
    observed = observed_gen is not None and (generation is None or observed_gen >= generation)
    ready_cond = next((c for c in st.get("conditions") or [] if isinstance(c, dict)
                       and c.get("type") == "Ready"), {})
    if not observed:
        return RolloutProgress(done=False, phase="progressing", observed=False,
                               message="waiting for the InferenceService spec update to be "
                                       "observed")
    if ready_cond.get("status") == "False" and ready_cond.get("reason") == "ProgressDeadlineExceeded":
        return RolloutProgress(done=True, phase="stuck", reason="ProgressDeadlineExceeded",
                               message=f"revision {i.latest_created or '?'}: "
                                       f"{ready_cond.get('message') or 'not ready'}")
    if i.latest_created is not None and i.latest_created != i.latest_ready:
        return RolloutProgress(done=False, phase="progressing",
                               message=f"waiting for revision {i.latest_created} to be ready "
                                       f"(ready: {i.latest_ready or 'none'})")
    if not i.ready:
        return RolloutProgress(done=False, phase="progressing" if i.ready is False else "unknown",
                               message=str(ready_cond.get("message") or "not ready yet"))
    want = 100.0 if i.canary_percent is None or i.canary_percent >= 100 else float(i.canary_percent)
    latest = next((leg for leg in i.traffic if leg.latest or leg.revision == i.latest_ready), None)
    have = latest.percent if latest is not None and latest.percent is not None else 0.0
    split = " / ".join(f"{leg.tag or leg.revision} {leg.percent:g}%" for leg in i.traffic
                       if leg.percent is not None)
    if have != want:
        return RolloutProgress(done=False, phase="progressing",
                               message=f"waiting for the traffic: latest {have:g}% of {want:g}%"
                                       f" ({split or 'no traffic yet'})")
    return RolloutProgress(done=True, phase="complete",
                           message=f"ready revision {i.latest_ready or 'n/a'}; traffic "
                                   f"{split or 'n/a'}")


# -- act --------------------------------------------------------------------------------------


def _isvc_canary(isvc: dict) -> Any:
    return ((isvc.get("spec") or {}).get("predictor") or {}).get("canaryTrafficPercent")


def _refuse_raw(isvc: dict, action: str) -> None:
    mode = _mode(isvc)
    if mode in RAW_MODES:
        name = (isvc.get("metadata") or {}).get("name")
        raise refuse(f"{action} is not possible for an InferenceService in {mode} mode: KServe "
                     f"splits no traffic there (no canary, no previous revision to pin); roll "
                     f"its predictor back with 'kubectl rollout undo deployment/{name}-predictor'")


def kserve_promote(isvc: dict) -> ActionSpec:
    """Promote the canary: remove ``spec.predictor.canaryTrafficPercent``."""
    _refuse_raw(isvc, "promote")
    pct = _isvc_canary(isvc)
    out = ActionSpec(from_traffic=f"canary {pct}%" if pct is not None else None,
                     to_traffic="latest 100%")
    if pct is None:
        out.noop, out.message = True, "no canary in progress (canaryTrafficPercent is not set)"
        return out
    out.patches = [Patch({"spec": {"predictor": {"canaryTrafficPercent": None}}}, MERGE_PATCH)]
    out.message = "promoted the canary to 100%"
    return out


def kserve_rollback(isvc: dict) -> ActionSpec:
    """Roll back / pin the previous revision: ``canaryTrafficPercent: 0``."""
    _refuse_raw(isvc, "rollback")
    pct = _isvc_canary(isvc)
    out = ActionSpec(from_traffic=f"canary {pct}%" if pct is not None else "latest 100%",
                     to_traffic="canary 0% (previous revision 100%)")
    if pct == 0:
        out.noop, out.message = True, "already pinned to the previous revision (canary 0%)"
        return out
    comp = (((isvc.get("status") or {}).get("components") or {}).get("predictor") or {})
    if pct is None and not comp.get("previousRolledoutRevision"):
        raise refuse("no previous rolled-out revision to roll back to")
    out.patches = [Patch({"spec": {"predictor": {"canaryTrafficPercent": 0}}}, MERGE_PATCH)]
    out.message = "all traffic back to the previous revision"
    return out


def _rollback(api: object, obj: dict, req: ActionRequest) -> ActionSpec:
    if req.to_revision is not None:
        raise refuse("an InferenceService can only pin its previous rolled-out revision "
                     "(canaryTrafficPercent: 0), not a chosen one")
    return kserve_rollback(obj)


ACTIONS: Mapping[ActionKind, Act] = {
    ActionKind.PROMOTE: lambda api, obj, req: kserve_promote(obj),
    ActionKind.ROLLBACK: _rollback,
}


def preflight(obj: dict, request: ActionRequest) -> tuple[Check, ...]:
    return ()
