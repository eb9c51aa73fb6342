"""Several clusters at once: rows tagged with their cluster, actions routed to the right one,
a failing cluster reported while the others keep showing."""

from __future__ import annotations

import pytest
import yaml

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus
from backends.kube.backend import KubernetesFleet, make_cluster_backend

from .helpers import NS, config, eventually, mutations

pytestmark = pytest.mark.integration


def merged_kubeconfig(tmp_path, servers: dict) -> str:
    """One kubeconfig with a context per server (named after the region)."""
    doc = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
           "current-context": next(iter(servers))}
    for name, server in servers.items():
        src = yaml.safe_load(server.kubeconfig.read_text())
        cl = next(c for c in src["clusters"] if c["name"] == "test-admin")
        user = next(u for u in src["users"] if u["name"] == "admin")
        doc["clusters"].append({"name": name, "cluster": cl["cluster"]})
        doc["users"].append({"name": name, "user": user["user"]})
        doc["contexts"].append({"name": name, "context": {"cluster": name, "user": name,
                                                          "namespace": NS}})
    path = tmp_path / "fleet-kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_fleet_tags_rows_and_routes_actions(apiserver_factory, tmp_path):
    eu, us = apiserver_factory(), apiserver_factory()
    kc = merged_kubeconfig(tmp_path, {"prod-eu": eu, "prod-us": us})
    fleet = make_cluster_backend(config(eu, kubeconfig=kc), ["prod-eu", "prod-us"], [NS],
                                 read_only_contexts=["prod-us"], actor="ops")
    assert isinstance(fleet, KubernetesFleet)
    try:
        part = fleet.read()
        by_cluster = {c: {s.name for s in part.services if s.cluster == c}
                      for c in ("prod-eu", "prod-us")}
        assert by_cluster["prod-eu"] == by_cluster["prod-us"] and "llama-chat" in by_cluster["prod-eu"]
        assert len(part.revisions) == len(part.services)
        start_eu, start_us = len(eu.requests), len(us.requests)
        res = fleet.execute(ActionRequest(kind=ActionKind.ROLLBACK,
                                          service_key=f"prod-eu/{NS}/Deployment/llama-chat"))
        assert res.status == ActionStatus.SUCCEEDED and res.detail["context"] == "prod-eu"
        assert mutations(eu, start_eu) and not mutations(us, start_us)
        plan = fleet.plan(ActionRequest(kind=ActionKind.ROLLBACK,
                                        service_key=f"prod-us/{NS}/Deployment/llama-chat"))
        assert plan.blocked and plan.context == "prod-us"  # per-context read-only
        assert not mutations(us, start_us)
        us.stop()  # one region goes away: the other keeps showing, the error is named
        # the running console notices too (its watches fail): prod-us is named failing and
        # keeps showing its last good models beside prod-eu's live ones
        def us_failing() -> bool:
            fleet.read()
            return "prod-us" in fleet.errors

        eventually(us_failing)
        assert "failing (showing cached data)" in fleet.errors["prod-us"]
        kept = fleet.read()
        assert {s.cluster for s in kept.services} == {"prod-eu", "prod-us"}
        assert by_cluster["prod-us"] == {s.name for s in kept.services if s.cluster == "prod-us"}
        fresh = make_cluster_backend(config(eu, kubeconfig=kc, request_timeout_s=2),
                                     ["prod-eu", "prod-us"], [NS])
        try:
            part = fresh.read()
            assert {s.cluster for s in part.services} == {"prod-eu"}
            assert "prod-us" in fresh.errors and "cannot reach" in fresh.errors["prod-us"]
        finally:
            fresh.close()
    finally:
        fleet.close()


def test_a_context_read_only_by_either_spelling_is_read_only_in_the_backend(
        apiserver_factory, tmp_path):
    """``[actions] read_only_contexts`` and ``[actions.contexts.<name>] read_only`` both make
    the backend itself refuse (not only the guard and the dimmed keys)."""
    from console.config import load_settings
    from console.wiring import build_backends

    eu, us = apiserver_factory(), apiserver_factory()
    kc = merged_kubeconfig(tmp_path, {"prod-eu": eu, "prod-us": us})
    settings = load_settings(
        kubernetes={"kubeconfig": kc, "contexts": ["prod-eu", "prod-us"], "namespaces": [NS]},
        actions={"read_only_contexts": ["prod-eu"], "contexts": {"prod-us": {"read_only": True}}})
    backends = build_backends(settings)
    try:
        fleet = backends.cluster
        assert isinstance(fleet, KubernetesFleet)
        assert fleet.clusters["prod-eu"].read_only and fleet.clusters["prod-us"].read_only
        start = len(us.requests)
        plan = fleet.plan(ActionRequest(kind=ActionKind.ROLLBACK,
                                        service_key=f"prod-us/{NS}/Deployment/llama-chat"))
        assert plan.blocked and not mutations(us, start)
    finally:
        backends.close()


def test_contexts_whose_exec_plugins_run_side_by_side(apiserver, tmp_path):
    """Each context's credentials from a kubeconfig exec plugin (as aws eks get-token,
    gke-gcloud-auth-plugin, kubelogin give them: a process per context, ~0.5-1 s each):
    the fleet connects its contexts side by side -- the plugins' runs overlap -- and
    reads with the tokens they printed."""
    import stat
    import sys

    log = tmp_path / "runs.log"
    plugin = tmp_path / "get-token"
    plugin.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, time\n"
        f"log = open({str(log)!r}, 'a')\n"
        "log.write(f'start {time.monotonic()}\\n'); log.flush()\n"
        "time.sleep(0.4)\n"
        "log.write(f'end {time.monotonic()}\\n'); log.close()\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1',\n"
        "                  'kind': 'ExecCredential', 'status': {'token': 'admin-token'}}))\n",
        encoding="utf-8")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    names = [f"eks-{i}" for i in range(4)]
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": names[0],
           "clusters": [{"name": "c", "cluster": {"server": apiserver.url}}],
           "users": [{"name": "eks", "user": {"exec": {
               "apiVersion": "client.authentication.k8s.io/v1beta1",
               "command": str(plugin), "interactiveMode": "Never"}}}],
           "contexts": [{"name": n, "context": {"cluster": "c", "user": "eks",
                                                "namespace": NS}} for n in names]}
    kube = tmp_path / "kubeconfig"
    kube.write_text(yaml.safe_dump(doc), encoding="utf-8")
    fleet = KubernetesFleet(config(apiserver, kubeconfig=str(kube)), names, [NS])
    try:
        runs = log.read_text(encoding="utf-8").split()
        starts = [float(v) for k, v in zip(runs[::2], runs[1::2]) if k == "start"]
        ends = [float(v) for k, v in zip(runs[::2], runs[1::2]) if k == "end"]
        assert len(starts) == len(ends) == 4  # one run per context, at construction
        assert max(starts) < min(ends)  # all four were running at once
        part = fleet.read()
        assert {s.cluster for s in part.services} == set(names)  # the tokens were good
    finally:
        fleet.close()
