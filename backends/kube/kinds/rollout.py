"""Argo Rollout (argoproj.io/v1alpha1), when that CRD is served: read and acted on as
``kubectl argo rollouts`` does.

- Read: every Rollout (or those carrying ``[kubernetes] rollout_label``); history = the
  ReplicaSets it controls, by ``rollout.argoproj.io/revision``; traffic = stable / canary
  weights (from the status, else the canary steps); blue-green previews show at 0 %.
- Act: promote / promote --full / abort / retry send the same merge patches as the plugin
  (status fields go to the ``status`` subresource, with a unified patch of the main
  resource as the fallback for argo-rollouts < v0.10); undo = JSON Patch of
  ``/spec/template`` from the ReplicaSet with the second-highest revision.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backends.domain.actions import (ActionKind, ActionRequest, Check, ProgressPhase,
                                     RolloutProgress)
from backends.domain.models import (ModelService, Revision, ServiceKind, TrafficTarget,
                                     running_version)
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
    replicasets_of,
    who,
)
from backends.kube.semantics import (
    ARGO_HASH_LABEL,
    ARGO_REVISION,
    JSON_PATCH,
    MERGE_PATCH,
    ActionSpec,
    Patch,
    controlled_by,
    derivative_equal,
    first_image,
    now_rfc3339,
    pause_spec,
    pick_revision,
    scale_spec,
    revision_of,
    without_label,
)
from backends.kube.slim import (
    EMPTY,
    Meta,
    ReplicaSetRec,
    images,
    own_annotations,
    parse_int,
    slim_meta,
    template_version,
)

KIND = ServiceKind.ROLLOUT
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "rollouts"
CRD = True
UNSUPPORTED = "{action} is not supported for a Rollout"
DEGRADED = ("RolloutAborted", "ProgressDeadlineExceeded")  # Progressing reasons: Degraded


# -- read -------------------------------------------------------------------------------------


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
    own: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    stable_weight: int | None = None
    #: the status the Argo plugin computes (:func:`rollout_status`)
    status: str = "Progressing"
    status_message: str = ""


def slim_rollout(obj: dict) -> RolloutRec:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    strategy = spec.get("strategy") or {}
    canary = strategy.get("canary")
    steps = (canary or {}).get("steps") or [] if isinstance(canary, dict) else []
    weights = tuple(parse_int(s.get("setWeight")) if isinstance(s, dict) else None for s in steps)
    reported = (st.get("canary") or {}).get("weights") or {}
    w = (reported.get("canary") or {}).get("weight")
    sw = (reported.get("stable") or {}).get("weight")
    status, message, _reason = rollout_status(obj)
    return RolloutRec(
        slim_meta(obj), bool(spec.get("paused")), len(st.get("pauseConditions") or []),
        bool(st.get("abort")), parse_int(st.get("currentStepIndex")), weights,
        "canary" if canary is not None else ("blueGreen" if "blueGreen" in strategy else None),
        st.get("currentPodHash"), st.get("stableRS"), parse_int(w), st.get("phase"),
        st.get("message"), parse_int(spec.get("replicas", 1)),
        parse_int(st.get("readyReplicas", 0)) if st else None,
        parse_int(st.get("updatedReplicas", 0)) if st else None,
        parse_int(st.get("availableReplicas", 0)) if st else None,
        images(spec.get("template")), template_version(obj), own_annotations(obj.get("metadata")),
        parse_int(sw), status, message,
    )


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_rollout),)


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    label = ctx.config.rollout_label
    r: RolloutRec
    for r in ctx.objects(PLURAL).values():
        if label and label not in r.meta.labels:
            continue
        hist = rollout_history(r, ctx.replicasets_by_owner.get(r.meta.uid or "", []))
        version, label = running_version(
            image_tag(r.images[0] if r.images else None), r.version)
        svc = ModelService(
            name=r.meta.name, namespace=r.meta.namespace or "", cluster=ctx.context,
            kind=KIND, version=version, version_label=label,
            image=r.images[0] if r.images else None, replicas_desired=r.replicas,
            replicas_ready=r.ready, traffic=rollout_traffic(r, hist),
            runtime=detect_runtime(r.images),
            rollout_in_progress=r.status in ("Progressing", "Paused") or (
                r.current_pod_hash is not None and r.current_pod_hash != r.stable_rs),
            paused=r.paused or r.pause_conditions > 0, labels=dict(r.meta.labels),
            annotations=dict(r.own))
        yield ServiceRead(svc, hist, owner_uid=r.meta.uid)


def rollout_history(r: RolloutRec, owned: list[ReplicaSetRec]) -> tuple[Revision, ...]:
    """Argo revisions (``rollout.argoproj.io/revision``), newest first; traffic from weights."""
    stable_w, canary_w = _rollout_weights(r)
    out = []
    for rs in owned:
        if rs.owner_kind not in (None, "Rollout"):
            continue
        n = parse_int(rs.argo_revision) if rs.argo_revision is not None else 0
        if n is None:
            continue
        h = rs.template_labels.get(ARGO_HASH_LABEL)
        pct = None
        if h is not None and h == r.stable_rs:
            pct = stable_w
        elif h is not None and h == r.current_pod_hash:
            pct = canary_w
        img = rs.images[0] if rs.images else None
        out.append(Revision(number=n, version=image_tag(img) or rs.template_labels.get(VERSION_LABEL),
                            image=img, created=rs.meta.created, change_cause=rs.change_cause,
                            who=who(rs.last_action),
                            current=h is not None and h == r.current_pod_hash,
                            traffic_percent=pct))
    out.sort(key=lambda x: x.number, reverse=True)
    return tuple(out)


def _rollout_weights(r: RolloutRec) -> tuple[float | None, float | None]:
    """(stable %, canary %) of an Argo canary, None when unknown. Blue-green: the active
    service sends everything to the stable side until promotion; the new ReplicaSet is the
    preview, shown as the canary leg at 0 %."""
    if r.current_pod_hash is None or r.current_pod_hash == r.stable_rs:
        return 100.0, None
    if r.strategy == "blueGreen":
        return 100.0, 0.0
    w = r.canary_weight
    if w is not None and r.stable_weight is not None:
        # the weights the controller reports (status.canary.weights): as they are, they
        # need not sum to 100 (additional destinations, experiments)
        return float(r.stable_weight), float(w)
    if w is None and r.strategy == "canary" and r.step_weights:
        idx = r.current_step_index if r.current_step_index is not None else 0
        seen = [x for x in r.step_weights[: idx + 1] if x is not None]
        w = seen[-1] if seen else 0
    if w is None:
        return None, None
    return 100.0 - w, float(w)


def rollout_traffic(r: RolloutRec, hist: tuple[Revision, ...]) -> tuple[TrafficTarget, ...]:
    stable = next((h for h in hist if h.traffic_percent is not None and not h.current), None)
    canary = next((h for h in hist if h.current), None)
    stable_w, canary_w = _rollout_weights(r)
    if canary_w is None:
        cur = canary or (hist[0] if hist else None)
        if cur is None or stable_w is None:
            return ()
        return (TrafficTarget(revision=str(cur.number), percent=stable_w, role="stable",
                              version=cur.version),)
    legs = []
    if stable is not None and stable_w is not None:
        legs.append(TrafficTarget(revision=str(stable.number), percent=stable_w, role="stable",
                                  version=stable.version))
    if canary is not None:
        legs.append(TrafficTarget(revision=str(canary.number), percent=canary_w, role="canary",
                                  version=canary.version))
    return tuple(legs)


def _number(value: object) -> int | None:
    """Lua's ``tonumber`` on a status field (a hash before v0.10: None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return None


