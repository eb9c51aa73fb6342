"""The one action path, without UI: prepare -> (guard modal) -> run | cancel; approve.

``run`` does, in this order, and nothing else:

1. refuse (raise :class:`ActionRefused`, write nothing, send nothing) when read-only
   (``--read-only``, the backend's ``read_only`` or the context's), when the reason is
   empty, when a protected context's object name was not typed, or when a blocking check
   failed -- unless ``override`` is set and every failed check is overridable;
2. append the **intent** (durable: committed and fsynced) and, if checks were overridden,
   an **override** entry naming them;
3. ``cluster.execute`` (implementations do their own server-side dry run first);
4. append the **outcome**: ``succeeded``, ``skipped``, ``failed`` (with the server's
   message), ``timed_out`` (the call timed out) or ``unknown`` (an unexpected error: the
   call may or may not have landed);
5. after a success, poll ``cluster.progress`` until done or ``progress_timeout_s``,
   calling ``on_progress`` each time, and append a **settle** entry
   (``complete`` / ``degraded`` / ``stuck`` / ``timed_out``: :func:`settle_outcome`).

Cancel: **records nothing.** A cancel happens in the guard modal, before the intent is
written, so nothing was attempted and nothing changed; the audit log stays a record of
what was *done*. ``cancel`` exists so the UI has one call to make, and it is guaranteed
not to touch the cluster or the audit store.

Approvals: ``approve`` records an ``approval`` entry, then mirrors it on the object (the
``pitboard.io/approvals`` annotation, ``ClusterBackend.annotate_approval``). The audit
entry is what counts: a failed (or unsupported) annotation is reported in the
:class:`ApprovalResult` and the approval stays. A promote counts approvals for the
same service made since its last successful promote (and for the same canary revision,
when both are known) by identities other than the promoter (:func:`same_identity`), and
the approvals in the object's ``pitboard.io/approvals`` annotation for exactly that
canary (made on another machine, with another audit store: ``gates.annotation_approvals``,
read by ``prepare`` from the snapshot; not counted on a context that does not trust them).
The run re-checks approvals (``gates.recheck_approvals``): a fresh audit read, and the
annotation read again from the object (``ClusterBackend.approvals_annotation``; a record
removed since the preview no longer counts, nor one that expired since; an object that
cannot be read counts none of them), the refusal saying why.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from backends.domain.actions import (ActionKind, ActionPlan, ActionRequest, ActionResult,
                              ActionStatus, Check, CheckStatus, ClusterIdentity,
                              RolloutProgress)
from backends.actions import silence
from backends.actions.catalog import BY_KIND, read_only
from backends.actions.config import ActionsConfig
from backends.domain.sources import AuditBackend, ClusterBackend
from backends.domain.errors import ActionRefused, BackendError, NotSupported
from backends.actions.approvals import APPROVALS as APPROVALS_ANNOTATION
from backends.actions.approvals import AnnotationApprovals
from backends.actions.gates import (APPROVALS, ApproverPolicy, annotation_approvals,
                                    approvals_since_promote, evaluate_promote_gates,
                                    find_service, recheck_approvals, service_approvals)
from backends.actions.identity import actor as identity_actor
from backends.actions.identity import parse_actor, same_identity
from backends.domain.models import AuditEntry, FleetSnapshot, Frozen, ModelService, utcnow

log = logging.getLogger(__name__)
SOURCE = "actions"
ProgressCallback = Callable[[RolloutProgress], None]


class ApprovalResult(Frozen):
    """What ``approve`` did: the audit entry (always), and whether the object carries it."""

    entry: AuditEntry
    annotated: bool = False
    message: str = Field("", description="where the annotation went, or why it did not")
    supported: bool = Field(True, description="False: the backend cannot annotate objects")


class PendingIntent(Frozen):
    """An intent whose outcome is unknown, with the object's state now."""

    intent: AuditEntry
    progress: RolloutProgress | None = None
    error: str = ""


