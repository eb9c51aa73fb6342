"""KServe as it ships now, on the test API server: InferenceServices in raw-deployment
(Standard) mode beside the serverless ones, and LLMInferenceService."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.domain.actions import ActionKind, ActionRequest
from backends.domain.errors import ActionRefused

from . import gen_workloads as gen
from .apiserver import ApiServer
from .helpers import NS, cluster, eventually, merge_patch, mutations, service


@pytest.fixture
def kserve(tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path / "apiserver")
    server.load(gen.kserve_fleet())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_raw_mode_reads_its_predictor_deployment_and_no_traffic(kserve):
    c = cluster(kserve)
    try:
        part = c.read()
        raw = service(part, "InferenceService", "iris-raw")
        # what runs: the predictor Deployment's image; its replicas; no split
        dep = kserve.get_object("apps/v1", "deployments", NS, "iris-raw-predictor")
        assert dep["metadata"]["ownerReferences"][0]["kind"] == "InferenceService"
        assert (raw.version, raw.replicas_ready, raw.replicas_desired) == ("v0.15.2", 1, 1)
        assert raw.traffic == () and raw.traffic_text == "" and raw.canary is None
        assert raw.notes[0] == ("RawDeployment mode: KServe splits no traffic (the predictor is "
                                "a Deployment rolled out in place); the traffic is unknown")
        assert "canaryTrafficPercent 10 is set but not applied in RawDeployment mode" in raw.notes
        # its history is the predictor's ReplicaSets; the predictor is not a model of its own
        assert [r.number for r in part.revisions[raw.key]] == [1]
        assert not any(s.name == "iris-raw-predictor" for s in part.services)
        std = service(part, "InferenceService", "digits-std")
        assert std.version == "v0.16.0" and std.notes[0].startswith("Standard mode")
    finally:
        c.close()


def test_raw_mode_follows_a_new_predictor_image(kserve):
    c = cluster(kserve)
    try:
        c.read()
        merge_patch(kserve, f"/apis/serving.kserve.io/v1beta1/namespaces/{NS}/inferenceservices/"
                            "iris-raw", {"spec": {"predictor": {"containers": [
                                {"name": "kserve-container",
                                 "image": "kserve/sklearnserver:v0.15.3"}]}}})
        part = eventually(lambda: next(
            (p for p in [c.read()] if service(p, "InferenceService", "iris-raw").version
             == "v0.15.3"), None))
        raw = service(part, "InferenceService", "iris-raw")
        assert [r.number for r in part.revisions[raw.key]] == [2, 1]
        assert part.revisions[raw.key][0].current
    finally:
        c.close()


def test_raw_mode_refuses_promote_and_rollback_and_sends_nothing(kserve):
    c = cluster(kserve)
    try:
        raw = service(c.read(), "InferenceService", "iris-raw")
        before = len(kserve.requests)
        for kind, word in ((ActionKind.PROMOTE, "promote"), (ActionKind.ROLLBACK, "rollback")):
            with pytest.raises(ActionRefused, match=(
                    f"{word} is not possible for an InferenceService in RawDeployment mode: "
                    "KServe splits no traffic there .*kubectl rollout undo "
                    "deployment/iris-raw-predictor")):
                c.execute(ActionRequest(kind=kind, service_key=raw.key, reason="r"))
        assert mutations(kserve, before) == []
    finally:
        c.close()


def test_llminferenceservice_status_version_and_url(kserve):
    c = cluster(kserve)
    try:
        part = c.read()
        llm = service(part, "LLMInferenceService", "qwen-coder")
        obj = kserve.get_object("serving.kserve.io/v1alpha1", "llminferenceservices", NS,
                                "qwen-coder")
        assert (llm.version, llm.replicas_ready, llm.replicas_desired) == ("v0.9.0", 1, 1)
        assert llm.gpus == 1 and llm.traffic == () and not llm.rollout_in_progress
        assert llm.notes[0] == ("model Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8 from "
                                "hf://Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8")
        assert f"url {obj['status']['url']}" in llm.notes
        assert "router: route+scheduler" in llm.notes
        # its workload Deployment is read through it, never as a model of its own
        assert not any(s.name == "qwen-coder-kserve" for s in part.services)
    finally:
        c.close()


def test_llminferenceservice_not_ready_says_which_part(kserve):
    """More GPUs than a node has: the workload's pod stays Pending, and the conditions say
    which part is not ready (MainWorkloadReady -> WorkloadsReady -> Ready)."""
    kserve.load([gen.llmisvc("big-llm", "hf://meta-llama/Llama-3.1-405B",
                             "ghcr.io/llm-d/llm-d-cuda:v0.9.0", gpus=16)])
    c = cluster(kserve)
    try:
        llm = service(c.read(), "LLMInferenceService", "big-llm")
        why = "MinimumReplicasUnavailable Deployment does not have minimum availability."
        assert f"not ready: MainWorkloadReady: {why}" in llm.notes
        assert f"not ready: WorkloadsReady: {why}" in llm.notes
        assert (llm.replicas_ready, llm.replicas_desired) == (0, 1)
        pods = [p for p in kserve.list_objects("v1", "pods", NS)
                if p["metadata"]["name"].startswith("big-llm-kserve-")]
        assert [p["status"]["phase"] for p in pods] == ["Pending"]
    finally:
        c.close()


def test_llminferenceservice_actions_are_refused_with_its_words(kserve):
    c = cluster(kserve)
    try:
        llm = service(c.read(), "LLMInferenceService", "qwen-coder")
        req = ActionRequest(kind=ActionKind.ROLLBACK, service_key=llm.key, reason="r")
        words = "rollback is not supported for an LLMInferenceService: KServe keeps no revisions"
        failed = [ch for ch in c.plan(req).checks if ch.status.value == "failed"]
        assert [ch.name for ch in failed] == ["allowed by the reference tool"]
        assert failed[0].reason.startswith(words)
        before = len(kserve.requests)
        with pytest.raises(ActionRefused, match=words):
            c.execute(req)
        assert mutations(kserve, before) == []
    finally:
        c.close()


def test_serverless_isvcs_still_read_beside_the_new_shapes(apiserver):
    c = cluster(apiserver)
    try:
        bert = service(c.read(), "InferenceService", "sentiment-bert")
        assert bert.traffic and bert.notes == ()
    finally:
        c.close()


@pytest.mark.integration
def test_kubectl_sees_the_same_llminferenceservices(kserve, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import require_binary

    venv = Path(sys.executable).parent / "kubectl"
    binary = str(venv) if os.access(venv, os.X_OK) else require_binary("kubectl")
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run([binary, "--kubeconfig", str(kserve.kubeconfig), "--context",
                           "test-admin", "--cache-dir", str(tmp_path / "kc"), "get", "llmisvc",
                           "-n", NS], capture_output=True, text=True, timeout=30,
                          env={"HOME": str(home), "PATH": os.environ.get("PATH", "")})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "URL", "READY", "REASON", "AGE"]
    name, url, ready = lines[1].split()[:3]
    obj = kserve.get_object("serving.kserve.io/v1alpha1", "llminferenceservices", NS, name)
    assert (name, url, ready) == ("qwen-coder", obj["status"]["url"], "True")
