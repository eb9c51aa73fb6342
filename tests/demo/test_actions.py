"""Rollback / promote semantics, refusals, read-only, and rollout progress."""

from __future__ import annotations

import threading

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus, CheckStatus
from backends.demo.fleet import ROLLOUT_S, FrozenClock, make_demo
from backends.domain.errors import ActionRefused, NotFoundError
from tests.demo.conftest import T0, history, key_of, service


def req(fleet, kind, name, **kw) -> ActionRequest:
    return ActionRequest(kind=kind, service_key=key_of(fleet, name), actor="tester",
                         reason="test", **kw)


def test_deployment_rollback_creates_max_plus_one(fleet, clock):
    before = history(fleet, "llm-chat")
    top, prev = before[0], before[1]
    plan = fleet.cluster.plan(req(fleet, ActionKind.ROLLBACK, "llm-chat"))
    assert (plan.context, plan.namespace, plan.object_ref) == (
        "demo", "ml-serving", "deployment/llm-chat")
    assert not plan.noop and not plan.blocked
    changes = {c.field: (c.before, c.after) for c in plan.changes}
    assert changes["image"] == (top.image, prev.image)
    assert changes["revision"][0] == str(top.number)
    assert changes["revision"][1].startswith(str(top.number + 1))
    checks = {c.name: c for c in plan.checks}
    assert checks["RBAC"].reason == "allowed (demo)"
    assert all(c.status == CheckStatus.PASSED for c in plan.checks)

    result = fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "llm-chat"))
    assert result.status == ActionStatus.SUCCEEDED
    after = history(fleet, "llm-chat")
    numbers = [r.number for r in after]
    assert numbers[0] == top.number + 1
    assert prev.number not in numbers  # the reused ReplicaSet left its old number
    assert len(after) == len(before)
    new = after[0]
    assert (new.version, new.image, new.change_cause) == (prev.version, prev.image,
                                                          prev.change_cause)
    assert new.current and not any(r.current for r in after[1:])
    svc = service(fleet, "llm-chat")
    assert svc.version == prev.version and svc.image == prev.image
    assert svc.traffic[0].revision == str(new.number)
    assert svc.rollout_in_progress


def test_rollback_to_explicit_revision_and_noop(fleet):
    revs = history(fleet, "speech-asr")
    oldest = revs[-1]
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "speech-asr",
                              to_revision=oldest.number))
    after = history(fleet, "speech-asr")
    assert after[0].image == oldest.image and oldest.number not in [r.number for r in after]
    # rolling back to the revision whose template is current again is a no-op
    plan = fleet.cluster.plan(req(fleet, ActionKind.ROLLBACK, "speech-asr",
                                  to_revision=after[0].number))
    assert plan.noop and "already matches" in plan.noop_reason
    missing = fleet.cluster.plan(req(fleet, ActionKind.ROLLBACK, "speech-asr", to_revision=999))
    assert missing.blocked


def test_rollout_progress_completes_as_clock_advances(fleet, clock):
    key = key_of(fleet, "llm-chat")
    assert fleet.cluster.progress(key).done
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "llm-chat"))
    seen = []
    deadline = ROLLOUT_S * 3
    elapsed = 0.0
    while True:
        p = fleet.cluster.progress(key)
        seen.append(p.ready)
        svc = service(fleet, "llm-chat")
        assert svc.replicas_ready == p.ready and svc.rollout_in_progress == (not p.done)
        if p.done:
            break
        assert p.phase == "progressing" and elapsed < deadline
        clock.advance(1.0)
        elapsed += 1.0
    assert seen[0] == 0 and seen[-1] == p.desired == 2
    assert seen == sorted(seen) and p.phase == "complete"
    assert ROLLOUT_S - 1 <= elapsed <= ROLLOUT_S + 1


def test_action_during_rollout_is_blocked_unless_overridden(fleet):
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "llm-chat"))
    plan = fleet.cluster.plan(req(fleet, ActionKind.ROLLBACK, "llm-chat"))
    check = next(c for c in plan.checks if c.name == "no rollout in flight")
    assert check.status == CheckStatus.FAILED and check.overridable
    with pytest.raises(ActionRefused, match="in flight"):
        fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "llm-chat"))
    ok = fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "llm-chat", override=True))
    assert ok.status == ActionStatus.SUCCEEDED


