"""Minimal StatefulSet, LeaderWorkerSet and KServe raw-deployment controllers.

- StatefulSet (apps/v1): pods ``<name>-0`` .. ``<name>-(N-1)`` it controls, ready at once;
  status ``replicas`` / ``readyReplicas`` / ``currentReplicas`` / ``updatedReplicas`` /
  ``availableReplicas``, ``currentRevision`` = ``updateRevision`` = ``<name>-<hash>``,
  ``observedGeneration``.
- LeaderWorkerSet (sigs.k8s.io/lws): a leader StatefulSet ``<name>`` it controls (one
  leader pod per group, from ``leaderTemplate`` or ``workerTemplate``) and ``size - 1``
  worker pods per group ``<name>-<group>-<index>`` (the real controller makes a worker
  StatefulSet per group, controlled by the leader pod; here the worker pods are controlled
  by the leader pod directly). Every pod carries ``leaderworkerset.sigs.k8s.io/name``,
  ``group-index`` and ``worker-index``; status counts ready groups, condition Available.
- InferenceService in raw deployment mode (annotation ``serving.kserve.io/deploymentMode``
  ``RawDeployment`` / ``Standard``): the predictor Deployment ``<name>-predictor`` it
  controls (kserve pkg/controller/v1beta1/inferenceservice/reconcilers/raw), then status as
  ``PropagateRawStatus`` (pkg/apis/serving/v1beta1/inference_service_status.go): the
  PredictorReady / Ready conditions from the Deployment's Available condition, and no
  revisions or traffic.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .apiserver_defaults import apply_defaults
from .apiserver_resources import find

PODS = find("", "v1", "pods")
DEPLOY = find("apps", "v1", "deployments")
STS = find("apps", "v1", "statefulsets")
LWS = find("leaderworkerset.x-k8s.io", "v1", "leaderworkersets")
ISVC = find("serving.kserve.io", "v1beta1", "inferenceservices")
LWS_NAME = "leaderworkerset.sigs.k8s.io/name"
RAW_MODES = ("RawDeployment", "Standard")


def _ref(api_version: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def _hash(value: Any) -> str:
    h = 0x811C9DC5
    for byte in json.dumps(value, sort_keys=True).encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"[:10]


def _ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _owned(store, ns: str, uid: str) -> list[dict[str, Any]]:
    return [p for p in store.list(PODS, ns)
            if any(r.get("uid") == uid and r.get("controller")
                   for r in p["metadata"].get("ownerReferences") or [])]


def _pod(keeper, owner_ref: dict[str, Any], ns: str, name: str, template: dict[str, Any],
         labels: dict[str, str]) -> dict[str, Any]:
    """A pod from ``template``, scheduled (GPUs fitted) and ready, as PodKeeper makes them."""
    spec = copy.deepcopy(template.get("spec") or {})
    from .apiserver_controller_pods import gpu_request

    node, n_nodes = keeper._pick_node(gpu_request(spec))
    now = keeper.store.timestamp()
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "uid": keeper.store.new_uid(),
                        "creationTimestamp": now,
                        "labels": {**((template.get("metadata") or {}).get("labels") or {}),
                                   **labels},
                        "ownerReferences": [owner_ref]},
           "spec": spec}
    if node is None:
        pod["status"] = {"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": f"0/{n_nodes} nodes are available."}]}
    else:
        spec["nodeName"] = node["metadata"]["name"]
        pod["status"] = keeper._running_status(pod, node, True, now)
    return keeper.store.commit(PODS, pod)


def sync_statefulset(store, keeper, sts: dict[str, Any],
                     extra_labels: Any = None) -> dict[str, Any]:
    """Pods ``<name>-<i>`` for ``spec.replicas``; fresh status. ``extra_labels(i)`` adds
    labels to pod ``i`` (the LeaderWorkerSet's)."""
    meta, spec = sts["metadata"], sts.get("spec") or {}
    ns, want = meta["namespace"], int(spec.get("replicas", 1))
    template = spec.get("template") or {}
    revision = f"{meta['name']}-{_hash(template)}"
    pods = {p["metadata"]["name"]: p for p in _owned(store, ns, meta["uid"])}
    ref = _ref("apps/v1", "StatefulSet", sts)
    for i in range(want):
        name = f"{meta['name']}-{i}"
        if name not in pods:
            labels = {"statefulset.kubernetes.io/pod-name": name,
                      "apps.kubernetes.io/pod-index": str(i),
                      "controller-revision-hash": revision,
                      **(extra_labels(i) if extra_labels else {})}
            pods[name] = _pod(keeper, ref, ns, name, template, labels)
    for name, pod in list(pods.items()):
        idx = name.rsplit("-", 1)[-1]
        if not idx.isdigit() or int(idx) >= want:
            store.commit(PODS, pod, deleted=True)
            pods.pop(name)
    ready = sum(1 for p in pods.values() if _ready(p))
    current = store.get(STS, ns, meta["name"]) or sts
    current["status"] = {"observedGeneration": meta.get("generation", 1), "replicas": len(pods),
                         "readyReplicas": ready, "currentReplicas": len(pods),
                         "updatedReplicas": len(pods), "availableReplicas": ready,
                         "currentRevision": revision, "updateRevision": revision,
                         "collisionCount": 0}
    return store.save(STS, current)


def sync_leaderworkerset(store, keeper, lws: dict[str, Any]) -> None:
    """The leader StatefulSet, the worker pods, and the status (groups ready)."""
    meta, spec = lws["metadata"], lws.get("spec") or {}
    ns, name = meta["namespace"], meta["name"]
    lwt = spec.get("leaderWorkerTemplate") or {}
    worker = lwt.get("workerTemplate") or {}
    leader_t = lwt.get("leaderTemplate") or worker
    size, groups = int(lwt.get("size", 1)), int(spec.get("replicas", 1))
    sts = store.get(STS, ns, name)
    if sts is None:
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": name, "namespace": ns, "uid": store.new_uid(),
                            "creationTimestamp": store.timestamp(), "generation": 1,
                            "labels": {LWS_NAME: name},
                            "ownerReferences": [_ref("leaderworkerset.x-k8s.io/v1",
                                                     "LeaderWorkerSet", lws)]},
               "spec": {"replicas": groups, "serviceName": name,
                        "selector": {"matchLabels": {LWS_NAME: name,
                                                     "leaderworkerset.sigs.k8s.io/worker-index": "0"}},
                        "template": copy.deepcopy(leader_t)}}
        apply_defaults(STS, sts)
        sts = store.commit(STS, sts)
    sts = sync_statefulset(store, keeper, sts, lambda i: {
        LWS_NAME: name, "leaderworkerset.sigs.k8s.io/group-index": str(i),
        "leaderworkerset.sigs.k8s.io/worker-index": "0"})
    ready_groups = 0
    for g in range(groups):
        leader = store.get(PODS, ns, f"{name}-{g}")
        if leader is None:
            continue
        have = {p["metadata"]["name"]: p for p in _owned(store, ns, leader["metadata"]["uid"])}
        for w in range(1, size):
            pname = f"{name}-{g}-{w}"
            if pname not in have:
                have[pname] = _pod(keeper, _ref("v1", "Pod", leader), ns, pname, worker, {
                    LWS_NAME: name, "leaderworkerset.sigs.k8s.io/group-index": str(g),
                    "leaderworkerset.sigs.k8s.io/worker-index": str(w)})
        if _ready(leader) and all(_ready(p) for p in have.values()):
            ready_groups += 1
    current = store.get(LWS, ns, name) or lws
    available = ready_groups == groups
    current["status"] = {"replicas": groups, "readyReplicas": ready_groups,
                         "updatedReplicas": groups, "hpaPodSelector": f"{LWS_NAME}={name},"
                         "leaderworkerset.sigs.k8s.io/worker-index=0",
                         "conditions": [{
                             "type": "Available" if available else "Progressing",
                             "status": "True", "reason": "AllGroupsReady" if available
                             else "GroupsProgressing",
                             "message": "All replicas are ready" if available
                             else "Replicas are progressing",
                             "lastTransitionTime": store.timestamp()}]}
    store.save(LWS, current)


