"""Who acts and who approves on a cluster is the cluster's answer (SelfSubjectReview), never
``$USER``: checked against the test API server, whose answer the real kubectl agrees with.
A server without SelfSubjectReview refuses actions and approvals, with a clear message,
unless ``actions.local_approvers`` names the local identity."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from backends.actions.config import ActionsConfig, GateOverrides
from backends.actions.gates import APPROVALS
from backends.actions.guard import ActionRunner
from backends.actions.identity import parse_actor
from backends.audit.store import SqliteAudit
from backends.domain.actions import ActionKind, ActionStatus, CheckStatus
from backends.domain.errors import ActionRefused

from .helpers import NS, cluster
from .helpers_guard import Rig, checks, key, snapshot

pytestmark = pytest.mark.integration

KUBECTL = Path("/work/main/.venv/bin/kubectl")
MISTRAL = key("mistral-chat", "Rollout")
HEALTHY = {"mistral-chat": (("3", 0.002, 180.0), ("2", 0.002, 170.0))}
ALICE = "alice@laptop"  # the same $USER on every console below: it must decide nothing


def kubectl_whoami(apiserver, context: str) -> dict:
    done = subprocess.run([str(KUBECTL), "--kubeconfig", str(apiserver.kubeconfig),
                           "--context", context, "auth", "whoami", "-o", "json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _config(**over) -> ActionsConfig:
    opts = {"progress_poll_s": 0.05, "progress_timeout_s": 5, **over}
    return ActionsConfig(contexts={c: GateOverrides(**opts)
                                   for c in ("test-admin", "test-ana")})


@pytest.fixture
def shared(apiserver, tmp_path):
    """``shared(context, **config)`` -> a Rig on ``context``; every rig writes to one audit
    store (as consoles of one team sharing a store would) and is closed after the test."""
    audit = SqliteAudit(tmp_path / "audit.db")
    made: list[Rig] = []

    def make(context: str, config: ActionsConfig | None = None) -> Rig:
        c = cluster(apiserver, context=context)
        made.append(Rig(apiserver, c, audit, ActionRunner(c, audit,
                                                          config=config or _config())))
        return made[-1]

    yield make
    for rig in made:
        rig.cluster.close()
    audit.close()


@pytest.mark.parametrize("versions", [("v1",), ("v1beta1",), ("v1alpha1",)])
def test_pitboard_and_kubectl_auth_whoami_agree(apiserver, versions):
    apiserver.add_user("ana", groups=("ml-release",), uid="7d1c-ana")
    apiserver.self_review_versions = versions
    for context, user in (("test-admin", "admin"), ("test-ana", "ana")):
        c = cluster(apiserver, context=context)
        try:
            who = c.whoami_for()
        finally:
            c.close()
        theirs = kubectl_whoami(apiserver, context)
        info = theirs["status"]["userInfo"]
        assert theirs["apiVersion"] == who.api_version == f"authentication.k8s.io/{versions[0]}"
        assert who.user == info["username"] == user
        assert list(who.groups) == info["groups"]
        assert who.uid == info.get("uid")
    assert who.groups == ("ml-release", "system:authenticated") and who.uid == "7d1c-ana"


def test_the_actor_recorded_is_the_cluster_identity_not_the_os_user(apiserver, shared):
    apiserver.add_user("ana")
    rig = shared("test-ana")
    plan = rig.plan(ActionKind.RESTART, key("embedder"), actor=ALICE)
    assert plan.request.actor == f"{ALICE} k8s:ana"
    result = rig.run(plan, actor=ALICE)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    entries = rig.audit.entries()
    assert {e.kind for e in entries} >= {"intent", "outcome"}
    for entry in entries:
        assert parse_actor(entry.actor)[2] == kubectl_whoami(apiserver, "test-ana")[
            "status"]["userInfo"]["username"] == "ana"
    assert f"{ALICE} k8s:ana" in json.loads(apiserver.get_object(
        "apps/v1", "deployments", NS, "embedder")["metadata"]["annotations"][
        "pitboard.io/last-action"])["who"]


def test_one_cluster_identity_cannot_pass_the_gate_alone_two_can(apiserver, shared):
    apiserver.add_user("ana")
    gated = _config(approvals_required=1)
    on_call = shared("test-admin", gated)
    # the same kube identity under another $USER: still the promoter
    on_call.runner.approve(MISTRAL, "bob@desk", "looks fine", canary="3")
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY), actor=ALICE)
    check = checks(plan)[APPROVALS]
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert "your own approval does not count" in check.reason
    with pytest.raises(ActionRefused, match="approvals"):
        on_call.run(plan, actor=ALICE, override=True)
    with pytest.raises(ActionRefused, match="cannot approve their own promotion"):
        on_call.runner.approve(MISTRAL, "carol@tablet", "mine", promoter=ALICE, canary="3")

    # another token (another kubeconfig context), the same $USER: another person
    manager = shared("test-ana")
    approved = manager.runner.approve(MISTRAL, ALICE, "canary numbers fine", canary="3")
    assert approved.entry.actor == f"{ALICE} k8s:ana"
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY), actor=ALICE)
    check = checks(plan)[APPROVALS]
    assert check.status == CheckStatus.PASSED, check.reason
    assert check.reason.startswith(f"approved by {ALICE} k8s:ana")
    result = on_call.run(plan, reason="canary healthy", actor=ALICE)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    intent = next(e for e in on_call.audit.entries() if e.kind == "intent")
    assert intent.actor == f"{ALICE} k8s:admin"


def test_without_selfsubjectreview_actions_and_approvals_are_refused_with_why(
        apiserver, shared):
    apiserver.self_review_versions = ()
    rig = shared("test-admin")
    start = rig.mark()
    plan = rig.plan(ActionKind.RESTART, key("embedder"), actor=ALICE)
    [check] = plan.checks
    assert check.name == "identity" and check.status == CheckStatus.FAILED
    assert "does not serve SelfSubjectReview" in check.reason
    assert "actions.local_approvers" in check.reason and "'alice@laptop'" in check.reason
    with pytest.raises(ActionRefused, match="does not serve SelfSubjectReview"):
        rig.run(plan, actor=ALICE)
    with pytest.raises(ActionRefused, match="does not serve SelfSubjectReview"):
        rig.runner.approve(MISTRAL, ALICE, "lgtm", canary="3")
    assert rig.audit.entries() == []
    assert not [r for r in rig.since(start) if r.mutating
                and not r.path.endswith("selfsubjectreviews")]


def test_without_selfsubjectreview_a_named_local_identity_may_act_and_the_gate_says_so(
        apiserver, shared):
    apiserver.self_review_versions = ()
    named = ActionsConfig(local_approvers=["bob"], contexts={"test-admin": GateOverrides(
        approvals_required=1, progress_poll_s=0.05, progress_timeout_s=5)})
    rig = shared("test-admin", named)
    approved = rig.runner.approve(MISTRAL, "bob@desk", "canary fine", canary="3")
    assert approved.entry.actor == "bob@desk"  # local, as the config allows by name
    with pytest.raises(ActionRefused, match="local_approvers"):
        rig.runner.approve(MISTRAL, "mallory@desk", "me too", canary="3")
    plan = rig.plan(ActionKind.PROMOTE, MISTRAL, snapshot(rig, HEALTHY), actor=ALICE)
    assert plan.checks[0].name == "identity"  # alice is not named: refused
    plan = rig.plan(ActionKind.PROMOTE, MISTRAL, snapshot(rig, HEALTHY), actor="carol")
    assert plan.checks[0].name == "identity"
    rig2 = shared("test-admin", named.model_copy(update={"local_approvers": ["bob", "carol"]}))
    plan = rig2.plan(ActionKind.PROMOTE, MISTRAL, snapshot(rig2, HEALTHY), actor="carol@h")
    check = checks(plan)[APPROVALS]
    assert check.status == CheckStatus.PASSED, check.reason
    assert "bob@desk (local identity named in actions.local_approvers)" in check.reason
    assert "does not serve SelfSubjectReview" in check.reason
    assert "counted: cluster identities only, and the local identities named in " \
           "actions.local_approvers (bob, carol)" in check.reason


def test_the_shell_refuses_without_selfsubjectreview_with_a_message(apiserver, tmp_path,
                                                                     capsys):
    from console.cli.main import main

    apiserver.self_review_versions = ()
    conf = tmp_path / "config.toml"
    conf.write_text(f'[audit]\npath = "{tmp_path / "audit.db"}"\n')
    code = main(["restart", "embedder", "--reason", "stuck", "--yes", "--kubeconfig",
                 str(apiserver.kubeconfig), "--context", "test-admin", "--namespace", NS,
                 "--config", str(conf)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "does not serve SelfSubjectReview" in err and "Traceback" not in err
    assert "nothing was sent or recorded" in err
