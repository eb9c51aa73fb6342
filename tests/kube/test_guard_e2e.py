"""The one action path end to end: ActionRunner + SqliteAudit (temporary file) +
KubernetesCluster, against the test API server over real HTTP.

Rollback, 403 (RBAC preflight and a refused PATCH), 409 (retried once, then reported),
a dry-run refusal, KServe and Argo promotes, read-only, and a paused Deployment."""

from __future__ import annotations

import time

import pytest

from backends.domain.actions import ActionKind, ActionStatus, CheckStatus
from backends.domain.errors import ActionRefused
from backends.actions.gates import APPROVALS

from .helpers import NS, eventually, merge_patch, mutations
from .helpers_guard import (
    is_anchor_write,
    ANA,
    BOB,
    DEP,
    EVENTS,
    ISVC,
    JSON_PATCH,
    MERGE_PATCH,
    REVISION,
    ROLLOUT,
    assert_chain,
    checks,
    degraded,
    deployment,
    events_about,
    fast_actions,
    index_of,
    key,
    last_action,
    owned_replicasets,
    patches,
    rs_with_revision,
    snapshot,
    status_body,
    without_hash,
)

pytestmark = pytest.mark.integration
KUBECTL_PAUSED = ("you cannot rollback a paused deployment; resume it first with "
                  "'kubectl rollout resume")



# -- (1) rollback -----------------------------------------------------------------------------


def test_rollback_as_admin_end_to_end(apiserver, rigs):
    rig = rigs()
    k = key("llama-chat")
    target_rs = rs_with_revision(apiserver, "llama-chat", 3)
    max_rev = max(int(rs["metadata"]["annotations"][REVISION])
                  for rs in owned_replicasets(apiserver, "llama-chat").values())
    start = rig.mark()
    plan = rig.plan(ActionKind.ROLLBACK, k)
    # the guard modal's content: the diff and passing preflight checks
    by = checks(plan)
    assert not plan.blocked and plan.object_ref == "deployment/llama-chat"
    assert (plan.context, plan.namespace) == ("test-admin", NS)
    assert by["RBAC: patch deployments.apps"].status == CheckStatus.PASSED
    assert by["server-side dry run"].status == CheckStatus.PASSED
    assert by["target exists"].status == CheckStatus.PASSED
    changes = {c.field: (c.before, c.after) for c in plan.changes}
    assert changes["revision"] == ("4", "3")
    assert changes["image"] == ("vllm/vllm-openai:v0.7.2", "vllm/vllm-openai:v0.7.0")
    # preparing changed nothing: its only PATCH is a dry run
    assert all(r.query.get("dryRun") == "All" for r in mutations(apiserver, start)
               if r.method == "PATCH")
    assert rig.audit.entries() == []

    run_start = rig.mark()
    result = rig.run(plan)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    assert result.detail["from_revision"] == 4 and result.detail["to_revision"] == 3

    # the request log: dry run, the real PATCH, then the Event and the annotation
    log = rig.since(run_start)
    [dry] = patches(log, DEP + "llama-chat", dry_run=True)
    [real] = patches(log, DEP + "llama-chat", dry_run=False, content_type=JSON_PATCH)
    [note] = patches(log, DEP + "llama-chat", dry_run=False, content_type=MERGE_PATCH)
    [event] = [r for r in log if r.method == "POST" and r.path == EVENTS
               and not is_anchor_write(r)]
    assert index_of(log, dry) < index_of(log, real) < index_of(log, event) < index_of(log, note)
    assert dry.body == real.body and real.status == 200 and dry.status == 200
    assert [op["path"] for op in real.body] == ["/spec/template", "/metadata/annotations"]
    assert set(note.body["metadata"]["annotations"]) == {
        "pitboard.io/last-action", "pitboard.io/audit", "pitboard.io/audit-chain"}

    # the server: the target's template, the reused ReplicaSet now revision max+1
    after = deployment(apiserver, "llama-chat")
    assert after["spec"]["template"] == without_hash(target_rs["spec"]["template"])
    rs_name, new_rev = target_rs["metadata"]["name"], str(max_rev + 1)
    eventually(lambda: owned_replicasets(apiserver, "llama-chat")[rs_name]["metadata"][
        "annotations"][REVISION] == new_rev)
    assert deployment(apiserver, "llama-chat")["metadata"]["annotations"][REVISION] == new_rev
    action = last_action(after)
    assert action["who"] == ANA and action["what"] == "rollback deployment/llama-chat"
    assert action["reason"] == "p95 doubled since 14:05"
    [ev] = events_about(apiserver, "llama-chat", "PitboardRollback")
    assert ANA in ev["message"] and ev["involvedObject"]["kind"] == "Deployment"

    # the audit: intent (with the diff and checks), outcome, settle; the chain verifies
    intent, outcome, settle = assert_chain(rig, ("intent", None), ("outcome", "succeeded"),
                                           ("settle", "complete"))
    assert intent.actor == ANA and intent.action == "rollback" and intent.target == k
    assert intent.detail["context"] == "test-admin" and intent.detail["override"] is False
    assert {c["field"] for c in intent.detail["changes"]} >= {"revision", "image"}
    assert outcome.detail["patches"] and outcome.detail["attempts"] == 1
    assert intent.seq < outcome.seq < settle.seq
    # progress reached done
    assert rig.progress and rig.progress[-1].done and rig.progress[-1].phase == "complete"
    assert result.detail["progress"]["phase"] == "complete"


