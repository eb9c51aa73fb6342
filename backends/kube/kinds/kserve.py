"""KServe InferenceService (serving.kserve.io/v1beta1), when that CRD is served.

- Read: history and traffic split from ``status.components.predictor``
  (``latestRolledoutRevision``, ``previousRolledoutRevision``, ``latestReadyRevision``,
  ``traffic[]``); its pods are those labelled ``serving.kserve.io/inferenceservice``.
- Act: promote = remove ``spec.predictor.canaryTrafficPercent``; roll back / pin the
  previous revision = ``canaryTrafficPercent: 0``.
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
from backends.kube.slim import EMPTY, Meta, own_annotations, parse_int, slim_meta

KIND = ServiceKind.INFERENCE_SERVICE
GROUP, VERSION, PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"
CRD = True
UNSUPPORTED = "{action} is not supported for a InferenceService"


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
        slim_meta(obj), parse_int(pred.get("canaryTrafficPercent")),
        fmt.get("name") if isinstance(fmt, dict) else None, model.get("runtime"),
        model.get("storageUri") or pred.get("storageUri"), image,
        comp.get("latestRolledoutRevision"), comp.get("previousRolledoutRevision"),
        comp.get("latestReadyRevision"), comp.get("latestCreatedRevision"), legs,
        (conds[0].get("status") == "True") if conds else None,
        own_annotations(obj.get("metadata")),
    )


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_isvc),)


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    isvc_ready: dict[str, int] = {}
    if ctx.pods is not None:  # no pod carrying the label: unknown (not 0)
        for p in ctx.pods.values():
            if p.isvc and p.phase not in DONE_PHASES:
                k = f"{p.namespace}/{p.isvc}"
                isvc_ready[k] = isvc_ready.get(k, 0) + (1 if p.ready else 0)
    i: InferenceServiceRec
    for i in ctx.objects(PLURAL).values():
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


def kserve_promote(isvc: dict) -> ActionSpec:
    """Promote the canary: remove ``spec.predictor.canaryTrafficPercent``."""
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
