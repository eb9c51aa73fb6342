"""Benchmark: start to the full fleet over many contexts.

``.venv/bin/python -m tests.bench_kube_fleet [--contexts 20] [--models 150]`` starts the
suite's test API server once per context (one process; each on its own port, as separate
clusters are), each holding ``--models`` model Deployments (3 ReplicaSets, 2 pods each, on
GPU nodes), writes one kubeconfig naming every context, and times
``KubernetesFleet(...).read()`` from construction until every context's services are in
(the caches' first LIST + WATCH per kind per context), then a steady read. It reports how
many contexts were being listed at once (the fleet's thread pool), the LIST and WATCH
requests each server saw, and the same start with every context at once (the pool widened
for the measurement only) for comparison, and as the console starts it (``warm()``: every
context's discovery and first LIST begun at once, the reads by the shipped pool). Prints JSON. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tests.bench_kube import NS, _meta, _template


def objects(models: int, prefix: str) -> list[tuple[str, str, dict]]:
    """(group_version, plural, object) of one cluster: ``models`` Deployments."""
    out: list[tuple[str, str, dict]] = []
    pods_per, rs_per, per_node = 2, 3, 8
    for n in range((models * pods_per + per_node - 1) // per_node):
        out.append(("v1", "nodes", {"metadata": {
            "name": f"{prefix}-gpu-{n:04d}", "uid": f"{prefix}-node-{n}",
            "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}},
            "status": {"capacity": {"nvidia.com/gpu": str(per_node)},
                       "allocatable": {"nvidia.com/gpu": str(per_node)}}}))
    pod_no = 0
    for i in range(models):
        model = f"model-{i:04d}"
        dep = {"metadata": _meta(model, {"pitboard.io/model": model},
                                 ann={"deployment.kubernetes.io/revision": str(rs_per)}),
               "spec": {"replicas": pods_per,
                        "selector": {"matchLabels": {"app.kubernetes.io/name": model}},
                        "template": _template(model, rs_per)},
               "status": {"observedGeneration": 1, "replicas": pods_per,
                          "updatedReplicas": pods_per, "readyReplicas": pods_per,
                          "availableReplicas": pods_per}}
        dep["metadata"]["generation"] = 1
        out.append(("apps/v1", "deployments", dep))
        for r in range(1, rs_per + 1):
            rs_name = f"{model}-{r:05d}"
            rs = {"metadata": _meta(rs_name, {"app.kubernetes.io/name": model},
                                    ("Deployment", model, dep["metadata"]["uid"]),
                                    {"deployment.kubernetes.io/revision": str(r),
                                     "kubernetes.io/change-cause": f"deploy {model} 1.{r}"}),
                  "spec": {"replicas": pods_per if r == rs_per else 0,
                           "template": _template(model, r)},
                  "status": {"replicas": pods_per if r == rs_per else 0}}
            out.append(("apps/v1", "replicasets", rs))
            if r != rs_per:
                continue
            for p in range(pods_per):
                out.append(("v1", "pods", {
                    "metadata": _meta(f"{rs_name}-p{p}", {"app.kubernetes.io/name": model},
                                      ("ReplicaSet", rs_name, rs["metadata"]["uid"])),
                    "spec": dict(_template(model, r)["spec"],
                                 nodeName=f"{prefix}-gpu-{pod_no // per_node:04d}"),
                    "status": {"phase": "Running"}}))
                pod_no += 1
    return out


def merged_kubeconfig(servers: list, path: Path) -> list[str]:
    """One kubeconfig with a context per server (``prod-00`` ...), each its admin user."""
    config: dict = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                    "contexts": [], "preferences": {}}
    names = []
    for i, server in enumerate(servers):
        own = yaml.safe_load(server.kubeconfig.read_text(encoding="utf-8"))
        ctx = next(c for c in own["contexts"] if c["name"] == "test-admin")
        cluster = next(c for c in own["clusters"] if c["name"] == ctx["context"]["cluster"])
        user = next(u for u in own["users"] if u["name"] == ctx["context"]["user"])
        name = f"prod-{i:02d}"
        names.append(name)
        config["clusters"].append({"name": name, "cluster": cluster["cluster"]})
        config["users"].append({"name": name, "user": user["user"]})
        config["contexts"].append({"name": name, "context": {
            "cluster": name, "user": name, "namespace": NS}})
    config["current-context"] = names[0]
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return names


def timed_start(kubeconfig: Path, names: list[str], widen: bool, warm: bool = False,
                per_context: int | None = None) -> dict:
    """``per_context``: the models each context holds; then ``partial_unnamed`` lists the
    contexts of the first read with fewer, not named in its errors (always empty: a read is
    whole or names what is missing; tests/kube/test_fleet_read_whole.py)."""
    from backends.kube.backend import KubernetesFleet
    from backends.kube.config import KubernetesConfig

    cfg = KubernetesConfig(kubeconfig=str(kubeconfig), sync_timeout_s=300,
                           request_timeout_s=120)
    busy, peak, lock = [0], [0], threading.Lock()
    t0 = time.monotonic()
    fleet = KubernetesFleet(cfg, names, [NS], actor="bench")
    if warm:  # as the console starts it: every context's start begun at once (warm())
        fleet.warm()
    if widen:  # every context at once (the measurement's own pool, not the shipped one)
        fleet._pool.shutdown(wait=False)
        fleet._pool = ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="wide")
    for cluster in fleet.clusters.values():  # count the contexts being listed at once
        read = cluster.read

        def counted(read=read):
            with lock:
                busy[0] += 1
                peak[0] = max(peak[0], busy[0])
            try:
                return read()
            finally:
                with lock:
                    busy[0] -= 1
        cluster.read = counted  # type: ignore[method-assign]
    try:
        part = fleet.read()
        first = time.monotonic() - t0
        first_errors = dict(fleet.errors)  # the first read's: the next read replaces them
        counts = Counter(svc.cluster for svc in part.services)
        unnamed = sorted(c for c in names if per_context is not None
                         and counts.get(c, 0) != per_context and c not in first_errors)
        t1 = time.monotonic()
        fleet.read()
        steady = time.monotonic() - t1
        return {"start_to_full_fleet_s": round(first, 2), "models": len(part.services),
                "contexts_listed_at_once_max": peak[0], "steady_read_ms": round(steady * 1000, 1),
                "errors": first_errors, "errors_steady": dict(fleet.errors),
                "partial_unnamed": unnamed}
    finally:
        fleet.close()


async def _on_screen(kubeconfig: Path, names: list[str], expected: int, work: Path) -> dict:
    """The console itself (headless, 160x48) from app start to every context's models in
    the fleet table: backends built in a thread and warmed as ``pitboard`` does
    (``BackendsInAdvance``: every context's start begun at once), read by the fleet's
    pool, the rows drawn on the UI thread."""
    from console.app import make_app
    from console.wiring import BackendsInAdvance
    from widgets.model_table import ModelTable

    from console.config import load_settings

    settings = load_settings(
        kubernetes={"kubeconfig": str(kubeconfig), "contexts": names, "namespaces": [NS],
                    "sync_timeout_s": 300, "request_timeout_s": 120},
        audit={"path": str(work / "audit.db")})
    t0 = time.monotonic()
    app = make_app(settings, backends_in_advance=BackendsInAdvance(settings))
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.fleet_screen.query_one(ModelTable)
        deadline = t0 + 600
        while table.row_count < expected:
            if time.monotonic() > deadline:
                return {"error": f"{table.row_count} of {expected} models after 600 s"}
            await pilot.pause(0.02)
        full = time.monotonic() - t0
    return {"start_to_full_fleet_on_screen_s": round(full, 2), "rows": expected}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=20)
    ap.add_argument("--models", type=int, default=150)
    args = ap.parse_args(argv)

    from tests.kube.apiserver import ApiServer
    from tests.kube.apiserver_resources import by_group_version

    work = Path(tempfile.mkdtemp(prefix="pitboard-fleet-bench-"))
    servers = []
    try:
        for i in range(args.contexts):
            server = ApiServer(work / f"c{i:02d}")
            server.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}])
            for gv, plural, obj in objects(args.models, f"c{i:02d}"):
                server.store.commit(by_group_version(gv, plural), obj)
            server.start()
            servers.append(server)
        names = merged_kubeconfig(servers, work / "kubeconfig")
        shipped = timed_start(work / "kubeconfig", names, widen=False, per_context=args.models)
        lists = [sum(1 for r in s.requests if r.method == "GET" and not r.is_watch
                     and "limit" in r.query)
                 for s in servers]
        watches = [sum(1 for r in s.requests if r.is_watch) for s in servers]
        wide = timed_start(work / "kubeconfig", names, widen=True, per_context=args.models)
        warmed = timed_start(work / "kubeconfig", names, widen=False, warm=True,
                             per_context=args.models)
        screen = asyncio.run(_on_screen(work / "kubeconfig", names,
                                        args.contexts * args.models, work))
        result = {"contexts": args.contexts, "models_per_context": args.models,
                  "shipped_pool": shipped, "every_context_at_once": wide,
                  "warmed_as_the_console_starts": warmed,
                  "console": screen,
                  "requests_per_context_first_start": {
                      "list_median": sorted(lists)[len(lists) // 2],
                      "watch_median": sorted(watches)[len(watches) // 2]}}
    finally:
        for server in servers:
            server.stop()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
