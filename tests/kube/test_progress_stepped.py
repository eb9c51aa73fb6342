"""Progress and settle like ``kubectl rollout status``, stepped through by the test API
server's controller: not observed, partially rolled (old ready pods never count), stuck
(ProgressDeadlineExceeded, with the controller's reason), done -- for a Deployment, an
Argo Rollout and a KServe InferenceService."""

from __future__ import annotations

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus
from backends.domain.models import ServiceKind

from .helpers import NS, cluster, merge_patch
from .helpers_guard import fast_actions, key

pytestmark = pytest.mark.integration
LLAMA = key("llama-chat")
MISTRAL = key("mistral-chat", "Rollout")
BERT = key("sentiment-bert", "InferenceService")


def rollback(c, service_key: str) -> None:
    result = c.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=service_key,
                                     reason="stepped"))
    assert result.status == ActionStatus.SUCCEEDED, result.message


def test_deployment_not_observed_partial_stuck(apiserver):
    c = cluster(apiserver)
    try:
        apiserver.hold("llama-chat")
        apiserver.step("llama-chat", ready=0)
        rollback(c, LLAMA)
        p = c.progress(LLAMA)  # the spec changed, the controller has not seen it
        assert not p.done and not p.observed and p.phase == "progressing"
        assert "spec update to be observed" in p.message
        assert p.available is None and p.fraction is None

        apiserver.release("llama-chat")  # observed: one new pod starting, none ready
        dep = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
        assert dep["status"]["readyReplicas"] == 2  # the old pods are all ready ...
        p = c.progress(LLAMA)
        assert p.observed and not p.done and p.phase == "progressing"
        assert (p.updated, p.ready, p.available, p.desired) == (1, 0, 0, 2)  # ... not counted
        assert p.message == "1 out of 2 new replicas have been updated"
        assert p.fraction == 0.0

        apiserver.step("llama-chat", ready=1)
        p = c.progress(LLAMA)
        assert not p.done and (p.updated, p.available) == (2, 1) and p.fraction == 0.5
        assert p.message == "1 old replicas are pending termination"
        # mid-rollout the split between old and new pods is nobody's measurement: no
        # traffic figure (rolled out, the current revision takes 100: test_version_traffic)
        llama = next(s for s in c.read().services
                     if s.name == "llama-chat" and s.kind == ServiceKind.DEPLOYMENT)
        assert llama.rollout_in_progress and llama.traffic == ()

        apiserver.exceed_deadline("llama-chat")
        p = c.progress(LLAMA)
        assert p.done and p.phase == "stuck" and p.reason == "ProgressDeadlineExceeded"
        assert "has timed out progressing" in p.message and "llama-chat-" in p.message
    finally:
        c.close()


def test_deployment_done_only_when_every_new_replica_is_available(apiserver):
    c = cluster(apiserver)
    try:
        apiserver.step("llama-chat", ready=1)
        rollback(c, LLAMA)
        assert not c.progress(LLAMA).done
        apiserver.step("llama-chat", ready=None)
        p = c.progress(LLAMA)
        assert p.done and p.phase == "complete" and p.message == "successfully rolled out"
        assert (p.updated, p.ready, p.available, p.desired, p.fraction) == (2, 2, 2, 2, 1.0)
    finally:
        c.close()


def test_runner_settles_only_when_the_controller_reports_done(apiserver, rigs):
    """The guard's watch, with the controller stepping once per poll: the settle entry
    comes after the last step, with each state reported on the way."""
    steps = iter([lambda: apiserver.release("llama-chat"),
                  lambda: apiserver.step("llama-chat", ready=1),
                  lambda: apiserver.step("llama-chat", ready=None)])

    def sleep(_seconds: float) -> None:
        next(steps, lambda: None)()

    rig = rigs(sleep=sleep)
    apiserver.hold("llama-chat")
    apiserver.step("llama-chat", ready=0)
    result = rig.run(rig.plan(ActionKind.ROLLBACK, LLAMA))
    assert result.status == ActionStatus.SUCCEEDED, result.message
    seen = [(p.observed, p.available, p.done, p.phase) for p in rig.progress]
    assert seen == [(False, None, False, "progressing"), (True, 0, False, "progressing"),
                    (True, 1, False, "progressing"), (True, 2, True, "complete")]
    assert [k for k, _ in rig.kinds()] == ["intent", "outcome", "settle"]
    assert rig.kinds()[-1] == ("settle", "complete")


def test_runner_records_stuck_with_the_controllers_reason(apiserver, rigs):
    rig = rigs(sleep=lambda _s: apiserver.exceed_deadline("llama-chat"),
               config=fast_actions(progress_timeout_s=5))
    apiserver.step("llama-chat", ready=1)
    result = rig.run(rig.plan(ActionKind.ROLLBACK, LLAMA))
    assert result.status == ActionStatus.FAILED
    assert result.message.startswith("rollout stuck: ProgressDeadlineExceeded:")
    assert "has timed out progressing" in result.message
    assert rig.kinds()[-1] == ("settle", "stuck")
    settle = rig.audit.entries()[-1]
    assert settle.detail["reason"] == "ProgressDeadlineExceeded"


