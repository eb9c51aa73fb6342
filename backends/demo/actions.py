"""What an action would do to one demo service: the diff, a refusal, or a no-op.

Shared by ``DemoCluster.plan`` (shows it) and ``DemoCluster.execute`` (applies it), so the
guard modal and the outcome can never disagree. Semantics: DESIGN.md "Release semantics".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from dataclasses import dataclass

from backends.domain.action_kind import ActionKind
from backends.demo.state import ROLLOUT_S, DemoState, Leg, SvcState
from backends.domain.models import ServiceKind

# The action models (a key press, after the first frame) load where a decision is made:
# the demo's metrics and cluster import this module at start for leg_name / split_text.
if TYPE_CHECKING:
    from backends.domain.actions import ActionRequest, Change

_DEPLOY, _ISVC, _ROLLOUT = (ServiceKind.DEPLOYMENT, ServiceKind.INFERENCE_SERVICE,
                            ServiceKind.ROLLOUT)
_PROMOTES = (ActionKind.PROMOTE, ActionKind.PROMOTE_FULL) if hasattr(
    ActionKind, "PROMOTE_FULL") else (ActionKind.PROMOTE,)
_RETRY = getattr(ActionKind, "RETRY", None)


def _change(**fields) -> Change:
    """A ``Change`` of the action models, imported at the first decision (after frame 1)."""
    from backends.domain.actions import Change  # noqa: PLC0415 - off the start-up path

    return Change(**fields)


def leg_name(st: SvcState, number: int) -> str:
    """How a revision is named in traffic splits: the Knative revision name for KServe,
    the revision number otherwise."""
    if st.kind == _ISVC:
        return f"{st.spec.name}-predictor-{number:05d}"
    return str(number)


def split_text(st: SvcState, legs: tuple[Leg, ...]) -> str:
    """``stable 3 90% / canary 4 10%``."""
    return " / ".join(f"{leg.role} {leg_name(st, leg.rev.number)} {leg.percent:g}%"
                      for leg in legs)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`: exactly one of refusal, noop, or apply is set."""

    changes: tuple[Change, ...] = ()
    refusal: str | None = None
    noop: str | None = None
    apply: Callable[[float], str] | None = None


def decide(state: DemoState, st: SvcState, req: ActionRequest) -> Decision:
    """Decide ``req`` on ``st`` (caller holds ``state.lock``)."""
    if req.kind == ActionKind.ROLLBACK:
        return _undo(state, st, req) if st.kind != _ISVC else _pin_previous(state, st, req)
    if req.kind in _PROMOTES:
        return _promote(state, st)
    if req.kind == ActionKind.ABORT:
        if st.kind == _DEPLOY:
            return Decision(refusal=f"{st.spec.name} is a Deployment: there is no canary "
                                    "to abort")
        return _pin_previous(state, st, req)
    if _RETRY is not None and req.kind == _RETRY:
        return _retry(state, st)
    if req.kind in (ActionKind.PAUSE, ActionKind.RESUME, ActionKind.RESTART,
                    ActionKind.SCALE):
        if st.kind == _ISVC:
            return Decision(refusal=f"{req.kind.value} is for a Deployment or a Rollout "
                                    f"({st.spec.name} is an InferenceService)")
        return _workload(state, st, req)
    return Decision(refusal=f"{req.kind.value} is not supported by the demo")


def _workload(state: DemoState, st: SvcState, req: ActionRequest) -> Decision:
    """pause / resume (``spec.paused``), restart (the pods roll over, same revision, as
    ``kubectl rollout restart`` does with a new ReplicaSet), scale (``spec.replicas``)."""
    name = st.spec.name
    if req.kind in (ActionKind.PAUSE, ActionKind.RESUME):
        want = req.kind == ActionKind.PAUSE
        if st.paused == want:
            return Decision(noop=f"{name} is already {'paused' if want else 'not paused'}")

        def toggle(now: float) -> str:
            st.paused = want
            state.touch(st, now)
            return f"{name} {'paused' if want else 'resumed'}"

        return Decision(changes=(_change(field="paused", before=str(not want).lower(),
                                        after=str(want).lower()),), apply=toggle)
    if req.kind == ActionKind.RESTART:
        if st.paused:
            return Decision(refusal=f"can't restart paused {st.kind.value.lower()} (run "
                                    f"rollout resume first): {name}")

        def restart(now: float) -> str:
            st.rollout = (now, ROLLOUT_S)
            state.touch(st, now)
            return f"restarted {name}: its pods roll over"

        return Decision(changes=(_change(field="restartedAt", before=None, after="now"),),
                        apply=restart)
    replicas = req.replicas
    if replicas is None:
        return Decision(refusal="scale needs the number of replicas")
    if replicas == st.spec.replicas:
        return Decision(noop=f"already at {replicas} replicas")

    def scale(now: float) -> str:
        st.spec.replicas = replicas
        state.touch(st, now)
        return f"scaled {name} to {replicas} replicas"

    return Decision(changes=(_change(field="replicas", before=str(st.spec.replicas),
                                    after=str(replicas)),), apply=scale)


