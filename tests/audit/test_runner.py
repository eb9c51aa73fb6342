"""The one action path (ActionRunner) on the demo fleet and on a fake cluster."""

from __future__ import annotations

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus, CheckStatus, RolloutProgress
from backends.actions.config import ActionsConfig, PromoteGates
from backends.demo.fleet import make_demo
from backends.domain.errors import ActionRefused, BackendError, ConflictError, ForbiddenError
from backends.actions.gates import APPROVALS, ERRORS
from backends.actions.guard import ActionRunner
from tests.audit.conftest import (ALICE, BOB, FAKE_KEY, LLM, RECOMMENDER, RERANKER,
                                  FakeCluster, SpyCluster, clock_runner, snapshot_of)


def _service(fleet, key):
    return next(s for s in fleet.cluster.read().services if s.key == key)


def _rollback(key=LLM, actor=ALICE):
    return ActionRequest(kind=ActionKind.ROLLBACK, service_key=key, actor=actor)


def _promote(key=RERANKER, actor=ALICE):
    return ActionRequest(kind=ActionKind.PROMOTE, service_key=key, actor=actor)


def test_cancel_leaves_state_and_audit_unchanged(fleet, audit, clock):
    spy = SpyCluster(fleet.cluster)
    runner = clock_runner(spy, audit, clock)
    before = _service(fleet, LLM)
    plan = runner.prepare(_rollback(), snapshot_of(fleet))
    assert not plan.blocked and plan.changes
    runner.cancel(plan, ALICE)
    assert _service(fleet, LLM) == before
    assert audit.entries() == []
    assert "execute" not in spy.calls


def test_confirmed_rollback_writes_intent_and_outcome_and_changes_state(fleet, audit, clock):
    runner = clock_runner(fleet.cluster, audit, clock)
    before = _service(fleet, LLM)
    plan = runner.prepare(_rollback(), snapshot_of(fleet))
    seen: list[RolloutProgress] = []
    result = runner.run(plan, "p95 regression since 12", ALICE, on_progress=seen.append)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    after = _service(fleet, LLM)
    assert after.version != before.version
    assert seen and seen[-1].done and not seen[0].done  # watched the rollout settle
    entries = audit.entries()
    assert [(e.kind, e.outcome) for e in entries] == [
        ("intent", None), ("outcome", "succeeded"), ("settle", "complete")]
    intent = entries[0]
    assert intent.action == "rollback" and intent.target == LLM and intent.actor == ALICE
    assert intent.reason == "p95 regression since 12"
    assert intent.detail["changes"] and intent.detail["override"] is False
    assert all(e.intent_seq == intent.seq for e in entries[1:])
    assert audit.pending_intents() == [] and audit.verify()[0]


def test_failed_gate_blocks_with_its_reason(fleet, audit, clock):
    spy = SpyCluster(fleet.cluster)
    runner = clock_runner(spy, audit, clock)
    plan = runner.prepare(_promote(RECOMMENDER), snapshot_of(fleet))
    failed = {c.name: c for c in plan.checks if c.status == CheckStatus.FAILED}
    assert plan.blocked and ERRORS in failed and "canary 3.24%" in failed[ERRORS].reason
    with pytest.raises(ActionRefused, match="canary error ratio"):
        runner.run(plan, "ship it", ALICE)
    assert audit.entries() == [] and "execute" not in spy.calls
    assert _service(fleet, RECOMMENDER).canary is not None


def test_override_is_recorded(fleet, audit, clock):
    runner = clock_runner(fleet.cluster, audit, clock)
    plan = runner.prepare(_promote(RECOMMENDER), snapshot_of(fleet))
    result = runner.run(plan, "errors are a known client bug", ALICE, override=True)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    assert _service(fleet, RECOMMENDER).canary is None
    entries = audit.entries()
    assert [e.kind for e in entries] == ["intent", "override", "outcome", "settle"]
    override = entries[1]
    assert override.intent_seq == entries[0].seq and entries[0].detail["override"] is True
    assert {c["name"] for c in override.detail["checks"]} >= {ERRORS}
    assert override.reason == "errors are a known client bug"


def test_override_cannot_waive_a_hard_check(audit, clock):
    fleet = make_demo(seed=7, clock=clock)
    runner = clock_runner(fleet.cluster, audit, clock)
    plan = runner.prepare(_promote(LLM), snapshot_of(fleet))  # a Deployment: no canary
    assert plan.blocked
    with pytest.raises(ActionRefused, match="cannot be overridden"):
        runner.run(plan, "please", ALICE, override=True)
    assert audit.entries() == []


def test_protected_context_needs_the_typed_name(fleet, audit, clock):
    runner = clock_runner(fleet.cluster, audit, clock,
                          config=ActionsConfig(protected_contexts=["demo"]))
    plan = runner.prepare(_rollback(), snapshot_of(fleet))
    assert runner.confirm_name(plan) == "llm-chat"
    for typed in (None, "", "llm", "LLM-CHAT"):
        with pytest.raises(ActionRefused, match="protected"):
            runner.run(plan, "rollback", ALICE, confirm_text=typed)
    assert audit.entries() == []
    result = runner.run(plan, "rollback", ALICE, confirm_text="llm-chat")
    assert result.status == ActionStatus.SUCCEEDED


