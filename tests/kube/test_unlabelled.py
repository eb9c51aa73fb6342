"""Models without a pitboard label (Deployments, StatefulSets, LeaderWorkerSets that request
GPUs or carry app.kubernetes.io/name), on the test API server; the empty cluster says
what was looked for; unlabelled models take no action until adopted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from backends.domain.actions import ActionKind, ActionRequest
from backends.domain.errors import ActionRefused

from . import gen_workloads as gen
from .helpers import NS, cluster, eventually, lists, mutations, service


def test_ordinary_workloads_appear_marked_unlabelled(server_of):
    server = server_of(gen.unlabelled_fleet())
    c = cluster(server)
    try:
        part = c.read()
        shown = {(s.kind.value, s.name) for s in part.services}
        assert shown == {("Deployment", "qwen-chat"), ("Deployment", "bge-embed"),
                         ("Deployment", "rocm-ranker"), ("StatefulSet", "sglang-r1"),
                         ("LeaderWorkerSet", "llama-405b")}  # not static-web, nor the LWS's own set
        assert all(s.unlabelled for s in part.services) and part.search is None
        qwen = service(part, "Deployment", "qwen-chat")
        assert qwen.adopt == ('[kubernetes] adopt = ["app.kubernetes.io/name=qwen-chat"]',
                              "kubectl label deployment qwen-chat -n ml-serving "
                              "pitboard.io/model=qwen-chat")
        assert (qwen.version, qwen.replicas_ready, qwen.replicas_desired, qwen.gpus) == \
            ("v0.11.0", 2, 2, 4)
        assert qwen.runtime == "vllm"
        # found by its GPU request alone: only the kubectl line can adopt it by name
        sts = service(part, "StatefulSet", "sglang-r1")
        assert sts.adopt == ("kubectl label statefulset sglang-r1 -n ml-serving "
                             "pitboard.io/model=sglang-r1",)
        assert (sts.replicas_ready, sts.replicas_desired, sts.gpus, sts.runtime) == \
            (2, 2, 2, "sglang")
        lws = service(part, "LeaderWorkerSet", "llama-405b")
        # one group of a leader and a worker, 4 GPUs each: counted from the pods
        assert (lws.replicas_ready, lws.replicas_desired, lws.gpus) == (1, 1, 8)
        assert any("groups of 2 pods" in n for n in lws.notes)
        # the amd.com/gpu request makes it a model too
        assert service(part, "Deployment", "rocm-ranker").unlabelled
    finally:
        c.close()


def test_one_watch_per_kind_and_no_list_in_steady_state(server_of):
    server = server_of(gen.unlabelled_fleet())
    c = cluster(server)
    try:
        c.read()
        listed = len(lists(server))
        paths = Counter(r.path for r in lists(server))
        for plural in ("deployments", "statefulsets", "leaderworkersets"):
            assert sum(n for p, n in paths.items() if p.endswith(f"/{plural}")) == 1, paths
        eventually(lambda: all(cs[0].watches >= 1 for cs in c.caches.values()))
        gen_docs = gen.deployment("phi-mini", "vllm/vllm-openai:v0.11.0",
                                  labels={gen.NAME: "phi-mini"})
        server.load([gen_docs])
        part = eventually(lambda: next((p for p in [c.read()]
                                        if any(s.name == "phi-mini" for s in p.services)), None))
        assert service(part, "Deployment", "phi-mini").unlabelled
        assert len(lists(server)) == listed  # the watch brought it: no LIST
        # no label selector on the shared watches: one cache decides client-side
        assert all("labelSelector" not in r.query for r in lists(server)
                   if r.path.endswith("/deployments"))
    finally:
        c.close()


def test_adopted_by_config_is_a_model_with_actions(server_of):
    server = server_of(gen.unlabelled_fleet())
    c = cluster(server, adopt=["app.kubernetes.io/name=qwen-chat"])
    try:
        part = c.read()
        qwen = service(part, "Deployment", "qwen-chat")
        assert not qwen.unlabelled and qwen.adopt == ()
        assert service(part, "Deployment", "bge-embed").unlabelled
        req = ActionRequest(kind=ActionKind.RESTART, service_key=qwen.key, reason="adopted")
        plan = c.plan(req)
        assert plan.request.service_key == qwen.key
    finally:
        c.close()


def test_unlabelled_takes_no_action_and_sends_nothing(server_of):
    server = server_of(gen.unlabelled_fleet())
    c = cluster(server)
    try:
        qwen = service(c.read(), "Deployment", "qwen-chat")
        before = len(server.requests)
        for kind in (ActionKind.RESTART, ActionKind.ROLLBACK, ActionKind.SCALE):
            req = ActionRequest(kind=kind, service_key=qwen.key, reason="r", replicas=1)
            with pytest.raises(ActionRefused, match="qwen-chat is unlabelled .*read-only until "
                                                    r"adopted; adopt it: \[kubernetes\] adopt"):
                c.plan(req)
            with pytest.raises(ActionRefused, match="unlabelled"):
                c.execute(req)
        assert mutations(server, before) == []
    finally:
        c.close()


def test_discovery_off_shows_only_labelled_with_a_server_selector(server_of):
    server = server_of(gen.unlabelled_fleet())
    c = cluster(server, discover=False)
    try:
        part = c.read()
        assert part.services == ()
        assert all(r.query.get("labelSelector") == "pitboard.io/model"
                   for r in lists(server) if r.path.endswith(("/deployments", "/statefulsets")))
        assert "turn discovery on ([kubernetes] discover = true)" in (part.search or "")
    finally:
        c.close()


def test_an_empty_cluster_says_what_was_looked_for(server_of):
    server = server_of(gen.empty_fleet())
    c = cluster(server)
    try:
        part = c.read()
        assert part.services == ()
        text = part.search or ""
        assert text.startswith("No models in context test-admin (namespace ml-serving).")
        for needle in ("Deployment, StatefulSet, LeaderWorkerSet labelled pitboard.io/model",
                       "requesting nvidia.com/gpu or amd.com/gpu or carrying "
                       "app.kubernetes.io/name", "every InferenceService", "every Rollout",
                       "every LLMInferenceService",
                       "kubectl label deployment NAME pitboard.io/model=NAME",
                       '[kubernetes] adopt = ["app.kubernetes.io/name=NAME"]',
                       "--namespace"):
            assert needle in text, (needle, text)
    finally:
        c.close()


@pytest.mark.integration
def test_kubectl_sees_the_same_statefulsets_and_leaderworkersets(server_of, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import require_binary

    server = server_of(gen.unlabelled_fleet())
    venv = Path(sys.executable).parent / "kubectl"
    binary = str(venv) if os.access(venv, os.X_OK) else require_binary("kubectl")
    home = tmp_path / "home"
    home.mkdir()

    def kubectl(*args: str) -> str:
        proc = subprocess.run([binary, "--kubeconfig", str(server.kubeconfig), "--context",
                               "test-admin", "--cache-dir", str(tmp_path / "kc"), *args],
                              capture_output=True, text=True, timeout=30,
                              env={"HOME": str(home), "PATH": os.environ.get("PATH", "")})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def names(group_version: str, plural: str) -> set[str]:
        return {o["metadata"]["name"] for o in server.list_objects(group_version, plural, NS)}

    sts = set(kubectl("get", "statefulsets", "-n", NS, "-o", "name").split())
    assert sts == {f"statefulset.apps/{n}" for n in names("apps/v1", "statefulsets")} == \
        {"statefulset.apps/sglang-r1", "statefulset.apps/llama-405b"}
    lws = set(kubectl("get", "lws", "-n", NS, "-o", "name").split())
    assert lws == {"leaderworkerset.leaderworkerset.x-k8s.io/llama-405b"}
    table = kubectl("get", "sts", "-n", NS).splitlines()
    assert table[0].split() == ["NAME", "READY", "AGE"]
    assert {tuple(line.split()[:2]) for line in table[1:]} == {("sglang-r1", "2/2"),
                                                             ("llama-405b", "1/1")}