def _undo(state: DemoState, st: SvcState, req: ActionRequest) -> Decision:
    """Deployment / Rollout: ``kubectl rollout undo`` (``kubectl argo rollouts undo``)."""
    name, cur, legs = st.spec.name, st.history[st.current], st.legs()
    if st.paused:
        return Decision(refusal=f"{st.kind.value} {name} is paused; resume it before rolling "
                                "back (kubectl rollout resume)")
    target = req.to_revision if req.to_revision is not None else st.previous_number()
    if target is None:
        return Decision(refusal=f"no previous revision to roll back to: {name} has only "
                                f"revision {st.current}")
    if target not in st.history:
        have = ", ".join(str(n) for n in sorted(st.history))
        return Decision(refusal=f"revision {target} not found in the history of {name} "
                                f"(have {have})")
    tgt = st.history[target]
    if tgt.template == cur.template and st.canary_percent is None:
        return Decision(noop=f"skipped rollback: the current template already matches "
                             f"revision {target}")
    new_no = max(st.history) + 1
    changes = [_change(field="revision", before=str(st.current),
                      after=f"{new_no} (template of revision {target})"),
               _change(field="version", before=cur.version, after=tgt.version),
               _change(field="image", before=cur.image, after=tgt.image)]
    if len(legs) > 1:
        changes.append(_change(field="traffic", before=split_text(st, legs),
                              after=f"stable {new_no} 100%"))

    def apply(now: float) -> str:
        number = state.rollback_template(st, target, now)
        return f"rolled back {name} to revision {target} (now revision {number})"

    return Decision(changes=tuple(changes), apply=apply)


def _pin_previous(state: DemoState, st: SvcState, req: ActionRequest) -> Decision:
    """KServe rollback (``canaryTrafficPercent: 0``) and canary abort: the previous
    rolled-out / stable revision takes all traffic, the latest stays at 0 %."""
    name, legs = st.spec.name, st.legs()
    if req.kind == ActionKind.ABORT and st.canary_percent is None:
        return Decision(refusal=f"no canary to abort: all traffic of {name} is on revision "
                                f"{st.current}")
    if st.stable is None:
        return Decision(refusal=f"no previous rolled-out revision to roll back to: {name} "
                                f"has only revision {st.current}")
    if req.to_revision is not None and req.to_revision != st.stable:
        return Decision(refusal=f"{st.kind.value} can only pin the previous rolled-out "
                                f"revision ({st.stable}), not {req.to_revision}")
    if st.canary_percent == 0:
        return Decision(noop=f"already pinned to revision {st.stable} (canary at 0%)")
    prev = st.history[st.stable]
    field = "canaryTrafficPercent" if st.kind == _ISVC else "canary weight"
    before = st.canary_percent
    changes = (
        _change(field="traffic", before=split_text(st, legs),
               after=f"stable {leg_name(st, st.stable)} 100% / canary "
                     f"{leg_name(st, st.current)} 0%"),
        _change(field=field, before="unset" if before is None else f"{before:g}", after="0"),
        _change(field="version", before=legs[-1].rev.version, after=prev.version),
    )

    def apply(now: float) -> str:
        state.pin_previous(st, now)
        return f"{name}: traffic pinned to revision {st.stable}"

    return Decision(changes=changes, apply=apply)


def _promote(state: DemoState, st: SvcState) -> Decision:
    """Canary (KServe or Rollout) takes 100 % of traffic and becomes stable."""
    name, cur, legs = st.spec.name, st.history[st.current], st.legs()
    if st.kind == _DEPLOY:
        return Decision(refusal=f"{name} is a Deployment: there is no canary to promote")
    if st.canary_percent is None:
        return Decision(refusal=f"no canary in flight: all traffic of {name} is already on "
                                f"revision {st.current}")
    stable = legs[0].rev
    changes = (_change(field="traffic", before=split_text(st, legs),
                      after=f"stable {leg_name(st, st.current)} 100%"),
               _change(field="version", before=stable.version, after=cur.version),
               _change(field="image", before=stable.image, after=cur.image))

    def apply(now: float) -> str:
        state.promote(st, now)
        return f"promoted {name}: revision {st.current} takes 100% of traffic"

    return Decision(changes=changes, apply=apply)


def _retry(state: DemoState, st: SvcState) -> Decision:
    """Argo ``retry`` after an abort: the canary resumes at its step weight."""
    name = st.spec.name
    if st.kind != _ROLLOUT:
        return Decision(refusal=f"retry is an Argo Rollouts action; {name} is a "
                                f"{st.kind.value}")
    if st.canary_percent != 0 or st.stable is None:
        return Decision(refusal=f"nothing to retry: {name} has no aborted canary")
    weight = st.spec.canary_percent or 10.0
    changes = (_change(field="canary weight", before="0", after=f"{weight:g}"),)

    def apply(now: float) -> str:
        state.set_canary(st, weight, now)
        return f"{name}: canary {st.current} resumed at {weight:g}%"

    return Decision(changes=changes, apply=apply)
