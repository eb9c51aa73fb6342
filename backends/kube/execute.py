"""Guarded actions against one cluster: resolve on a fresh read, preflight (RBAC via
SelfSubjectAccessReview, server-side dry run), send, retry a 409 once, then mirror the
action as a core/v1 Event and a ``pitboard.io/last-action`` annotation.

Every function returns data (``ActionPlan``/``ActionResult``); nothing here draws a UI.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from backends.domain.actions import (
    ActionPlan,
    ActionRequest,
    ActionResult,
    ActionStatus,
    Change,
    Check,
    CheckStatus,
    RolloutProgress,
)
from backends.domain.errors import ActionRefused, BackendError, ConflictError, NotFoundError
from backends.kube.anchors import anchor_annotations, message_tail
from backends.kube.anchors import write as anchors_write
from backends.kube.connect import SOURCE, KubeApi
from backends.kube.kinds import KINDS
from backends.kube.kinds.base import Kind, api_path
from backends.kube.semantics import MERGE_PATCH, ActionSpec
from backends.kube.slim import LAST_ACTION


@dataclass(frozen=True)
class Target:
    """A ModelService.key split into its parts (context names may contain '/')."""

    cluster: str
    namespace: str
    kind: str
    name: str

    @classmethod
    def parse(cls, key: str) -> "Target":
        parts = key.rsplit("/", 3)
        if len(parts) != 4 or parts[2] not in KINDS or not parts[1] or not parts[3]:
            raise NotFoundError(f"not a model service key: {key!r}", source=SOURCE)
        return cls(*parts)

    @property
    def handler(self) -> Kind:
        """The module that reads and acts on this kind (``kube.kinds``)."""
        return KINDS[self.kind]

    @property
    def path(self) -> str:
        return api_path(self.handler, self.namespace, self.name)

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


def resolve(api: KubeApi, t: Target, req: ActionRequest) -> tuple[dict, ActionSpec]:
    """Fresh GET (and, for a rollback, the ReplicaSet LIST) -> the object and what the
    action would send. Raises ActionRefused (paused, no history, unsupported) or
    NotFoundError."""
    obj = api.request("GET", t.path)
    act = t.handler.ACTIONS.get(req.kind)
    if act is None:
        raise ActionRefused(t.handler.UNSUPPORTED.format(action=req.kind.value), source=SOURCE)
    return obj, act(api, obj, req)


def send(api: KubeApi, t: Target, spec: ActionSpec, *, dry_run: bool) -> list[dict]:
    """Send the spec's patches (argo: status subresource first, main resource on 404)."""
    sent = []
    query = {"dryRun": "All"} if dry_run else None
    patches = list(spec.patches)
    for p in patches:
        path = t.path + (f"/{p.subresource}" if p.subresource else "")
        try:
            api.request("PATCH", path, query=query, body=p.body, content_type=p.content_type)
            sent.append({"path": path, "content_type": p.content_type, "body": p.body})
        except NotFoundError:
            if not p.subresource or p.fallback is None:
                raise
            # argo-rollouts < v0.10 has no status subresource: one unified patch instead
            api.request("PATCH", t.path, query=query, body=p.fallback, content_type=MERGE_PATCH)
            sent.append({"path": t.path, "content_type": MERGE_PATCH, "body": p.fallback})
            break  # the unified patch already carries the spec change
    return sent


def access_review(api: KubeApi, t: Target, verb: str, resource: str, group: str,
                  subresource: str = "") -> tuple[bool | None, str]:
    """SelfSubjectAccessReview: (allowed or None when it could not be asked, reason)."""
    attrs = {"namespace": t.namespace, "verb": verb, "group": group, "resource": resource}
    if subresource:
        attrs["subresource"] = subresource
    if resource != "events":
        attrs["name"] = t.name
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}}
    try:
        doc = api.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                          body=body)
    except BackendError as exc:
        return None, f"could not ask: {exc}"
    st = (doc or {}).get("status") or {}
    return bool(st.get("allowed")), str(st.get("reason") or "")


