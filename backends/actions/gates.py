"""Promote gates: pure functions from a :class:`FleetSnapshot` (+ approvals) to checks.

Checks produced for ``promote`` (names are stable; the guard modal lists them):

- ``canary present``  -- the service exists and has a canary leg (not overridable);
- ``canary error ratio`` -- canary minus stable <= ``max_error_ratio_delta`` and, when
  stable > 0, canary / stable <= ``max_error_ratio_vs_stable`` (overridable);
- ``canary p95 latency`` -- canary p95 / stable p95 <= ``max_p95_ratio_vs_stable``
  (overridable);
- ``canary age`` -- the canary revision is at least ``min_canary_age_s`` old (overridable);
- ``approvals`` -- ``approvals_required`` approvals by identities other than the promoter
  (not overridable: separation of duties is not a gate the promoter may waive). Only
  cluster identities count, and local ``user@host`` ones on the demo or when
  ``actions.local_approvers`` names them (:class:`ApproverPolicy`); the reason says whose
  approvals it counts, on what basis, and which it does not count and why. They come
  from the local audit store and, when the caller passes them (:func:`annotation_approvals`),
  from the object's ``pitboard.io/approvals`` annotation: approvals made on another
  machine, for this exact canary revision. Each identity counts once, whichever the source.
  A context with ``trust_annotation_approvals = false`` counts the audit store's only (the
  reason says so). The run re-checks it (:func:`recheck_approvals`) on the annotation read
  again from the object: records removed, or expired, between the preview and the confirm
  no longer count.

Health older than ``window_s`` counts as missing. Missing data fails the gate
(overridable) when ``block_on_missing_data``, else it is ``unknown`` (non-blocking).
"No other rollout in flight" is the cluster backend's preflight (``ClusterBackend.plan``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from backends.domain.actions import ActionKind, ActionStatus, Check, CheckStatus
from backends.actions.config import PromoteGates
from backends.actions.approvals import APPROVALS as APPROVALS_ANNOTATION
from backends.actions.approvals import AnnotatedApproval, AnnotationApprovals, object_target, read_approvals
from backends.actions.identity import parse_actor, same_identity
from backends.domain.models import AuditEntry, FleetSnapshot, HealthSample, ModelService, Revision

CANARY = "canary present"
ERRORS = "canary error ratio"
LATENCY = "canary p95 latency"
AGE = "canary age"
APPROVALS = "approvals"


def _window(seconds: int) -> str:
    """Short human duration: 45s, 5m, 2h05m, 3d04h."""
    seconds = max(0, int(seconds))
    if seconds < 60 or (seconds < 600 and seconds % 60):
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def human_duration(seconds: int) -> str:
    """``45s``, ``5m``, ``2h05m``, ``3d04h``: how the gates' reasons write durations."""
    return _window(seconds)


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def _passed(name: str, reason: str) -> Check:
    return Check(name=name, status=CheckStatus.PASSED, reason=reason, overridable=True)


def _failed(name: str, reason: str, overridable: bool = True) -> Check:
    return Check(name=name, status=CheckStatus.FAILED, reason=reason, overridable=overridable)


def _missing(name: str, reason: str, gates: PromoteGates) -> Check:
    if gates.block_on_missing_data:
        return _failed(name, f"{reason}: cannot evaluate")
    return Check(name=name, status=CheckStatus.UNKNOWN, reason=reason, blocking=False,
                 overridable=True)


def find_service(snapshot: FleetSnapshot, service_key: str) -> ModelService | None:
    return next((s for s in snapshot.services if s.key == service_key), None)


