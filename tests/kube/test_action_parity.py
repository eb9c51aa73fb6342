"""restart, scale, pause and resume == ``kubectl rollout restart`` / ``kubectl scale`` /
``kubectl rollout pause|resume``: the same objects on two copies of the same fixture (the
real kubectl on one copy, pitboard on the other). Rollback to a chosen revision is
compared the same way in test_rollback_parity.py (``--to-revision``)."""

from __future__ import annotations

import copy
import re

import pytest

from backends.domain.actions import ActionKind, ActionRequest, ActionStatus
from backends.kube.semantics import RESTARTED_AT
from tests.conftest import require_binary

from .helpers import NS, cluster, eventually
from .test_rollback_parity import kubectl, state

pytestmark = pytest.mark.integration
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def act(server, kind: ActionKind, name: str, **kw) -> ActionStatus:
    c = cluster(server)
    try:
        result = c.execute(ActionRequest(kind=kind, service_key=f"test-admin/{NS}/Deployment/"
                                                                f"{name}", reason="parity", **kw))
    finally:
        c.close()
    return result.status


@pytest.fixture
def pair(apiserver_factory, tmp_path):
    """(run kubectl on the reference copy, the reference copy, pitboard's copy)."""
    binary = require_binary("kubectl")
    home = tmp_path / "home"
    home.mkdir()
    reference, ours = apiserver_factory(), apiserver_factory()
    return (lambda *args: kubectl(binary, reference, home, *args)), reference, ours


@pytest.mark.parametrize("replicas", [0, 3, 2])
def test_scale_matches_kubectl_scale(pair, replicas):
    run, reference, ours = pair
    assert state(reference, "llama-chat") == state(ours, "llama-chat")
    run("scale", "deployment/llama-chat", f"--replicas={replicas}", "-n", NS)
    status = act(ours, ActionKind.SCALE, "llama-chat", replicas=replicas)
    assert status == (ActionStatus.SKIPPED if replicas == 2 else ActionStatus.SUCCEEDED)
    eventually(lambda: state(reference, "llama-chat") == state(ours, "llama-chat"), timeout=5)
    dep = ours.get_object("apps/v1", "deployments", NS, "llama-chat")
    assert dep["spec"]["replicas"] == replicas


def test_scale_goes_through_the_scale_subresource(apiserver):
    start = len(apiserver.requests)
    assert act(apiserver, ActionKind.SCALE, "llama-chat", replicas=4) == ActionStatus.SUCCEEDED
    patches = [r for r in list(apiserver.requests)[start:] if r.method == "PATCH"
               and "dryRun" not in r.query and r.path.endswith("/scale")]
    assert [p.body for p in patches] == [{"spec": {"replicas": 4}}]


def test_pause_and_resume_match_kubectl_rollout_pause_resume(pair):
    run, reference, ours = pair
    run("rollout", "pause", "deployment/ranker", "-n", NS)
    assert act(ours, ActionKind.PAUSE, "ranker") == ActionStatus.SUCCEEDED
    eventually(lambda: state(reference, "ranker") == state(ours, "ranker"), timeout=5)
    assert ours.get_object("apps/v1", "deployments", NS, "ranker")["spec"]["paused"] is True
    assert act(ours, ActionKind.PAUSE, "ranker") == ActionStatus.SKIPPED  # already paused
    run("rollout", "resume", "deployment/ranker", "-n", NS)
    assert act(ours, ActionKind.RESUME, "ranker") == ActionStatus.SUCCEEDED
    eventually(lambda: state(reference, "ranker") == state(ours, "ranker"), timeout=5)
    assert not ours.get_object("apps/v1", "deployments", NS, "ranker")["spec"].get("paused")


def _restart_state(server, name: str) -> dict:
    """``state`` with the restart's timestamp replaced (each side wrote its own now) and
    the ReplicaSets by revision (their names hash the template, timestamp included)."""
    s = copy.deepcopy(state(server, name))
    stamps = []

    def scrub(template: dict) -> None:
        ann = (template.get("metadata") or {}).get("annotations") or {}
        if RESTARTED_AT in ann:
            stamps.append(ann[RESTARTED_AT])
            ann[RESTARTED_AT] = "<now>"
        (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)

    scrub(s["spec"]["template"])
    by_revision = {}
    for rs in s["replicasets"].values():
        scrub(rs["template"])
        by_revision[rs["annotations"]["deployment.kubernetes.io/revision"]] = rs
    s["replicasets"] = by_revision
    s["stamps"] = sorted({bool(RFC3339.match(t)) for t in stamps})
    return s


def test_restart_matches_kubectl_rollout_restart(pair):
    run, reference, ours = pair
    before = state(ours, "llama-chat")
    out = run("rollout", "restart", "deployment/llama-chat", "-n", NS)
    assert "restarted" in out
    assert act(ours, ActionKind.RESTART, "llama-chat") == ActionStatus.SUCCEEDED
    eventually(lambda: _restart_state(reference, "llama-chat")
               == _restart_state(ours, "llama-chat"), timeout=5)
    after = state(ours, "llama-chat")
    assert RESTARTED_AT in after["spec"]["template"]["metadata"]["annotations"]
    assert len(after["replicasets"]) == len(before["replicasets"]) + 1  # a new revision
    assert _restart_state(ours, "llama-chat")["stamps"] == [True]  # RFC 3339


def test_a_paused_deployment_is_not_restarted(pair):
    run, _reference, ours = pair
    assert act(ours, ActionKind.PAUSE, "ranker") == ActionStatus.SUCCEEDED
    c = cluster(ours)
    try:
        plan = c.plan(ActionRequest(kind=ActionKind.RESTART,
                                    service_key=f"test-admin/{NS}/Deployment/ranker"))
    finally:
        c.close()
    failed = {ch.name: ch.reason for ch in plan.checks if ch.status.value == "failed"}
    assert "can't restart paused deployment" in failed["allowed by the reference tool"]
