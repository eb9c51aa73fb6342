"""Approvals in the ``pitboard.io/approvals`` annotation, against the test API server:
records name the object they approve (a copy of the manifest elsewhere does not carry
them over); an approval that expires between the preview and the confirm no longer
counts when the promote runs; a context may refuse to trust the annotation at all
(``trust_annotation_approvals = false``: only its own audit store's approvals count)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from backends.domain.actions import ActionKind, ActionStatus, CheckStatus
from backends.actions.approvals import APPROVALS, object_target
from backends.demo.fleet import FrozenClock
from backends.domain.errors import ActionRefused
from backends.actions.gates import APPROVALS as APPROVALS_CHECK
from backends.actions.gates import UNTRUSTED, annotation_approvals
from backends.domain.models import utcnow

from .helpers import NS, eventually, merge_patch, service
from .helpers_guard import (ANA, BOB, ROLLOUT, assert_chain, checks, fast_actions, key,
                            patches, snapshot)

pytestmark = pytest.mark.integration

MISTRAL = key("mistral-chat", "Rollout")  # canary revision "3" in the ml-fleet fixture
TARGET = object_target(NS, "Rollout", "mistral-chat")
HEALTHY = {"mistral-chat": (("3", 0.002, 180.0), ("2", 0.002, 170.0))}


def _records(rig) -> list[dict]:
    raw = service(rig.cluster.read(), "Rollout", "mistral-chat").annotations[APPROVALS]
    return json.loads(raw)


def _sees(rig, raw: str) -> None:
    eventually(lambda: service(rig.cluster.read(), "Rollout", "mistral-chat")
               .annotations.get(APPROVALS) == raw)


def _raw(rig) -> str:
    return service(rig.cluster.read(), "Rollout", "mistral-chat").annotations[APPROVALS]


# -- target ------------------------------------------------------------------------------------


def test_a_fresh_approval_names_its_object_and_counts_there(apiserver, rigs):
    manager, on_call = rigs(), rigs()
    assert manager.runner.approve(MISTRAL, BOB, "numbers fine", promoter=ANA,
                                  canary="3").annotated
    [record] = _records(manager)
    assert record["target"] == TARGET == "ml-serving/Rollout/mistral-chat"
    _sees(on_call, _raw(manager))
    got = annotation_approvals(snapshot(on_call, HEALTHY), MISTRAL)
    assert [(a.actor, a.target) for a in got.approvals] == [(BOB, TARGET)]
    assert got.ignored == ()


def test_an_approval_copied_with_the_manifest_to_another_object_does_not_count(
        apiserver, rigs):
    manager, on_call = rigs(), rigs(config=fast_actions(approvals_required=1))
    assert manager.runner.approve(MISTRAL, BOB, "numbers fine", canary="3").annotated
    _sees(on_call, _raw(manager))
    snap = snapshot(on_call, HEALTHY)
    # the same manifest (annotations, history, canary "3") applied in another namespace
    original = service(on_call.cluster.read(), "Rollout", "mistral-chat")
    copy = original.model_copy(update={"namespace": "ml-batch"})
    snap = snap.model_copy(update={"services": snap.services + (copy,)})
    assert [a.actor for a in annotation_approvals(snap, MISTRAL).approvals] == [BOB]
    copied = annotation_approvals(snap, copy.key)
    assert copy.annotations[APPROVALS] == original.annotations[APPROVALS]
    assert copied.approvals == () and copied.other_revisions == 0
    [why] = copied.ignored
    assert why.endswith(f"is for {TARGET}, not ml-batch/Rollout/mistral-chat")


# -- expiry between the preview and the confirm ------------------------------------------------


@pytest.mark.parametrize("later_s,counts", [(11 * 60, False), (4 * 60, True)])
def test_the_run_rechecks_annotation_expiry_against_its_clock(apiserver, rigs, later_s,
                                                               counts):
    clock = FrozenClock(utcnow())
    on_call = rigs(config=fast_actions(approvals_required=1), clock=clock)
    until = (clock() + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = json.dumps([{"who": BOB, "when": clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "reason": "fine until the 10-minute window closes", "canary": "3",
                       "target": TARGET, "expires": until}])
    merge_patch(apiserver, ROLLOUT + "mistral-chat",
                {"metadata": {"annotations": {APPROVALS: raw}}})
    _sees(on_call, raw)
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY))
    check = checks(plan)[APPROVALS_CHECK]
    assert check.status == CheckStatus.PASSED, check.reason  # the preview: still valid
    clock.advance(later_s)  # the engineer reads the modal, then confirms
    start = on_call.mark()
    if counts:
        assert on_call.run(plan, reason="approved").status == ActionStatus.SUCCEEDED
        assert_chain(on_call, ("intent", None), ("outcome", "succeeded"),
                     ("settle", "complete"))
        return
    with pytest.raises(ActionRefused) as refused:
        on_call.run(plan, reason="approved", override=True)
    message = str(refused.value)
    assert message.startswith("cannot be overridden: approvals: 0 of 1 approvals")
    assert f"the approval by {BOB} expired at {until}, after the preview" in message
    assert on_call.audit.entries() == []  # refused before the intent: nothing written
    assert patches(on_call.since(start), ROLLOUT + "mistral-chat/status") == []


# -- trust_annotation_approvals ----------------------------------------------------------------


@pytest.mark.parametrize("trusted", [True, False])
def test_a_context_that_does_not_trust_the_annotation_counts_its_audit_store_only(
        apiserver, rigs, trusted):
    manager = rigs()
    on_call = rigs(config=fast_actions(approvals_required=1,
                                       trust_annotation_approvals=trusted))
    assert manager.runner.approve(MISTRAL, BOB, "numbers fine", canary="3").annotated
    _sees(on_call, _raw(manager))
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY))
    check = checks(plan)[APPROVALS_CHECK]
    if trusted:
        assert check.status == CheckStatus.PASSED
        assert check.reason == f"approved by {BOB} (from {APPROVALS})"
        assert UNTRUSTED not in check.reason
        return
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert check.reason == (f"0 of 1 approvals by someone other than the promoter; "
                            f"{UNTRUSTED} (1 there not counted)")
    assert UNTRUSTED == ("annotation approvals (pitboard.io/approvals) are not trusted on "
                         "this context")
    with pytest.raises(ActionRefused, match="not trusted on this context"):
        on_call.run(plan, reason="bob approved on his laptop", override=True)
    assert on_call.audit.entries() == []
    # an approval in this machine's own audit store still counts
    on_call.runner.approve(MISTRAL, BOB, "approved here", canary="3")
    plan = on_call.plan(ActionKind.PROMOTE, MISTRAL, snapshot(on_call, HEALTHY))
    check = checks(plan)[APPROVALS_CHECK]
    assert check.status == CheckStatus.PASSED
    assert check.reason == f"approved by {BOB}; {UNTRUSTED} (1 there not counted)"
