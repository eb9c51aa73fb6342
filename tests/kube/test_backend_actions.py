"""The release semantics on plain dicts (no server): kubectl / argo / KServe patches."""

from __future__ import annotations

import copy

import pytest

from backends.domain.errors import ActionRefused
from backends.kube.kinds.deployment import deployment_rollback
from backends.kube.kinds.kserve import kserve_promote, kserve_rollback
from backends.kube.kinds.rollout import argo_abort, argo_promote, argo_retry, argo_undo
from backends.kube.semantics import JSON_PATCH, MERGE_PATCH, equal_ignore_hash, pick_revision


def template(image: str, hash_: str | None = None, hash_key: str = "pod-template-hash") -> dict:
    labels = {"app": "llm"}
    if hash_:
        labels[hash_key] = hash_
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "srv", "image": image,
                                     "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}


def deployment(image: str, revision: str = "3", paused: bool = False, **ann) -> dict:
    annotations = {"deployment.kubernetes.io/revision": revision,
                   "kubectl.kubernetes.io/last-applied-configuration": "{}",
                   "kubernetes.io/change-cause": "current cause", **ann}
    return {"metadata": {"name": "llm", "namespace": "ml", "uid": "d-uid",
                         "annotations": annotations},
            "spec": {"paused": paused, "selector": {"matchLabels": {"app": "llm"}},
                     "template": template(image)}}


def rs(name: str, revision: str | None, image: str, owner: str = "d-uid", **ann) -> dict:
    annotations = dict(ann)
    if revision is not None:
        annotations["deployment.kubernetes.io/revision"] = revision
    return {"metadata": {"name": name, "namespace": "ml", "annotations": annotations,
                         "ownerReferences": [{"kind": "Deployment", "name": "llm",
                                              "uid": owner, "controller": True}]},
            "spec": {"template": template(image, hash_=name[-5:])}}


RSS = [rs("llm-aaaaa", "1", "img:1", **{"kubernetes.io/change-cause": "v1"}),
       rs("llm-bbbbb", "2", "img:2", **{"kubernetes.io/change-cause": "v2",
                                        "deployment.kubernetes.io/desired-replicas": "9"}),
       rs("llm-ccccc", "3", "img:3"),
       rs("other-ddddd", "7", "img:7", owner="someone-else")]


def test_rollback_targets_second_highest_owned_revision():
    spec = deployment_rollback(deployment("img:3"), RSS)
    assert (spec.from_revision, spec.to_revision) == (3, 2)
    assert (spec.from_image, spec.to_image) == ("img:3", "img:2")
    [patch] = spec.patches
    assert patch.content_type == JSON_PATCH
    ops = patch.body
    assert [o["path"] for o in ops] == ["/spec/template", "/metadata/annotations"]
    assert all(o["op"] == "replace" for o in ops)
    assert "pod-template-hash" not in ops[0]["value"]["metadata"]["labels"]
    assert ops[0]["value"]["spec"]["containers"][0]["image"] == "img:2"
    # Deployment keeps its own revision + last-applied; the rest comes from the ReplicaSet
    assert ops[1]["value"] == {"deployment.kubernetes.io/revision": "3",
                               "kubectl.kubernetes.io/last-applied-configuration": "{}",
                               "kubernetes.io/change-cause": "v2"}


def test_rollback_to_revision_and_unknown_revision():
    assert deployment_rollback(deployment("img:3"), RSS, 1).to_image == "img:1"
    with pytest.raises(ActionRefused, match="unable to find specified revision 7"):
        deployment_rollback(deployment("img:3"), RSS, 7)  # rev 7 is not owned


def test_rollback_refuses_paused_and_missing_history():
    with pytest.raises(ActionRefused, match="paused"):
        deployment_rollback(deployment("img:3", paused=True), RSS)
    with pytest.raises(ActionRefused, match="no rollout history"):
        deployment_rollback(deployment("img:3"), RSS[2:3])


def test_rollback_skips_when_template_matches_ignoring_hash():
    spec = deployment_rollback(deployment("img:2"), RSS)
    assert spec.noop and not spec.patches
    assert "already matches revision 0" in spec.message


def test_missing_revision_annotation_counts_as_zero_and_garbage_is_ignored():
    rss = [rs("a-00000", None, "img:0"), rs("b-11111", "x1", "img:x"), rs("c-22222", "4", "img:4")]
    assert pick_revision(rss, deployment("img:4"), None, "deployment.kubernetes.io/revision",
                         "deployment")["metadata"]["name"] == "a-00000"


