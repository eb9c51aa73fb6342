"""pitboard's rollback == ``kubectl rollout undo``: the same Deployment, ReplicaSets and
revision numbers on two copies of the same fixture (the real kubectl on one copy)."""

from __future__ import annotations

import os
import subprocess

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus
from tests.conftest import require_binary

from .helpers import NS, cluster, eventually

pytestmark = pytest.mark.integration
IGNORED_ANNOTATIONS = {"pitboard.io/last-action", "pitboard.io/audit",
                       "pitboard.io/audit-chain"}


def kubectl(binary: str, server, home, *args: str) -> str:
    proc = subprocess.run(
        [binary, "--kubeconfig", str(server.kubeconfig), "--context", "test-admin",
         "--cache-dir", str(home / "kcache"), *args],
        capture_output=True, text=True, timeout=30,
        env={"HOME": str(home), "PATH": os.environ.get("PATH", "")})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _ann(meta: dict) -> dict:
    return {k: v for k, v in (meta.get("annotations") or {}).items() if k not in IGNORED_ANNOTATIONS}


def state(server, name: str) -> dict:
    """What must match: the Deployment's spec and annotations, its ReplicaSets (name,
    revision, template, annotations)."""
    dep = server.get_object("apps/v1", "deployments", NS, name)
    uid = dep["metadata"]["uid"]
    rss = {}
    for rs in server.list_objects("apps/v1", "replicasets", NS):
        if any(r.get("uid") == uid and r.get("controller")
               for r in rs["metadata"].get("ownerReferences") or []):
            rss[rs["metadata"]["name"]] = {"annotations": _ann(rs["metadata"]),
                                           "template": rs["spec"]["template"],
                                           "replicas": rs["spec"].get("replicas")}
    return {"spec": dep["spec"], "annotations": _ann(dep["metadata"]),
            "labels": dep["metadata"].get("labels"), "replicasets": rss}


def revision(server, name: str) -> str:
    dep = server.get_object("apps/v1", "deployments", NS, name)
    return dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"]


@pytest.mark.parametrize("name,to_revision", [
    ("llama-chat", None),   # undo: the second-highest revision
    ("llama-chat", 1),      # --to-revision, oldest
    ("ranker", None),       # history with a reused ReplicaSet (revisions 5,4,3,1)
    ("ranker", 3),
    ("embedder", 3),        # already current: both skip
])
def test_pitboard_rollback_matches_kubectl_rollout_undo(apiserver_factory, tmp_path, name,
                                                        to_revision):
    binary = require_binary("kubectl")
    home = tmp_path / "home"
    home.mkdir()
    reference, ours = apiserver_factory(), apiserver_factory()
    assert state(reference, name) == state(ours, name)  # two identical copies

    args = ["rollout", "undo", f"deployment/{name}", "-n", NS]
    if to_revision:
        args.append(f"--to-revision={to_revision}")
    out = kubectl(binary, reference, home, *args)

    c = cluster(ours)
    try:
        result = c.execute(ActionRequest(
            kind=ActionKind.ROLLBACK, service_key=f"test-admin/{NS}/Deployment/{name}",
            to_revision=to_revision, reason="parity"))
    finally:
        c.close()
    if "skipped rollback" in out:
        assert result.status == ActionStatus.SKIPPED
    else:
        assert "rolled back" in out and result.status == ActionStatus.SUCCEEDED
    eventually(lambda: revision(reference, name) == revision(ours, name))
    eventually(lambda: state(reference, name) == state(ours, name), timeout=5)
    assert state(reference, name) == state(ours, name)