def test_promote_kserve_canary_moves_all_traffic(fleet):
    svc = service(fleet, "recommender")
    canary_rev = svc.canary.revision
    before = fleet.metrics.read((), 300)
    bad = before.revision_health["recommender"][1].error_ratio
    plan = fleet.cluster.plan(req(fleet, ActionKind.PROMOTE, "recommender"))
    assert plan.object_ref == "inferenceservice/recommender" and not plan.blocked
    assert any(c.field == "traffic" for c in plan.changes)
    fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "recommender"))
    svc = service(fleet, "recommender")
    assert svc.canary is None
    assert [(t.revision, t.percent) for t in svc.traffic] == [(canary_rev, 100.0)]
    part = fleet.metrics.read((), 300)
    legs = part.revision_health["recommender"]
    assert [h.revision for h in legs] == [canary_rev]
    # the model's error ratio now follows the promoted (worse) revision
    stable_before = before.revision_health["recommender"][0].error_ratio
    assert part.health["recommender"].error_ratio > 3 * stable_before
    assert part.health["recommender"].error_ratio == pytest.approx(bad, rel=0.6)
    assert "ModelErrorRateHigh" in {a.name for a in fleet.alerts.alerts()
                                    if a.model == "recommender"}
    revs = history(fleet, "recommender")
    assert next(r for r in revs if r.current).traffic_percent == 100.0


def test_promote_argo_rollout_canary(fleet):
    svc = service(fleet, "reranker")
    assert svc.kind.value == "Rollout" and svc.canary.percent == 20
    fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "reranker"))
    svc = service(fleet, "reranker")
    assert len(svc.traffic) == 1 and svc.traffic[0].percent == 100.0
    assert svc.traffic[0].role == "stable"


def test_kserve_rollback_pins_canary_to_zero(fleet):
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "recommender"))
    svc = service(fleet, "recommender")
    split = {t.role: t.percent for t in svc.traffic}
    assert split == {"stable": 100.0, "canary": 0.0}
    legs = fleet.metrics.read((), 300).revision_health["recommender"]
    assert legs[1].rps == 0.0 and legs[1].error_ratio is None  # no requests: no ratio
    again = fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "recommender"))
    assert again.status == ActionStatus.SKIPPED


def test_rollout_undo_drops_canary(fleet):
    before = history(fleet, "reranker")
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "reranker"))
    svc = service(fleet, "reranker")
    assert svc.canary is None and svc.version == before[1].version
    assert history(fleet, "reranker")[0].number == before[0].number + 1


def test_refusals(fleet):
    with pytest.raises(ActionRefused, match="no canary"):
        fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "code-assist"))
    with pytest.raises(ActionRefused, match="Deployment"):
        fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "llm-chat"))
    with pytest.raises(ActionRefused, match="paused"):
        fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "vision-detector"))
    plan = fleet.cluster.plan(req(fleet, ActionKind.ROLLBACK, "vision-detector"))
    assert plan.blocked and any("paused" in c.reason for c in plan.checks)
    fleet.state.truncate_history("fraud-scorer", 1)
    with pytest.raises(ActionRefused, match="no previous revision"):
        fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "fraud-scorer"))
    with pytest.raises(NotFoundError):
        fleet.cluster.execute(ActionRequest(kind=ActionKind.ROLLBACK,
                                            service_key="demo/ml-serving/Deployment/nope"))
    plan = fleet.cluster.plan(ActionRequest(kind=ActionKind.ROLLBACK,
                                            service_key="demo/ml-serving/Deployment/nope"))
    assert plan.blocked and plan.object_ref == "deployment/nope"


def test_refusals_leave_state_unchanged(fleet):
    before = fleet.cluster.read()
    for kind, name in ((ActionKind.PROMOTE, "code-assist"),
                       (ActionKind.ROLLBACK, "vision-detector")):
        with pytest.raises(ActionRefused):
            fleet.cluster.execute(req(fleet, kind, name))
    assert fleet.cluster.read() == before