def split_key(service_key: str) -> tuple[str, str, str, str]:
    """``cluster/namespace/kind/name`` -> its four parts (ActionRefused if malformed).
    Context and model names may hold "/" (see ``ModelService.parse_key``)."""
    parsed = ModelService.parse_key(service_key)
    if parsed is not None:
        return parsed
    parts = service_key.split("/", 3)
    if len(parts) != 4 or not all(parts):
        raise ActionRefused(f"not a service key: {service_key!r}", source=SOURCE)
    return parts[0], parts[1], parts[2], parts[3]


def _canary(service: ModelService | None) -> str | None:
    """The canary revision ``service`` shows (None: none, or no service)."""
    return service.canary.revision if service is not None and service.canary else None


def _check_dict(check: Check) -> dict:
    return {"name": check.name, "status": check.status.value, "reason": check.reason,
            "blocking": check.blocking, "overridable": check.overridable}


OPEN_INCIDENT: Any = object()
"""``run(incident_id=...)`` default: the incident open in the store when the intent is
written (what a lone console sees); pass the id the user sees instead."""


def settle_outcome(kind: ActionKind, progress: RolloutProgress) -> str:
    """The settle entry's outcome for a final ``progress``: ``complete`` (also a rollout
    that waits at a pause step, and an abort that left the rollout aborted, which is what
    it asked for), ``degraded`` or ``stuck`` (its progress deadline passed)."""
    if progress.phase in ("complete", "paused"):
        return "complete"
    if progress.phase == "degraded" and kind == ActionKind.ABORT and \
            progress.reason == "RolloutAborted":
        return "complete"
    if progress.phase == "stuck":
        return "stuck"
    return "degraded"