def _generation_observed(obj: dict) -> bool:
    """``status.observedGeneration`` (a string) has caught up with ``metadata.generation``;
    a hash (v0.9) or a number above the generation (also v0.9) counts as observed, and so
    does the workload generation of a ``workloadRef`` (v1.3)."""
    meta, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status")
    if not isinstance(st, dict):
        return False
    observed, generation = _number(st.get("observedGeneration")), _number(meta.get("generation"))
    if observed is not None and generation is not None and observed < generation:
        return False
    if observed is not None and generation is not None and observed > generation:
        return True  # a v0.9 hash that happens to be all digits
    annotations = meta.get("annotations") or {}
    if spec.get("workloadRef") and annotations:
        return (_number(annotations.get("rollout.argoproj.io/workload-generation"))
                == _number(st.get("workloadObservedGeneration")))
    return True


def rollout_status(obj: dict) -> tuple[str, str, str]:
    """(status, message, reason) of a Rollout (:func:`plugin_status`), and whether the
    controller answered a status-subresource action yet: ``status.abort`` set while not
    Degraded is aborting, an abort cleared while still RolloutAborted is retrying,
    ``promoteFull`` set while Paused is promoting (all Progressing)."""
    status, message, reason = plugin_status(obj)
    st = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    assert isinstance(st, dict)
    if st.get("abort") and status != "Degraded":
        return "Progressing", "aborting (waiting for the controller)", ""
    if not st.get("abort") and reason == "RolloutAborted":
        return "Progressing", "retrying (waiting for the controller)", ""
    if st.get("promoteFull") and status == "Paused":
        return "Progressing", "promoting fully (waiting for the controller)", ""
    return status, message, reason


