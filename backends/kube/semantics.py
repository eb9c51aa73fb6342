"""Release semantics shared by the kind modules, as pure functions on plain dicts.

What an action sends (:class:`Patch`, :class:`ActionSpec`), and the parts of the reference
tools the kinds share: picking a ReplicaSet revision as ``kubectl rollout undo`` and
``kubectl argo rollouts undo`` do (``deploymentRevision`` / ``rolloutRevision``), and
comparing pod templates as ``apiequality.Semantic`` does. Each kind's own actions
(Deployment rollback, Argo promote / abort / retry / undo, KServe promote / rollback) are
in its module in ``kube/kinds/``.

Nothing here talks to a server: ``kube.execute`` sends what the kinds return.
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
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # kubectl rollout restart's annotation


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
    replicas: tuple[Any, int] | None = None  # (before, after) of a scale
    paused: tuple[bool, bool] | None = None  # (before, after) of a pause / resume
    restarted_at: str | None = None  # the restart's new restartedAt


def refuse(msg: str) -> ActionRefused:
    """What the reference tool would refuse, as the error to raise."""
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
        raise refuse(f"unable to find specified revision {to} in history")
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
        raise refuse(f"unable to find specified revision {to} in history")
    if previous is None:
        name = (owner.get("metadata") or {}).get("name")
        raise refuse(f"no rollout history found for {what} {name!r}")
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


def now_rfc3339() -> str:
    """The time as kubectl writes it in ``restartedAt`` (RFC 3339, local offset)."""
    from datetime import datetime  # noqa: PLC0415

    return datetime.now().astimezone().isoformat(timespec="seconds")


def pause_spec(obj: dict, what: str, paused: bool) -> ActionSpec:
    """``kubectl rollout pause|resume`` (and the Argo plugin's pause): ``spec.paused``.
    kubectl refuses what is already so; here it is a no-op."""
    name = (obj.get("metadata") or {}).get("name")
    now = bool((obj.get("spec") or {}).get("paused"))
    out = ActionSpec()
    if now == paused:
        out.noop = True
        out.message = f"{what}/{name} is already {'paused' if paused else 'not paused'}"
        return out
    out.patches = [Patch({"spec": {"paused": True if paused else None}}, MERGE_PATCH)]
    out.paused = (now, paused)
    out.message = "paused" if paused else "resumed"
    return out


def scale_spec(obj: dict, replicas: int | None) -> ActionSpec:
    """``kubectl scale --replicas=N``: a merge patch of the ``scale`` subresource."""
    if replicas is None or replicas < 0:
        raise refuse("scale needs the number of replicas (0 or more)")
    now = (obj.get("spec") or {}).get("replicas", 1)
    out = ActionSpec(from_traffic=None)
    out.message = f"scaled to {replicas} replicas"
    if now == replicas:
        out.noop, out.message = True, f"already at {replicas} replicas"
        return out
    out.patches = [Patch({"spec": {"replicas": replicas}}, MERGE_PATCH, "scale")]
    out.replicas = (now, replicas)
    return out


def first_image(template: dict) -> str | None:
    for c in ((template or {}).get("spec") or {}).get("containers") or []:
        if isinstance(c, dict) and c.get("image"):
            return str(c["image"])
    return None
