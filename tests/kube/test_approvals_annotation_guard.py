"""The promote gate of the one action path counts approvals made on another machine: the
release manager approves with their own audit store (and the annotation); the on-call
engineer's runner (another audit store) prepares and runs the promote. Needs
``ActionRunner`` to pass the annotation's approvals to the gates (backends/guard.py)."""

from __future__ import annotations

import pytest

from backends.domain.actions import ActionKind, ActionStatus, CheckStatus
from backends.actions.approvals import APPROVALS
from backends.domain.errors import ActionRefused
from backends.actions.gates import APPROVALS as APPROVALS_CHECK

from .helpers import eventually, merge_patch, service
from .helpers_guard import (ANA, BOB, ROLLOUT, assert_chain, checks, fast_actions, key,
                            patches, snapshot)

pytestmark = pytest.mark.integration

MISTRAL = key("mistral-chat", "Rollout")
HEALTHY = {"mistral-chat": (("3", 0.002, 180.0), ("2", 0.002, 170.0))}


def _sees(rig, raw: str | None) -> None:
    eventually(lambda: service(rig.cluster.read(), "Rollout", "mistral-chat")
               .annotations.get(APPROVALS) == raw)


def _annotation(rig) -> str:
    return service(rig.cluster.read(), "Rollout", "mistral-chat").annotations[APPROVALS]


def _approved_by_bob(rigs):
    """(release manager's rig, on-call rig, a promote plan whose approvals check passed on
    Bob's annotation)."""
    manager = rigs()
    on_call = rigs(config=fast_actions(approvals_required=1))
    assert manager.runner.approve(MISTRAL, BOB, "numbers fine", promoter=ANA,
                                  canary="3").annotated
    _sees(on_call, _annotation(manager))
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY))
    assert checks(plan)[APPROVALS_CHECK].status == CheckStatus.PASSED
    return manager, on_call, plan


def test_on_call_promotes_with_the_release_managers_approval_from_another_machine(
        apiserver, rigs):
    manager, on_call, plan = _approved_by_bob(rigs)
    assert checks(plan)[APPROVALS_CHECK].reason == f"approved by {BOB} (from {APPROVALS})"
    start = on_call.mark()
    result = on_call.run(plan, reason="canary healthy, approved by bob")
    assert result.status == ActionStatus.SUCCEEDED, result.message
    assert patches(on_call.since(start), ROLLOUT + "mistral-chat/status")[1].body == {
        "status": {"pauseConditions": None}}
    intent, *_ = assert_chain(on_call, ("intent", None), ("outcome", "succeeded"),
                              ("settle", "complete"))
    recorded = {c["name"]: c for c in intent.detail["checks"]}[APPROVALS_CHECK]
    assert recorded["status"] == "passed" and BOB in recorded["reason"]  # the record says why
    assert manager.audit.entries()[0].actor == BOB  # the approval's record stays Bob's


def test_own_approval_other_revision_or_malformed_annotation_blocks_the_run(apiserver, rigs):
    laptop = rigs()
    on_call = rigs(config=fast_actions(approvals_required=1))
    assert laptop.runner.approve(MISTRAL, "ana@tablet k8s:ana@example.com", "mine",
                                 canary="3").annotated
    assert laptop.runner.approve(MISTRAL, BOB, "the old one", canary="2").annotated
    _sees(on_call, _annotation(laptop))
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY))
    check = checks(plan)[APPROVALS_CHECK]
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert "your own approval does not count" in check.reason
    assert "1 in pitboard.io/approvals approve other revisions" in check.reason
    with pytest.raises(ActionRefused, match="cannot be overridden: approvals"):
        on_call.run(plan, reason="try", override=True)

    merge_patch(apiserver, ROLLOUT + "mistral-chat",
                {"metadata": {"annotations": {APPROVALS: "bob says yes"}}})
    _sees(on_call, "bob says yes")
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY))
    check = checks(plan)[APPROVALS_CHECK]
    assert check.status == CheckStatus.FAILED
    assert "the value is not a JSON list (bob says yes)" in check.reason
    with pytest.raises(ActionRefused, match="not a JSON list"):
        on_call.run(plan, reason="try")
    assert on_call.audit.entries() == []


def test_an_approval_removed_after_the_preview_no_longer_counts(apiserver, rigs):
    """The run reads the annotation again from the object: the release manager (or anyone
    fixing a mistake) who deletes the record between the preview and the confirm stops
    the promote; nothing is sent."""
    _, on_call, plan = _approved_by_bob(rigs)
    merge_patch(apiserver, ROLLOUT + "mistral-chat",
                {"metadata": {"annotations": {APPROVALS: None}}})  # withdrawn
    start = on_call.mark()
    with pytest.raises(ActionRefused, match="approvals: 0 of 1 approvals"):
        on_call.run(plan, reason="canary healthy, approved by bob")
    assert not patches(on_call.since(start), ROLLOUT + "mistral-chat")  # nothing sent


def test_an_annotation_that_cannot_be_read_again_counts_no_approval(apiserver, rigs):
    _, on_call, plan = _approved_by_bob(rigs)
    apiserver.inject("GET", r"/rollouts/mistral-chat$", 500)
    with pytest.raises(ActionRefused, match="could not be read again before the promote"):
        on_call.run(plan, reason="canary healthy, approved by bob")