def _legs(snapshot: FleetSnapshot, service: ModelService, now: datetime, window_s: int
          ) -> tuple[HealthSample | None, HealthSample | None, str | None]:
    """(canary, stable) health samples no older than the window, and why there are none
    when the service's figures cannot be told apart from a same-named service's."""
    canary = service.canary
    if canary is None:
        return None, None, None
    own = snapshot.revision_health_of(service)
    twin = None if own else snapshot.metrics_twin(service)
    if twin is not None:
        return None, None, (f"metrics of {service.name} cannot be told apart from "
                            f"{twin.key}'s (same model name and namespace; a cluster label "
                            f"on the series tells contexts apart: [prometheus] cluster_label)")
    stable_rev = next((t.revision for t in sorted(service.traffic, key=lambda t: -t.percent)
                       if t.role != "canary" and t.revision != canary.revision), None)
    fresh = [s for s in own if s.at >= now - timedelta(seconds=window_s)]
    can = next((s for s in fresh if s.revision == canary.revision), None)
    stab = next((s for s in fresh if stable_rev is not None and s.revision == stable_rev), None)
    return can, stab, None


def _error_check(can: HealthSample | None, stab: HealthSample | None,
                 gates: PromoteGates, unknown: str | None = None) -> Check:
    win = _window(gates.window_s)
    if gates.max_error_ratio_delta is None and gates.max_error_ratio_vs_stable is None:
        return Check(name=ERRORS, status=CheckStatus.PASSED, reason="gate disabled",
                     blocking=False)
    if unknown is not None:
        return _missing(ERRORS, unknown, gates)
    if can is None or can.error_ratio is None:
        return _missing(ERRORS, f"no canary error data in the last {win}", gates)
    if stab is None or stab.error_ratio is None:
        return _missing(ERRORS, f"no stable error data in the last {win}", gates)
    c, s = can.error_ratio, stab.error_ratio
    seen = f"canary {_pct(c)} vs stable {_pct(s)} over {win}"
    delta = gates.max_error_ratio_delta
    if delta is not None and c - s > delta + 1e-12:
        return _failed(ERRORS, f"{seen}: +{(c - s) * 100:.2f} points > {delta * 100:.2f}")
    ratio = gates.max_error_ratio_vs_stable
    if ratio is not None and s > 0 and c / s > ratio:
        return _failed(ERRORS, f"{seen}: x{c / s:.2f} > x{ratio:.2f}")
    return _passed(ERRORS, seen)


def _latency_check(can: HealthSample | None, stab: HealthSample | None,
                   gates: PromoteGates, unknown: str | None = None) -> Check:
    win = _window(gates.window_s)
    limit = gates.max_p95_ratio_vs_stable
    if limit is None:
        return Check(name=LATENCY, status=CheckStatus.PASSED, reason="gate disabled",
                     blocking=False)
    if unknown is not None:
        return _missing(LATENCY, unknown, gates)
    if can is None or can.p95_ms is None:
        return _missing(LATENCY, f"no canary p95 in the last {win}", gates)
    if stab is None or not stab.p95_ms:
        return _missing(LATENCY, f"no stable p95 in the last {win}", gates)
    ratio = can.p95_ms / stab.p95_ms
    seen = f"canary {can.p95_ms:.0f} ms vs stable {stab.p95_ms:.0f} ms over {win}"
    if ratio > limit:
        return _failed(LATENCY, f"{seen}: x{ratio:.2f} > x{limit:.2f}")
    return _passed(LATENCY, f"{seen} (x{ratio:.2f})")


def match_revision(revisions: Sequence[Revision], name: str, version: str | None
                   ) -> Revision | None:
    """The history entry of a traffic leg: by number (``"3"``, ``"m-predictor-00003"``,
    ``"m-7d9f-3"``) or by version."""
    for rev in revisions:
        tail = name.rsplit("-", 1)[-1]
        if name == str(rev.number) or (tail.isdigit() and int(tail) == rev.number):
            return rev
    if version is not None:
        return next((r for r in revisions if r.version == version), None)
    return None


