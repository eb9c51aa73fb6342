"""KubernetesCluster against the test API server over real HTTP: reading, caches, watches."""

from __future__ import annotations

import pytest

from backends.domain.actions import ActionKind, ActionRequest
from backends.domain.errors import ActionRefused, ForbiddenError, NotFoundError
from backends.domain.models import ServiceKind

from .helpers import NS, cluster, eventually, label_deployment, lists, mutations, service

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(apiserver):
    c = cluster(apiserver)
    yield c
    c.close()


def test_read_services_history_traffic_and_gpus(apiserver, admin):
    part = admin.read()
    assert part.context == "test-admin" and part.namespace == NS
    labelled = {d["metadata"]["name"] for d in apiserver.list_objects("apps/v1", "deployments", NS)
                if "pitboard.io/model" in d["metadata"].get("labels", {})}
    deps = {s.name for s in part.services if s.kind == ServiceKind.DEPLOYMENT}
    assert deps == labelled
    assert all(s.cluster == "test-admin" and s.namespace == NS for s in part.services)
    llama = service(part, "Deployment", "llama-chat")
    hist = part.revisions[llama.key]
    assert [r.number for r in hist] == sorted((r.number for r in hist), reverse=True)
    assert hist[0].current and hist[0].image == llama.image
    assert llama.runtime == "vllm" and llama.gpus and llama.gpus > 0
    isvc = service(part, "InferenceService", "sentiment-bert")
    assert isvc.canary is not None and isvc.canary.percent == 10
    ro = service(part, "Rollout", "mistral-chat")
    assert ro.paused and {t.role for t in ro.traffic} == {"stable", "canary"}
    assert service(part, "Deployment", "whisper-asr").paused
    held = [g for g in part.gpus if g.pod]
    assert held and all(g.model_name for g in part.gpus)
    assert sum(1 for g in held if g.model == "llama-chat") == llama.gpus
    # a second read is served from the same snapshot, no request sent
    before = len(apiserver.requests)
    assert admin.read() is part and len(apiserver.requests) == before


def test_all_namespaces_and_events(apiserver):
    c = cluster(apiserver, namespaces=())
    try:
        part = c.read()
        assert {"ml-serving", "ml-batch"} <= {s.namespace for s in part.services}
        evs = c.events_for("Deployment", "whisper-asr", NS)
        assert evs and evs[0].reason == "DeploymentPaused"
    finally:
        c.close()


def test_hostile_names_and_annotations_stay_literal(apiserver, admin):
    part = admin.read()
    fraud = next(s for s in part.services if s.name.startswith("fraud-scorer"))
    stored = next(d for d in apiserver.list_objects("apps/v1", "deployments", NS)
                  if d["metadata"]["name"] == fraud.name)
    assert fraud.labels == stored["metadata"]["labels"]
    causes = [r.change_cause for r in part.revisions[fraud.key]]
    assert any(c and "[bold red]hotfix[/] \x1b[2J" in c for c in causes)
    evs = admin.events_for("Deployment", fraud.name, NS)
    assert evs[0].message.startswith("[bold red]BOOM[/] \x1b[2J")


def test_steady_state_sends_no_list_and_follows_changes(apiserver, admin):
    admin.read()
    n_lists = len(lists(apiserver))
    label_deployment(apiserver, "ranker", "team", "search")
    eventually(lambda: service(admin.read(), "Deployment", "ranker").labels.get("team") == "search")
    assert len(lists(apiserver)) == n_lists


def test_watch_resumes_after_dropped_connections_without_list(apiserver, admin):
    admin.read()
    n_lists, n_watches = len(lists(apiserver)), admin.stats()["watches"]
    eventually(lambda: apiserver.open_watches >= 7)
    assert apiserver.drop_watches() >= 7
    label_deployment(apiserver, "embedder", "after-drop", "yes")
    eventually(lambda: service(admin.read(), "Deployment", "embedder").labels.get("after-drop"))
    # every dropped watch is opened again (the label may arrive on one reopened first,
    # before another kind's reconnect is counted: CI once saw it in that order)
    eventually(lambda: admin.stats()["watches"] >= n_watches + 7)
    assert len(lists(apiserver)) == n_lists  # resumed from resourceVersion, no LIST


