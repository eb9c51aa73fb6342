"""``ActionRunner.approve`` records the approval in the audit log, then mirrors it on the
object (``pitboard.io/approvals``): on the demo fleet, and when annotating fails or is
not supported (the audit approval stays, the result says so)."""

from __future__ import annotations

import json

import pytest

from backends.actions.approvals import APPROVALS
from backends.domain.errors import ActionRefused, ForbiddenError
from backends.actions.guard import ApprovalResult
from tests.audit.conftest import (ALICE, BOB, FAKE_KEY, RERANKER, T0, FakeCluster,
                                  clock_runner)

HOSTILE = "[bold red]x[/] \x1b[2J 🚀 " + "y" * 300


def _annotations(fleet, key: str) -> dict[str, str]:
    return next(s for s in fleet.cluster.read().services if s.key == key).annotations


def test_demo_approval_is_recorded_and_shown_on_the_object(fleet, audit, clock):
    runner = clock_runner(fleet.cluster, audit, clock)
    assert APPROVALS not in _annotations(fleet, RERANKER)
    first = runner.approve(RERANKER, BOB, "canary flat for 2h", promoter=ALICE, canary="5")
    assert isinstance(first, ApprovalResult) and first.annotated, first.message
    assert first.entry.kind == "approval" and first.entry.actor == BOB
    assert "rollout/reranker" in first.message
    clock.advance(60)
    runner.approve(RERANKER, "carol@desk", HOSTILE)
    shown = json.loads(_annotations(fleet, RERANKER)[APPROVALS])
    assert shown == [
        {"who": BOB, "when": "2026-11-21T14:00:00Z", "reason": "canary flat for 2h",
         "canary": "5", "target": "ml-serving/Rollout/reranker"},
        {"who": "carol@desk", "when": "2026-11-21T14:01:00Z", "reason": HOSTILE,
         "target": "ml-serving/Rollout/reranker"},
    ]
    assert [e.kind for e in audit.entries()] == ["approval", "approval"]
    assert audit.verify()[0]


def test_demo_read_only_backend_refuses_the_annotation(clock):
    from backends.demo.fleet import make_demo

    fleet = make_demo(seed=7, clock=clock, read_only=True)
    with pytest.raises(ActionRefused, match="read-only"):
        fleet.cluster.annotate_approval(RERANKER, BOB, "lgtm", T0)
    assert APPROVALS not in _annotations(fleet, RERANKER)


class _Refusing(FakeCluster):
    def annotate_approval(self, service_key, approver, reason, at, *, canary=None):
        self.calls.append("annotate")
        raise ForbiddenError("forbidden (403): missing permission to patch deployments",
                             source="fake", status=403)


class _Crashing(FakeCluster):
    def annotate_approval(self, service_key, approver, reason, at, *, canary=None):
        raise RuntimeError("boom")


@pytest.mark.parametrize("cluster_cls,says", [(_Refusing, "403"), (_Crashing, "RuntimeError")])
def test_a_failed_annotation_is_reported_and_the_approval_stays(audit, clock, cluster_cls,
                                                                 says):
    runner = clock_runner(cluster_cls(), audit, clock)
    result = runner.approve(FAKE_KEY, BOB, "lgtm")
    assert not result.annotated and result.supported
    assert "recorded in the audit log, but the annotation failed" in result.message
    assert says in result.message
    assert [e.kind for e in audit.entries()] == ["approval"]
    assert [e.seq for e in runner.valid_approvals(FAKE_KEY)] == [result.entry.seq]
    assert audit.verify()[0]


def test_a_backend_without_annotations_says_so(audit, clock):
    result = clock_runner(FakeCluster(), audit, clock).approve(FAKE_KEY, BOB, "lgtm")
    assert not result.annotated and not result.supported
    assert "does not annotate" in result.message
    assert [e.kind for e in audit.entries()] == ["approval"]


def test_refused_approval_sends_no_annotation(audit, clock):
    cluster = _Refusing()
    runner = clock_runner(cluster, audit, clock)
    with pytest.raises(ActionRefused, match="own promotion"):
        runner.approve(FAKE_KEY, ALICE, "lgtm", promoter=ALICE)
    with pytest.raises(ActionRefused, match="reason"):
        runner.approve(FAKE_KEY, BOB, "  ")
    assert cluster.calls == [] and audit.entries() == []