def _bad_image_in_flight(apiserver, name: str = "ranker") -> None:
    """Someone ships a bad image; its rollout stays in progress until finish_rollouts()."""
    apiserver.rollout_delay_s = 30
    merge_patch(apiserver, DEP + name, {"spec": {"template": {"spec": {"containers": [
        {"name": "ranker", "image": "registry.example.com/ml/ranker:9.9-broken"}]}}}})


def test_rollback_mid_rollout_watches_progress_until_done(apiserver, rigs):
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the runner's poll wait: let the rollout finish
        sleeps.append(seconds)
        apiserver.finish_rollouts()

    rig = rigs(sleep=sleep)
    _bad_image_in_flight(apiserver)
    plan = rig.plan(ActionKind.ROLLBACK, key("ranker"))
    inflight = checks(plan)["no rollout in flight"]
    assert inflight.status == CheckStatus.FAILED and not inflight.blocking and inflight.reason
    assert not plan.blocked
    result = rig.run(plan, reason="9.9 crashloops")
    assert result.status == ActionStatus.SUCCEEDED, result.message
    assert not rig.progress[0].done and rig.progress[0].phase == "progressing"
    assert rig.progress[-1].done and rig.progress[-1].phase == "complete"
    assert sleeps and all(s <= 0.05 for s in sleeps)
    image = deployment(apiserver, "ranker")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/ml/ranker:1.3.0"
    assert_chain(rig, ("intent", None), ("outcome", "succeeded"), ("settle", "complete"))


def test_stuck_rollout_is_recorded_as_stuck_without_waiting_out_the_timeout(
        apiserver, rigs):
    def sleep(seconds: float) -> None:  # first poll wait: the rollout hits its deadline
        if not apiserver.injections:
            apiserver.inject("GET", r"/deployments/ranker$", 200, times=None,
                             body=degraded(deployment(apiserver, "ranker")))
        time.sleep(seconds)

    rig = rigs(sleep=sleep, config=fast_actions(progress_timeout_s=3))
    _bad_image_in_flight(apiserver)
    result = rig.run(rig.plan(ActionKind.ROLLBACK, key("ranker")))
    assert result.status == ActionStatus.FAILED, result.message
    assert "stuck" in result.message and "progress deadline" in result.message
    assert "ProgressDeadlineExceeded" in result.message  # the controller's reason
    assert rig.progress[-1].done and rig.progress[-1].phase == "stuck"
    assert_chain(rig, ("intent", None), ("outcome", "succeeded"), ("settle", "stuck"))


# -- (2) 403 -----------------------------------------------------------------------------------


def test_viewer_is_blocked_by_the_rbac_preflight_and_nothing_is_written(apiserver, rigs):
    rig = rigs(context="test-viewer")
    k = key("ranker", ctx="test-viewer")
    before = deployment(apiserver, "ranker")
    plan = rig.plan(ActionKind.ROLLBACK, k)
    rbac = checks(plan)["RBAC: patch deployments.apps"]
    assert plan.blocked and rbac.status == CheckStatus.FAILED and rbac.blocking
    assert "missing permission: patch deployments in API group 'apps' in namespace " \
           "'ml-serving'" in rbac.reason
    dry = checks(plan)["server-side dry run"]
    assert dry.status == CheckStatus.FAILED and "403" in dry.reason
    start = rig.mark()
    with pytest.raises(ActionRefused, match="missing permission: patch deployments"):
        rig.run(plan, actor="vic@desk")
    with pytest.raises(ActionRefused, match="cannot be overridden"):
        rig.run(plan, actor="vic@desk", override=True)
    assert rig.since(start) == []  # the runner did not call the cluster at all
    assert rig.audit.entries() == []
    assert deployment(apiserver, "ranker") == before