def permission_checks(api: KubeApi, t: Target, spec: ActionSpec) -> list[Check]:
    """One Check per permission the action needs (patch, status patch, create events)."""
    group, plural = t.handler.GROUP, t.handler.PLURAL
    # the object itself (every action but a scale, which patches only /scale), then each
    # subresource it patches
    needed = [] if spec.patches and all(p.subresource == "scale" for p in spec.patches) \
        else [("patch", plural, group, "")]
    for sub in dict.fromkeys(p.subresource for p in spec.patches if p.subresource):
        needed.append(("patch", plural, group, sub))
    checks = []
    for verb, res, grp, sub in needed:
        allowed, why = access_review(api, t, verb, res, grp, sub)
        label = f"{verb} {res}{'/' + sub if sub else ''}.{grp}"
        if allowed is None:
            checks.append(Check(name=f"RBAC: {label}", status=CheckStatus.UNKNOWN, reason=why,
                                blocking=False))
        elif allowed:
            checks.append(Check(name=f"RBAC: {label}", status=CheckStatus.PASSED))
        else:
            checks.append(Check(
                name=f"RBAC: {label}", status=CheckStatus.FAILED,
                reason=f"missing permission: {verb} {res}{'/' + sub if sub else ''} in API "
                       f"group {grp!r} in namespace {t.namespace!r}" + (f" ({why})" if why else "")))
    allowed, why = access_review(api, t, "create", "events", "")
    checks.append(Check(
        name="RBAC: create events", blocking=False,
        status=CheckStatus.PASSED if allowed else (CheckStatus.UNKNOWN if allowed is None
                                                   else CheckStatus.FAILED),
        reason="" if allowed else (why or "the action will not be mirrored as an Event")))
    return checks


def changes_of(spec: ActionSpec) -> tuple[Change, ...]:
    out = []
    if spec.from_revision is not None or spec.to_revision is not None:
        out.append(Change(field="revision", before=_s(spec.from_revision), after=_s(spec.to_revision)))
    if spec.from_image != spec.to_image:
        out.append(Change(field="image", before=spec.from_image, after=spec.to_image))
    if spec.from_traffic or spec.to_traffic:
        out.append(Change(field="traffic", before=spec.from_traffic, after=spec.to_traffic))
    if spec.change_cause:
        out.append(Change(field="change-cause", before=None, after=spec.change_cause))
    if spec.replicas is not None:
        out.append(Change(field="replicas", before=_s(spec.replicas[0]), after=_s(spec.replicas[1])))
    if spec.paused is not None:
        out.append(Change(field="paused", before=str(spec.paused[0]).lower(),
                          after=str(spec.paused[1]).lower()))
    if spec.restarted_at is not None:
        out.append(Change(field="restartedAt", before=None, after=spec.restarted_at))
    for p in spec.patches:
        body = json.dumps(p.body, sort_keys=True)
        out.append(Change(field=f"patch{' /' + p.subresource if p.subresource else ''}",
                          before=None, after=body if len(body) < 400 else body[:397] + "..."))
    return tuple(out)


def _s(v) -> str | None:
    return None if v is None else str(v)


def mirror(api: KubeApi, t: Target, obj: dict, req: ActionRequest, actor: str,
           message: str) -> tuple[dict, list[str]]:
    """After success: an Event on the object and the ``pitboard.io/last-action`` annotation.
    Best effort: a failure is reported as a warning, the action itself succeeded."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {"who": actor, "what": f"{req.kind.value} {t.ref}" + (
        f" to revision {req.to_revision}" if req.to_revision else "") + (
        f" to {req.replicas} replicas" if req.replicas is not None else ""), "when": now,
        "reason": req.reason}
    if req.audit_anchor:  # the audit entry written before the call: a witness outside it
        record["audit"] = req.audit_anchor
    marks = anchor_annotations(req.audit_anchor, req.audit_chain)
    warnings, detail = [], {}
    meta = obj.get("metadata") or {}
    g, v = t.handler.GROUP, t.handler.VERSION
    event: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{t.name[:200]}.pitboard-{uuid.uuid4().hex[:12]}",
                     "namespace": t.namespace, **({"annotations": marks} if marks else {})},
        "involvedObject": {"apiVersion": f"{g}/{v}", "kind": t.kind, "name": t.name,
                           "namespace": t.namespace, "uid": meta.get("uid")},
        "reason": f"Pitboard{req.kind.value.title().replace('_', '')}",
        "message": (f"{actor}: {message}" + (f"; reason: {req.reason}" if req.reason else "")
                    )[:900] + message_tail(req.audit_anchor),
        "type": "Normal", "source": {"component": "pitboard"},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "reportingComponent": "pitboard", "reportingInstance": socket.gethostname()[:128],
        "action": req.kind.value.title(),
    }
    try:
        created = api.request("POST", f"/api/v1/namespaces/{t.namespace}/events", body=event)
        detail["event"] = ((created or {}).get("metadata") or {}).get("name") or event["metadata"]["name"]
    except BackendError as exc:
        warnings.append(f"event not recorded: {exc}")
    try:
        api.request("PATCH", t.path, body={"metadata": {"annotations": {
            LAST_ACTION: json.dumps(record, sort_keys=True), **marks}}},
            content_type=MERGE_PATCH)
        detail["annotation"] = record
    except BackendError as exc:
        warnings.append(f"annotation {LAST_ACTION} not written: {exc}")
    return detail, warnings


def mirror_audit(api: KubeApi, service_key: str, anchor: str, chain: str | None, what: str,
                 *, reason: str = "PitboardAudit",
                 annotations: dict[str, str] | None = None,
                 annotate: bool = True) -> list[str]:
    """An audit entry about the object of ``service_key``, anchored on it: the
    ``pitboard.io/audit`` annotation (plus ``annotations``) and an Event whose message is
    ``what`` (:mod:`backends.kube.anchors`). Returns warnings; never raises for the
    writes themselves."""
    t = Target.parse(service_key)
    g, v = t.handler.GROUP, t.handler.VERSION
    involved = {"apiVersion": f"{g}/{v}" if g else v, "kind": t.kind, "name": t.name,
                "namespace": t.namespace}
    return anchors_write(api, path=t.path, namespace=t.namespace, involved=involved,
                         name=t.name, anchor=anchor, chain=chain, reason=reason,
                         message=what, annotations=annotations, annotate=annotate)


def default_actor() -> str:
    """user@host, for actions started without an explicit actor."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
    return f"{user}@{socket.gethostname()}"


