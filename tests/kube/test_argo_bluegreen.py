"""Promoting an Argo Rollout with the blue-green strategy, end to end through the one action
path (ActionRunner + SqliteAudit + KubernetesCluster) against the test API server.

``kubectl argo rollouts promote`` on a blue-green rollout paused before promotion
(``autoPromotionEnabled: false``) sends ``{"status":{"pauseConditions":null}}`` to the
status subresource, plus ``{"spec":{"paused":false}}`` to the rollout when it was paused
by hand, and nothing when it is not paused (promote.go ``getPatches``, default case).
The server's controller then makes the preview the active side (see
tests/kube/apiserver_controller_bluegreen.py).
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from backends.domain.actions import ActionKind, ActionStatus, CheckStatus
from backends.domain.errors import ActionRefused

from .helpers import NS, eventually, merge_patch, service
from .helpers_guard import (ROLLOUT, assert_chain, checks, fast_actions, key, last_action,
                            patches, snapshot)

pytestmark = pytest.mark.integration

NAME = "bg-reranker"
KEY = key(NAME, "Rollout")
ARGO = "argoproj.io/v1alpha1"


def _template(version: str) -> dict:
    labels = {"pitboard.io/model": NAME, "app.kubernetes.io/name": NAME,
              "app.kubernetes.io/version": version}
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "triton", "image": f"nvcr.io/reranker:{version}"}]}}


def _create(server, *, auto_promotion: bool = False) -> None:
    """A blue-green Rollout at 1.0, then a new template 1.1: the preview waits."""
    body = {"apiVersion": ARGO, "kind": "Rollout",
            "metadata": {"name": NAME, "namespace": NS, "labels": {"pitboard.io/model": NAME}},
            "spec": {"replicas": 2, "revisionHistoryLimit": 5,
                     "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                     "strategy": {"blueGreen": {"activeService": f"{NAME}-active",
                                                "previewService": f"{NAME}-preview",
                                                "autoPromotionEnabled": auto_promotion}},
                     "template": _template("1.0")}}
    req = urllib.request.Request(f"{server.url}/apis/{ARGO}/namespaces/{NS}/rollouts",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer admin-token"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 201
    merge_patch(server, ROLLOUT + NAME, {"spec": {"template": _template("1.1")}})


def _rollout(server) -> dict:
    return server.get_object(ARGO, "rollouts", NS, NAME)


def _replicas(server) -> dict[str, int]:
    """Replicas by app version of the ReplicaSets the rollout owns."""
    uid = _rollout(server)["metadata"]["uid"]
    return {rs["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"]:
            rs["spec"]["replicas"] for rs in server.list_objects("apps/v1", "replicasets", NS)
            if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])}


def _healthy(rig):
    """A snapshot once the cache shows the preview, with both legs measured healthy."""
    eventually(lambda: (s := service(rig.cluster.read(), "Rollout", NAME)).canary is not None
               and s.canary.version == "1.1")
    return snapshot(rig, {NAME: (("2", 0.001, 90.0), ("1", 0.001, 88.0))})


def test_the_preview_waits_as_argo_shows_it(apiserver, rigs):
    _create(apiserver)
    status = _rollout(apiserver)["status"]
    assert [c["reason"] for c in status["pauseConditions"]] == ["BlueGreenPause"]
    assert status["phase"] == "Paused" and status["stableRS"] != status["currentPodHash"]
    assert status["blueGreen"] == {"activeSelector": status["stableRS"],
                                   "previewSelector": status["currentPodHash"]}
    assert _replicas(apiserver) == {"1.0": 2, "1.1": 2}  # active and full-size preview

    rig = rigs()
    snap = _healthy(rig)
    svc = service(rig.cluster.read(), "Rollout", NAME)
    assert svc.paused and svc.rollout_in_progress
    assert [(t.role, t.revision, t.percent, t.version) for t in svc.traffic] == [
        ("stable", "1", 100.0, "1.0"), ("canary", "2", 0.0, "1.1")]
    assert [r.number for r in snap.revisions[KEY]] == [2, 1]


def test_promote_clears_the_pause_conditions_and_the_preview_becomes_active(apiserver, rigs):
    _create(apiserver)
    rig = rigs(config=fast_actions(min_canary_age_s=0))
    plan = rig.plan(ActionKind.PROMOTE, KEY, _healthy(rig))
    by = checks(plan)
    assert by["canary present"].reason == "canary 2 at 0% traffic"
    assert by["RBAC: patch rollouts/status.argoproj.io"].status == CheckStatus.PASSED
    blocking = [c for c in plan.checks if c.status == CheckStatus.FAILED and c.blocking]
    assert blocking == [], blocking
    assert {c.field: c.after for c in plan.changes} == {
        "patch /status": '{"status": {"pauseConditions": null}}'}

    start = rig.mark()
    result = rig.run(plan, reason="preview verified on the preview service")
    assert result.status == ActionStatus.SUCCEEDED, result.message
    log = rig.since(start)
    sent = patches(log, ROLLOUT + NAME + "/status")
    assert [r.query.get("dryRun") for r in sent] == ["All", None]
    assert sent[1].body == {"status": {"pauseConditions": None}}
    spec_patches = [r.body for r in patches(log, ROLLOUT + NAME) if "spec" in r.body]
    assert spec_patches == []  # not paused by hand: the plugin sends no spec patch
    status = _rollout(apiserver)["status"]
    assert not status.get("pauseConditions") and "controllerPause" not in status
    assert status["stableRS"] == status["currentPodHash"] and status["phase"] == "Healthy"
    assert status["blueGreen"]["activeSelector"] == status["currentPodHash"]
    assert _replicas(apiserver) == {"1.0": 0, "1.1": 2}
    assert last_action(_rollout(apiserver))["what"] == f"promote rollout/{NAME}"
    assert rig.progress and rig.progress[-1].done and rig.progress[-1].phase == "complete"
    assert_chain(rig, ("intent", None), ("outcome", "succeeded"), ("settle", "complete"))
    eventually(lambda: service(rig.cluster.read(), "Rollout", NAME).canary is None)


def test_promote_of_a_rollout_paused_by_hand_also_unpauses_the_spec(apiserver, rigs):
    _create(apiserver)
    merge_patch(apiserver, ROLLOUT + NAME, {"spec": {"paused": True}})  # argo rollouts pause
    rig = rigs(config=fast_actions(min_canary_age_s=0))
    plan = rig.plan(ActionKind.PROMOTE, KEY, _healthy(rig))
    start = rig.mark()
    result = rig.run(plan, reason="preview verified")
    assert result.status == ActionStatus.SUCCEEDED, result.message
    log = rig.since(start)
    real = [r for r in log if r.method == "PATCH" and "dryRun" not in r.query
            and r.path.startswith(ROLLOUT + NAME) and "metadata" not in r.body]
    # status subresource first, then the spec, as promote.go sends them
    assert [(r.path, r.body) for r in real] == [
        (ROLLOUT + NAME + "/status", {"status": {"pauseConditions": None}}),
        (ROLLOUT + NAME, {"spec": {"paused": False}})]
    obj = _rollout(apiserver)
    assert obj["spec"]["paused"] is False
    assert obj["status"]["stableRS"] == obj["status"]["currentPodHash"]


def test_promote_when_nothing_waits_is_refused_and_sends_nothing(apiserver, rigs):
    _create(apiserver, auto_promotion=True)  # promoted by the controller itself
    status = _rollout(apiserver)["status"]
    assert status["stableRS"] == status["currentPodHash"] and not status.get("pauseConditions")
    rig = rigs(config=fast_actions(min_canary_age_s=0))
    eventually(lambda: service(rig.cluster.read(), "Rollout", NAME).version == "1.1")
    start = rig.mark()
    plan = rig.plan(ActionKind.PROMOTE, KEY, snapshot(rig))
    assert plan.noop and "nothing to promote" in (plan.noop_reason or "")
    assert checks(plan)["canary present"].reason == f"{NAME} has no canary to promote"
    with pytest.raises(ActionRefused, match="no canary to promote"):
        rig.run(plan, reason="checking", override=True)
    assert [r for r in rig.since(start) if r.mutating] == [] and rig.audit.entries() == []
