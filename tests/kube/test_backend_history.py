"""Services, history, traffic and GPU allocation from slim records (no server)."""

from __future__ import annotations

from backends.kube.history import Inputs, build_part
from backends.kube.kinds.base import image_tag
from backends.kube.kinds.deployment import slim_deployment
from backends.kube.kinds.kserve import slim_isvc
from backends.kube.kinds.rollout import slim_rollout
from backends.kube.slim import slim_node, slim_pod, slim_replicaset
from backends.domain.models import ServiceKind


def meta(name, uid=None, owner=None, labels=None, ann=None, ns="ml"):
    m = {"name": name, "namespace": ns, "uid": uid or f"{name}-uid", "labels": labels or {},
         "annotations": ann or {}, "creationTimestamp": "2024-05-01T10:00:00Z"}
    if owner:
        m["ownerReferences"] = [{"kind": owner[0], "uid": owner[1], "name": "x",
                                 "controller": True}]
    return m


def tmpl(image, **labels):
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"image": image}]}}


def recs(items, fn):
    return {f"{o['metadata'].get('namespace')}/{o['metadata']['name']}": fn(o) for o in items}


DEP = {"metadata": meta("llm", labels={"pitboard.io/model": "llm", "app.kubernetes.io/version": "2.0"},
                        ann={"deployment.kubernetes.io/revision": "2"}) | {"generation": 4},
       "spec": {"replicas": 2, "template": tmpl("reg/vllm-openai:v0.6")},
       "status": {"observedGeneration": 4, "replicas": 2, "updatedReplicas": 2,
                  "readyReplicas": 2, "availableReplicas": 2}}
RS1 = {"metadata": meta("llm-1", owner=("Deployment", "llm-uid"),
                        ann={"deployment.kubernetes.io/revision": "1",
                             "kubernetes.io/change-cause": "[bold red]x[/] \x1b[2J",
                             "pitboard.io/last-action": '{"who": "ana"}'}),
       "spec": {"replicas": 0, "template": tmpl("reg/vllm-openai:v0.5")}}
RS2 = {"metadata": meta("llm-2", owner=("Deployment", "llm-uid"),
                        ann={"deployment.kubernetes.io/revision": "2"}),
       "spec": {"replicas": 2, "template": tmpl("reg/vllm-openai:v0.6")}}
PODS = [{"metadata": meta(f"llm-2-p{i}", owner=("ReplicaSet", "llm-2-uid")),
         "spec": {"nodeName": "gpu-1", "containers": [
             {"resources": {"limits": {"nvidia.com/gpu": "2"}}}]},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
        for i in range(2)]
NODE = {"metadata": {"name": "gpu-1", "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
                                                  "nvidia.com/gpu.memory": "81559"}},
        "status": {"capacity": {"nvidia.com/gpu": "8"}}}


def part(**extra):
    return build_part(Inputs(
        context="prod/eu", namespace="ml",
        objects={"deployments": recs([DEP], slim_deployment)},
        replicasets=recs([RS1, RS2], slim_replicaset),
        pods=recs(PODS, slim_pod), nodes={"gpu-1": slim_node(NODE)}, **extra))


def test_deployment_service_history_and_gpus():
    p = part()
    [svc] = p.services
    assert svc.key == "prod/eu/ml/Deployment/llm"
    # the version is what runs (the image tag); the label, which says otherwise, beside it
    assert (svc.version, svc.image, svc.runtime) == ("v0.6", "reg/vllm-openai:v0.6", "vllm")
    assert svc.version_label == "2.0" and svc.version_text == "v0.6 (label 2.0)"
    assert (svc.replicas_desired, svc.replicas_ready, svc.gpus) == (2, 2, 4)
    assert not svc.rollout_in_progress
    hist = p.revisions[svc.key]
    assert [r.number for r in hist] == [2, 1]
    assert hist[0].current and not hist[1].current
    assert hist[1].change_cause == "[bold red]x[/] \x1b[2J"  # literal, untouched
    assert hist[1].who == "ana"
    assert len(p.gpus) == 8
    assert [g.pod for g in p.gpus[:4]] == ["llm-2-p0", "llm-2-p0", "llm-2-p1", "llm-2-p1"]
    assert all(g.model == "llm" for g in p.gpus[:4]) and p.gpus[4].pod is None
    assert p.gpus[0].model_name == "NVIDIA-H100-80GB-HBM3" and p.gpus[0].memory_total_mib == 81559