def test_403_on_the_patch_is_a_failed_outcome_with_the_servers_message(apiserver, rigs):
    rig = rigs()
    before = deployment(apiserver, "llama-chat")
    plan = rig.plan(ActionKind.ROLLBACK, key("llama-chat"))
    assert not plan.blocked
    msg = ('deployments.apps "llama-chat" is forbidden: change freeze on ml-serving until '
           '2026-12-01 (policy freeze.example.com)')
    apiserver.inject("PATCH", r"/deployments/llama-chat$", 403, query={"dryRun": None},
                     body=status_body(403, msg, "Forbidden"))
    start = rig.mark()
    result = rig.run(plan)
    assert result.status == ActionStatus.FAILED
    assert msg in result.message and "(403)" in result.message
    log = rig.since(start)
    assert [r.status for r in patches(log, DEP + "llama-chat")] == [200, 403]  # dry run, real
    # nothing mirrored but the failed outcome's audit anchor (an Event; the object as it was)
    assert [r.body["reason"] for r in log if r.path == EVENTS] == ["PitboardAudit"]
    assert deployment(apiserver, "llama-chat") == before
    intent, outcome = assert_chain(rig, ("intent", None), ("outcome", "failed"))
    assert msg in outcome.reason and outcome.detail["status"] == 403
    assert outcome.detail["error"] == "ForbiddenError"


# -- (3) 409 -----------------------------------------------------------------------------------


def test_one_409_is_retried_on_a_fresh_read_and_succeeds(apiserver, rigs):
    rig = rigs()
    plan = rig.plan(ActionKind.ROLLBACK, key("llama-chat"))
    apiserver.inject("PATCH", r"/deployments/llama-chat$", 409, times=1, query={"dryRun": None})
    start = rig.mark()
    result = rig.run(plan)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    assert result.detail["attempts"] == 2
    log = rig.since(start)
    first, second = patches(log, DEP + "llama-chat", dry_run=False, content_type=JSON_PATCH)
    assert (first.status, second.status) == (409, 200)
    reread = [r for r in log[index_of(log, first):index_of(log, second)]
              if r.method == "GET" and r.path == DEP + "llama-chat"]
    assert reread, "the retry must follow a fresh GET"
    assert deployment(apiserver, "llama-chat")["spec"]["template"]["spec"]["containers"][0][
        "image"] == "vllm/vllm-openai:v0.7.0"
    _, outcome, _ = assert_chain(rig, ("intent", None), ("outcome", "succeeded"),
                                 ("settle", "complete"))
    assert outcome.detail["attempts"] == 2


@pytest.mark.parametrize("times", [2, None], ids=["two", "persistent"])
def test_repeated_409s_fail_as_a_conflict(apiserver, rigs, times):
    rig = rigs()
    before = deployment(apiserver, "embedder")
    plan = rig.plan(ActionKind.ROLLBACK, key("embedder"))
    apiserver.inject("PATCH", r"/deployments/embedder$", 409, times=times,
                     query={"dryRun": None})
    start = rig.mark()
    result = rig.run(plan)
    assert result.status == ActionStatus.FAILED
    assert "conflict (409)" in result.message and "twice" in result.message
    log = rig.since(start)
    assert [r.status for r in patches(log, DEP + "embedder", dry_run=False)] == [409, 409]
    assert [r.body["reason"] for r in log if r.path == EVENTS] == ["PitboardAudit"]
    assert deployment(apiserver, "embedder") == before
    _, outcome = assert_chain(rig, ("intent", None), ("outcome", "failed"))
    assert outcome.detail["error"] == "ConflictError" and outcome.detail["status"] == 409


# -- (4) dry-run refusal -----------------------------------------------------------------------