def plugin_status(obj: dict) -> tuple[str, str, str]:
    """(status, message, reason) of a Rollout as ``kubectl argo rollouts`` computes it
    (rolloututil.GetRolloutPhase; Argo CD's health check agrees on every status):
    ``Healthy``, ``Progressing``, ``Paused`` or ``Degraded``.

    In order: an observedGeneration (or workload generation) that lags -> Progressing;
    the controller's own ``status.phase`` / ``message`` (v1.0+), except a ``Paused`` whose
    pause conditions were cleared (promoted: ``controllerPause`` with no condition left is
    unpausing) -> Progressing; else computed: InvalidSpec, RolloutAborted,
    ProgressDeadlineExceeded -> Degraded (before Paused); ``spec.paused``, pause
    conditions, a blue-green preview being verified -> Paused; no ``currentPodHash`` ->
    Progressing; replicas (more to update, not yet available, a canary's old ones pending
    termination); blue-green active service cutover; canary steps left; the stable
    ReplicaSet not the current one -> Progressing; else Healthy."""
    spec, st = obj.get("spec") or {}, obj.get("status")
    if not _generation_observed(obj) or not isinstance(st, dict):
        return "Progressing", "waiting for rollout spec update to be observed", ""
    conditions = [c for c in st.get("conditions") or [] if isinstance(c, dict)]
    pause_conditions = [p for p in st.get("pauseConditions") or [] if isinstance(p, dict)]
    if st.get("phase"):
        phase, message = str(st["phase"]), str(st.get("message") or "")
        if phase == "Paused" and not pause_conditions and not spec.get("paused"):
            return "Progressing", "unpausing (the pause conditions were cleared)", ""
        reason = ""
        if phase == "Degraded":
            reason = next((str(c.get("reason") or c.get("type")) for c in conditions
                           if c.get("type") == "InvalidSpec" or c.get("reason") in DEGRADED),
                          message.split(":", 1)[0].strip())
        return phase, message, reason
    for c in conditions:
        if c.get("type") == "InvalidSpec":
            return "Degraded", f"InvalidSpec: {c.get('message') or ''}".strip(), "InvalidSpec"
        if c.get("type") == "Progressing" and c.get("reason") in DEGRADED:
            reason = str(c.get("reason"))
            return "Degraded", f"{reason}: {c.get('message') or ''}".strip(), reason
    if spec.get("paused"):
        return "Paused", "manually paused", ""
    if pause_conditions:
        return "Paused", str(pause_conditions[0].get("reason") or "paused"), ""
    if st.get("verifyingPreview"):
        return "Paused", "verifying the preview", ""
    current = st.get("currentPodHash")
    if current is None:
        return "Progressing", "waiting for rollout spec update to be observed", ""
    strategy = spec.get("strategy") or {}
    desired = _number(spec.get("replicas"))
    desired = 1 if desired is None else desired
    replicas, updated, available = (_number(st.get(k)) or 0 for k in (
        "replicas", "updatedReplicas", "availableReplicas"))
    if updated < desired:
        return "Progressing", "more replicas need to be updated", ""
    if available < updated:
        return "Progressing", "updated replicas are still becoming available", ""
    if strategy.get("canary") is not None and replicas > updated:
        return "Progressing", "old replicas are pending termination", ""
    stable = st.get("stableRS") or (st.get("canary") or {}).get("stableRS")
    if strategy.get("blueGreen") is not None:
        active = (st.get("blueGreen") or {}).get("activeSelector") or st.get("activeSelector")
        if active != current:
            return "Progressing", "active service cutover pending", ""
        if stable and stable != current:
            return "Progressing", "waiting for analysis to complete", ""
    elif strategy.get("canary") is not None:
        steps = (strategy.get("canary") or {}).get("steps") or []
        index = _number(st.get("currentStepIndex"))
        if (steps and index is not None and index < len(steps)) or (stable and stable != current):
            return "Progressing", "waiting for all steps to complete", ""
    return "Healthy", "", ""