@pytest.mark.parametrize("how", ["flag", "config", "backend"])
def test_read_only_refuses_with_no_request_and_no_audit_write(audit, clock, how):
    fleet = make_demo(seed=7, clock=clock, read_only=how == "backend")
    spy = SpyCluster(fleet.cluster)
    config = ActionsConfig(read_only_contexts=["demo"] if how == "config" else [])
    runner = clock_runner(spy, audit, clock, config=config, read_only=how == "flag")
    assert runner.read_only_reason() is not None
    snap = snapshot_of(fleet)
    for request in (_rollback(), _promote()):
        plan = runner.prepare(request, snap)
        assert plan.blocked and plan.checks[0].name == "read-only"
        for override in (False, True):
            with pytest.raises(ActionRefused, match="read-only"):
                runner.run(plan, "r", ALICE, override=override, confirm_text="llm-chat")
    with pytest.raises(ActionRefused, match="read-only"):
        runner.approve(RERANKER, BOB, "lgtm")
    assert spy.calls == []
    assert audit.entries() == []


def test_approval_by_the_same_identity_is_refused_by_another_accepted(fleet, audit, clock):
    config = ActionsConfig(promote_gates=PromoteGates(approvals_required=1))
    runner = clock_runner(fleet.cluster, audit, clock, config=config)
    canary = _service(fleet, RERANKER).canary.revision
    with pytest.raises(ActionRefused, match="own promotion"):
        runner.approve(RERANKER, "alice@other-host", "lgtm", promoter=ALICE)
    # an approval recorded by the promoter herself does not count either
    runner.approve(RERANKER, ALICE, "self approval", canary=canary)
    plan = runner.prepare(_promote(), snapshot_of(fleet))
    approvals = next(c for c in plan.checks if c.name == APPROVALS)
    assert approvals.status == CheckStatus.FAILED and "your own" in approvals.reason
    with pytest.raises(ActionRefused, match="approvals"):
        runner.run(plan, "promote", ALICE, override=True)
    approved = runner.approve(RERANKER, BOB, "canary looks good", promoter=ALICE,
                              canary=canary)
    assert approved.entry.kind == "approval" and approved.entry.actor == BOB
    assert approved.annotated, approved.message
    plan = runner.prepare(_promote(), snapshot_of(fleet))
    assert not plan.blocked, plan.checks
    result = runner.run(plan, "approved by bob", ALICE)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    # the approval was used up by the promotion
    assert runner.valid_approvals(RERANKER) == []
    assert audit.verify()[0]


def test_approval_checked_again_against_the_real_actor(fleet, audit, clock):
    config = ActionsConfig(promote_gates=PromoteGates(approvals_required=1))
    runner = clock_runner(fleet.cluster, audit, clock, config=config)
    runner.approve(RERANKER, BOB, "lgtm")
    plan = runner.prepare(_promote(actor=""), snapshot_of(fleet))  # actor unknown yet
    assert not plan.blocked
    with pytest.raises(ActionRefused, match="approvals"):
        runner.run(plan, "promote", "bob@laptop")  # bob may not use his own approval
    assert [e.kind for e in audit.entries()] == ["approval"]


def test_actions_during_an_incident_join_its_timeline(fleet, audit, clock):
    incident = audit.open_incident("llm-chat slow", "SEV2", ALICE)
    runner = clock_runner(fleet.cluster, audit, clock)
    runner.run(runner.prepare(_rollback(), snapshot_of(fleet)), "slow", ALICE)
    kinds = [e.kind for e in audit.entries(incident_id=incident.id)]
    assert kinds == ["incident", "intent", "outcome", "settle"]


def test_reason_is_required(fleet, audit, clock):
    runner = clock_runner(fleet.cluster, audit, clock)
    plan = runner.prepare(_rollback(), snapshot_of(fleet))
    with pytest.raises(ActionRefused, match="reason"):
        runner.run(plan, "   ", ALICE)
    assert audit.entries() == []


def test_noop_plan_sends_and_records_nothing(audit, clock):
    fleet = make_demo(seed=7, clock=clock)
    runner = clock_runner(fleet.cluster, audit, clock)
    target = _service(fleet, LLM).traffic[0].revision
    plan = runner.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=LLM,
                                        to_revision=int(target)), snapshot_of(fleet))
    assert plan.noop
    assert runner.run(plan, "r", ALICE).status == ActionStatus.SKIPPED
    assert audit.entries() == []