def _age_check(snapshot: FleetSnapshot, service: ModelService, now: datetime,
               gates: PromoteGates) -> Check:
    need = gates.min_canary_age_s
    if not need:
        return Check(name=AGE, status=CheckStatus.PASSED, reason="gate disabled",
                     blocking=False)
    canary = service.canary
    assert canary is not None
    rev = match_revision(snapshot.revisions.get(service.key, ()), canary.revision,
                         canary.version)
    if rev is None or rev.created is None:
        return _missing(AGE, f"creation time of canary {canary.revision} unknown", gates)
    age = (now - rev.created).total_seconds()
    seen = f"canary {canary.revision} is {_window(int(age))} old"
    if age < need:
        return _failed(AGE, f"{seen}, needs {_window(need)}")
    return _passed(AGE, seen)


def annotation_approvals(snapshot: FleetSnapshot, service_key: str,
                         now: datetime | None = None) -> AnnotationApprovals:
    """Approvals in the ``pitboard.io/approvals`` annotation of ``service_key`` (as the
    snapshot shows the object) that may count for promoting its current canary at ``now``
    (default ``snapshot.taken_at``), and why the others are ignored. Never raises."""
    service = find_service(snapshot, service_key)
    if service is None:
        return AnnotationApprovals()
    return service_approvals(service, service.annotations.get(APPROVALS_ANNOTATION),
                             now or snapshot.taken_at)


def service_approvals(service: ModelService, raw: str | None,
                      now: datetime) -> AnnotationApprovals:
    """The approvals in ``raw`` (an approvals annotation value) that may count for
    promoting ``service``'s current canary at ``now``. Never raises."""
    canary = service.canary.revision if service.canary is not None else None
    return read_approvals(raw, target=object_target(service.namespace, service.kind.value,
                                                    service.name),
                          canary=canary, now=now)


UNTRUSTED = f"annotation approvals ({APPROVALS_ANNOTATION}) are not trusted on this context"
LOCAL_ONLY = ("a local identity, not a cluster one: counts only on the demo or when named "
              "in actions.local_approvers")


@dataclass(frozen=True)
class ApproverPolicy:
    """Whose approvals may count. A cluster identity (an actor with ``k8s:...``, the
    cluster's own answer) always may. A local identity (``user@host``, which anyone can
    claim by setting ``$USER``) only on a simulated cluster (the demo), or when the config
    names it: ``actions.local_approvers`` entries are a user name (any host) or
    ``user@host``."""

    simulated: bool = False
    local_approvers: tuple[str, ...] = ()
    #: whose approvals count on this context and why, when that is not the norm (the API
    #: server cannot say who anyone is): appended to the approvals check's reason
    note: str = ""

    def basis(self, actor: str) -> str | None:
        """Why ``actor``'s approval may count ("" for a cluster identity: the norm), or
        None when it may not."""
        user, host, kube = parse_actor(actor)
        if kube:
            return ""
        if self.simulated:
            return "local identity, demo"
        names = {user.casefold(), f"{user}@{host}".casefold()}
        if any(name.strip().casefold() in names for name in self.local_approvers):
            return "local identity named in actions.local_approvers"
        return None


STRICT = ApproverPolicy()


def _untrusted(annotated: AnnotationApprovals | None) -> str:
    """The reason's tail when the context does not trust the annotation."""
    n = len(annotated.approvals) if annotated is not None else 0
    return f"; {UNTRUSTED}" + (f" ({n} there not counted)" if n else "")