def _new_rs(api: KubeApi, obj: dict) -> dict | None:
    """The ReplicaSet of ``status.currentPodHash`` (the new revision), from a fresh LIST."""
    current = (obj.get("status") or {}).get("currentPodHash")
    if not current:
        return None
    uid = (obj.get("metadata") or {}).get("uid")
    return next((rs for rs in replicasets_of(api, obj) if controlled_by(rs, uid) and
                 ((rs.get("metadata") or {}).get("labels") or {}).get(ARGO_HASH_LABEL)
                 == current), None)


def progress(api: KubeApi, obj: dict) -> RolloutProgress:
    """The plugin's status (:func:`rollout_status`): Healthy -> complete; Paused ->
    paused (it waits for a person: the action's part is done); Degraded -> degraded, or
    stuck when its reason is ProgressDeadlineExceeded; the counts of the new revision."""
    status, message, reason = rollout_status(obj)
    st = obj.get("status") or {}
    observed = _generation_observed(obj) and isinstance(obj.get("status"), dict) and \
        "waiting for the controller" not in message and not message.startswith("unpausing")
    rs = _new_rs(api, obj) if observed else None
    rs_st = (rs or {}).get("status") or {}
    phases: dict[str, ProgressPhase] = {"Healthy": "complete", "Paused": "paused",
                                        "Degraded": "degraded"}
    phase = phases.get(status, "progressing")
    if phase == "degraded" and reason == "ProgressDeadlineExceeded":
        phase = "stuck"
    return RolloutProgress(
        done=phase != "progressing", phase=phase, reason=reason, observed=observed,
        message=message or status, desired=parse_int((obj.get("spec") or {}).get("replicas", 1)),
        updated=parse_int(st.get("updatedReplicas", 0)) if observed else None,
        ready=parse_int(rs_st.get("readyReplicas", 0)) if observed else None,
        available=parse_int(rs_st.get("availableReplicas", 0)) if observed else None)


# -- act --------------------------------------------------------------------------------------


def _current_step(rollout: dict) -> int | None:
    """argo's GetCurrentCanaryStep index (None without canary steps)."""
    canary = ((rollout.get("spec") or {}).get("strategy") or {}).get("canary")
    steps = (canary or {}).get("steps") or [] if isinstance(canary, dict) else []
    if not steps:
        return None
    idx = (rollout.get("status") or {}).get("currentStepIndex")
    return idx if isinstance(idx, int) else 0