@pytest.mark.parametrize("error, status, text", [
    (ForbiddenError("deployments.apps is forbidden", source="kubernetes", status=403),
     ActionStatus.FAILED, "kubernetes (403): deployments.apps is forbidden"),
    (ConflictError("the object has been modified", source="kubernetes", status=409),
     ActionStatus.FAILED, "(409)"),
    (ActionRefused("dry run refused: admission webhook denied", source="kubernetes"),
     ActionStatus.FAILED, "admission webhook denied"),
    (TimeoutError("read timed out"), ActionStatus.TIMED_OUT, "timed out"),
    (RuntimeError("boom"), ActionStatus.UNKNOWN, "unexpected RuntimeError: boom"),
])
def test_call_failures_are_recorded_as_outcomes(audit, clock, error, status, text):
    cluster = FakeCluster(error=error)
    runner = clock_runner(cluster, audit, clock)
    result = runner.run(runner.prepare(_rollback(FAKE_KEY), None), "r", ALICE)
    assert result.status == status and text in result.message
    entries = audit.entries()
    assert [(e.kind, e.outcome) for e in entries] == [("intent", None),
                                                      ("outcome", status.value)]
    assert text in (entries[1].reason or "")
    assert "progress" not in cluster.calls


def test_rollout_that_never_settles_times_out(audit, clock):
    cluster = FakeCluster(never_done=True)
    config = ActionsConfig(promote_gates=PromoteGates(progress_timeout_s=30,
                                                      progress_poll_s=5))
    runner = clock_runner(cluster, audit, clock, config=config)
    seen = []
    result = runner.run(runner.prepare(_rollback(FAKE_KEY), None), "r", ALICE,
                        on_progress=seen.append)
    assert result.status == ActionStatus.TIMED_OUT and "30s" in result.message
    assert 6 <= len(seen) <= 8
    assert [(e.kind, e.outcome) for e in audit.entries()][-1] == ("settle", "timed_out")


def test_degraded_rollout_and_broken_callback(audit, clock):
    cluster = FakeCluster(progress=[RolloutProgress(done=True, phase="degraded",
                                                    message="CrashLoopBackOff")])

    def explode(progress):
        raise ValueError("ui gone")

    runner = clock_runner(cluster, audit, clock)
    result = runner.run(runner.prepare(_rollback(FAKE_KEY), None), "r", ALICE,
                        on_progress=explode)
    assert result.status == ActionStatus.FAILED and "CrashLoopBackOff" in result.message
    assert audit.entries()[-1].outcome == "degraded"


def test_intent_write_failure_sends_nothing(clock):
    class BrokenAudit:
        def append(self, *a, **k):
            raise BackendError("disk full", source="audit")

        def entries(self, **k):
            return []

    cluster = FakeCluster()
    runner = ActionRunner(cluster, BrokenAudit(), clock)
    plan = runner.prepare(_rollback(FAKE_KEY), None)
    with pytest.raises(BackendError, match="disk full"):
        runner.run(plan, "r", ALICE)
    assert "execute" not in cluster.calls


def test_preflight_error_becomes_a_failed_check(audit, clock):
    class Down(FakeCluster):
        def plan(self, request):
            raise BackendError("connection refused", source="kubernetes")

    plan = ActionRunner(Down(), audit, clock).prepare(_rollback(FAKE_KEY), None)
    assert plan.blocked and "connection refused" in plan.checks[0].reason
    assert plan.object_ref == "deployment/m" and plan.namespace == "ns"


def test_crashed_intent_shows_as_outcome_unknown_until_acknowledged(audit, clock):
    cluster = FakeCluster()
    runner = clock_runner(cluster, audit, clock)
    audit.append("intent", actor=ALICE, action="rollback", target=FAKE_KEY, reason="r")
    (pending,) = runner.unknown_outcomes()
    assert pending.intent.reason == "r" and pending.progress.done and pending.error == ""
    entry = runner.acknowledge(pending.intent, BOB, "deployment is on revision 4")
    assert entry.outcome == "unknown" and entry.intent_seq == pending.intent.seq
    assert runner.unknown_outcomes() == [] and audit.verify()[0]


def test_promote_without_a_snapshot_is_blocked(audit, clock):
    runner = clock_runner(FakeCluster(), audit, clock)
    plan = runner.prepare(ActionRequest(kind=ActionKind.PROMOTE, service_key=FAKE_KEY), None)
    assert plan.blocked and plan.checks[-1].name == "promote gates"


def test_outcome_write_failure_is_reported_and_intent_stays_pending(audit, clock):
    class FlakyAudit:
        """Writes the intent, then the disk fills up."""

        def __init__(self, inner):
            self.inner = inner

        def entries(self, **k):
            return self.inner.entries(**k)

        def append(self, kind, **k):
            if kind != "intent":
                raise BackendError("disk full", source="audit")
            return self.inner.append(kind, **k)

    runner = clock_runner(FakeCluster(), FlakyAudit(audit), clock)
    result = runner.run(runner.prepare(_rollback(FAKE_KEY), None), "r", ALICE)
    assert result.status == ActionStatus.SUCCEEDED
    assert "disk full" in result.detail["audit_error"]
    assert [e.kind for e in audit.pending_intents()] == ["intent"]
