"""Models of the guarded action path (plan -> checks -> dry run -> call -> outcome)."""

from __future__ import annotations

import re

from enum import Enum
from typing import Literal

from pydantic import Field

from backends.domain.action_kind import ActionKind as ActionKind  # re-exported
from backends.domain.models import Frozen


class CheckStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Check(Frozen):
    """One preflight check shown in the guard modal."""

    name: str
    status: CheckStatus
    reason: str = ""
    blocking: bool = True
    overridable: bool = False


MAX_REPLICAS = 1000
"""The most replicas a scale asks for, from the console or the shell: Kubernetes takes up
to 2^31 - 1, but more than this from an operations console is a slip of the finger (the
demo rolled out 10^20 replicas; a cluster would have refused the int32 overflow)."""


def parse_replicas(text: str) -> int:
    """``3`` -> 3; ValueError unless a whole number from 0 to :data:`MAX_REPLICAS`."""
    if not re.fullmatch(r"\s*\d+\s*", text or ""):
        raise ValueError(f"not a replica count: {text!r} (a whole number)")
    value = int(text)
    if value > MAX_REPLICAS:
        raise ValueError(f"at most {MAX_REPLICAS} replicas")
    return value


class ActionRequest(Frozen):
    kind: ActionKind
    service_key: str = Field(description="ModelService.key")
    to_revision: int | None = Field(None, description="rollback target; None = previous")
    replicas: int | None = Field(None, ge=0, le=MAX_REPLICAS,
                                 description="scale: the replica count wanted")
    duration_s: float | None = Field(None, gt=0, description="silence: how long it lasts")
    reason: str = ""
    actor: str = ""
    override: bool = False
    audit_anchor: str | None = Field(
        None, description="``COUNT:HASH`` of the audit entry written just before the call "
                          "(the runner sets it): the Event and annotation carry it")
    audit_chain: str | None = Field(
        None, description="the audit chain's id (its entry #1's hash, 16 hex digits), so "
                          "`audit verify --against-cluster` tells its anchors from another "
                          "store's")


class Change(Frozen):
    """One before -> after line of the diff (revision, image, traffic ...)."""

    field: str
    before: str | None
    after: str | None


class ActionPlan(Frozen):
    request: ActionRequest
    context: str
    namespace: str
    object_ref: str = Field(description="e.g. deployment/llm-chat")
    changes: tuple[Change, ...] = ()
    checks: tuple[Check, ...] = ()
    noop: bool = Field(False, description="nothing would change (e.g. template already matches)")
    noop_reason: str = ""

    @property
    def blocked(self) -> bool:
        return any(c.status == CheckStatus.FAILED and c.blocking for c in self.checks)


class ActionStatus(str, Enum):
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    UNKNOWN = "unknown"
    DRY_RUN_OK = "dry_run_ok"


class ActionResult(Frozen):
    status: ActionStatus
    message: str = ""
    detail: dict = Field(default_factory=dict)
    warnings: tuple[str, ...] = Field(
        (), description="what went wrong after the action itself succeeded (its Event or "
                        "annotation not written, the audit record incomplete): shown as a "
                        "warning, never as a plain success")


ProgressPhase = Literal["progressing", "complete", "paused", "degraded", "stuck", "unknown"]


class RolloutProgress(Frozen):
    """How far a rollout got, as ``kubectl rollout status`` (and the Argo plugin) judge it.

    ``done`` is final: the controller observed the change and reports it ``complete``
    (or ``paused`` where it waits for a person), ``degraded``, or ``stuck`` (its progress
    deadline passed: ``reason`` is the controller's, e.g. ProgressDeadlineExceeded).
    The counts are of the **new** revision only (old ready pods never count): ``updated``
    replicas, ``ready`` and ``available`` of those, out of ``desired``."""

    done: bool
    ready: int | None = None
    desired: int | None = None
    updated: int | None = None
    available: int | None = Field(None, description="available replicas of the new revision")
    message: str = ""
    phase: ProgressPhase = "unknown"
    reason: str = Field("", description="the controller's reason (ProgressDeadlineExceeded, "
                                        "RolloutAborted, ...)")
    observed: bool = Field(True, description="the controller has seen the latest change")

    @property
    def fraction(self) -> float | None:
        """Share of the desired replicas the new revision has available (None: unknown)."""
        if not self.desired:
            return None
        done = self.available if self.available is not None else None
        if done is None:
            return 1.0 if self.done and self.phase == "complete" else None
        return max(0.0, min(1.0, done / self.desired))


class ClusterIdentity(Frozen):
    """Who one cluster says we are: its ``SelfSubjectReview`` answer (``user``), or why it
    could not say (``problem``; ``unsupported`` when the API server serves no version of
    SelfSubjectReview, every one a 404). Never a name the client chose (``$USER``, the
    kubeconfig's user entry)."""

    context: str
    user: str | None = None
    groups: tuple[str, ...] = ()
    uid: str | None = None
    api_version: str | None = Field(None, description="e.g. authentication.k8s.io/v1")
    unsupported: bool = False
    problem: str = ""