class ActionRunner:
    """Orchestrates guarded actions on ``cluster`` with ``audit`` as the record."""

    def __init__(self, cluster: ClusterBackend, audit: AuditBackend,
                 clock: Callable[[], datetime] = utcnow, *,
                 config: ActionsConfig | None = None, read_only: bool = False,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 alerts: Any = None) -> None:
        self.cluster = cluster
        self.alerts = alerts  # the Alertmanager source, for the silence action
        self.audit = audit
        self.clock = clock
        self.config = config or ActionsConfig()
        self.read_only = read_only
        self.sleep = sleep
        self.monotonic = monotonic
        # service_key -> the service as prepare saw it (None: not in the snapshot) and
        # prepare's now; the approvals in the object's annotation, as prepare read them
        self._seen: dict[str, tuple[ModelService | None, datetime]] = {}
        self._annotated: dict[str, AnnotationApprovals] = {}
        self._chain_id: str | None = None
        #: per thread (actions on different objects run at once): the newest entry written
        #: for the action in hand, whose anchor goes out to the cluster
        self._written = threading.local()

    # -- policy -----------------------------------------------------------------------
    def read_only_reason(self, context: str | None = None) -> str | None:
        """Why actions are unavailable in ``context`` (None: they are available)."""
        why = read_only(context or self.cluster.context, flag=self.read_only,
                        config=self.config, backend=getattr(self.cluster, "read_only", False))
        return why.message if why else None

    def confirm_name(self, plan: ActionPlan) -> str | None:
        """The object name to type before ``run`` on a protected context (else None)."""
        if not self.config.is_protected(plan.context):
            return None
        return split_key(plan.request.service_key)[3]

    def valid_approvals(self, service_key: str, canary: str | None = None) -> list[AuditEntry]:
        """Approvals of ``service_key`` since its last successful promote (same canary)
        that are part of the verified audit chain (:meth:`approvals_for`)."""
        return self.approvals_for(service_key, canary)[0]

    def approver_policy(self, context: str | None = None) -> ApproverPolicy:
        """Whose approvals may count here: cluster identities; local ones on the demo or
        when ``actions.local_approvers`` names them. On a ``context`` whose API server
        cannot say who anyone is, the policy's ``note`` says so and names who counts."""
        simulated = bool(getattr(self.cluster, "simulated", False))
        named = tuple(self.config.local_approvers)
        note = ""
        who = self._whoami(context) if context is not None and not simulated else None
        if who is not None and not who.user:
            note = (f"on {context}: {who.problem}; counted: cluster identities only"
                    + (f", and the local identities named in actions.local_approvers "
                       f"({', '.join(named)})" if named else
                       " (actions.local_approvers names no local identity)"))
        return ApproverPolicy(simulated=simulated, local_approvers=named, note=note)

    def _whoami(self, context: str) -> ClusterIdentity | None:
        """The cluster's SelfSubjectReview answer for ``context`` (None: this backend has
        no such answer to give, e.g. a test double)."""
        whoami_for = getattr(self.cluster, "whoami_for", None)
        if not callable(whoami_for):
            return None
        try:
            found = whoami_for(context)
        except Exception as exc:  # noqa: BLE001 - an identity unknown is refused, never a crash
            return ClusterIdentity(context=context, problem=f"could not ask who you are: {exc}")
        return found if isinstance(found, ClusterIdentity) else None

    def actor_for(self, context: str, actor: str) -> str:
        """The actor to record for an action or approval on ``context``.

        On a cluster, who acts is the cluster's answer (SelfSubjectReview), never ``$USER``:
        an ``actor`` without a cluster identity gets this context's answer added
        (``user@host k8s:<name>``); an actor that already carries one (the console and the
        CLI put the cluster's answer there) is kept. Where the API server cannot say (no
        SelfSubjectReview, or it could not be asked), the action is refused
        (ActionRefused, with why) unless ``actions.local_approvers`` names the local
        identity. On the demo, and on a backend with no identity to give, ``actor``
        stands."""
        if getattr(self.cluster, "simulated", False):
            return actor
        user, host, kube = parse_actor(actor)
        if kube:
            return actor
        who = self._whoami(context)
        if who is None:
            return actor
        if who.user:
            return identity_actor(who.user, user=user, host=host)
        if ApproverPolicy(local_approvers=tuple(self.config.local_approvers)).basis(actor):
            return actor  # named in the config: the operator chose to trust it here
        name = f"{user}@{host}" if host else user
        raise ActionRefused(
            f"refused on {context}: {who.problem}. With no cluster identity to record, "
            f"actions and approvals there are refused; to act as the local identity "
            f"{name!r}, name it (or {user!r}) in actions.local_approvers", source=SOURCE)

    def _chain_through(self) -> tuple[int | None, str]:
        """Up to which entry the audit chain verifies (None: all of it) and why not."""
        check = getattr(self.audit, "chain_state", None)
        if check is not None:
            state = check()
            return (None, "") if state.ok else (state.verified_through, state.summary())
        ok, message = self.audit.verify()
        return (None, "") if ok else (0, f"the audit log does not verify: {message}")

    def approvals_for(self, service_key: str, canary: str | None = None
                      ) -> tuple[list[AuditEntry], list[str]]:
        """The approvals of ``service_key`` since its last successful promote (same
        canary) that may count, and those set aside, each with why: an approval counts only
        if its entry is in the verified audit chain -- a row written behind the store
        (``sqlite3``: it does not match its own hash) or past the entry where the chain
        stops verifying does not."""
        through, why = self._chain_through()
        kept: list[AuditEntry] = []
        aside: list[str] = []
        for entry in self.audit.entries(target=service_key):
            problem = f"the entry is damaged: {entry.damaged}" if entry.damaged else (
                f"not in a verified audit chain: {why}"
                if through is not None and entry.seq > through else None)
            if problem is None:
                kept.append(entry)
            elif entry.kind == "approval" and entry.detail.get("canary") in (None, canary):
                aside.append(f"approval #{entry.seq} by {entry.actor} ({problem})")
        return approvals_since_promote(kept, canary), aside

    # -- prepare ----------------------------------------------------------------------
    def _bare_plan(self, request: ActionRequest, check: Check) -> ActionPlan:
        context, namespace, kind, name = split_key(request.service_key)
        return ActionPlan(request=request, context=context, namespace=namespace,
                          object_ref=f"{kind.lower()}/{name}", checks=(check,))

    def prepare(self, request: ActionRequest, snapshot: FleetSnapshot | None
                ) -> ActionPlan:
        """The plan for the guard modal: the cluster's plan and preflight checks, plus the
        promote gates and approvals. Read-only: no request is sent; one failed check."""
        context = split_key(request.service_key)[0]
        why = self.read_only_reason(context)
        if why:
            return self._bare_plan(request, Check(name="read-only", status=CheckStatus.FAILED,
                                                  reason=why, overridable=False))
        seen = find_service(snapshot, request.service_key) if snapshot else None
        unlabelled = read_only(context, flag=False, service=seen) if seen is not None else None
        if unlabelled is not None:
            return self._bare_plan(request, Check(name="read-only", status=CheckStatus.FAILED,
                                                  reason=unlabelled.message, overridable=False))
        try:
            request = request.model_copy(update={"actor": self.actor_for(context,
                                                                         request.actor)})
        except ActionRefused as exc:
            return self._bare_plan(request, Check(name="identity", status=CheckStatus.FAILED,
                                                  reason=str(exc), overridable=False))
        if request.kind == ActionKind.SILENCE:
            _ctx, namespace, _kind, name = split_key(request.service_key)
            found = find_service(snapshot, request.service_key) if snapshot else None
            return silence.plan(self.alerts, request, context, namespace, found,
                                found.name if found else name, self.clock())
        try:
            plan = self.cluster.plan(request)
        except BackendError as exc:
            return self._bare_plan(request, Check(
                name="preflight", status=CheckStatus.FAILED,
                reason=f"{exc.source}: {exc}", overridable=False))
        declared = BY_KIND.get(request.kind)
        if declared is None or not declared.gates:  # promote and promote-full are gated
            return plan
        if snapshot is None:
            return plan.model_copy(update={"checks": plan.checks + (Check(
                name="promote gates", status=CheckStatus.FAILED, overridable=False,
                reason="no fleet snapshot yet: cannot evaluate the promote gates"),)})
        gates = self.config.gates_for(plan.context)
        service, now = find_service(snapshot, request.service_key), self.clock()
        self._seen[request.service_key] = (service, now)
        canary = _canary(service)
        try:
            approvals, aside = self.approvals_for(request.service_key, canary)
        except BackendError as exc:
            approvals, aside = [], [f"the audit store cannot be read: {exc}"]
            log.warning("approvals unreadable: %s", exc)
        annotated = annotation_approvals(snapshot, request.service_key, now=now)
        self._annotated[request.service_key] = annotated
        extra = evaluate_promote_gates(snapshot, request.service_key, gates, approvals,
                                       request.actor, now=now, annotated=annotated,
                                       policy=self.approver_policy(plan.context),
                                       not_counted=aside)
        names = {c.name for c in plan.checks}
        return plan.model_copy(update={
            "checks": plan.checks + tuple(c for c in extra if c.name not in names)})

    # -- run --------------------------------------------------------------------------
    def _blocking(self, plan: ActionPlan, actor: str) -> list[Check]:
        checks = list(plan.checks)
        declared = BY_KIND.get(plan.request.kind)
        if declared is not None and "approvals" in declared.gates and \
                any(c.name == APPROVALS for c in checks):
            key = plan.request.service_key
            gates = self.config.gates_for(plan.context)
            annotated = self._annotated.get(key)
            if gates.trust_annotation_approvals:
                annotated = self._annotation_now(key, annotated)
            service = self._seen.get(key, (None, None))[0]
            approvals, aside = self.approvals_for(key, _canary(service))
            fresh = recheck_approvals(approvals, gates, actor, annotated, self.clock(),
                                      policy=self.approver_policy(plan.context),
                                      not_counted=aside)
            checks = [fresh if c.name == APPROVALS else c for c in checks]
        return [c for c in checks if c.status == CheckStatus.FAILED and c.blocking]

    def _annotation_now(self, key: str, preview: AnnotationApprovals | None
                        ) -> AnnotationApprovals | None:
        """The annotation's approvals as the object holds them now (a record removed
        since the preview no longer counts); the preview's when the backend cannot read
        annotations; none, with the reason, when the object cannot be read (fail closed:
        only the audit store's approvals count then)."""
        service, previewed_at = self._seen.get(key, (None, None))
        if service is None or previewed_at is None:
            return preview
        try:
            raw = self.cluster.approvals_annotation(key)
        except NotSupported:
            return preview
        except BackendError as exc:
            return AnnotationApprovals(ignored=(
                f"the {APPROVALS_ANNOTATION} annotation could not be read again before "
                f"the promote: {exc}",))
        # judged as at the preview; recheck_approvals then names what expired since
        return service_approvals(service, raw, previewed_at)

    def run(self, plan: ActionPlan, reason: str, actor: str, confirm_text: str | None = None,
            override: bool = False, on_progress: ProgressCallback | None = None,
            incident_id: Any = OPEN_INCIDENT) -> ActionResult:
        """Carry out ``plan`` (see the module docstring). Raises ActionRefused before
        anything is written; BackendError if the intent cannot be written (nothing sent).
        After the intent, always returns an ActionResult.

        ``incident_id``: the incident the user sees (an id, or None for none), so that
        another console opening an incident meanwhile cannot pull the action under it;
        default: the store's open incident when the intent is written. The outcome and
        settle entries always join their intent's incident."""
        why = self.read_only_reason(plan.context)
        if why:
            raise ActionRefused(f"refused: {why}", source=SOURCE)
        reason = (reason or "").strip()
        if not reason:
            raise ActionRefused("a reason is required", source=SOURCE)
        if not (actor or "").strip():
            raise ActionRefused("no actor identity", source=SOURCE)
        name = self.confirm_name(plan)
        if name is not None and (confirm_text or "").strip() != name:
            raise ActionRefused(f"{plan.context} is a protected context: type {name!r} "
                                f"to confirm", source=SOURCE)
        declared = BY_KIND.get(plan.request.kind)
        gated = declared is not None and bool(declared.gates)
        if gated:  # the approvals re-check compares identities: the cluster's, first
            actor = self.actor_for(plan.context, actor)
        failed = self._blocking(plan, actor)
        if failed and not override:
            raise ActionRefused("blocked by " + "; ".join(f"{c.name}: {c.reason}"
                                                          for c in failed), source=SOURCE)
        hard = [c for c in failed if not c.overridable]
        if hard:
            raise ActionRefused("cannot be overridden: " + "; ".join(
                f"{c.name}: {c.reason}" for c in hard), source=SOURCE)
        if plan.noop:
            return ActionResult(status=ActionStatus.SKIPPED,
                                message=plan.noop_reason or "nothing to change")
        if not gated:  # refused above without asking the cluster anything
            actor = self.actor_for(plan.context, actor)
        request = plan.request.model_copy(
            update={"reason": reason, "actor": actor, "override": bool(failed)})
        intent = self._write_intent(plan, request, failed, incident_id)
        last = self._last_written() or intent  # the override entry, when there is one
        request = request.model_copy(update={"audit_anchor": f"{last.seq}:{last.hash}",
                                             "audit_chain": self.chain_id()})
        result = self._call(request)
        error = self._record(intent, "outcome", result.status.value, result.message,
                             {"message": result.message, **result.detail})
        if error:  # the action happened; the UI must say the record is incomplete
            result = result.model_copy(update={
                "detail": {**result.detail, "audit_error": error},
                "warnings": (*result.warnings, f"audit record incomplete: {error}")})
        else:
            result = self._with_anchor(result, self._anchor_outcome(request, result))
        if result.status != ActionStatus.SUCCEEDED:
            return result
        return self._watch(plan, intent, result, on_progress)

    # -- anchors in the cluster ----------------------------------------------------------
    def _last_written(self) -> AuditEntry | None:
        return getattr(self._written, "entry", None)

    def chain_id(self) -> str | None:
        """The audit chain's id: its entry #1's hash, 16 hex digits (None: no entry #1 in
        the live store, e.g. pruned, or a store that cannot say)."""
        if self._chain_id is None:
            entry = getattr(self.audit, "entry", None)
            try:
                first = entry(1) if callable(entry) else None
            except BackendError:
                first = None
            self._chain_id = first.hash[:16] if first is not None else None
        return self._chain_id

    def _anchor(self, entry: AuditEntry | None, what: str, *, reason: str = "PitboardAudit",
                annotations: dict[str, str] | None = None, annotate: bool = True
                ) -> list[str]:
        """Leave ``entry``'s ``COUNT:HASH`` on its object and in an Event there
        (``ClusterBackend.mirror_audit``). Returns warnings; never raises."""
        if entry is None or not entry.target:
            return []
        mirror = getattr(self.cluster, "mirror_audit", None)
        if not callable(mirror):
            return []
        anchor = f"{entry.seq}:{entry.hash}"
        try:
            return list(mirror(entry.target, anchor, self.chain_id(), what, reason=reason,
                               annotations=annotations, annotate=annotate))
        except NotSupported:
            return []
        except BackendError as exc:
            return [f"audit entry #{entry.seq} not anchored on the cluster: {exc}"]
        except Exception as exc:  # noqa: BLE001 - the record stands: say, don't raise
            log.exception("audit anchor failed unexpectedly")
            return [f"audit entry #{entry.seq} not anchored on the cluster: unexpected "
                    f"{type(exc).__name__}: {exc}"]

    def _anchor_outcome(self, request: ActionRequest, result: ActionResult) -> list[str]:
        """The outcome entry just written, anchored; a silence's with the silence (its id
        and expiry on the model's object, as other actions leave theirs)."""
        entry = self._last_written()
        what = f"{request.kind.value} {result.status.value}: {result.message}"
        if request.kind == ActionKind.SILENCE and result.status == ActionStatus.SUCCEEDED:
            record = {"id": result.detail.get("silence_id"),
                      "ends_at": result.detail.get("ends_at"), "who": request.actor,
                      "reason": request.reason, "audit": f"{entry.seq}:{entry.hash}"
                      if entry is not None else None}
            return self._anchor(entry, f"{request.actor}: {result.message}; reason: "
                                       f"{request.reason}", reason="PitboardSilence",
                                annotations={"pitboard.io/silence": json.dumps(
                                    record, sort_keys=True)})
        # after a failed call the object stays exactly as it was: the Event only
        return self._anchor(entry, what, annotate=result.status == ActionStatus.SUCCEEDED)

    @staticmethod
    def _with_anchor(result: ActionResult, warnings: list[str]) -> ActionResult:
        if not warnings:
            return result
        return result.model_copy(update={
            "detail": {**result.detail, "warnings": [*result.detail.get("warnings", []),
                                                     *warnings]},
            "warnings": (*result.warnings, *warnings)})

    def _write_intent(self, plan: ActionPlan, request: ActionRequest,
                      overridden: list[Check], incident_id: Any = OPEN_INCIDENT
                      ) -> AuditEntry:
        kind = request.kind.value
        tie = {} if incident_id is OPEN_INCIDENT else {"incident_id": incident_id}
        intent = self.audit.append(
            "intent", actor=request.actor, action=kind, target=request.service_key,
            reason=request.reason, **tie,
            detail={"context": plan.context, "namespace": plan.namespace,
                    "object_ref": plan.object_ref, "to_revision": request.to_revision,
                    "changes": [c.model_dump() for c in plan.changes],
                    "checks": [_check_dict(c) for c in plan.checks],
                    "override": bool(overridden)})
        self._written.entry = intent
        if overridden:
            self._written.entry = self.audit.append(
                "override", actor=request.actor, action=kind, target=request.service_key,
                reason=request.reason, intent_seq=intent.seq, incident_id=intent.incident_id,
                detail={"checks": [_check_dict(c) for c in overridden]})
        return intent

    def _call(self, request: ActionRequest) -> ActionResult:
        try:
            if request.kind == ActionKind.SILENCE:
                _ctx, namespace, _kind, name = split_key(request.service_key)
                return silence.run(self.alerts, request, name, namespace, self.clock())
            return self.cluster.execute(request)
        except TimeoutError as exc:
            return ActionResult(status=ActionStatus.TIMED_OUT,
                                message=f"the call timed out: {exc}")
        except BackendError as exc:
            code = f" ({exc.status})" if exc.status else ""
            return ActionResult(status=ActionStatus.FAILED,
                                message=f"{exc.source}{code}: {exc}",
                                detail={"error": type(exc).__name__, "status": exc.status})
        except Exception as exc:  # noqa: BLE001 - the call may have landed: say so
            log.exception("action call failed unexpectedly")
            return ActionResult(status=ActionStatus.UNKNOWN,
                                message=f"unexpected {type(exc).__name__}: {exc}")

    def _record(self, intent: AuditEntry, kind: str, outcome: str, message: str,
                detail: dict) -> str:
        """Append an outcome/settle entry (kept as ``_last_written``); returns "" or why it
        could not be written."""
        self._written.entry = None
        try:
            self._written.entry = self.audit.append(kind, actor=intent.actor, action=intent.action,
                              target=intent.target, outcome=outcome, intent_seq=intent.seq,
                              incident_id=intent.incident_id,
                              reason=message[:4000] or None, detail=detail)
        except BackendError as exc:  # the intent stays pending: shown as "outcome unknown"
            log.error("could not record %s of intent #%s: %s", kind, intent.seq, exc)
            return f"could not record the {kind}: {exc}"
        return ""

    def _watch(self, plan: ActionPlan, intent: AuditEntry, result: ActionResult,
               on_progress: ProgressCallback | None) -> ActionResult:
        gates = self.config.gates_for(plan.context)
        deadline = self.monotonic() + gates.progress_timeout_s
        progress: RolloutProgress | None = None
        error = ""
        silence_id = result.detail.get("silence_id") \
            if plan.request.kind == ActionKind.SILENCE else None
        while True:
            try:
                progress = silence.progress(self.alerts, str(silence_id)) if silence_id \
                    else self.cluster.progress(plan.request.service_key)
                error = ""
            except BackendError as exc:
                error = f"{exc.source}: {exc}"
            if progress is not None and on_progress is not None:
                try:
                    on_progress(progress)
                except Exception:  # noqa: BLE001 - a UI callback must not break the record
                    log.exception("on_progress callback failed")
            if progress is not None and progress.done:
                break
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                break
            self.sleep(min(gates.progress_poll_s, remaining))
        detail = progress.model_dump() if progress else {}
        if progress is not None and progress.done:
            outcome = settle_outcome(plan.request.kind, progress)
            if outcome == "complete":
                extra = self._settled(intent, "complete", progress.message, detail)
                return self._with_anchor(result.model_copy(update={
                    "detail": {**result.detail, "progress": detail}}), extra)
            why = f"{progress.reason}: " if progress.reason and \
                progress.reason not in progress.message else ""
            msg = f"rollout {outcome}: {why}{progress.message}".strip()
            extra = self._settled(intent, outcome, msg, detail)
            return self._with_anchor(ActionResult(
                status=ActionStatus.FAILED, message=msg,
                detail={**result.detail, "progress": detail}, warnings=result.warnings), extra)
        msg = (f"rollout did not settle within {gates.progress_timeout_s:g}s"
               + (f" ({error})" if error else ""))
        extra = self._settled(intent, "timed_out", msg, detail)
        return self._with_anchor(ActionResult(status=ActionStatus.TIMED_OUT, message=msg,
                                              detail=detail, warnings=result.warnings), extra)

    def _settled(self, intent: AuditEntry, outcome: str, message: str, detail: dict
                 ) -> list[str]:
        """Record the settle entry and anchor it; the anchor's warnings."""
        if self._record(intent, "settle", outcome, message, detail):
            return []
        return self._anchor(self._last_written(), f"{intent.action} settled {outcome}: "
                                                f"{message}")

    # -- crash recovery ---------------------------------------------------------------
    def unknown_outcomes(self) -> list[PendingIntent]:
        """Intents without an outcome (a crash mid-action), each with the object's current
        rollout state (or why it could not be read): shown as "outcome unknown"."""
        out = []
        for intent in self.audit.pending_intents():
            progress, error = None, ""
            try:
                progress = self.cluster.progress(intent.target or "")
            except BackendError as exc:
                error = f"{exc.source}: {exc}"
            out.append(PendingIntent(intent=intent, progress=progress, error=error))
        return out

    def acknowledge(self, intent: AuditEntry, actor: str, observed: str) -> AuditEntry:
        """Close a crashed intent: record an ``unknown`` outcome with what the operator
        saw (``observed``), so it stops showing as pending."""
        parsed = ModelService.parse_key(intent.target or "")
        why = self.read_only_reason(parsed[0] if parsed else None)
        if why:
            raise ActionRefused(f"refused: {why}", source=SOURCE)
        return self.audit.append("outcome", actor=actor, action=intent.action,
                                 target=intent.target, intent_seq=intent.seq,
                                 outcome=ActionStatus.UNKNOWN.value,
                                 reason=f"acknowledged after a crash: {observed}".strip())

    # -- cancel and approve -------------------------------------------------------------
    def cancel(self, plan: ActionPlan, actor: str) -> None:
        """Record nothing and send nothing (see the module docstring for why)."""
        log.debug("cancelled %s of %s by %s", plan.request.kind.value,
                  plan.request.service_key, actor)

    def approve(self, service_key: str, actor: str, reason: str, *,
                promoter: str | None = None, canary: str | None = None) -> ApprovalResult:
        """Record an approval of promoting ``service_key`` (optionally of one ``canary``
        revision), then annotate the object with it. Refused (nothing written or sent) when
        read-only, without a reason, or when ``actor`` is the ``promoter`` (same identity).
        Raises BackendError when the audit entry cannot be written (nothing sent)."""
        context = split_key(service_key)[0]
        why = self.read_only_reason(context)
        if why:
            raise ActionRefused(f"refused: {why}", source=SOURCE)
        reason = (reason or "").strip()
        if not reason:
            raise ActionRefused("an approval needs a reason", source=SOURCE)
        actor = self.actor_for(context, actor)
        if promoter:
            try:
                promoter = self.actor_for(context, promoter)
            except ActionRefused:
                pass  # compared as given
        if promoter and same_identity(actor, promoter):
            raise ActionRefused(f"{actor} cannot approve their own promotion: the approval "
                                f"must come from someone else", source=SOURCE)
        entry = self.audit.append("approval", actor=actor, action="approve",
                                  target=service_key, reason=reason,
                                  detail={"canary": canary, "promoter": promoter})
        result = self._annotate(entry, canary)
        if result.annotated:  # an object that refused the approval is left as it was
            anchored = self._anchor(entry, f"{actor} approved promoting {service_key}"
                                           + (f" to canary {canary}" if canary else "")
                                           + f"; reason: {reason}")
            if anchored:
                result = result.model_copy(update={
                    "message": f"{result.message}; {'; '.join(anchored)}"})
        return result

    def _annotate(self, entry: AuditEntry, canary: str | None) -> ApprovalResult:
        """Mirror ``entry`` on the object; never raises (the audit approval stands)."""
        key = entry.target or ""
        try:
            where = self.cluster.annotate_approval(key, entry.actor, entry.reason or "",
                                                   entry.at, canary=canary)
        except NotSupported:
            return ApprovalResult(entry=entry, supported=False,
                                  message="recorded in the audit log (this backend does not "
                                          "annotate objects)")
        except BackendError as exc:
            log.warning("approval #%s not annotated: %s", entry.seq, exc)
            return ApprovalResult(entry=entry, message=f"recorded in the audit log, but the "
                                                       f"annotation failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - the approval is recorded: say, don't raise
            log.exception("approval annotation failed unexpectedly")
            return ApprovalResult(entry=entry, message=f"recorded in the audit log, but the "
                                                       f"annotation failed: unexpected "
                                                       f"{type(exc).__name__}: {exc}")
        return ApprovalResult(entry=entry, annotated=True,
                              message=f"recorded in the audit log and on {where or key}")