def _count_approvers(merged: Sequence[AuditEntry | AnnotatedApproval], promoter: str,
                     policy: ApproverPolicy, not_counted: Sequence[str] = ()
                     ) -> tuple[list[str], dict[str, str], set[str], list[str], bool]:
    """(approvers counted once per identity, on what basis each counts, those of them from
    the annotation, the approvals not counted with why, whether the promoter's own approval
    was among them) -- the promoter's never counts, nor an identity ``policy`` refuses."""
    approvers: list[str] = []
    why: dict[str, str] = {}
    from_annotation: set[str] = set()
    skipped = list(not_counted)
    own = False
    for entry in merged:
        if promoter and same_identity(entry.actor, promoter):
            own = True
            continue
        basis = policy.basis(entry.actor)
        if basis is None:
            note = f"{entry.actor} ({LOCAL_ONLY})"
            if note not in skipped:
                skipped.append(note)
        elif not any(same_identity(entry.actor, a) for a in approvers):
            approvers.append(entry.actor)
            why[entry.actor] = basis
            if isinstance(entry, AnnotatedApproval):
                from_annotation.add(entry.actor)
    return approvers, why, from_annotation, skipped, own


def counted_approvers(approvals: Sequence[AuditEntry | AnnotatedApproval], promoter: str, *,
                      annotated: AnnotationApprovals | None = None, trusted: bool = True,
                      policy: ApproverPolicy = STRICT) -> tuple[str, ...]:
    """The identities whose approvals count towards a promote by ``promoter``, as
    :func:`approval_check` counts them (each once, never the promoter's; the annotation's
    only when ``trusted``): for the promotion queue's "approvals counted and missing"."""
    if not trusted:
        merged: list[AuditEntry | AnnotatedApproval] = [
            a for a in approvals if not isinstance(a, AnnotatedApproval)]
    else:
        merged = list(approvals) + list(annotated.approvals if annotated is not None else ())
    return tuple(_count_approvers(merged, promoter, policy)[0])


def leg_health(snapshot: FleetSnapshot, service: ModelService, now: datetime, window_s: int
               ) -> tuple[HealthSample | None, HealthSample | None, str | None]:
    """(canary, stable) health samples no older than ``window_s``, as the promote gates
    read them, and why there are none when the figures cannot be told apart from another
    service's (public for the promotion queue, which shows the figures the gates judge)."""
    return _legs(snapshot, service, now, window_s)