def argo_promote(rollout: dict, full: bool = False) -> ActionSpec:
    """``kubectl argo rollouts promote [--full]``: (spec, status) merge patches."""
    spec, status = rollout.get("spec") or {}, rollout.get("status") or {}
    canary = (spec.get("strategy") or {}).get("canary")
    steps = ((canary or {}).get("steps") or []) if isinstance(canary, dict) else []
    out = ActionSpec()
    if full:
        if status.get("currentPodHash") != status.get("stableRS"):
            out.patches = [Patch({"status": {"promoteFull": True}}, MERGE_PATCH, "status")]
            out.message = "fully promoted"
        else:
            out.noop, out.message = True, "nothing to promote: the stable ReplicaSet is current"
        return out
    unified: dict = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    status_patch: dict | None = None
    if status.get("pauseConditions"):
        status_patch = {"status": {"pauseConditions": None}}
    elif canary is not None:
        idx = _current_step(rollout)
        if idx is not None:
            if idx < len(steps):
                idx += 1
            status_patch = {"status": {"pauseConditions": None, "currentStepIndex": idx}}
            unified = {"spec": {"paused": False},
                       "status": {"pauseConditions": None, "currentStepIndex": idx}}
    if status_patch is not None:
        out.patches.append(Patch(status_patch, MERGE_PATCH, "status", fallback=unified))
    if spec.get("paused"):
        out.patches.append(Patch({"spec": {"paused": False}}, MERGE_PATCH))
    out.message = "promoted"
    if not out.patches:
        out.noop, out.message = True, "nothing to promote: not paused and no canary step"
    return out


def argo_abort() -> ActionSpec:
    """``kubectl argo rollouts abort``."""
    return ActionSpec([Patch({"status": {"abort": True}}, MERGE_PATCH, "status",
                             fallback={"status": {"abort": True}})], message="aborted")


def argo_retry() -> ActionSpec:
    """``kubectl argo rollouts retry rollout``."""
    return ActionSpec([Patch({"status": {"abort": False}}, MERGE_PATCH, "status",
                             fallback={"status": {"abort": False}})], message="retried")


def argo_undo(rollout: dict, replicasets: list[dict], to_revision: int | None = None
              ) -> ActionSpec:
    """``kubectl argo rollouts undo [--to-revision=N]``: JSON Patch of /spec/template."""
    rs = pick_revision(replicasets, rollout, to_revision, ARGO_REVISION, "rollout")
    rs_template = (rs.get("spec") or {}).get("template") or {}
    ro_template = (rollout.get("spec") or {}).get("template") or {}
    out = ActionSpec(from_revision=revision_of(rollout, ARGO_REVISION, missing_as_zero=False),
                     to_revision=revision_of(rs, ARGO_REVISION),
                     from_image=first_image(ro_template), to_image=first_image(rs_template))
    a, b = without_label(ro_template, ARGO_HASH_LABEL), without_label(rs_template, ARGO_HASH_LABEL)
    if derivative_equal(a, b):
        out.noop = True
        out.message = (f"skipped rollback (current template already matches revision "
                       f"{to_revision or 0})")
        return out
    ops = [{"op": "replace", "path": "/spec/template", "value": b}]
    out.patches = [Patch(ops, JSON_PATCH)]
    out.message = f"rolled back to revision {out.to_revision}"
    return out


def _undo(api: KubeApi, obj: dict, req: ActionRequest) -> ActionSpec:
    return argo_undo(obj, replicasets_of(api, obj), req.to_revision)


def argo_restart(at: str | None = None) -> ActionSpec:
    """``kubectl argo rollouts restart``: ``spec.restartAt`` set to now (the controller
    replaces the pods, oldest first)."""
    at = at or now_rfc3339()
    return ActionSpec([Patch({"spec": {"restartAt": at}}, MERGE_PATCH)], restarted_at=at,
                      message=f"restarted (restartAt {at})")


ACTIONS: Mapping[ActionKind, Act] = {
    ActionKind.RESTART: lambda api, obj, req: argo_restart(),
    ActionKind.SCALE: lambda api, obj, req: scale_spec(obj, req.replicas),
    ActionKind.PAUSE: lambda api, obj, req: pause_spec(obj, "rollout", True),
    ActionKind.RESUME: lambda api, obj, req: pause_spec(obj, "rollout", False),
    ActionKind.ROLLBACK: _undo,
    ActionKind.PROMOTE: lambda api, obj, req: argo_promote(obj),
    ActionKind.PROMOTE_FULL: lambda api, obj, req: argo_promote(obj, full=True),
    ActionKind.ABORT: lambda api, obj, req: argo_abort(),
    ActionKind.RETRY: lambda api, obj, req: argo_retry(),
}


def preflight(obj: dict, request: ActionRequest) -> tuple[Check, ...]:
    return ()