@pytest.mark.parametrize("code,reason,msg", [
    (422, "Invalid", 'Deployment.apps "llama-chat" is invalid: spec.template.spec.containers[0]'
                     '.resources.limits[nvidia.com/gpu]: Invalid value: "3": exceeds quota'),
    (400, "BadRequest", 'admission webhook "gpu-policy.example.com" denied the request: '
                        'image tag v0.7.0 is on the deny list'),
    (500, "InternalError", 'Internal error occurred: failed calling webhook '
                           '"gpu-policy.example.com": context deadline exceeded'),
])
def test_a_dry_run_refusal_sends_no_real_patch(apiserver, rigs, code, reason, msg):
    rig = rigs()
    before = deployment(apiserver, "llama-chat")
    plan = rig.plan(ActionKind.ROLLBACK, key("llama-chat"))
    assert not plan.blocked  # the refusal comes between the guard modal and the call
    apiserver.inject("PATCH", r"/deployments/llama-chat$", code, query={"dryRun": "All"},
                     body=status_body(code, msg, reason))
    start = rig.mark()
    result = rig.run(plan)
    assert result.status == ActionStatus.FAILED
    assert msg in result.message and "dry run refused" in result.message
    assert f"({code})" in result.message
    log = rig.since(start)
    assert [(r.query.get("dryRun"), r.status) for r in log
            if r.mutating and not is_anchor_write(r)] == [("All", code)]
    assert deployment(apiserver, "llama-chat") == before
    _, outcome = assert_chain(rig, ("intent", None), ("outcome", "failed"))
    assert msg in outcome.reason and outcome.detail["status"] == code


def test_a_dry_run_refusal_at_plan_time_blocks_before_the_intent(apiserver, rigs):
    rig = rigs()
    msg = 'admission webhook "gpu-policy.example.com" denied the request: no GPUs left'
    apiserver.inject("PATCH", r"/deployments/llama-chat$", 400, query={"dryRun": "All"},
                     body=status_body(400, msg, "BadRequest"))
    plan = rig.plan(ActionKind.ROLLBACK, key("llama-chat"))
    dry = checks(plan)["server-side dry run"]
    assert plan.blocked and dry.status == CheckStatus.FAILED and msg in dry.reason
    start = rig.mark()
    with pytest.raises(ActionRefused, match="server-side dry run"):
        rig.run(plan)
    assert rig.since(start) == [] and rig.audit.entries() == []


# -- (5) promotes ------------------------------------------------------------------------------


def test_kserve_promote_needs_an_override_without_metrics_and_records_it(apiserver, rigs):
    rig = rigs()
    k = key("sentiment-bert", "InferenceService")
    plan = rig.plan(ActionKind.PROMOTE, k, snapshot(rig))  # no metrics: gates cannot pass
    failed = {c.name for c in plan.checks if c.status == CheckStatus.FAILED}
    assert failed == {"canary error ratio", "canary p95 latency", "canary age"}
    assert all(c.overridable for c in plan.checks if c.name in failed)
    assert {c.field: (c.before, c.after) for c in plan.changes}["traffic"] == (
        "canary 10%", "latest 100%")
    start = rig.mark()
    with pytest.raises(ActionRefused, match="canary error ratio"):
        rig.run(plan, reason="metrics down, canary verified by hand")
    # nothing sent: only the object read again for its approvals annotation
    assert [r.method for r in rig.since(start)] == ["GET"] and rig.audit.entries() == []

    result = rig.run(plan, reason="metrics down, canary verified by hand", override=True)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    log = rig.since(start)
    dry, real = patches(log, ISVC + "sentiment-bert", content_type=MERGE_PATCH)[:2]
    assert dry.query == {"dryRun": "All"} and "dryRun" not in real.query
    assert real.body == {"spec": {"predictor": {"canaryTrafficPercent": None}}}
    obj = apiserver.get_object("serving.kserve.io/v1beta1", "inferenceservices", NS,
                               "sentiment-bert")
    assert "canaryTrafficPercent" not in obj["spec"]["predictor"]
    assert last_action(obj)["what"] == "promote inferenceservice/sentiment-bert"
    assert len(events_about(apiserver, "sentiment-bert", "PitboardPromote")) == 1
    intent, override, _, _ = assert_chain(
        rig, ("intent", None), ("override", None), ("outcome", "succeeded"),
        ("settle", "complete"))
    assert intent.detail["override"] is True
    assert {c["name"] for c in override.detail["checks"]} == failed
    assert override.reason == "metrics down, canary verified by hand"


