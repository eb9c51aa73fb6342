"""Approvals mirrored as the ``pitboard.io/approvals`` annotation, and who we are to the
cluster (SelfSubjectReview only: never the kubeconfig's user entry name), against the test
API server."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml

from backends.actions.approvals import APPROVALS, MAX_APPROVALS
from backends.domain.errors import ActionRefused
from backends.kube.backend import KubernetesFleet

from .helpers import NS, cluster, config, merge_patch, mutations
from .helpers_guard import ANA, BOB, DEP, ISVC, ROLLOUT, MERGE_PATCH, key, patches

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 21, 14, 5, 9, tzinfo=timezone.utc)
REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"



def approvals_on(apiserver, group_version: str, plural: str, name: str) -> list[dict]:
    obj = apiserver.get_object(group_version, plural, NS, name)
    return json.loads(obj["metadata"]["annotations"][APPROVALS])


@pytest.mark.parametrize("kind,gv,plural,name,path", [
    ("Deployment", "apps/v1", "deployments", "llama-chat", DEP),
    ("Rollout", "argoproj.io/v1alpha1", "rollouts", "mistral-chat", ROLLOUT),
    ("InferenceService", "serving.kserve.io/v1beta1", "inferenceservices", "sentiment-bert",
     ISVC),
])
def test_approve_writes_the_audit_entry_then_the_annotation_after_a_dry_run(
        apiserver, rigs, kind, gv, plural, name, path):
    rig = rigs()
    start = rig.mark()
    result = rig.runner.approve(key(name, kind), BOB, "canary [b]fine[/b] \x1b[2J",
                                promoter=ANA, canary="3")
    assert result.annotated, result.message
    assert f"{kind.lower()}/{name}" in result.message
    assert [e.kind for e in rig.audit.entries()] == ["approval"]
    sent = patches(rig.since(start), path + name, content_type=MERGE_PATCH)
    assert [r.query.get("dryRun") for r in sent] == ["All", None]
    # optimistic concurrency: the patch names the version it read
    assert sent[1].body["metadata"]["resourceVersion"]
    [record] = approvals_on(apiserver, gv, plural, name)
    assert record == {"who": BOB, "when": result.entry.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "reason": "canary [b]fine[/b] \x1b[2J", "canary": "3",
                      "target": f"{NS}/{kind}/{name}"}


def test_a_second_approval_is_appended_and_a_teammates_is_kept_through_a_409(
        apiserver, rigs):
    rig = rigs()
    k = key("llama-chat")
    rig.runner.approve(k, ANA, "first look")
    # a teammate's approval lands from another console, then our PATCH meets a conflict
    theirs = approvals_on(apiserver, "apps/v1", "deployments", "llama-chat")
    theirs.append({"who": "carol@desk", "when": "2026-11-21T14:00:00Z", "reason": "ok"})
    merge_patch(apiserver, DEP + "llama-chat",
                {"metadata": {"annotations": {APPROVALS: json.dumps(theirs)}}})
    apiserver.inject("PATCH", r"/deployments/llama-chat$", 409, times=1,
                     query={"dryRun": None})
    result = rig.runner.approve(k, BOB, "numbers fine")
    assert result.annotated, result.message
    who = [r["who"] for r in approvals_on(apiserver, "apps/v1", "deployments", "llama-chat")]
    assert who == [ANA, "carol@desk", BOB]


def test_annotation_is_bounded(apiserver, rigs):
    rig = rigs()
    for i in range(MAX_APPROVALS + 3):
        rig.cluster.annotate_approval(key("embedder"), f"user{i}@h", "ok", AT)
    kept = approvals_on(apiserver, "apps/v1", "deployments", "embedder")
    assert len(kept) == MAX_APPROVALS and kept[-1]["who"] == f"user{MAX_APPROVALS + 2}@h"


def test_a_refused_annotation_is_reported_and_the_audit_approval_stays(apiserver, rigs):
    rig = rigs()
    start = rig.mark()
    apiserver.inject("PATCH", r"/deployments/llama-chat$", 403, times=None)
    result = rig.runner.approve(key("llama-chat"), BOB, "lgtm")
    assert not result.annotated and result.supported
    assert "annotation failed" in result.message and "403" in result.message
    assert "nothing was changed" in result.message  # the dry run refused it
    assert [e.kind for e in rig.audit.entries()] == ["approval"]
    assert rig.runner.valid_approvals(key("llama-chat"))
    assert rig.audit.verify()[0]
    assert not patches(rig.since(start), DEP + "llama-chat", dry_run=False)


def test_a_foreign_annotation_value_is_left_unchanged(apiserver, rigs):
    rig = rigs()
    merge_patch(apiserver, DEP + "llama-chat",
                {"metadata": {"annotations": {APPROVALS: "approved by carol"}}})
    start = rig.mark()
    result = rig.runner.approve(key("llama-chat"), BOB, "lgtm")
    assert not result.annotated and "not a JSON list" in result.message
    obj = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
    assert obj["metadata"]["annotations"][APPROVALS] == "approved by carol"
    assert mutations(apiserver, start) == []


def test_read_only_cluster_sends_no_annotation(apiserver):
    c = cluster(apiserver, read_only=True)
    try:
        start = len(apiserver.requests)
        with pytest.raises(ActionRefused, match="read-only"):
            c.annotate_approval(key("llama-chat"), BOB, "lgtm", AT)
        assert c.whoami() is None  # read-only: not asked (no POST), and no local guess
        assert mutations(apiserver, start) == []
        assert not any(r.path == REVIEWS for r in apiserver.requests)
    finally:
        c.close()


# -- identity ----------------------------------------------------------------------------------


def _rename_kubeconfig_user(apiserver, old: str, new: str) -> None:
    """The kubeconfig's user entry gets a local name unlike the server's user name."""
    doc = yaml.safe_load(apiserver.kubeconfig.read_text())
    for u in doc["users"]:
        if u["name"] == old:
            u["name"] = new
    for c in doc["contexts"]:
        if c["context"]["user"] == old:
            c["context"]["user"] = new
    apiserver.kubeconfig.write_text(yaml.safe_dump(doc))


def test_identity_is_unknown_until_the_server_says_who_we_are(apiserver):
    _rename_kubeconfig_user(apiserver, "admin", "laptop-admin")
    c = cluster(apiserver)
    try:
        assert c.identity is None  # the kubeconfig's entry name is the client's choice: unused
        assert not any(r.path == REVIEWS for r in apiserver.requests)
        assert c.whoami() == "admin"  # SelfSubjectReview: the name the server knows
        assert c.identity == "admin"
        asked = [r for r in apiserver.requests if r.path == REVIEWS]
        assert len(asked) == 1 and asked[0].method == "POST"
        c.whoami()
        assert len([r for r in apiserver.requests if r.path == REVIEWS]) == 1  # asked once
    finally:
        c.close()


def test_no_identity_without_selfsubjectreview_and_the_answer_says_why(apiserver):
    _rename_kubeconfig_user(apiserver, "viewer", "ro-viewer")
    apiserver.self_review_versions = ()
    c = cluster(apiserver, context="test-viewer")
    try:
        assert c.whoami() is None  # never the kubeconfig's "ro-viewer"
        who = c.whoami_for()
        assert who.unsupported and who.user is None
        assert "does not serve SelfSubjectReview" in who.problem
        asked = [r.path.split("/")[3] for r in apiserver.requests
                 if r.path.endswith("/selfsubjectreviews")]
        assert asked == ["v1", "v1beta1", "v1alpha1"]  # kubectl auth whoami's order, once
    finally:
        c.close()


def test_fleet_identity_joins_the_distinct_identities(apiserver):
    fleet = KubernetesFleet(config(apiserver), ["test-admin", "test-viewer"], [NS])
    try:
        assert fleet.whoami() == "admin,viewer"
    finally:
        fleet.close()


async def test_console_actor_carries_the_cluster_identity(apiserver):
    import time

    from backends.actions import identity
    from console.app import make_app
    from console.cli.main import build_parser, settings_from_args

    _rename_kubeconfig_user(apiserver, "admin", "laptop-admin")
    args = build_parser().parse_args(["--kubeconfig", str(apiserver.kubeconfig),
                                      "--context", "test-admin", "--namespace", NS])
    app = make_app(settings_from_args(args))
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 15
        while app.actions.runner is None:
            assert time.monotonic() < deadline, f"no runner: {app.actions.audit_error}"
            await pilot.pause(0.05)
        assert app.actions.actor == identity.actor("admin")  # the server's name, not the local one
    assert any(r.path == REVIEWS and r.method == "POST" for r in apiserver.requests)
