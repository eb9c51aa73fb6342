"""Approvals read back from the ``pitboard.io/approvals`` annotation: a release manager
approves on their own machine (their own audit store, plus the annotation); the on-call
engineer's pitboard (another audit store) counts that approval at the promote gate.

Two rigs on the same test API server stand for the two machines: each has its own
SqliteAudit file and its own KubernetesCluster (its own watch caches).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.actions import CheckStatus
from backends.actions.approvals import (APPROVALS, AnnotatedApproval, approval_record, object_target,
                                read_approvals)
from backends.actions.gates import APPROVALS as APPROVALS_CHECK
from backends.actions.gates import (STRICT, ApproverPolicy, annotation_approvals,
                                    approval_check, evaluate_promote_gates)

from .helpers import NS, eventually, merge_patch, service
from .helpers_guard import ANA, BOB, ROLLOUT, fast_actions, key, snapshot

pytestmark = pytest.mark.integration

MISTRAL = key("mistral-chat", "Rollout")  # canary revision "3" in the ml-fleet fixture
TARGET = object_target(NS, "Rollout", "mistral-chat")
HEALTHY = {"mistral-chat": (("3", 0.002, 180.0), ("2", 0.002, 170.0))}
HOSTILE = "[bold red]x[/] \x1b[2J 🚀 " + "y" * 300
NOW = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def _seen_by(rig, raw: str | None) -> None:
    """Wait until ``rig``'s watch cache shows the annotation value ``raw``."""
    eventually(lambda: service(rig.cluster.read(), "Rollout", "mistral-chat")
               .annotations.get(APPROVALS) == raw)


def _gate(rig, promoter: str = ANA, policy: ApproverPolicy = STRICT):
    """The approvals check as ``rig`` (one machine) evaluates it for a promote of the
    mistral-chat canary: its own audit store plus the annotation it sees."""
    snap = snapshot(rig, HEALTHY)
    annotated = annotation_approvals(snap, MISTRAL)
    gates = fast_actions(approvals_required=1).gates_for("test-admin")
    checks = evaluate_promote_gates(snap, MISTRAL, gates, rig.runner.valid_approvals(MISTRAL, "3"),
                                    promoter, annotated=annotated, policy=policy)
    return next(c for c in checks if c.name == APPROVALS_CHECK), annotated


def _write(apiserver, records_or_raw) -> str:
    raw = records_or_raw if isinstance(records_or_raw, str) else json.dumps(records_or_raw)
    merge_patch(apiserver, ROLLOUT + "mistral-chat",
                {"metadata": {"annotations": {APPROVALS: raw}}})
    return raw


# -- across machines, against the test API server ----------------------------------------------


def test_an_approval_made_on_another_machine_passes_the_promote_gate(apiserver, rigs):
    manager, on_call = rigs(), rigs()  # two audit stores, two caches, one cluster
    result = manager.runner.approve(MISTRAL, BOB, "canary numbers look fine", promoter=ANA,
                                    canary="3")
    assert result.annotated, result.message
    _seen_by(on_call, service(manager.cluster.read(), "Rollout", "mistral-chat")
             .annotations[APPROVALS])
    assert on_call.audit.entries() == []  # nothing of Bob's in the on-call's store

    check, annotated = _gate(on_call)
    assert check.status == CheckStatus.PASSED, check.reason
    assert check.reason == f"approved by {BOB} (from {APPROVALS})"
    [approval] = annotated.approvals
    assert (approval.actor, approval.canary, approval.reason) == (
        BOB, "3", "canary numbers look fine")
    assert approval.at == result.entry.at.replace(microsecond=0)
    # the audit store alone (what the gate saw before) does not have it
    alone = approval_check(on_call.runner.valid_approvals(MISTRAL, "3"), 1, ANA)
    assert alone.status == CheckStatus.FAILED
    # on the approver's machine both sources hold it: counted once, named as the audit's
    check, _ = _gate(manager)
    assert check.status == CheckStatus.PASSED and check.reason == f"approved by {BOB}"


def test_the_promoters_own_approval_does_not_count_even_from_another_laptop(apiserver, rigs):
    laptop, desk = rigs(), rigs()
    ana_elsewhere = "ana@other-laptop k8s:ana@example.com"  # same Kubernetes identity
    assert laptop.runner.approve(MISTRAL, ana_elsewhere, "lgtm", canary="3").annotated
    _seen_by(desk, service(laptop.cluster.read(), "Rollout", "mistral-chat")
             .annotations[APPROVALS])
    check, annotated = _gate(desk, promoter=ANA)
    assert [a.actor for a in annotated.approvals] == [ana_elsewhere]
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert "0 of 1" in check.reason and "your own approval does not count" in check.reason


def test_an_approval_of_another_revision_does_not_count(apiserver, rigs):
    manager, on_call = rigs(), rigs()
    assert manager.runner.approve(MISTRAL, BOB, "approved the old canary", canary="2").annotated
    _seen_by(on_call, service(manager.cluster.read(), "Rollout", "mistral-chat")
             .annotations[APPROVALS])
    check, annotated = _gate(on_call)
    assert annotated.approvals == () and annotated.other_revisions == 1
    assert check.status == CheckStatus.FAILED
    assert f"1 in {APPROVALS} approve other revisions" in check.reason


