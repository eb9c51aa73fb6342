"""Approvals mirrored on the approved object: the ``pitboard.io/approvals`` annotation.

Its value is a JSON list, newest last, of ``{"who", "when", "reason", "canary"?,
"target"?, "expires"?}``; only the newest :data:`MAX_APPROVALS` stay on the object (the
audit log keeps every one). Shared by the Kubernetes backend (a merge patch) and the demo
(kept in the simulated state).

The audit store is the record; the annotation is the mirror other machines read:
:func:`read_approvals` turns it back into approvals that may count for one promote (an
engineer's pitboard sees the release manager's approval made on another machine, with
another audit store). Anyone allowed to patch the object can write the annotation, so it
is exactly as trustworthy as the cluster's RBAC on that object; a context may refuse to
trust it (``trust_annotation_approvals = false``, backends/actions_config.py). Records
pitboard writes name their ``target``, so a manifest copied to another object does not
carry its approvals over; records without one (older pitboards) still count.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from backends.domain.errors import BackendError
from backends.domain.inert import printable
from backends.domain.models import Frozen

APPROVALS = "pitboard.io/approvals"
MAX_APPROVALS = 20
MAX_REASON = 500


def approval_record(approver: str, reason: str, at: datetime,
                    canary: str | None = None, target: str | None = None) -> dict:
    """One element of the annotation: who, when (UTC, seconds), why, which canary, and on
    which object (``namespace/Kind/name``, see :func:`object_target`) when known."""
    when = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    reason = reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
    record = {"who": approver, "when": when, "reason": reason}
    if canary is not None:
        record["canary"] = canary
    if target is not None:
        record["target"] = target
    return record


def parse_approvals(raw: str | None, ref: str, *, source: str = "backend") -> list:
    """The annotation's current list. Raises BackendError when it holds something else:
    it is not ours to overwrite (nothing is lost)."""
    if raw is None or not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise BackendError(f"annotation {APPROVALS} on {ref} is not a JSON list "
                           f"({raw[:80]!r}); left unchanged", source=source)
    return value


def with_approval(current: list, record: dict) -> str:
    """The annotation value once ``record`` is appended (bounded, stable key order)."""
    return json.dumps((current + [record])[-MAX_APPROVALS:], sort_keys=True,
                      ensure_ascii=False)


# -- reading the annotation back (another machine's approvals) ---------------------------------

#: Larger values are not parsed (the API server caps all annotations at 256 KiB together).
MAX_RAW = 64 * 1024
#: Longer ``who`` values are not identities pitboard wrote (``identity.actor`` is bounded).
MAX_WHO = 512
_SHOWN_IGNORED = 3


class AnnotatedApproval(Frozen):
    """One approval read from the ``pitboard.io/approvals`` annotation, already checked to
    be for this object and this canary, and unexpired. ``actor`` stays literal (it is data,
    compared with :func:`backends.actions.identity.same_identity`, never interpreted)."""

    actor: str
    at: datetime
    reason: str = ""
    canary: str
    target: str | None = None
    expires: datetime | None = None
    source: str = "annotation"


class AnnotationApprovals(Frozen):
    """What the annotation holds for one promote: the approvals that may count, how many
    records approve other revisions (earlier canaries: the annotation outlives
    promotions, so they are expected and not an error), and why the remaining records were
    ignored (malformed, expired, another object; each reason one inert line)."""

    approvals: tuple[AnnotatedApproval, ...] = ()
    other_revisions: int = 0
    ignored: tuple[str, ...] = ()

    def ignored_summary(self) -> str:
        """The ignored reasons, the first few in full, then how many more."""
        shown = list(self.ignored[:_SHOWN_IGNORED])
        more = len(self.ignored) - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")

    def at(self, now: datetime) -> AnnotationApprovals:
        """These approvals as they stand at ``now`` (the run, after the preview): an
        approval whose ``expires`` has passed since it was read no longer counts and is
        named first in ``ignored``, with when it expired."""
        expired = [a for a in self.approvals if a.expires is not None and a.expires <= now]
        if not expired:
            return self
        gone = tuple(f"the approval by {_short(a.actor, 80)} expired at "
                     f"{a.expires.strftime('%Y-%m-%dT%H:%M:%SZ')}, after the preview"
                     for a in expired if a.expires is not None)
        return self.model_copy(update={
            "approvals": tuple(a for a in self.approvals if a not in expired),
            "ignored": gone + self.ignored})


def object_target(namespace: str, kind: str, name: str) -> str:
    """The ``target`` of a record: ``namespace/Kind/name`` (context names are local to
    each kubeconfig, so they are left out)."""
    return f"{namespace}/{kind}/{name}"


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _short(value: object, limit: int = 60) -> str:
    return printable(repr(value) if not isinstance(value, str) else value, max_len=limit)


class _OtherRevision(str):
    """Why a record does not count: it approves another revision (not an error)."""


def _record(item: object, n: int, *, target: str | None, canary: str | None,
            now: datetime) -> AnnotatedApproval | str:
    """One annotation element -> an approval that may count, or why it may not."""
    where = f"record {n}"
    if not isinstance(item, dict):
        return f"{where} is not an object ({_short(item)})"
    who = item.get("who")
    if not isinstance(who, str) or not who.strip():
        return f"{where} names no approver"
    if len(who) > MAX_WHO:
        return f"{where}: approver name longer than {MAX_WHO} characters"
    label = f"{where} ({_short(who, 80)})"
    at = _time(item.get("when"))
    if at is None:
        return f"{label}: no valid UTC time in 'when' ({_short(item.get('when'))})"
    approved = item.get("canary")
    if approved is None:
        return _OtherRevision(f"{label} names no canary revision")
    if not isinstance(approved, str):
        return f"{label}: 'canary' is not text ({_short(approved)})"
    if approved != canary:
        return _OtherRevision(f"{label} is for revision {_short(approved)}")
    on = item.get("target")
    if on is not None and (not isinstance(on, str) or (target is not None and on != target)):
        return f"{label} is for {_short(on, 120)}, not {_short(target, 120)}"
    expires = None
    if "expires" in item:
        expires = _time(item.get("expires"))
        if expires is None:
            return f"{label}: unreadable 'expires' ({_short(item.get('expires'))})"
        if expires <= now:
            return f"{label} expired at {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    reason = item.get("reason")
    return AnnotatedApproval(actor=who, at=at, reason=reason if isinstance(reason, str) else "",
                             canary=approved, target=on, expires=expires)


def read_approvals(raw: str | None, *, target: str | None, canary: str | None,
                   now: datetime) -> AnnotationApprovals:
    """The approvals in an annotation value that may count for promoting ``canary`` of the
    object ``target`` (``namespace/Kind/name``) at ``now``. Never raises: malformed text
    and records that do not qualify are listed in ``ignored`` with the reason.

    A record counts when it names an approver (``who``), a valid ``when``, exactly this
    ``canary`` revision (records without one predate the canary and are ignored: the
    annotation outlives promotions), this ``target`` if it names one, and has not passed
    its ``expires`` if it has one. The same approver for the same canary counts once
    (the first record). Whether the approver differs from the promoter is the gate's
    decision (:func:`backends.actions.gates.approval_check`)."""
    if raw is None or not raw.strip():
        return AnnotationApprovals()
    if len(raw) > MAX_RAW:
        return AnnotationApprovals(ignored=(
            f"the value is {len(raw)} characters long (more than {MAX_RAW}): not read",))
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, list):
        return AnnotationApprovals(ignored=(
            f"the value is not a JSON list ({_short(raw.strip(), 60)}): not read",))
    approvals: list[AnnotatedApproval] = []
    ignored: list[str] = []
    others = 0
    seen: set[str] = set()
    for n, item in enumerate(value, 1):
        got = _record(item, n, target=target, canary=canary, now=now)
        if isinstance(got, _OtherRevision):
            others += 1
        elif isinstance(got, str):
            ignored.append(got)
        elif got.actor not in seen:
            seen.add(got.actor)
            approvals.append(got)
    return AnnotationApprovals(approvals=tuple(approvals), other_revisions=others,
                               ignored=tuple(ignored))