def is_raw(isvc: dict[str, Any]) -> bool:
    ann = (isvc.get("metadata") or {}).get("annotations") or {}
    return ann.get("serving.kserve.io/deploymentMode") in RAW_MODES


def raw_predictor(store, isvc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The predictor Deployment the raw-mode InferenceService wants (created or updated
    in the store), and whether it changed (the Deployment controller then syncs it)."""
    meta = isvc["metadata"]
    ns, name = meta["namespace"], meta["name"]
    pred = (isvc.get("spec") or {}).get("predictor") or {}
    containers = copy.deepcopy(pred.get("containers") or [])
    if not containers:
        fmt = ((pred.get("model") or {}).get("modelFormat") or {}).get("name") or "model"
        containers = [{"name": "kserve-container", "image": f"kserve/{fmt}server:latest"}]
    for c in containers:
        c.setdefault("name", "kserve-container")
    app = f"isvc.{name}-predictor"
    labels = {"app": app, "component": "predictor", "serving.kserve.io/inferenceservice": name}
    template = {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers}}
    dep = store.get(DEPLOY, ns, f"{name}-predictor")
    if dep is None:
        dep = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": f"{name}-predictor", "namespace": ns,
                            "uid": store.new_uid(), "creationTimestamp": store.timestamp(),
                            "generation": 1, "labels": dict(labels),
                            "ownerReferences": [_ref("serving.kserve.io/v1beta1",
                                                     "InferenceService", isvc)]},
               "spec": {"replicas": int(pred.get("minReplicas") or 1),
                        "selector": {"matchLabels": {"app": app}}, "template": template},
               "status": {}}
        apply_defaults(DEPLOY, dep)
        return store.commit(DEPLOY, dep), True
    wanted = copy.deepcopy(template)
    probe = {"spec": {"template": wanted}}
    apply_defaults(DEPLOY, probe)
    if dep["spec"].get("template") == probe["spec"]["template"]:
        return dep, False
    dep["spec"]["template"] = probe["spec"]["template"]
    dep["metadata"]["generation"] = int(dep["metadata"].get("generation", 1)) + 1
    return store.save(DEPLOY, dep), True


def raw_status(store, isvc: dict[str, Any]) -> None:
    """``PropagateRawStatus``: PredictorReady and Ready from the predictor Deployment's
    Available condition (its ready replicas here); no revisions, no traffic."""
    meta = isvc["metadata"]
    dep = store.get(DEPLOY, meta["namespace"], f"{meta['name']}-predictor")
    current = store.get(ISVC, meta["namespace"], meta["name"])
    if current is None or dep is None:
        return
    st = dep.get("status") or {}
    ok = int(st.get("readyReplicas", 0)) >= int((dep.get("spec") or {}).get("replicas", 1))
    now = store.timestamp()
    cond = {"status": "True" if ok else "False", "lastTransitionTime": now}
    if not ok:
        cond.update(reason="MinimumReplicasUnavailable",
                    message="Deployment does not have minimum availability.")
    current["status"] = {
        "observedGeneration": current["metadata"].get("generation", 1),
        "components": {"predictor": {}},
        "conditions": [{"type": "IngressReady", "status": "True", "lastTransitionTime": now},
                       {"type": "PredictorReady", **cond}, {"type": "Ready", **cond}]}
    store.save(ISVC, current)


LLMISVC = find("serving.kserve.io", "v1alpha1", "llminferenceservices")


def llm_workload(store, llm: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The main workload Deployment ``<name>-kserve`` an LLMInferenceService controls
    (kserve pkg/controller/llmisvc: labels app.kubernetes.io/name, part-of
    llminferenceservice, component llminferenceservice-workload), from ``spec.template``."""
    meta, spec = llm["metadata"], llm.get("spec") or {}
    ns, name = meta["namespace"], meta["name"]
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "llminferenceservice",
              "app.kubernetes.io/component": "llminferenceservice-workload"}
    pod_spec = copy.deepcopy(spec.get("template") or {})
    if not pod_spec.get("containers"):
        pod_spec["containers"] = [{"name": "main", "image": "vllm/vllm-openai:latest"}]
    template = {"metadata": {"labels": dict(labels)}, "spec": pod_spec}
    probe = {"spec": {"template": copy.deepcopy(template)}}
    apply_defaults(DEPLOY, probe)
    dep = store.get(DEPLOY, ns, f"{name}-kserve")
    replicas = int(spec.get("replicas", 1))
    if dep is None:
        dep = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": f"{name}-kserve", "namespace": ns, "uid": store.new_uid(),
                            "creationTimestamp": store.timestamp(), "generation": 1,
                            "labels": dict(labels),
                            "ownerReferences": [_ref("serving.kserve.io/v1alpha1",
                                                     "LLMInferenceService", llm)]},
               "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                        "template": probe["spec"]["template"]}, "status": {}}
        apply_defaults(DEPLOY, dep)
        return store.commit(DEPLOY, dep), True
    if dep["spec"]["template"] == probe["spec"]["template"] and dep["spec"]["replicas"] == replicas:
        return dep, False
    dep["spec"]["template"], dep["spec"]["replicas"] = probe["spec"]["template"], replicas
    dep["metadata"]["generation"] = int(dep["metadata"].get("generation", 1)) + 1
    return store.save(DEPLOY, dep), True


