"""Benchmark of the Kubernetes caches: ``.venv/bin/python -m tests.bench_kube [--seconds N]``.

Starts the test API server with 300 model Deployments (3 ReplicaSets each) and 3,000 pods
on 375 GPU nodes, lets pitboard's list-then-watch caches sync, then runs a steady state
with churn (pod status updates, a dropped watch connection halfway) and prints JSON:
LIST calls per minute after the first sync (target 0) and the caches' memory.
Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

N_MODELS, PODS_PER_MODEL, RS_PER_MODEL, GPUS_PER_NODE = 300, 10, 3, 8
NS = "ml-serving"


def _meta(name: str, labels: dict, owner: tuple | None = None, ann: dict | None = None) -> dict:
    m = {"name": name, "namespace": NS, "uid": str(uuid.uuid4()), "labels": labels,
         "creationTimestamp": "2026-01-01T00:00:00Z", "annotations": ann or {}}
    if owner:
        m["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                 "uid": owner[2], "controller": True,
                                 "blockOwnerDeletion": True}]
    return m


def _template(model: str, version: int) -> dict:
    return {"metadata": {"labels": {"pitboard.io/model": model, "app.kubernetes.io/name": model,
                                    "app.kubernetes.io/version": f"1.{version}"}},
            "spec": {"containers": [{
                "name": "server", "image": f"vllm/vllm-openai:v0.{version}.0",
                "args": ["--model", f"org/{model}", "--tensor-parallel-size", "1"],
                "env": [{"name": f"VAR_{i}", "value": "x" * 20} for i in range(8)],
                "ports": [{"name": "http", "containerPort": 8000, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "4", "memory": "32Gi", "nvidia.com/gpu": "1"},
                              "limits": {"memory": "32Gi", "nvidia.com/gpu": "1"}},
                "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                "terminationMessagePath": "/dev/termination-log",
                "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}}


def fleet() -> list[tuple[str, str, dict]]:
    """(group_version, plural, object) for the whole synthetic fleet."""
    out = []
    for n in range(N_MODELS * PODS_PER_MODEL // GPUS_PER_NODE):
        out.append(("v1", "nodes", {"metadata": {
            "name": f"gpu-{n:04d}", "uid": str(uuid.uuid4()),
            "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}},
            "status": {"capacity": {"nvidia.com/gpu": str(GPUS_PER_NODE)},
                       "allocatable": {"nvidia.com/gpu": str(GPUS_PER_NODE)}}}))
    pod_no = 0
    for i in range(N_MODELS):
        model = f"model-{i:03d}"
        dep = {"metadata": _meta(model, {"pitboard.io/model": model},
                                 ann={"deployment.kubernetes.io/revision": str(RS_PER_MODEL)}),
               "spec": {"replicas": PODS_PER_MODEL,
                        "selector": {"matchLabels": {"app.kubernetes.io/name": model}},
                        "template": _template(model, RS_PER_MODEL)},
               "status": {"observedGeneration": 1, "replicas": PODS_PER_MODEL,
                          "updatedReplicas": PODS_PER_MODEL, "readyReplicas": PODS_PER_MODEL,
                          "availableReplicas": PODS_PER_MODEL}}
        dep["metadata"]["generation"] = 1
        out.append(("apps/v1", "deployments", dep))
        duid = dep["metadata"]["uid"]
        for r in range(1, RS_PER_MODEL + 1):
            rs_name = f"{model}-{r:05d}"
            current = r == RS_PER_MODEL
            rs = {"metadata": _meta(rs_name, {"app.kubernetes.io/name": model},
                                    ("Deployment", model, duid),
                                    {"deployment.kubernetes.io/revision": str(r),
                                     "kubernetes.io/change-cause": f"deploy {model} 1.{r}"}),
                  "spec": {"replicas": PODS_PER_MODEL if current else 0,
                           "template": _template(model, r)},
                  "status": {"replicas": PODS_PER_MODEL if current else 0}}
            out.append(("apps/v1", "replicasets", rs))
            if not current:
                continue
            for p in range(PODS_PER_MODEL):
                pod = {"metadata": _meta(f"{rs_name}-p{p:02d}", {"app.kubernetes.io/name": model},
                                         ("ReplicaSet", rs_name, rs["metadata"]["uid"])),
                       "spec": dict(_template(model, r)["spec"],
                                    nodeName=f"gpu-{pod_no // GPUS_PER_NODE:04d}"),
                       "status": {"phase": "Running", "podIP": f"10.0.{pod_no // 250}.{pod_no % 250}",
                                  "conditions": [{"type": t, "status": "True",
                                                  "lastTransitionTime": "2026-01-01T00:00:00Z"}
                                                 for t in ("Initialized", "Ready",
                                                           "ContainersReady", "PodScheduled")]}}
                out.append(("v1", "pods", pod))
                pod_no += 1
    return out


def deep_size(obj, seen: set | None = None) -> int:
    """Bytes held by ``obj`` and everything it references (shared objects once)."""
    seen = set() if seen is None else seen
    stack, total = [obj], 0
    while stack:
        o = stack.pop()
        if id(o) in seen or o is None or isinstance(o, (bool, type)):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        elif hasattr(o, "__slots__"):
            stack.extend(getattr(o, s) for s in o.__slots__ if hasattr(o, s))
        elif type(o).__name__ == "mappingproxy":
            total += sys.getsizeof(dict(o))  # the wrapped dict
            stack.extend(o.keys())
            stack.extend(o.values())
    return total


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="steady-state window")
    ap.add_argument("--churn", type=float, default=20.0, help="pod updates per second")
    args = ap.parse_args(argv)

    from backends.kube.backend import KubernetesCluster
    from backends.kube.config import KubernetesConfig
    from tests.kube.apiserver import ApiServer
    from tests.kube.apiserver_resources import by_group_version

    server = ApiServer(Path(tempfile.mkdtemp(prefix="pitboard-bench-")))
    server.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}])
    objs = fleet()
    raw_bytes = sum(len(json.dumps(o)) for _, _, o in objs)
    for gv, plural, obj in objs:
        server.store.commit(by_group_version(gv, plural), obj)
    server.start()
    cluster = KubernetesCluster(KubernetesConfig(kubeconfig=str(server.kubeconfig),
                                                 sync_timeout_s=120, request_timeout_s=60),
                                "test-admin", [NS], actor="bench")
    try:
        t0 = time.monotonic()
        part = cluster.read()
        first_sync = time.monotonic() - t0
        lists_after_sync = cluster.stats()["lists"]
        pods = [o for gv, p, o in objs if p == "pods"]
        res = by_group_version("v1", "pods")
        start, n, dropped = time.monotonic(), 0, 0
        while (elapsed := time.monotonic() - start) < args.seconds:
            pod = pods[n % len(pods)]
            pod["metadata"]["labels"]["tick"] = str(n)
            server.store.commit(res, pod)
            n += 1
            if not dropped and elapsed > args.seconds / 2:
                dropped = server.drop_watches()
            if n % 10 == 0:
                cluster.read()
            time.sleep(max(0.0, n / args.churn - (time.monotonic() - start)))
        window = time.monotonic() - start
        stats = cluster.stats()
        server_lists = [r for r in server.requests if r.method == "GET" and not r.is_watch
                        and "limit" in r.query]
        gc.collect()
        seen: set = set()
        held = {name: [c.snapshot() for c in caches] for name, caches in cluster.caches.items()}
        sizes = {name: deep_size(snaps, seen) for name, snaps in held.items()}
        cluster.caches["pods"][0].version += 1  # force one full rebuild, timed
        t1 = time.monotonic()
        part = cluster.read()
        read_ms = (time.monotonic() - t1) * 1000
        result = {
            "models": len(part.services), "pods": len(cluster.snapshot("pods") or {}),
            "replicasets": len(cluster.snapshot("replicasets") or {}),
            "nodes": len(cluster.snapshot("nodes") or {}), "gpus": len(part.gpus),
            "first_sync_s": round(first_sync, 2),
            "steady_window_s": round(window, 1), "churn_events": n,
            "watch_connections_dropped": dropped,
            "list_calls_first_sync": lists_after_sync,
            "list_calls_steady": stats["lists"] - lists_after_sync,
            "list_calls_per_minute_steady": round((stats["lists"] - lists_after_sync) * 60 / window, 2),
            "list_requests_seen_by_server": len(server_lists),
            "watch_requests": stats["watches"], "relists": stats["relists"],
            "read_rebuild_ms": round(read_ms, 1),
            "cache_bytes": sum(sizes.values()), "cache_bytes_by_kind": sizes,
            "cache_mib": round(sum(sizes.values()) / 2**20, 2),
            "raw_objects_json_mib": round(raw_bytes / 2**20, 2),
        }
    finally:
        cluster.close()
        server.stop()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