def test_argo_promote_settles_after_the_controller_unpauses(apiserver):
    c = cluster(apiserver)
    try:
        before = c.progress(MISTRAL)
        assert before.done and before.phase == "paused" and before.message == "CanaryPauseStep"
        apiserver.hold("mistral-chat")
        result = c.execute(ActionRequest(kind=ActionKind.PROMOTE, service_key=MISTRAL,
                                         reason="stepped"))
        assert result.status == ActionStatus.SUCCEEDED, result.message
        p = c.progress(MISTRAL)  # pause conditions cleared, phase still "Paused": unpausing
        assert not p.done and not p.observed and p.phase == "progressing"
        assert p.message.startswith("unpausing")
        apiserver.release("mistral-chat")
        p = c.progress(MISTRAL)
        assert p.done and p.phase == "complete" and p.observed
        assert (p.updated, p.available, p.desired) == (3, 3, 3)
    finally:
        c.close()


def test_argo_abort_settles_as_aborted(apiserver, rigs):
    rig = rigs()
    apiserver.hold("mistral-chat")  # the controller answers the abort as Argo's does:

    def controller_aborts(_seconds: float) -> None:
        merge_patch(apiserver, f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/"
                               "mistral-chat/status",
                    {"status": {"phase": "Degraded", "message": "RolloutAborted: Rollout "
                                "aborted update to revision 3", "conditions": [
                                    {"type": "Progressing", "status": "False",
                                     "reason": "RolloutAborted",
                                     "message": "Rollout aborted update to revision 3"}]}})

    rig.runner.sleep = controller_aborts
    result = rig.run(rig.plan(ActionKind.ABORT, MISTRAL))
    assert result.status == ActionStatus.SUCCEEDED, result.message  # what it asked for
    first = rig.progress[0]  # abort sent, still "Paused" by the controller's word
    assert not first.done and first.message == "aborting (waiting for the controller)"
    assert rig.progress[-1].phase == "degraded" and rig.progress[-1].reason == "RolloutAborted"
    assert rig.kinds()[-1] == ("settle", "complete")


def test_kserve_settles_only_when_the_traffic_shows_the_controller_acted(apiserver):
    c = cluster(apiserver)
    path = f"/apis/serving.kserve.io/v1beta1/namespaces/{NS}/inferenceservices/sentiment-bert"
    try:
        apiserver.hold("sentiment-bert")
        result = c.execute(ActionRequest(kind=ActionKind.PROMOTE, service_key=BERT,
                                         reason="stepped"))
        assert result.status == ActionStatus.SUCCEEDED, result.message
        p = c.progress(BERT)  # Ready and latestCreated == latestReady, but not observed
        assert not p.done and not p.observed
        assert "spec update to be observed" in p.message

        isvc = apiserver.get_object("serving.kserve.io/v1beta1", "inferenceservices", NS,
                                    "sentiment-bert")
        merge_patch(apiserver, path + "/status", {"status": {  # observed, traffic not moved
            "observedGeneration": isvc["metadata"]["generation"]}})
        p = c.progress(BERT)
        assert p.observed and not p.done
        assert p.message.startswith("waiting for the traffic: latest 10% of 100%")

        apiserver.release("sentiment-bert")  # the controller moves the traffic
        p = c.progress(BERT)
        assert p.done and p.phase == "complete"
        assert "sentiment-bert-predictor-00003" in p.message and "latest 100%" in p.message
    finally:
        c.close()


def test_kserve_new_revision_not_ready_then_stuck(apiserver):
    c = cluster(apiserver)
    path = f"/apis/serving.kserve.io/v1beta1/namespaces/{NS}/inferenceservices/sentiment-bert"
    try:
        apiserver.hold("sentiment-bert")
        isvc = merge_patch(apiserver, path, {"spec": {"predictor": {"model": {
            "storageUri": "s3://models/sentiment-bert/v4"}}}})
        merge_patch(apiserver, path + "/status", {"status": {
            "observedGeneration": isvc["metadata"]["generation"],
            "components": {"predictor": {
                "latestCreatedRevision": "sentiment-bert-predictor-00004"}}}})
        p = c.progress(BERT)
        assert not p.done and p.message.startswith(
            "waiting for revision sentiment-bert-predictor-00004 to be ready")
        merge_patch(apiserver, path + "/status", {"status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "Initial scale was never achieved"}]}})
        p = c.progress(BERT)
        assert p.done and p.phase == "stuck" and p.reason == "ProgressDeadlineExceeded"
        assert "Initial scale was never achieved" in p.message
    finally:
        c.close()