def test_unknown_pods_mean_unknown_gpus_not_zero():
    p = build_part(Inputs(context="c", namespace=None,
                          objects={"deployments": recs([DEP], slim_deployment)},
                          replicasets={}, pods=None))
    assert p.services[0].gpus is None and p.gpus == ()


def test_isvc_traffic_split_and_history():
    obj = {"metadata": meta("sent", labels={}),
           "spec": {"predictor": {"canaryTrafficPercent": 10,
                                  "model": {"modelFormat": {"name": "huggingface"},
                                            "storageUri": "s3://m/v2"}}},
           "status": {"components": {"predictor": {
               "latestRolledoutRevision": "sent-predictor-00001",
               "latestReadyRevision": "sent-predictor-00002",
               "latestCreatedRevision": "sent-predictor-00002",
               "traffic": [{"revisionName": "sent-predictor-00002", "percent": 10,
                            "latestRevision": True, "tag": "latest"},
                           {"revisionName": "sent-predictor-00001", "percent": 90,
                            "latestRevision": False, "tag": "prev"}]}},
               "conditions": [{"type": "Ready", "status": "True"}]}}
    p = build_part(Inputs(context="c", namespace="ml", replicasets={}, pods={},
                          objects={"inferenceservices": {"ml/sent": slim_isvc(obj)}}))
    [svc] = p.services
    assert svc.kind == ServiceKind.INFERENCE_SERVICE and svc.runtime == "kserve"
    assert svc.canary.percent == 10 and svc.canary.revision == "sent-predictor-00002"
    assert svc.rollout_in_progress and svc.replicas_ready is None  # no pods seen: unknown
    hist = p.revisions[svc.key]
    assert [(r.number, r.current, r.traffic_percent) for r in hist] == [(2, False, 10.0),
                                                                        (1, True, 90.0)]


def test_rollout_canary_weight_from_steps():
    ro = {"metadata": meta("ro"),
          "spec": {"replicas": 4, "template": tmpl("img:2"),
                   "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}},
          "status": {"currentPodHash": "h2", "stableRS": "h1", "currentStepIndex": 1,
                     "phase": "Paused", "pauseConditions": [{"reason": "CanaryPauseStep"}]}}
    owned = []
    for n, h, img in ((1, "h1", "img:1"), (2, "h2", "img:2")):
        owned.append({"metadata": meta(f"ro-{h}", owner=("Rollout", "ro-uid"),
                                       ann={"rollout.argoproj.io/revision": str(n)}),
                      "spec": {"template": tmpl(img, **{"rollouts-pod-template-hash": h})}})
    p = build_part(Inputs(context="c", namespace="ml",
                          replicasets=recs(owned, slim_replicaset), pods={},
                          objects={"rollouts": {"ml/ro": slim_rollout(ro)}}))
    [svc] = p.services
    assert svc.paused and svc.rollout_in_progress
    assert [(t.role, t.percent, t.revision) for t in svc.traffic] == [
        ("stable", 80.0, "1"), ("canary", 20.0, "2")]
    assert [(r.number, r.current) for r in p.revisions[svc.key]] == [(2, True), (1, False)]


def test_image_tag():
    assert image_tag("reg:5000/a/b:1.2") == "1.2"
    assert image_tag("a/b") is None and image_tag("a@sha256:x") is None
