"""The exact release semantics of the reference tools, as pure functions on plain dicts.

- Deployment rollback = ``kubectl rollout undo`` (k8s.io/kubectl polymorphichelpers
  DeploymentRollbacker): target = the ReplicaSet with the second-highest
  ``deployment.kubernetes.io/revision`` among those the Deployment controls (or the one
  asked for); refuse a paused Deployment; skip when the template already matches ignoring
  ``pod-template-hash``; JSON Patch replacing ``/spec/template`` and ``/metadata/annotations``.
- Argo Rollout promote / promote --full / abort / retry / undo = ``kubectl argo rollouts``.
- KServe promote removes ``canaryTrafficPercent``; rollback sets it to 0.

Nothing here talks to a server: ``kube_execute`` sends what these functions return.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from backends.domain.errors import ActionRefused
from backends.kube.connect import SOURCE

HASH_LABEL = "pod-template-hash"
ARGO_HASH_LABEL = "rollouts-pod-template-hash"
DEPLOY_REVISION = "deployment.kubernetes.io/revision"
ARGO_REVISION = "rollout.argoproj.io/revision"
# kubectl: annotations kept from the Deployment, never copied from the ReplicaSet.
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Patch:
    """One PATCH to send: body, content type and optional subresource."""

    body: Any
    content_type: str
    subresource: str = ""
    fallback: Any = None  # argo: unified patch sent to the main resource if status is 404


@dataclass
class ActionSpec:
    """What an action will do on one object (computed from a fresh read)."""

    patches: list[Patch] = field(default_factory=list)
    noop: bool = False
    message: str = ""
    from_revision: int | None = None
    to_revision: int | None = None
    from_image: str | None = None
    to_image: str | None = None
    from_traffic: str | None = None
    to_traffic: str | None = None
    change_cause: str | None = None


def _refuse(msg: str) -> ActionRefused:
    return ActionRefused(msg, source=SOURCE)


def revision_of(obj: dict, key: str, missing_as_zero: bool = True) -> int | None:
    """Go's ``strconv.ParseInt`` on the revision annotation; a missing one counts as 0."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    if value is None:
        return 0 if missing_as_zero else None
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    return None


def controlled_by(obj: dict, uid: str | None) -> bool:
    """``metav1.IsControlledBy``: a controller ownerReference with this uid."""
    return any(isinstance(r, dict) and r.get("controller") and r.get("uid") == uid
               for r in (obj.get("metadata") or {}).get("ownerReferences") or [])


def pick_revision(replicasets: list[dict], owner: dict, to_revision: int | None, key: str,
                  what: str) -> dict:
    """kubectl's deploymentRevision / argo's rolloutRevision on owned ReplicaSets."""
    to = to_revision or 0
    if to < 0:
        raise _refuse(f"unable to find specified revision {to} in history")
    uid = (owner.get("metadata") or {}).get("uid")
    owned = [rs for rs in replicasets if controlled_by(rs, uid)]
    latest_rev = prev_rev = -1
    latest = previous = None
    for rs in owned:
        v = revision_of(rs, key)
        if v is None:
            continue
        if to == 0:
            if latest_rev < v:
                prev_rev, previous = latest_rev, latest
                latest_rev, latest = v, rs
            elif prev_rev < v:
                prev_rev, previous = v, rs
        elif v == to:
            return rs
    if to > 0:
        raise _refuse(f"unable to find specified revision {to} in history")
    if previous is None:
        name = (owner.get("metadata") or {}).get("name")
        raise _refuse(f"no rollout history found for {what} {name!r}")
    return previous


# -- template comparison (apiequality.Semantic) ---------------------------------------------

_QTY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[0-9]*)$")
_SUFFIX = {"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
           "Pi": 2**50, "Ei": 2**60}


def _quantity(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    m = _QTY.match(value.strip())
    if not m:
        return value
    num, suffix = m.groups()
    try:
        if suffix in _SUFFIX:
            return round(float(num) * _SUFFIX[suffix], 9)
        if suffix[:1] in "eE":
            return round(float(value), 9)
    except ValueError:
        pass
    return value


def _normal(value: Any, parent: str = "") -> Any:
    """Drop empty/None values (nil == empty in Semantic.DeepEqual); quantities by value."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            n = _normal(v, k)
            if n in (None, {}, [], ""):
                continue
            if parent in ("limits", "requests") and isinstance(n, str):
                n = _quantity(n)
            out[k] = n
        return out
    if isinstance(value, list):
        return [_normal(v, parent) for v in value]
    return value


def without_label(template: dict, label: str) -> dict:
    """Deep copy of a pod template without one label (the hash)."""
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(label, None)
    return t


def equal_ignore_hash(a: dict, b: dict, label: str = HASH_LABEL) -> bool:
    """kubectl's equalIgnoreHash (Semantic.DeepEqual without the hash label)."""
    return _normal(without_label(a, label)) == _normal(without_label(b, label))


def derivative_equal(a: Any, b: Any) -> bool:
    """Semantic.DeepDerivative: fields unset in ``a`` are ignored."""
    a, b = _normal(a), _normal(b)

    def sub(x: Any, y: Any) -> bool:
        if x is None or x == {} or x == []:
            return True
        if isinstance(x, dict):
            return isinstance(y, dict) and all(sub(v, y.get(k)) for k, v in x.items())
        if isinstance(x, list):
            return isinstance(y, list) and len(x) == len(y) and all(map(sub, x, y))
        return x == y

    return sub(a, b)


def _first_image(template: dict) -> str | None:
    for c in ((template or {}).get("spec") or {}).get("containers") or []:
        if isinstance(c, dict) and c.get("image"):
            return str(c["image"])
    return None


# -- Deployment -------------------------------------------------------------------------------


def deployment_rollback(deployment: dict, replicasets: list[dict],
                        to_revision: int | None = None) -> ActionSpec:
    """``kubectl rollout undo deployment/X [--to-revision=N]`` as an ActionSpec."""
    rs = pick_revision(replicasets, deployment, to_revision, DEPLOY_REVISION, "deployment")
    spec = deployment.get("spec") or {}
    name = (deployment.get("metadata") or {}).get("name")
    if spec.get("paused"):
        raise _refuse(f"you cannot rollback a paused deployment; resume it first with "
                      f"'kubectl rollout resume deployment/{name}' and try again")
    target_rev = revision_of(rs, DEPLOY_REVISION)
    current_rev = revision_of(deployment, DEPLOY_REVISION, missing_as_zero=False)
    rs_template = (rs.get("spec") or {}).get("template") or {}
    out = ActionSpec(from_revision=current_rev, to_revision=target_rev,
                     from_image=_first_image(spec.get("template") or {}),
                     to_image=_first_image(rs_template),
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


# -- Argo Rollouts ----------------------------------------------------------------------------


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
    status_patch = None
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
                     from_image=_first_image(ro_template), to_image=_first_image(rs_template))
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


# -- KServe -----------------------------------------------------------------------------------


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
        raise _refuse("no previous rolled-out revision to roll back to")
    out.patches = [Patch({"spec": {"predictor": {"canaryTrafficPercent": 0}}}, MERGE_PATCH)]
    out.message = "all traffic back to the previous revision"
    return out