def test_argo_promote_with_gates_passing_and_an_approval_hits_the_status_subresource(
        apiserver, rigs):
    rig = rigs(config=fast_actions(approvals_required=1))
    k = key("mistral-chat", "Rollout")
    healthy = {"mistral-chat": (("3", 0.002, 180.0), ("2", 0.002, 170.0))}
    plan = rig.plan(ActionKind.PROMOTE, k, snapshot(rig, healthy))
    by = checks(plan)
    assert by["RBAC: patch rollouts/status.argoproj.io"].status == CheckStatus.PASSED
    for name in ("canary error ratio", "canary p95 latency", "canary age"):
        assert by[name].status == CheckStatus.PASSED, by[name]
    assert by[APPROVALS].status == CheckStatus.FAILED and not by[APPROVALS].overridable
    with pytest.raises(ActionRefused, match="cannot be overridden: approvals"):
        rig.run(plan, reason="canary healthy for 2h", override=True)
    with pytest.raises(ActionRefused, match="approval must come from someone else"):
        rig.runner.approve(k, ANA, "lgtm", promoter=ANA)
    rig.runner.approve(k, BOB, "canary numbers look fine", promoter=ANA, canary="3")

    start = rig.mark()
    result = rig.run(plan, reason="canary healthy for 2h")  # approvals are re-read at run
    assert result.status == ActionStatus.SUCCEEDED, result.message
    log = rig.since(start)
    status_patches = patches(log, ROLLOUT + "mistral-chat/status")
    assert [r.query.get("dryRun") for r in status_patches] == ["All", None]
    assert status_patches[1].content_type.startswith(MERGE_PATCH)
    assert status_patches[1].body == {"status": {"pauseConditions": None}}
    assert not patches(log, ROLLOUT + "mistral-chat", content_type=MERGE_PATCH)[0].body.get(
        "status")  # the main resource only gets the last-action annotation
    obj = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    assert not obj["status"].get("pauseConditions")
    assert last_action(obj)["who"] == ANA
    approval, intent, *_ = assert_chain(rig, ("approval", None), ("intent", None),
                                        ("outcome", "succeeded"), ("settle", "complete"))
    assert approval.actor == BOB and intent.detail["override"] is False


# -- (6) read-only -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cluster", "runner", "config"])
def test_read_only_refuses_and_sends_no_mutating_request(apiserver, rigs, how):
    kw = {"cluster": {"read_only": True}, "runner": {"runner_read_only": True},
          "config": {"config": fast_actions().model_copy(
              update={"read_only_contexts": ["test-admin"]})}}[how]
    rig = rigs(**kw)
    start = rig.mark()
    k = key("llama-chat")
    plan = rig.plan(ActionKind.ROLLBACK, k, snapshot(rig))
    ro = checks(plan)["read-only"]
    assert plan.blocked and ro.status == CheckStatus.FAILED and not ro.overridable
    with pytest.raises(ActionRefused, match="read-only"):
        rig.run(plan)
    with pytest.raises(ActionRefused, match="read-only"):
        rig.run(plan, override=True)
    with pytest.raises(ActionRefused, match="read-only"):
        rig.runner.approve(key("mistral-chat", "Rollout"), BOB, "lgtm")
    if how == "cluster":  # the backend itself refuses too, before anything is sent
        with pytest.raises(ActionRefused, match="read-only"):
            rig.cluster.execute(plan.request)
    assert rig.since(start) and all(r.method == "GET" for r in rig.since(start))
    assert mutations(apiserver, start) == []
    assert rig.audit.entries() == []


# -- (7) paused Deployment ---------------------------------------------------------------------


def test_paused_deployment_is_refused_with_kubectls_message_and_nothing_recorded(
        apiserver, rigs):
    rig = rigs()
    start = rig.mark()
    plan = rig.plan(ActionKind.ROLLBACK, key("whisper-asr"))
    refusal = checks(plan)["allowed by the reference tool"]
    assert plan.blocked and refusal.status == CheckStatus.FAILED and not refusal.overridable
    assert KUBECTL_PAUSED in refusal.reason and refusal.reason.endswith("and try again")
    with pytest.raises(ActionRefused, match="paused"):
        rig.run(plan)
    with pytest.raises(ActionRefused, match="cannot be overridden"):
        rig.run(plan, override=True)
    assert mutations(apiserver, start) == []  # not even a dry run or an access review
    assert rig.audit.entries() == []  # guard.py: a refusal writes nothing


def test_paused_after_the_plan_is_a_failed_outcome_with_kubectls_message(apiserver, rigs):
    rig = rigs()
    plan = rig.plan(ActionKind.ROLLBACK, key("ranker"))
    assert not plan.blocked
    merge_patch(apiserver, DEP + "ranker", {"spec": {"paused": True}})  # a teammate pauses
    before = deployment(apiserver, "ranker")
    start = rig.mark()
    result = rig.run(plan)
    assert result.status == ActionStatus.FAILED
    assert KUBECTL_PAUSED in result.message
    assert [r for r in mutations(apiserver, start) if not is_anchor_write(r)] == []
    assert deployment(apiserver, "ranker") == before
    _, outcome = assert_chain(rig, ("intent", None), ("outcome", "failed"))
    assert KUBECTL_PAUSED in outcome.reason and outcome.detail["error"] == "ActionRefused"
