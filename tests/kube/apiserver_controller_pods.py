"""Pods for ReplicaSets: creation, a tiny GPU-aware scheduler, readiness and ReplicaSet status."""

from __future__ import annotations

import copy
import random
from typing import Any

from .apiserver_resources import find
from .apiserver_store import Store

RS = find("apps", "v1", "replicasets")
PODS = find("", "v1", "pods")
NODES = find("", "v1", "nodes")
GPU = "nvidia.com/gpu"


def gpu_request(pod_spec: dict[str, Any]) -> int:
    """Sum of ``nvidia.com/gpu`` requests (or limits) of the pod's containers."""
    total = 0
    for container in pod_spec.get("containers") or []:
        resources = container.get("resources") or {}
        value = (resources.get("requests") or {}).get(GPU) or (resources.get("limits") or {}).get(GPU) or 0
        total += int(value)
    return total


def _owned_by(pod: dict[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid and ref.get("controller") for ref in pod["metadata"].get("ownerReferences") or [])


class PodKeeper:
    """Keeps each ReplicaSet's pod count at spec.replicas and its status in step."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self._ips = 0

    def _pods_of(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        uid = rs["metadata"]["uid"]
        pods = [p for p in self.store.list(PODS, rs["metadata"]["namespace"]) if _owned_by(p, uid)]
        return sorted(pods, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))

    def _pick_node(self, need: int) -> tuple[dict[str, Any] | None, int]:
        """The node with the most free GPUs that fits ``need`` (ties by name), and how many nodes exist."""
        nodes = self.store.list(NODES)
        used: dict[str, int] = {}
        count: dict[str, int] = {}
        for pod in self.store.list(PODS):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                used[node] = used.get(node, 0) + gpu_request(pod["spec"])
                count[node] = count.get(node, 0) + 1
        best, best_key = None, None
        for node in nodes:
            if (node.get("spec") or {}).get("unschedulable"):
                continue
            cap = int(((node.get("status") or {}).get("allocatable") or {}).get(GPU, 0))
            free = cap - used.get(node["metadata"]["name"], 0)
            if need and free < need:
                continue
            key = (-free if need else count.get(node["metadata"]["name"], 0) + cap, node["metadata"]["name"])
            if best_key is None or key < best_key:
                best, best_key = node, key
        return best, len(nodes)

    def _new_pod(self, rs: dict[str, Any], ready: bool) -> dict[str, Any]:
        template = copy.deepcopy(rs["spec"]["template"])
        base = rs["metadata"]["name"][:57] + "-"
        name = base + "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        spec = template.get("spec") or {}
        need = gpu_request(spec)
        node, n_nodes = self._pick_node(need)
        now = self.store.timestamp()
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name, "generateName": base, "namespace": rs["metadata"]["namespace"],
                "uid": self.store.new_uid(), "creationTimestamp": now,
                "labels": (template.get("metadata") or {}).get("labels") or {},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                     "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": spec,
        }
        if (template.get("metadata") or {}).get("annotations"):
            pod["metadata"]["annotations"] = template["metadata"]["annotations"]
        if node is None:
            reason = f"0/{n_nodes} nodes are available: {n_nodes} Insufficient {GPU}." if need else \
                f"0/{n_nodes} nodes are available."
            pod["status"] = {"phase": "Pending", "qosClass": "Burstable", "conditions": [{
                "type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": now,
                "reason": "Unschedulable", "message": reason}]}
        else:
            spec["nodeName"] = node["metadata"]["name"]
            pod["status"] = self._running_status(pod, node, ready, now)
        return self.store.commit(PODS, pod)

    def _running_status(self, pod: dict[str, Any], node: dict[str, Any], ready: bool, now: str) -> dict[str, Any]:
        addresses = (node.get("status") or {}).get("addresses") or []
        host_ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "10.0.0.1")
        self._ips += 1
        pod_ip = f"10.244.{host_ip.rsplit('.', 1)[-1]}.{self._ips % 250 + 2}"
        flag = "True" if ready else "False"
        conds = [("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", flag),
                 ("ContainersReady", flag), ("PodScheduled", "True")]
        statuses = []
        for c in pod["spec"].get("containers") or []:
            cs: dict[str, Any] = {"name": c["name"], "image": c.get("image", ""), "imageID": "",
                                  "ready": ready, "started": True, "restartCount": 0,
                                  "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}"}
            cs["state"] = {"running": {"startedAt": now}}
            statuses.append(cs)
        return {
            "phase": "Running", "hostIP": host_ip, "hostIPs": [{"ip": host_ip}], "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}], "startTime": now, "qosClass": "Burstable",
            "conditions": [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": now}
                           for t, s in conds],
            "containerStatuses": statuses,
        }

    def _make_ready(self, pod: dict[str, Any]) -> None:
        status = pod.get("status") or {}
        if status.get("phase") != "Running":
            return
        for cond in status.get("conditions") or []:
            if cond["type"] in ("Ready", "ContainersReady"):
                cond["status"] = "True"
        for cs in status.get("containerStatuses") or []:
            cs["ready"] = True
        self.store.save(PODS, pod)

    def sync_replicaset(self, rs: dict[str, Any], ready: bool, ready_count: int | None = None) -> dict[str, Any]:
        """Create/delete pods to match ``spec.replicas``; returns the RS with fresh status.
        ``ready_count``: make (at least) that many of its pods ready, oldest first."""
        with self.store.lock:
            want = int(rs["spec"].get("replicas", 1))
            pods = self._pods_of(rs)
            while len(pods) < want:
                pods.append(self._new_pod(rs, ready))
            while len(pods) > want:
                self.store.commit(PODS, pods.pop(), deleted=True)
            if ready:
                for pod in pods:
                    self._make_ready(pod)
            elif ready_count:
                for pod in pods[:ready_count]:
                    self._make_ready(pod)
            pods = self._pods_of(rs)
            n_ready = sum(1 for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                                  for c in (p.get("status") or {}).get("conditions") or []))
            status: dict[str, Any] = {"replicas": len(pods)}
            if pods:
                status["fullyLabeledReplicas"] = len(pods)
            if n_ready:
                status["readyReplicas"] = n_ready
                status["availableReplicas"] = n_ready
            status["observedGeneration"] = rs["metadata"].get("generation", 1)
            current = self.store.get(RS, rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
            current["status"] = status
            return self.store.save(RS, current)
