"""Approvals one person cannot forge: a row written behind the store does not pass the
gate (an approval counts only if its entry is in the verified chain), and a local
``user@host`` identity counts only on the demo or where the config names it."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from backends.actions.config import ActionsConfig, PromoteGates
from backends.actions.gates import APPROVALS, LOCAL_ONLY
from backends.audit.chain import ALG_PLAIN, entry_hash, iso_utc
from backends.audit.store import SqliteAudit
from backends.domain.actions import CheckStatus
from backends.domain.errors import ActionRefused
from tests.audit.conftest import ALICE, BOB, RERANKER, SpyCluster, clock_runner, snapshot_of
from tests.audit.test_runner import _promote, _service

KEY = b"approval-test-key-0123456789"


def _config(**extra) -> ActionsConfig:
    return ActionsConfig(promote_gates=PromoteGates(approvals_required=1), **extra)


def _approvals(runner, fleet):
    plan = runner.prepare(_promote(), snapshot_of(fleet))
    return plan, next(c for c in plan.checks if c.name == APPROVALS)


def forge_approval(path, who: str, canary: str, *, good_hash: bool, good_prev: bool,
                   key: bytes | None = None) -> int:
    """What a user with the sqlite3 shell does: INSERT an approval entry by hand (the
    triggers forbid UPDATE and DELETE, not INSERT)."""
    conn = sqlite3.connect(path)
    seq, prev = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"
                             ).fetchone() or (0, "0" * 64)
    record = {"seq": seq + 1, "at": iso_utc(datetime.now(timezone.utc)),
              "actor": who, "kind": "approval", "action": "approve", "target": RERANKER,
              "reason": "lgtm", "outcome": None, "detail": {"canary": canary},
              "intent_seq": None, "incident_id": None,
              "prev_hash": prev if good_prev else "f" * 64}
    record["hash"] = entry_hash(record, key) if good_hash else "e" * 64
    conn.execute("INSERT INTO entries (seq, at, actor, kind, action, target, reason, "
                 "outcome, detail, intent_seq, incident_id, prev_hash, hash, alg) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [record["seq"], record["at"], who, "approval", "approve", RERANKER, "lgtm",
                  None, json.dumps(record["detail"]), None, None, record["prev_hash"],
                  record["hash"], ALG_PLAIN])
    conn.commit()
    conn.close()
    return seq + 1


@pytest.mark.parametrize(("good_hash", "good_prev", "why"), [
    (False, True, "the entry is damaged: content does not match its hash"),
    (True, False, "not in a verified audit chain: chain broken at entry"),
], ids=["wrong-hash", "not-chained"])
def test_a_hand_written_approval_does_not_pass_the_gate(fleet, audit, clock, good_hash,
                                                        good_prev, why):
    runner = clock_runner(fleet.cluster, audit, clock, config=_config())
    canary = _service(fleet, RERANKER).canary.revision
    seq = forge_approval(audit.path, BOB, canary, good_hash=good_hash, good_prev=good_prev)
    plan, check = _approvals(runner, fleet)
    assert check.status == CheckStatus.FAILED
    assert f"not counted: approval #{seq} by {BOB} ({why}" in check.reason
    with pytest.raises(ActionRefused, match="approvals"):
        runner.run(plan, "promote", ALICE, override=True)
    assert runner.valid_approvals(RERANKER, canary) == []


def test_with_a_key_a_correctly_hashed_forgery_fails_too(fleet, tmp_path, clock):
    """Without a key anyone can append a well-formed entry (the README says so); with one,
    a row hashed without it is not part of the verified chain."""
    audit = SqliteAudit(tmp_path / "keyed.db", clock=clock, key=KEY)
    try:
        runner = clock_runner(fleet.cluster, audit, clock, config=_config())
        canary = _service(fleet, RERANKER).canary.revision
        audit.append("note", actor=ALICE, reason="keyed from the start")
        seq = forge_approval(audit.path, BOB, canary, good_hash=True, good_prev=True)
        _, check = _approvals(runner, fleet)
        assert check.status == CheckStatus.FAILED
        assert f"approval #{seq} by {BOB} (not in a verified audit chain" in check.reason
        assert "not keyed, after keyed entries" in check.reason
        genuine = runner.approve(RERANKER, BOB, "looked at it", promoter=ALICE, canary=canary)
        assert genuine.entry.seq == seq + 1  # the chain goes on (and stays broken at seq)
    finally:
        audit.close()


def test_genuine_approvals_still_count(fleet, audit, clock):
    runner = clock_runner(fleet.cluster, audit, clock, config=_config())
    canary = _service(fleet, RERANKER).canary.revision
    runner.approve(RERANKER, BOB, "canary flat", promoter=ALICE, canary=canary)
    plan, check = _approvals(runner, fleet)
    assert check.status == CheckStatus.PASSED and check.reason == f"approved by {BOB}"


def test_local_identities_count_only_on_the_demo_or_when_named(fleet, audit, clock):
    canary = _service(fleet, RERANKER).canary.revision
    cluster = SpyCluster(fleet.cluster)  # a cluster that is not the demo
    runner = clock_runner(cluster, audit, clock, config=_config())
    runner.approve(RERANKER, "carol@desk", "lgtm", promoter=ALICE, canary=canary)
    _, check = _approvals(runner, fleet)
    assert check.status == CheckStatus.FAILED
    assert "0 of 1 approvals" in check.reason
    assert f"not counted: carol@desk ({LOCAL_ONLY})" in check.reason
    named = clock_runner(cluster, audit, clock, config=_config(local_approvers=["carol"]))
    _, check = _approvals(named, fleet)
    assert check.status == CheckStatus.PASSED
    assert check.reason == ("approved by carol@desk (local identity named in "
                            "actions.local_approvers)")
    by_host = clock_runner(cluster, audit, clock,
                           config=_config(local_approvers=["carol@laptop"]))
    assert _approvals(by_host, fleet)[1].status == CheckStatus.FAILED  # another host
    demo = clock_runner(fleet.cluster, audit, clock, config=_config())
    _, check = _approvals(demo, fleet)
    assert check.status == CheckStatus.PASSED
    assert check.reason == "approved by carol@desk (local identity, demo)"


def test_local_approvers_config():
    assert ActionsConfig(local_approvers=["rm-alice", "bob@desk"]).local_approvers
    with pytest.raises(ValidationError, match="names may not be empty"):
        ActionsConfig(local_approvers=[" "])