def llm_status(store, llm: dict[str, Any]) -> None:
    """Conditions as llm_inference_service_lifecycle.go sets them (MainWorkloadReady ->
    WorkloadsReady; RouterReady; Ready), ``url`` and ``addresses`` when routed."""
    meta = llm["metadata"]
    ns, name = meta["namespace"], meta["name"]
    current = store.get(LLMISVC, ns, name)
    dep = store.get(DEPLOY, ns, f"{name}-kserve")
    if current is None or dep is None:
        return
    want = int((dep.get("spec") or {}).get("replicas", 1))
    ok = int((dep.get("status") or {}).get("readyReplicas", 0)) >= want
    now = store.timestamp()

    def cond(kind: str, good: bool) -> dict[str, Any]:
        c: dict[str, Any] = {"type": kind, "status": "True" if good else "False",
                             "lastTransitionTime": now}
        if not good:
            c.update(reason="MinimumReplicasUnavailable",
                     message="Deployment does not have minimum availability.")
        return c

    routed = bool((current.get("spec") or {}).get("router"))
    status: dict[str, Any] = {
        "observedGeneration": current["metadata"].get("generation", 1),
        "conditions": [cond("MainWorkloadReady", ok), cond("WorkloadsReady", ok),
                       cond("RouterReady", True), cond("Ready", ok)]}
    if routed:
        url = f"http://kserve-ingress-gateway.kserve.svc.cluster.local/{ns}/{name}"
        status["url"] = url
        status["addresses"] = [{"url": url}]
    current["status"] = status
    store.save(LLMISVC, current)