def execute(api: KubeApi, req: ActionRequest, actor: str) -> ActionResult:
    """Resolve fresh, dry-run, send; on 409 re-read and retry once, then ConflictError."""
    t = Target.parse(req.service_key)
    sent: list[dict] = []
    for attempt in (1, 2):
        obj, spec = resolve(api, t, req)
        if spec.noop:
            return ActionResult(status=ActionStatus.SKIPPED, message=spec.message,
                                detail={"object": t.ref, "namespace": t.namespace})
        try:
            try:
                send(api, t, spec, dry_run=True)
            except ConflictError:
                raise
            except BackendError as exc:  # say so: the record must show nothing was changed
                raise type(exc)(f"server-side dry run refused {t.ref}, nothing was changed: "
                                f"{exc}", source=exc.source, status=exc.status) from None
            sent = send(api, t, spec, dry_run=False)
            break
        except ConflictError as exc:
            if attempt == 2:
                raise ConflictError(f"{t.ref} changed while pitboard was updating it, twice; "
                                    f"reload and try again ({exc})", source=SOURCE,
                                    status=409) from None
    message = f"{t.ref}: {spec.message}"
    detail, warnings = mirror(api, t, obj, req, req.actor or actor, message)
    detail.update({"object": t.ref, "namespace": t.namespace, "context": api.context,
                   "patches": sent, "from_revision": spec.from_revision,
                   "to_revision": spec.to_revision, "dry_run": "ok", "attempts": attempt})
    if warnings:
        detail["warnings"] = warnings
    return ActionResult(status=ActionStatus.SUCCEEDED, message=message, detail=detail,
                        warnings=tuple(warnings))


def plan(api: KubeApi, req: ActionRequest, *, read_only: bool) -> ActionPlan:
    """The guard modal's content: target, changes, checks. Sends no mutation (the dry run
    and the access reviews are not sent at all in read-only mode)."""
    t = Target.parse(req.service_key)
    base = dict(request=req, context=api.context, namespace=t.namespace, object_ref=t.ref)
    checks: list[Check] = []
    if read_only:
        checks.append(Check(name="read-only", status=CheckStatus.FAILED,
                            reason=f"context {api.context!r} is read-only"))
    try:
        obj, spec = resolve(api, t, req)
    except NotFoundError as exc:
        checks.append(Check(name="target exists", status=CheckStatus.FAILED, reason=str(exc)))
        return ActionPlan(**base, checks=tuple(checks))
    except ActionRefused as exc:
        checks.append(Check(name="target exists", status=CheckStatus.PASSED))
        checks.append(Check(name="allowed by the reference tool", status=CheckStatus.FAILED,
                            reason=str(exc)))
        return ActionPlan(**base, checks=tuple(checks))
    checks.append(Check(name="target exists", status=CheckStatus.PASSED))
    checks.extend(t.handler.preflight(obj, req))
    if spec.noop:
        return ActionPlan(**base, checks=tuple(checks), changes=changes_of(spec), noop=True,
                          noop_reason=spec.message)
    if read_only:
        checks.append(Check(name="server-side dry run", status=CheckStatus.UNKNOWN,
                            reason="not sent in read-only mode", blocking=False))
    else:
        checks.extend(permission_checks(api, t, spec))
        try:
            send(api, t, spec, dry_run=True)
            checks.append(Check(name="server-side dry run", status=CheckStatus.PASSED))
        except BackendError as exc:
            checks.append(Check(name="server-side dry run", status=CheckStatus.FAILED,
                                reason=str(exc)))
    return ActionPlan(**base, checks=tuple(checks), changes=changes_of(spec))


def progress(api: KubeApi, service_key: str) -> RolloutProgress:
    """How far the rollout got, from a fresh GET (the reference tool's status logic)."""
    t = Target.parse(service_key)
    return t.handler.progress(api, api.request("GET", t.path))