def test_relist_after_410_gone(apiserver, admin):
    admin.read()
    n_lists = len(lists(apiserver))
    eventually(lambda: apiserver.open_watches >= 7)
    apiserver.compact()
    apiserver.drop_watches()
    label_deployment(apiserver, "llama-chat", "after-compact", "yes")
    eventually(lambda: service(admin.read(), "Deployment", "llama-chat").labels.get("after-compact"))
    assert admin.stats()["relists"] >= 1
    assert len(lists(apiserver)) > n_lists


def test_read_only_never_sends_a_mutating_request(apiserver):
    c = cluster(apiserver, read_only=True)
    try:
        part = c.read()
        for svc in part.services:
            kind = ActionKind.PROMOTE if svc.kind != ServiceKind.DEPLOYMENT else ActionKind.ROLLBACK
            req = ActionRequest(kind=kind, service_key=svc.key, reason="ro")
            plan = c.plan(req)
            assert plan.blocked or plan.noop
            with pytest.raises(ActionRefused, match="read-only"):
                c.execute(req)
        assert mutations(apiserver) == []
        assert not [r for r in apiserver.requests if r.path.endswith("accessreviews")]
    finally:
        c.close()


def test_unknown_namespace_is_named(apiserver):
    c = cluster(apiserver, namespaces=("no-such-ns",))
    try:
        with pytest.raises(NotFoundError, match="namespace 'no-such-ns' does not exist"):
            c.read()
    finally:
        c.close()


def test_401_with_a_bad_token(apiserver, tmp_path):
    import yaml

    doc = yaml.safe_load(apiserver.kubeconfig.read_text())
    for cl in doc["clusters"]:
        cl["cluster"]["server"] = apiserver.url  # the port that requires a token
    for u in doc["users"]:
        u["user"]["token"] = "wrong"
    kc = tmp_path / "bad-kubeconfig"
    kc.write_text(yaml.safe_dump(doc))
    from backends.kube.backend import KubernetesCluster

    from .helpers import config

    c = KubernetesCluster(config(apiserver, kubeconfig=str(kc)), "test-admin", [NS])
    try:
        with pytest.raises(ForbiddenError, match="401"):
            c.read()
    finally:
        c.close()


def test_without_optional_crds(apiserver):
    """A cluster without KServe and Argo: discovery lists neither group, nothing asks for them."""
    groups = [{"name": g, "versions": [{"groupVersion": f"{g}/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": f"{g}/v1", "version": "v1"}}
              for g in ("apps", "authorization.k8s.io")]
    apiserver.inject("GET", r"^/apis$", 200, times=None,
                     body={"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    c = cluster(apiserver)
    try:
        kinds = {s.kind for s in c.read().services}
        assert kinds == {ServiceKind.DEPLOYMENT}
        assert not [r for r in apiserver.requests
                    if "kserve" in r.path or "argoproj" in r.path]
    finally:
        c.close()


def test_403_on_read_names_the_permission(apiserver):
    apiserver.inject("GET", r"/apis/apps/v1/namespaces/ml-serving/deployments$", 403, times=None)
    c = cluster(apiserver)
    try:
        with pytest.raises(ForbiddenError) as exc:
            c.read()
        assert "list deployments.apps in namespace 'ml-serving'" in str(exc.value)
    finally:
        c.close()


def test_importing_the_backend_does_not_import_the_kubernetes_client():
    import subprocess
    import sys

    code = ("import sys, backends.kube.backend, backends.kube.cache, backends.kube.execute; "
            "print('kubernetes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "False", out.stderr
