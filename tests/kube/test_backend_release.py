"""Release actions over real HTTP: dry run first, exact patches, RBAC, 409 retry, Event +
annotation, refusals and skips."""

from __future__ import annotations

import json

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus, CheckStatus
from backends.domain.errors import ActionRefused, ConflictError, ForbiddenError

from .helpers import NS, cluster, eventually, mutations

pytestmark = pytest.mark.integration
DEP = "/apis/apps/v1/namespaces/ml-serving/deployments/"
RO = "/apis/argoproj.io/v1alpha1/namespaces/ml-serving/rollouts/mistral-chat"
ISVC = "/apis/serving.kserve.io/v1beta1/namespaces/ml-serving/inferenceservices/sentiment-bert"


def key(ctx: str, kind: str, name: str) -> str:
    return f"{ctx}/{NS}/{kind}/{name}"


@pytest.fixture
def admin(apiserver):
    c = cluster(apiserver)
    yield c
    c.close()


def rev(obj) -> int:
    return int(obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def test_rollback_dry_run_then_patch_then_event_and_annotation(apiserver, admin):
    before = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
    start = len(apiserver.requests)
    req = ActionRequest(kind=ActionKind.ROLLBACK, service_key=key("test-admin", "Deployment",
                        "llama-chat"), reason="p95 doubled [red]", actor="ana@example")
    result = admin.execute(req)
    assert result.status == ActionStatus.SUCCEEDED, result
    assert (result.detail["from_revision"], result.detail["to_revision"]) == (4, 3)
    muts = mutations(apiserver, start)
    patches = [r for r in muts if r.method == "PATCH" and r.path == DEP + "llama-chat"]
    assert patches[0].query.get("dryRun") == "All" and "dryRun" not in patches[1].query
    assert patches[0].content_type.startswith("application/json-patch+json")
    assert [op["path"] for op in patches[1].body] == ["/spec/template", "/metadata/annotations"]
    after = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
    image = after["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "vllm/vllm-openai:v0.7.0" != before["spec"]["template"]["spec"]["containers"][0]["image"]
    eventually(lambda: rev(apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")) == 5)
    note = json.loads(after["metadata"]["annotations"]["pitboard.io/last-action"])
    assert note["who"] == "ana@example" and note["reason"] == "p95 doubled [red]"
    assert note["what"] == "rollback deployment/llama-chat" and note["when"].endswith("Z")
    events = [e for e in apiserver.list_objects("v1", "events", NS)
              if e["involvedObject"]["name"] == "llama-chat" and e["reason"] == "PitboardRollback"]
    assert len(events) == 1 and "ana@example" in events[0]["message"]
    # the watch shows it: the history now has revision 5 current
    def current():
        part = admin.read()
        hist = part.revisions[req.service_key]
        return hist[0].number == 5 and hist[0].current and hist[0].image.endswith("v0.7.0")
    eventually(current)


def test_rollback_to_revision_and_skip_when_already_there(apiserver, admin):
    k = key("test-admin", "Deployment", "embedder")
    res = admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k, to_revision=1))
    assert res.status == ActionStatus.SUCCEEDED and res.detail["to_revision"] == 1
    start = len(apiserver.requests)
    obj = apiserver.get_object("apps/v1", "deployments", NS, "embedder")
    skip = admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k,
                                       to_revision=rev(obj)))
    assert skip.status == ActionStatus.SKIPPED and "already matches" in skip.message
    assert mutations(apiserver, start) == []
    with pytest.raises(ActionRefused, match="unable to find specified revision 99"):
        admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k, to_revision=99))


