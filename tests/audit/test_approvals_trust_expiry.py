"""Annotation approvals (``pitboard.io/approvals``) on the demo fleet and in the gates alone:
the per-context ``trust_annotation_approvals`` setting, the run-time expiry re-check
(``AnnotationApprovals.at``, ``gates.recheck_approvals``) and the demo's records naming
their object."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from backends.domain.actions import ActionKind, ActionRequest, CheckStatus
from backends.actions.config import ActionsConfig, GateOverrides, PromoteGates
from backends.actions.approvals import APPROVALS, AnnotatedApproval, AnnotationApprovals
from backends.audit.store import SqliteAudit
from backends.actions.gates import APPROVALS as APPROVALS_CHECK
from backends.actions.gates import (UNTRUSTED, ApproverPolicy, annotation_approvals,
                                   approval_check, recheck_approvals)
from tests.audit.conftest import ALICE, BOB, RERANKER, T0, clock_runner, snapshot_of

HOSTILE = "[bold red]x[/] \x1b[2J 🚀 " + "y" * 300


# -- the setting ---------------------------------------------------------------------------


def test_trust_annotation_approvals_is_per_context_and_defaults_to_true(tmp_path):
    assert PromoteGates().trust_annotation_approvals is True
    config = ActionsConfig(contexts={"prod-eu": GateOverrides(trust_annotation_approvals=False),
                                     "dev": GateOverrides(approvals_required=1)})
    assert config.gates_for("prod-eu").trust_annotation_approvals is False
    assert config.gates_for("dev").trust_annotation_approvals is True  # inherited
    assert config.gates_for("other").trust_annotation_approvals is True
    strict = ActionsConfig(promote_gates=PromoteGates(trust_annotation_approvals=False),
                           contexts={"lab": GateOverrides(trust_annotation_approvals=True)})
    assert strict.gates_for("lab").trust_annotation_approvals is True
    assert strict.gates_for("prod").trust_annotation_approvals is False


def test_trust_annotation_approvals_from_toml_and_a_bad_value_names_the_field(tmp_path):
    from console.config import load_settings

    path = tmp_path / "config.toml"
    path.write_text("[actions.contexts.prod-eu]\ntrust_annotation_approvals = false\n")
    settings = load_settings(path)
    assert settings.actions.gates_for("prod-eu").trust_annotation_approvals is False
    assert settings.actions.gates_for("dev").trust_annotation_approvals is True
    with pytest.raises(ValidationError, match="trust_annotation_approvals"):
        GateOverrides(trust_annotation_approvals="perhaps")


# -- the gate alone --------------------------------------------------------------------------


def _annotated(*approvals: AnnotatedApproval, ignored: tuple[str, ...] = ()
               ) -> AnnotationApprovals:
    return AnnotationApprovals(approvals=approvals, ignored=ignored)


def _approval(who: str, expires_in_s: float | None) -> AnnotatedApproval:
    expires = None if expires_in_s is None else T0 + timedelta(seconds=expires_in_s)
    return AnnotatedApproval(actor=who, at=T0, canary="5", expires=expires)


@pytest.mark.parametrize("trusted", [True, False])
def test_approval_check_with_and_without_trusting_the_annotation(trusted):
    annotated = _annotated(_approval(BOB, None), ignored=("record 2 names no approver",))
    check = approval_check([], 1, ALICE, annotated=annotated, trusted=trusted)
    if trusted:
        assert check.status == CheckStatus.PASSED
        assert check.reason == (f"approved by {BOB} (from {APPROVALS}); ignored in {APPROVALS}: "
                                f"record 2 names no approver")
    else:
        assert check.status == CheckStatus.FAILED and not check.overridable
        assert check.reason == (f"0 of 1 approvals by someone other than the promoter; "
                                f"{UNTRUSTED} (1 there not counted)")
        assert "are not trusted on this context" in check.reason
    # nothing in the annotation: the reason still says the context does not trust it
    alone = approval_check([], 1, ALICE, trusted=False)
    assert alone.reason.endswith(f"; {UNTRUSTED}")
    assert approval_check([], 0, ALICE, trusted=False).reason == "none required"


def test_annotation_approvals_at_drops_the_expired_and_says_why():
    gone, stays, never = (_approval(HOSTILE, 60), _approval("carol@desk", 600),
                          _approval("dave@desk", None))
    annotated = _annotated(gone, stays, never, ignored=("record 4 names no approver",))
    assert annotated.at(T0) is annotated  # nothing expired yet: unchanged
    later = annotated.at(T0 + timedelta(seconds=60))  # at the instant of expiry: gone
    assert [a.actor for a in later.approvals] == ["carol@desk", "dave@desk"]
    assert later.ignored[1:] == ("record 4 names no approver",)
    assert later.ignored[0].endswith("expired at 2026-11-21T14:01:00Z, after the preview")
    assert "\x1b" not in later.ignored[0] and len(later.ignored[0]) < 200  # inert, bounded
    gates = PromoteGates(approvals_required=2)
    demo = ApproverPolicy(simulated=True)  # local identities count (this is about expiry)
    check = recheck_approvals([], gates, ALICE, annotated, T0 + timedelta(seconds=601),
                              policy=demo)
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert check.reason.startswith("1 of 2 approvals by someone other than the promoter "
                                   f"(dave@desk (from {APPROVALS}, local identity, demo))")
    assert "carol@desk expired at 2026-11-21T14:10:00Z, after the preview" in check.reason
    assert recheck_approvals([], gates, ALICE, annotated, T0,
                             policy=demo).status == CheckStatus.PASSED
    untrusted = PromoteGates(approvals_required=1, trust_annotation_approvals=False)
    assert UNTRUSTED in recheck_approvals([], untrusted, ALICE, annotated, T0).reason


# -- the demo fleet: another machine's approval, with and without trust -----------------------


@pytest.mark.parametrize("trusted", [True, False])
def test_demo_approval_from_another_machine_counts_only_where_trusted(
        fleet, audit, clock, tmp_path, trusted):
    canary = next(s for s in fleet.cluster.read().services if s.key == RERANKER).canary.revision
    manager = clock_runner(fleet.cluster, audit, clock)
    assert manager.approve(RERANKER, BOB, "canary flat", promoter=ALICE, canary=canary).annotated
    [record] = json.loads(next(s for s in fleet.cluster.read().services
                               if s.key == RERANKER).annotations[APPROVALS])
    assert record["target"] == "ml-serving/Rollout/reranker"  # this object, nowhere else
    assert [a.actor for a in annotation_approvals(snapshot_of(fleet), RERANKER).approvals] == [
        BOB]

    on_call_audit = SqliteAudit(tmp_path / "on-call.db", clock=clock)  # another machine
    try:
        config = ActionsConfig(contexts={"demo": GateOverrides(
            approvals_required=1, trust_annotation_approvals=trusted)})
        on_call = clock_runner(fleet.cluster, on_call_audit, clock, config=config)
        plan = on_call.prepare(ActionRequest(kind=ActionKind.PROMOTE, service_key=RERANKER,
                                             actor=ALICE), snapshot_of(fleet))
        check = next(c for c in plan.checks if c.name == APPROVALS_CHECK)
        if trusted:
            assert check.status == CheckStatus.PASSED
            assert check.reason == f"approved by {BOB} (from {APPROVALS})"
        else:
            assert check.status == CheckStatus.FAILED and not check.overridable
            assert check.reason.endswith(f"{UNTRUSTED} (1 there not counted)")
        assert on_call_audit.entries() == []
    finally:
        on_call_audit.close()