def test_semantic_equality_treats_empty_as_unset_and_quantities_by_value():
    a = template("i")
    b = copy.deepcopy(a)
    b["metadata"]["annotations"] = {}
    b["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1000m"
    a["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1"
    assert equal_ignore_hash(a, b)
    b["spec"]["containers"][0]["image"] = "j"
    assert not equal_ignore_hash(a, b)


def rollout(paused=False, pause_conditions=None, step=None, steps=3, current="h2", stable="h1"):
    status = {"currentPodHash": current, "stableRS": stable}
    if pause_conditions:
        status["pauseConditions"] = pause_conditions
    if step is not None:
        status["currentStepIndex"] = step
    return {"metadata": {"name": "ro", "namespace": "ml", "uid": "r-uid",
                         "annotations": {"rollout.argoproj.io/revision": "2"}},
            "spec": {"paused": paused, "selector": {"matchLabels": {"app": "llm"}},
                     "template": template("img:2"),
                     "strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}},
                                                       {"setWeight": 50}][:steps]}}},
            "status": status}


def test_argo_promote_clears_pause_conditions_then_unpauses():
    spec = argo_promote(rollout(paused=True, pause_conditions=[{"reason": "CanaryPauseStep"}],
                                step=1))
    assert [(p.subresource, p.body) for p in spec.patches] == [
        ("status", {"status": {"pauseConditions": None}}),
        ("", {"spec": {"paused": False}})]
    assert all(p.content_type == MERGE_PATCH for p in spec.patches)
    assert spec.patches[0].fallback == {"spec": {"paused": False},
                                        "status": {"pauseConditions": None}}


def test_argo_promote_without_pause_increments_step():
    spec = argo_promote(rollout(step=1))
    assert spec.patches[0].body == {"status": {"pauseConditions": None, "currentStepIndex": 2}}
    assert spec.patches[0].fallback["spec"] == {"paused": False}
    at_end = argo_promote(rollout(step=3))
    assert at_end.patches[0].body["status"]["currentStepIndex"] == 3


def test_argo_promote_full_abort_retry():
    assert argo_promote(rollout(), full=True).patches[0].body == {"status": {"promoteFull": True}}
    assert argo_promote(rollout(current="h1"), full=True).noop
    assert argo_abort().patches[0].body == {"status": {"abort": True}}
    assert argo_abort().patches[0].subresource == "status"
    assert argo_retry().patches[0].body == {"status": {"abort": False}}


def test_argo_undo_replaces_only_the_template():
    owned = []
    for name, rev, img in (("ro-h1", "1", "img:1"), ("ro-h2", "2", "img:2")):
        r = rs(name, None, img, owner="r-uid", **{"rollout.argoproj.io/revision": rev})
        r["spec"]["template"] = template(img, name[-2:], "rollouts-pod-template-hash")
        owned.append(r)
    spec = argo_undo(rollout(), owned)
    [patch] = spec.patches
    assert [o["path"] for o in patch.body] == ["/spec/template"]
    assert "rollouts-pod-template-hash" not in patch.body[0]["value"]["metadata"]["labels"]
    assert (spec.from_revision, spec.to_revision) == (2, 1)
    assert argo_undo(rollout(), owned, 2).noop


def isvc(canary=None, previous="m-predictor-00001"):
    pred = {"model": {"modelFormat": {"name": "huggingface"}}}
    if canary is not None:
        pred["canaryTrafficPercent"] = canary
    return {"metadata": {"name": "m", "namespace": "ml"}, "spec": {"predictor": pred},
            "status": {"components": {"predictor": {"previousRolledoutRevision": previous}}}}


def test_kserve_promote_and_rollback():
    p = kserve_promote(isvc(10)).patches[0]
    assert p.body == {"spec": {"predictor": {"canaryTrafficPercent": None}}}
    assert p.content_type == MERGE_PATCH
    assert kserve_promote(isvc()).noop
    assert kserve_rollback(isvc(10)).patches[0].body == {
        "spec": {"predictor": {"canaryTrafficPercent": 0}}}
    assert kserve_rollback(isvc(0)).noop
    with pytest.raises(ActionRefused):
        kserve_rollback(isvc(None, previous=None))