def test_read_only_refuses_every_action():
    fleet = make_demo(seed=7, clock=FrozenClock(T0), read_only=True)
    assert fleet.cluster.read_only
    before = fleet.cluster.read()
    for kind, name in ((ActionKind.ROLLBACK, "llm-chat"), (ActionKind.PROMOTE, "recommender")):
        plan = fleet.cluster.plan(req(fleet, kind, name))
        assert plan.blocked
        with pytest.raises(ActionRefused, match="read-only"):
            fleet.cluster.execute(req(fleet, kind, name))
    assert fleet.cluster.read() == before
    fleet.cluster.read_only = False  # the flag is live, like a context switch
    assert fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "llm-chat")).status == (
        ActionStatus.SUCCEEDED)


def test_chart_keeps_history_before_a_promote(fleet, clock):
    fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "recommender"))
    clock.advance(1800)
    err = fleet.metrics.chart("recommender", 3600)[1]
    early = [p.value for p in err.points[:30]]
    late = [p.value for p in err.points[-30:]]
    assert max(early) < min(late)  # the error step appears at the promote instant


def test_concurrent_actions_are_serialised(fleet):
    results, errors = [], []

    def go():
        try:
            results.append(fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "reranker")))
        except ActionRefused as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and len(errors) == 7


def test_argo_abort_retry_and_promote_full(fleet):
    fleet.cluster.execute(req(fleet, ActionKind.ABORT, "reranker"))
    svc = service(fleet, "reranker")
    assert {t.role: t.percent for t in svc.traffic} == {"stable": 100.0, "canary": 0.0}
    assert fleet.cluster.execute(req(fleet, ActionKind.ABORT, "reranker")).status == (
        ActionStatus.SKIPPED)
    fleet.cluster.execute(req(fleet, ActionKind.RETRY, "reranker"))
    assert service(fleet, "reranker").canary.percent == 20.0
    fleet.cluster.execute(req(fleet, ActionKind.PROMOTE_FULL, "reranker", override=True))
    svc = service(fleet, "reranker")
    assert svc.canary is None and svc.traffic[0].percent == 100.0
    with pytest.raises(ActionRefused, match="no canary to abort"):
        fleet.cluster.execute(req(fleet, ActionKind.ABORT, "reranker", override=True))
    with pytest.raises(ActionRefused, match="Argo Rollouts"):
        fleet.cluster.execute(req(fleet, ActionKind.RETRY, "recommender"))
    with pytest.raises(ActionRefused, match="Deployment"):
        fleet.cluster.execute(req(fleet, ActionKind.ABORT, "llm-chat"))


def test_kserve_promote_after_pin_and_previous_is_remembered(fleet, clock):
    before = service(fleet, "recommender")
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "recommender"))
    fleet.cluster.execute(req(fleet, ActionKind.PROMOTE, "recommender"))
    svc = service(fleet, "recommender")
    assert [(t.revision, t.percent) for t in svc.traffic] == [(before.canary.revision, 100.0)]
    # with no canary, a KServe rollback pins the previous rolled-out revision again
    clock.advance(ROLLOUT_S + 1)  # let the promote's rollout settle
    plan = fleet.cluster.plan(req(fleet, ActionKind.ROLLBACK, "recommender"))
    assert not plan.blocked and not plan.noop
    fleet.cluster.execute(req(fleet, ActionKind.ROLLBACK, "recommender"))
    svc = service(fleet, "recommender")
    assert {t.revision: t.percent for t in svc.traffic} == {
        before.traffic[0].revision: 100.0, before.canary.revision: 0.0}


def test_approvals_annotation_is_read_from_the_object_now(fleet):
    k = key_of(fleet, "recommender")
    assert fleet.cluster.approvals_annotation(k) is None
    fleet.cluster.annotate_approval(k, "bob@desk", "numbers fine", T0, canary="2")
    raw = fleet.cluster.approvals_annotation(k)
    assert raw is not None and '"who": "bob@desk"' in raw
    assert service(fleet, "recommender").annotations["pitboard.io/approvals"] == raw
    with pytest.raises(NotFoundError):
        fleet.cluster.approvals_annotation("demo/ml-serving/Deployment/nope")
