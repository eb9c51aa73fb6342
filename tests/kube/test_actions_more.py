"""The actions on-call reaches for, each declared once in the catalog with an executor per
kind: Argo restart / scale / pause / resume / undo to a chosen revision, promote-full,
abort and retry reachable; what a kind cannot do is refused in its words."""

from __future__ import annotations

import pytest

from backends.actions import catalog
from backends.domain.actions import ActionKind, ActionRequest, ActionStatus
from backends.domain.errors import ActionRefused
from backends.kube.kinds import KINDS
from backends.kube.semantics import RESTARTED_AT

from .helpers import NS, cluster
from .helpers_guard import key

pytestmark = pytest.mark.integration
MISTRAL = key("mistral-chat", "Rollout")
ROLLOUT_PATH = f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/mistral-chat"


def test_catalog_and_executors_agree():
    """Every guarded cluster action a kind is declared for has its executor there, and
    every executor is reachable from some declaration."""
    for spec in catalog.GUARDED:
        if spec.kind == ActionKind.SILENCE:  # Alertmanager, not a cluster object
            continue
        for kind in spec.kinds:
            assert spec.kind in KINDS[kind].ACTIONS, (spec.name, kind)
    for kind, module in KINDS.items():
        for action in module.ACTIONS:
            assert any(s.kind == action and kind in s.kinds for s in catalog.GUARDED), \
                (kind, action)
    assert len({s.key for s in catalog.ACTIONS}) == len(catalog.ACTIONS)  # one key each


def rollout(apiserver) -> dict:
    return apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")


def run(apiserver, kind: ActionKind, service_key: str = MISTRAL, **kw):
    c = cluster(apiserver)
    try:
        return c.execute(ActionRequest(kind=kind, service_key=service_key, reason="more", **kw))
    finally:
        c.close()


def test_argo_restart_scale_pause_resume(apiserver):
    start = len(apiserver.requests)
    assert run(apiserver, ActionKind.RESTART).status == ActionStatus.SUCCEEDED
    assert rollout(apiserver)["spec"]["restartAt"]  # kubectl argo rollouts restart
    assert run(apiserver, ActionKind.SCALE, replicas=5).status == ActionStatus.SUCCEEDED
    assert rollout(apiserver)["spec"]["replicas"] == 5
    sent = [(r.path, r.body) for r in list(apiserver.requests)[start:]
            if r.method == "PATCH" and "dryRun" not in r.query and r.path.startswith(ROLLOUT_PATH)
            and "pitboard.io/last-action" not in str(r.body)]
    assert sent[0][0] == ROLLOUT_PATH and set(sent[0][1]["spec"]) == {"restartAt"}
    assert sent[1] == (ROLLOUT_PATH + "/scale", {"spec": {"replicas": 5}})
    assert run(apiserver, ActionKind.RESUME).status == ActionStatus.SKIPPED  # not paused
    assert run(apiserver, ActionKind.PAUSE).status == ActionStatus.SUCCEEDED
    assert rollout(apiserver)["spec"]["paused"] is True
    assert run(apiserver, ActionKind.RESUME).status == ActionStatus.SUCCEEDED
    assert not rollout(apiserver)["spec"].get("paused")


def test_argo_undo_to_a_chosen_revision(apiserver):
    result = run(apiserver, ActionKind.ROLLBACK, to_revision=1)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    assert result.detail["to_revision"] == 1
    image = rollout(apiserver)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "vllm/vllm-openai:v0.6.3"  # revision 1's template
    with pytest.raises(ActionRefused, match="unable to find specified revision 9"):
        run(apiserver, ActionKind.ROLLBACK, to_revision=9)


def test_promote_full_abort_retry_reachable(apiserver):
    assert run(apiserver, ActionKind.ABORT).status == ActionStatus.SUCCEEDED
    assert rollout(apiserver)["status"]["abort"] is True
    assert run(apiserver, ActionKind.RETRY).status == ActionStatus.SUCCEEDED
    assert rollout(apiserver)["status"]["abort"] is False
    assert run(apiserver, ActionKind.PROMOTE_FULL).status == ActionStatus.SUCCEEDED


def test_what_a_kind_cannot_do_is_refused_in_its_words(apiserver):
    bert = key("sentiment-bert", "InferenceService")
    with pytest.raises(ActionRefused, match="only pin its previous rolled-out revision"):
        run(apiserver, ActionKind.ROLLBACK, bert, to_revision=1)
    with pytest.raises(ActionRefused, match="scale is not supported for a InferenceService"):
        run(apiserver, ActionKind.SCALE, bert, replicas=2)
    with pytest.raises(ActionRefused, match="abort is not defined for a Deployment"):
        run(apiserver, ActionKind.ABORT, key("llama-chat"))


def test_the_guard_previews_the_change(apiserver):
    c = cluster(apiserver)
    try:
        plan = c.plan(ActionRequest(kind=ActionKind.SCALE, service_key=key("llama-chat"),
                                    replicas=4))
        changes = {ch.field: (ch.before, ch.after) for ch in plan.changes}
        assert changes["replicas"] == ("2", "4")
        checks = {ch.name for ch in plan.checks}
        assert "RBAC: patch deployments/scale.apps" in checks and "server-side dry run" in checks
        plan = c.plan(ActionRequest(kind=ActionKind.RESTART, service_key=key("llama-chat")))
        fields = {ch.field for ch in plan.changes}
        assert "restartedAt" in fields
        assert any(RESTARTED_AT in (ch.after or "") for ch in plan.changes)
    finally:
        c.close()
