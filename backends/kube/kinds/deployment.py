"""apps/v1 Deployment: read as kubectl shows it, rolled back as ``kubectl rollout undo``.

- Read: the Deployments carrying the model label (``[kubernetes] model_label``) or matching
  an ``adopt`` selector, and (discovery, ``kinds.workload``) those without it that request
  GPUs or carry ``app.kubernetes.io/name``, marked unlabelled; history = the ReplicaSets
  it controls, by ``deployment.kubernetes.io/revision``; progress = ``kubectl rollout status``.
- Act: rollback = ``kubectl rollout undo deployment/X [--to-revision=N]``
  (k8s.io/kubectl polymorphichelpers DeploymentRollbacker): target = the ReplicaSet with the
  second-highest revision among those the Deployment controls (or the one asked for);
  refuse a paused Deployment; skip when the template already matches ignoring
  ``pod-template-hash``; JSON Patch replacing ``/spec/template`` and ``/metadata/annotations``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backends.domain.actions import (
    ActionKind,
    ActionRequest,
    Check,
    CheckStatus,
    ProgressPhase,
    RolloutProgress,
)
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
from backends.kube.kinds.workload import classify, owner_uid, server_selector, template_gpus
from backends.kube.semantics import (
    ANNOTATIONS_TO_SKIP,
    DEPLOY_REVISION,
    HASH_LABEL,
    JSON_PATCH,
    MERGE_PATCH,
    RESTARTED_AT,
    ActionSpec,
    Patch,
    controlled_by,
    equal_ignore_hash,
    first_image,
    now_rfc3339,
    pause_spec,
    pick_revision,
    refuse,
    revision_of,
    scale_spec,
    without_label,
)
from backends.kube.slim import (
    CHANGE_CAUSE,
    EMPTY,
    LAST_ACTION,
    REVISION,
    Meta,
    ReplicaSetRec,
    images,
    own_annotations,
    parse_int,
    slim_meta,
    template_version,
)

KIND = ServiceKind.DEPLOYMENT
GROUP, VERSION, PLURAL = "apps", "v1", "deployments"
CRD = False
UNSUPPORTED = "{action} is not defined for a Deployment (it has no canary)"
TIMED_OUT = "ProgressDeadlineExceeded"  # the Deployment controller's reason (kubectl: TimedOutReason)


# -- read -------------------------------------------------------------------------------------


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
    timed_out: str | None  # the Progressing condition's message when its deadline passed
    version: str | None = None
    own: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    gpus: int = 0  # nvidia.com/gpu + amd.com/gpu its pod template asks for
    owner_uid: str | None = None  # its controller's (KServe's own workloads have one)


def slim_deployment(obj: dict) -> DeploymentRec:
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    status = obj.get("status")
    ann = m.get("annotations") or {}
    st = status if isinstance(status, dict) else {}
    has_status = bool(st)

    def count(key: str) -> int | None:
        return parse_int(st.get(key, 0)) if has_status else None

    timed_out = next((str(c.get("message") or "") or "ProgressDeadlineExceeded"
                      for c in st.get("conditions") or [] if isinstance(c, dict)
                      and c.get("type") == "Progressing"
                      and c.get("reason") == TIMED_OUT), None)
    return DeploymentRec(
        slim_meta(obj), ann.get(REVISION), ann.get(CHANGE_CAUSE), ann.get(LAST_ACTION),
        parse_int(m.get("generation")), parse_int(st.get("observedGeneration")),
        parse_int(spec.get("replicas", 1)), count("readyReplicas"), count("updatedReplicas"),
        count("availableReplicas"), count("replicas"), bool(spec.get("paused")),
        images(spec.get("template")), timed_out, template_version(obj), own_annotations(m),
        template_gpus(spec.get("template")), owner_uid(m),
    )


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_deployment,
                     label_selector=server_selector(config)),)


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    d: DeploymentRec
    for d in ctx.objects(PLURAL).values():
        found = classify("deployment", d.meta.name, d.meta.namespace, d.meta.labels, d.gpus,
                         d.owner_uid is not None, ctx.config)
        if found is None:
            continue
        version, label = running_version(
            image_tag(d.images[0] if d.images else None), d.version)
        history = deployment_history(d, ctx.replicasets_by_owner.get(d.meta.uid or "", []))
        settled = deployment_progress(d)[0]
        current = next((r for r in history if r.current), None)
        # rolled out: every pod runs the current template, so it takes all the traffic;
        # during a rolling update the split is by pods, which nobody measured ("—")
        traffic = ((TrafficTarget(revision=str(current.number), percent=100.0,
                                  role="stable", version=version),)
                   if settled and current is not None and d.ready else ())
        if traffic:  # the history says the same of its current revision
            history = tuple(r.model_copy(update={"traffic_percent": 100.0}) if r.current
                            else r for r in history)
        svc = ModelService(
            name=d.meta.name, namespace=d.meta.namespace or "", cluster=ctx.context,
            kind=KIND, version=version, version_label=label,
            image=d.images[0] if d.images else None, replicas_desired=d.replicas,
            replicas_ready=d.ready, runtime=detect_runtime(d.images),
            rollout_in_progress=not settled, paused=d.paused, traffic=traffic,
            labels=dict(d.meta.labels), annotations=dict(d.own),
            unlabelled=found[0], adopt=found[1])
        yield ServiceRead(svc, history, owner_uid=d.meta.uid)


def deployment_progress(d: DeploymentRec) -> tuple[bool, str]:
    """Whether a rollout is still under way (for the model table), and why: not observed,
    updating, stuck, or paused part-way; a paused Deployment fully rolled out is not."""
    phase, message, _reason = deployment_phase(d)
    if phase == "paused":
        pending = _pending(d)
        return pending is None, pending or message
    return phase == "complete", message


def _pending(d: DeploymentRec) -> str | None:
    """What the replicas still wait for (kubectl's order), None when all are rolled out."""
    want, upd = d.replicas if d.replicas is not None else 1, d.updated or 0
    if upd < want:
        return f"{upd} out of {want} new replicas have been updated"
    if (d.status_replicas or 0) > upd:
        return f"{(d.status_replicas or 0) - upd} old replicas are pending termination"
    if (d.available or 0) < upd:
        return f"{d.available or 0} of {upd} updated replicas are available"
    return None


def deployment_phase(d: DeploymentRec) -> tuple[ProgressPhase, str, str]:
    """(phase, message, reason) as ``kubectl rollout status deployment/X`` decides it
    (k8s.io/kubectl polymorphichelpers DeploymentStatusViewer), in its order: not observed
    -> progressing; ProgressDeadlineExceeded -> stuck (the controller's message); updated
    < desired, old replicas pending termination, updated not yet available -> progressing;
    else complete. A paused Deployment is ``paused`` once observed: its controller goes no
    further until it is resumed."""
    if d.observed_generation is None:
        return "progressing", "waiting for the deployment spec update to be observed (no " \
                              "status yet)", ""
    if d.generation is not None and d.generation > d.observed_generation:
        return "progressing", "waiting for the deployment spec update to be observed", ""
    if d.timed_out is not None:
        return "stuck", f"exceeded its progress deadline: {d.timed_out}", TIMED_OUT
    pending = _pending(d)
    if d.paused:
        return "paused", "paused" + (f" ({pending})" if pending else ""), "DeploymentPaused"
    if pending is not None:
        return "progressing", pending, ""
    return "complete", "successfully rolled out", ""


def deployment_history(d: DeploymentRec, owned: list[ReplicaSetRec]) -> tuple[Revision, ...]:
    """Revisions from the controlled ReplicaSets, newest first (as kubectl rollout history)."""
    current = parse_int(d.revision) if d.revision is not None else None
    out = []
    for rs in owned:
        if rs.owner_kind not in (None, "Deployment"):
            continue
        n = parse_int(rs.revision) if rs.revision is not None else 0
        if n is None:
            continue
        img = rs.images[0] if rs.images else None
        out.append(Revision(number=n, version=image_tag(img) or rs.template_labels.get(VERSION_LABEL),
                            image=img, created=rs.meta.created, change_cause=rs.change_cause,
                            who=who(rs.last_action), current=current is not None and n == current))
    out.sort(key=lambda r: r.number, reverse=True)
    return tuple(out)


def new_replicaset(deployment: dict, replicasets: list[dict]) -> dict | None:
    """The ReplicaSet of the Deployment's current template (kubectl's GetNewReplicaSet:
    controlled by it, template equal ignoring ``pod-template-hash``), oldest first."""
    uid = (deployment.get("metadata") or {}).get("uid")
    template = (deployment.get("spec") or {}).get("template") or {}
    owned = sorted((rs for rs in replicasets if controlled_by(rs, uid)),
                   key=lambda rs: str((rs.get("metadata") or {}).get("creationTimestamp")))
    return next((rs for rs in owned if equal_ignore_hash(
        (rs.get("spec") or {}).get("template") or {}, template)), None)


def progress(api: KubeApi, obj: dict) -> RolloutProgress:
    """``kubectl rollout status``: the phase from the Deployment's status; the counts of
    the new revision only (its ReplicaSet's ready / available replicas, never the old
    ReplicaSets' ready pods)."""
    d = slim_deployment(obj)
    phase, message, reason = deployment_phase(d)
    observed = d.observed_generation is not None and not (
        d.generation is not None and d.generation > d.observed_generation)
    ready = available = None
    if observed:
        rs = new_replicaset(obj, replicasets_of(api, obj))
        st = (rs or {}).get("status") or {}
        ready = parse_int(st.get("readyReplicas", 0)) if rs is not None else 0
        available = parse_int(st.get("availableReplicas", 0)) if rs is not None else 0
    # stuck and degraded are final (kubectl rollout status exits), so is paused: done
    return RolloutProgress(done=phase in ("complete", "paused", "stuck"), ready=ready,
                           desired=d.replicas, updated=d.updated if observed else None,
                           available=available, message=message, reason=reason,
                           observed=observed, phase=phase)


# -- act --------------------------------------------------------------------------------------


def deployment_rollback(deployment: dict, replicasets: list[dict],
                        to_revision: int | None = None) -> ActionSpec:
    """``kubectl rollout undo deployment/X [--to-revision=N]`` as an ActionSpec."""
    rs = pick_revision(replicasets, deployment, to_revision, DEPLOY_REVISION, "deployment")
    spec = deployment.get("spec") or {}
    name = (deployment.get("metadata") or {}).get("name")
    if spec.get("paused"):
        raise refuse(f"you cannot rollback a paused deployment; resume it first with "
                     f"'kubectl rollout resume deployment/{name}' and try again")
    target_rev = revision_of(rs, DEPLOY_REVISION)
    current_rev = revision_of(deployment, DEPLOY_REVISION, missing_as_zero=False)
    rs_template = (rs.get("spec") or {}).get("template") or {}
    out = ActionSpec(from_revision=current_rev, to_revision=target_rev,
                     from_image=first_image(spec.get("template") or {}),
                     to_image=first_image(rs_template),
                     change_cause=((rs.get("metadata") or {}).get("annotations") or {})
                     .get("kubernetes.io/change-cause"))
    if equal_ignore_hash(rs_template, spec.get("template") or {}):
        out.noop = True
        out.message = (f"skipped rollback (current template already matches revision "
                       f"{to_revision or 0})")
        return out
    template = without_label(rs_template, HASH_LABEL)
    dep_ann = (deployment.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in dep_ann.items() if k in ANNOTATIONS_TO_SKIP}
    for k, v in ((rs.get("metadata") or {}).get("annotations") or {}).items():
        if k not in ANNOTATIONS_TO_SKIP:
            annotations[k] = v
    ops = [{"op": "replace", "path": "/spec/template", "value": template},
           {"op": "replace", "path": "/metadata/annotations", "value": annotations}]
    out.patches = [Patch(ops, JSON_PATCH)]
    out.message = f"rolled back to revision {target_rev}"
    return out


def _rollback(api: KubeApi, obj: dict, req: ActionRequest) -> ActionSpec:
    return deployment_rollback(obj, replicasets_of(api, obj), req.to_revision)


def deployment_restart(deployment: dict, at: str | None = None) -> ActionSpec:
    """``kubectl rollout restart deployment/X``: the pod template's
    ``kubectl.kubernetes.io/restartedAt`` annotation set to now (a new ReplicaSet rolls
    out); a paused Deployment is refused, as kubectl does."""
    name = (deployment.get("metadata") or {}).get("name")
    if (deployment.get("spec") or {}).get("paused"):
        raise refuse(f"can't restart paused deployment (run rollout resume first): "
                     f"deployment/{name}")
    at = at or now_rfc3339()
    out = ActionSpec(restarted_at=at, message=f"restarted (restartedAt {at})")
    out.patches = [Patch({"spec": {"template": {"metadata": {"annotations": {
        RESTARTED_AT: at}}}}}, MERGE_PATCH)]
    return out


ACTIONS: Mapping[ActionKind, Act] = {
    ActionKind.ROLLBACK: _rollback,
    ActionKind.RESTART: lambda api, obj, req: deployment_restart(obj),
    ActionKind.SCALE: lambda api, obj, req: scale_spec(obj, req.replicas),
    ActionKind.PAUSE: lambda api, obj, req: pause_spec(obj, "deployment", True),
    ActionKind.RESUME: lambda api, obj, req: pause_spec(obj, "deployment", False),
}


def preflight(obj: dict, request: ActionRequest) -> tuple[Check, ...]:
    """A rollback warns (does not block) while a rollout is still in flight."""
    if request.kind != ActionKind.ROLLBACK:
        return ()
    done, msg = deployment_progress(slim_deployment(obj))
    inflight = "" if done else msg
    return (Check(name="no rollout in flight", blocking=False,
                  status=CheckStatus.FAILED if inflight else CheckStatus.PASSED,
                  reason=inflight or ""),)