def approval_check(approvals: Sequence[AuditEntry | AnnotatedApproval], required: int,
                   promoter: str, *, annotated: AnnotationApprovals | None = None,
                   trusted: bool = True, policy: ApproverPolicy = STRICT,
                   not_counted: Sequence[str] = ()) -> Check:
    """Approvals counted once per identity, never the promoter's own, and only from
    identities ``policy`` accepts (local ones are named as not counted). ``approvals``
    are the audit store's; ``annotated`` adds those read from the object's annotation
    (another machine's), and its ignored records are named in the reason.
    ``trusted=False`` (the context's ``trust_annotation_approvals``): ``annotated`` does
    not count, and the reason says annotation approvals are not trusted on this context.
    ``not_counted``: approvals the caller already set aside, with why (e.g. not in a
    verified audit chain), named in the reason."""
    if required <= 0:
        return Check(name=APPROVALS, status=CheckStatus.PASSED, reason="none required",
                     blocking=False)
    if not trusted:
        local = approval_check(
            [a for a in approvals if not isinstance(a, AnnotatedApproval)], required, promoter,
            policy=policy, not_counted=not_counted)
        return local.model_copy(update={"reason": local.reason + _untrusted(annotated)})
    merged = list(approvals) + list(annotated.approvals if annotated is not None else ())
    approvers, why, from_annotation, skipped, own = _count_approvers(merged, promoter, policy,
                                                                     not_counted)
    ignored = annotated.ignored_summary() if annotated is not None else ""
    tail = f"; ignored in {APPROVALS_ANNOTATION}: {ignored}" if ignored else ""
    if skipped:
        tail += "; not counted: " + "; ".join(skipped[:3]) + (
            f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")

    def name(actor: str) -> str:
        tags = [f"from {APPROVALS_ANNOTATION}"] if actor in from_annotation else []
        tags += [why[actor]] if why.get(actor) else []
        return f"{actor} ({', '.join(tags)})" if tags else actor

    names = ", ".join(name(a) for a in approvers)
    if policy.note:
        tail += f"; {policy.note}"
    if len(approvers) >= required:
        return Check(name=APPROVALS, status=CheckStatus.PASSED,
                     reason=f"approved by {names}{tail}")
    got = f"{len(approvers)} of {required} approvals by someone other than the promoter"
    if approvers:
        got += f" ({names})"
    if own:
        got += " (your own approval does not count)"
    others = annotated.other_revisions if annotated is not None else 0
    if others:
        got += f"; {others} in {APPROVALS_ANNOTATION} approve other revisions"
    return _failed(APPROVALS, got + tail, overridable=False)


def approvals_since_promote(entries: Iterable[AuditEntry], canary: str | None = None
                            ) -> list[AuditEntry]:
    """The ``approval`` entries among one service's audit ``entries`` (oldest first) made
    since its last successful promote, for ``canary`` when both it and the entry name one."""
    promote_intents: set[int] = set()
    valid: list[AuditEntry] = []
    for entry in entries:
        if entry.kind == "intent" and entry.action == ActionKind.PROMOTE.value:
            promote_intents.add(entry.seq)
        elif (entry.kind == "outcome" and entry.intent_seq in promote_intents
              and entry.outcome == ActionStatus.SUCCEEDED.value):
            valid = []
        elif entry.kind == "approval":
            approved = entry.detail.get("canary")
            if canary is None or approved is None or approved == canary:
                valid.append(entry)
    return valid


def evaluate_promote_gates(snapshot: FleetSnapshot, service_key: str, gates: PromoteGates,
                           approvals: Sequence[AuditEntry] = (), promoter: str = "",
                           now: datetime | None = None, *,
                           annotated: AnnotationApprovals | None = None,
                           policy: ApproverPolicy = STRICT,
                           not_counted: Sequence[str] = ()) -> tuple[Check, ...]:
    """All promote checks for ``service_key``; ``now`` defaults to ``snapshot.taken_at``.
    ``approvals`` are the approval entries still valid for this canary; ``annotated`` the
    approvals read from the object's annotation (:func:`annotation_approvals`); ``policy``
    whose approvals may count; ``not_counted`` approvals set aside, with why."""
    now = now or snapshot.taken_at
    service = find_service(snapshot, service_key)
    if service is None:
        return (_failed(CANARY, f"{service_key} is not in the current snapshot", False),)
    canary = service.canary
    if canary is None:
        return (_failed(CANARY, f"{service.name} has no canary to promote", False),)
    checks = [Check(name=CANARY, status=CheckStatus.PASSED,
                    reason=f"canary {canary.revision} at {canary.percent:g}% traffic")]
    can, stab, unknown = _legs(snapshot, service, now, gates.window_s)
    checks += [_error_check(can, stab, gates, unknown),
               _latency_check(can, stab, gates, unknown),
               _age_check(snapshot, service, now, gates),
               approval_check(approvals, gates.approvals_required, promoter,
                              annotated=annotated, trusted=gates.trust_annotation_approvals,
                              policy=policy, not_counted=not_counted)]
    return tuple(checks)


def recheck_approvals(approvals: Sequence[AuditEntry], gates: PromoteGates, promoter: str,
                      annotated: AnnotationApprovals | None, now: datetime, *,
                      policy: ApproverPolicy = STRICT,
                      not_counted: Sequence[str] = ()) -> Check:
    """The approvals check again when the promote runs: ``approvals`` freshly read from the
    audit store, ``annotated`` as read again from the object (or as the preview read it,
    when the backend cannot read annotations), re-checked against the clock (``now``): an
    annotation approval that expired since the preview no longer counts, and the reason
    names it."""
    return approval_check(approvals, gates.approvals_required, promoter,
                          annotated=annotated.at(now) if annotated is not None else None,
                          trusted=gates.trust_annotation_approvals, policy=policy,
                          not_counted=not_counted)