def test_paused_deployment_is_refused(apiserver, admin):
    k = key("test-admin", "Deployment", "whisper-asr")
    plan = admin.plan(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    assert plan.blocked and any("paused" in c.reason for c in plan.checks)
    start = len(apiserver.requests)
    with pytest.raises(ActionRefused, match="paused"):
        admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    assert mutations(apiserver, start) == []


def test_plan_runs_rbac_and_dry_run_without_mutating(apiserver, admin):
    k = key("test-admin", "Deployment", "ranker")
    before = apiserver.get_object("apps/v1", "deployments", NS, "ranker")
    plan = admin.plan(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    assert not plan.blocked and plan.object_ref == "deployment/ranker"
    names = {c.name: c.status for c in plan.checks}
    assert names["RBAC: patch deployments.apps"] == CheckStatus.PASSED
    assert names["server-side dry run"] == CheckStatus.PASSED
    assert {c.field for c in plan.changes} >= {"revision", "image"}
    assert apiserver.get_object("apps/v1", "deployments", NS, "ranker") == before
    assert any(r.path.endswith("selfsubjectaccessreviews") for r in apiserver.requests)


def test_403_names_the_missing_permission(apiserver):
    viewer = cluster(apiserver, context="test-viewer")
    try:
        viewer.read()
        k = key("test-viewer", "Deployment", "ranker")
        plan = viewer.plan(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
        failed = [c for c in plan.checks if c.status == CheckStatus.FAILED and c.blocking]
        assert any("missing permission: patch deployments" in c.reason for c in failed)
        with pytest.raises(ForbiddenError) as exc:
            viewer.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
        assert "patch deployments.apps in namespace 'ml-serving'" in str(exc.value)
        assert exc.value.status == 403
    finally:
        viewer.close()


def test_409_is_retried_once_on_a_fresh_read(apiserver, admin):
    k = key("test-admin", "Deployment", "ranker")
    apiserver.inject("PATCH", r"/deployments/ranker$", 409, times=1)
    res = admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    assert res.status == ActionStatus.SUCCEEDED and res.detail["attempts"] == 2
    apiserver.inject("PATCH", r"/deployments/embedder$", 409, times=None)
    with pytest.raises(ConflictError, match="twice"):
        admin.execute(ActionRequest(kind=ActionKind.ROLLBACK,
                                    service_key=key("test-admin", "Deployment", "embedder")))


def test_argo_promote_uses_the_status_subresource(apiserver, admin):
    k = key("test-admin", "Rollout", "mistral-chat")
    start = len(apiserver.requests)
    res = admin.execute(ActionRequest(kind=ActionKind.PROMOTE, service_key=k, reason="canary ok"))
    assert res.status == ActionStatus.SUCCEEDED
    sent = [r for r in mutations(apiserver, start) if r.method == "PATCH" and "dryRun" not in r.query]
    assert sent[0].path == RO + "/status"
    assert sent[0].content_type.startswith("application/merge-patch+json")
    assert sent[0].body == {"status": {"pauseConditions": None}}
    obj = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    assert not obj["status"].get("pauseConditions")


def test_argo_abort_and_undo(apiserver, admin):
    k = key("test-admin", "Rollout", "mistral-chat")
    admin.execute(ActionRequest(kind=ActionKind.ABORT, service_key=k))
    obj = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    assert obj["status"]["abort"] is True
    res = admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    assert res.status == ActionStatus.SUCCEEDED and res.detail["to_revision"] == 2
    obj = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "vllm/vllm-openai:v0.7.0"


def test_kserve_promote_and_rollback(apiserver, admin):
    k = key("test-admin", "InferenceService", "sentiment-bert")
    res = admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    assert res.status == ActionStatus.SUCCEEDED
    obj = apiserver.get_object("serving.kserve.io/v1beta1", "inferenceservices", NS, "sentiment-bert")
    assert obj["spec"]["predictor"]["canaryTrafficPercent"] == 0
    admin.execute(ActionRequest(kind=ActionKind.PROMOTE, service_key=k))
    obj = apiserver.get_object("serving.kserve.io/v1beta1", "inferenceservices", NS, "sentiment-bert")
    assert "canaryTrafficPercent" not in obj["spec"]["predictor"]
    skip = admin.execute(ActionRequest(kind=ActionKind.PROMOTE, service_key=k))
    assert skip.status == ActionStatus.SKIPPED


def test_progress_of_a_rollback(apiserver, admin):
    k = key("test-admin", "Deployment", "ranker")
    admin.execute(ActionRequest(kind=ActionKind.ROLLBACK, service_key=k))
    prog = eventually(lambda: (p := admin.progress(k)).done and p)
    assert prog.phase == "complete" and prog.ready == prog.desired