@pytest.mark.parametrize("raw,why", [
    ("approved by carol", "is not a JSON list (approved by carol): not read"),
    ('{"who": "carol@desk"}', "is not a JSON list"),
    ("[" * 5000, "is not a JSON list"),
    ("[1, " * 30_000 + "1" + "]" * 30_000, "not read"),  # too long to parse at all
])
def test_a_malformed_annotation_is_ignored_with_a_reason(apiserver, rigs, raw, why):
    on_call = rigs()
    _seen_by(on_call, _write(apiserver, raw))
    check, annotated = _gate(on_call)
    assert annotated.approvals == ()
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert f"ignored in {APPROVALS}: the value " in check.reason
    assert why in check.reason


def test_malformed_records_are_ignored_one_by_one_and_hostile_text_stays_literal(
        apiserver, rigs):
    on_call = rigs()
    ok = approval_record(HOSTILE, "[link=x]fine[/link] \x1b[31m", NOW, canary="3")
    records = [42, {"who": ""}, {"who": "\x1b[2Jmallory", "when": "yesterday", "canary": "3"},
               {"who": "carol@desk", "when": "2026-11-21T14:00:00Z", "canary": 3},
               {"who": "dave@desk", "when": "2026-11-21T14:00:00Z", "canary": "3",
                "target": "other-ns/Rollout/mistral-chat"},
               {"who": "erin@desk", "when": "2026-11-21T14:00:00Z", "canary": "3",
                "expires": "2020-01-01T00:00:00Z"}, ok]
    _seen_by(on_call, _write(apiserver, records))
    # HOSTILE is a local identity: it counts only where the config names it
    check, annotated = _gate(on_call, policy=ApproverPolicy(local_approvers=(HOSTILE,)))
    assert [a.actor for a in annotated.approvals] == [HOSTILE]
    assert annotated.approvals[0].reason == "[link=x]fine[/link] \x1b[31m"
    assert check.status == CheckStatus.PASSED
    assert check.reason.startswith(f"approved by {HOSTILE} (from {APPROVALS}, local identity "
                                   f"named in actions.local_approvers); ignored in ")
    assert len(annotated.ignored) == 6
    assert annotated.ignored[0] == "record 1 is not an object (42)"
    assert annotated.ignored[1] == "record 2 names no approver"
    assert annotated.ignored[2] == ("record 3 (\\x1b[2Jmallory): no valid UTC time in 'when' "
                                    "(yesterday)")
    assert "'canary' is not text (3)" in annotated.ignored[3]
    assert f"is for other-ns/Rollout/mistral-chat, not {TARGET}" in annotated.ignored[4]
    assert "expired at 2020-01-01T00:00:00Z" in annotated.ignored[5]
    assert check.reason.endswith("and 3 more")
    assert "\x1b" not in "".join(annotated.ignored)  # reasons are inert lines


# -- the parser alone ------------------------------------------------------------------------


def _read(records, canary: str | None = "3", now: datetime = NOW, target: str | None = TARGET):
    return read_approvals(json.dumps(records), target=target, canary=canary, now=now)


def test_read_approvals_keeps_the_first_record_per_approver_and_unexpired_ones():
    later = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = _read([approval_record(BOB, "first", NOW, "3"),
                 approval_record(BOB, "again", NOW + timedelta(minutes=5), "3"),
                 {**approval_record("carol@desk", "until 15h", NOW, "3"), "expires": later},
                 {**approval_record("dave@desk", "right target", NOW, "3"), "target": TARGET}])
    assert [(a.actor, a.reason) for a in got.approvals] == [
        (BOB, "first"), ("carol@desk", "until 15h"), ("dave@desk", "right target")]
    assert got.approvals[1].expires == NOW + timedelta(hours=1)
    assert got.ignored == () and got.other_revisions == 0
    assert isinstance(got.approvals[0], AnnotatedApproval)


def test_read_approvals_without_a_canary_or_annotation_counts_nothing():
    assert read_approvals(None, target=TARGET, canary="3", now=NOW).approvals == ()
    assert read_approvals("  ", target=TARGET, canary="3", now=NOW).ignored == ()
    got = _read([approval_record(BOB, "ok", NOW, "3"), approval_record(BOB, "old", NOW)],
                canary=None)
    assert got.approvals == () and got.other_revisions == 2 and got.ignored == ()


def test_read_approvals_at_the_moment_of_expiry_does_not_count():
    rec = {**approval_record(BOB, "ok", NOW, "3"), "expires": "2026-11-21T14:00:00Z"}
    got = _read([rec], now=NOW)
    assert got.approvals == () and "expired at" in got.ignored[0]
    rec["expires"] = "soon"
    assert "unreadable 'expires' (soon)" in _read([rec]).ignored[0]


def test_read_approvals_summary_names_the_first_reasons_and_counts_the_rest():
    got = _read([1, 2, 3, 4, 5])
    assert got.ignored_summary() == ("record 1 is not an object (1); record 2 is not an object "
                                     "(2); record 3 is not an object (3); and 2 more")
