"""Anchors in the cluster: each audit entry of an action leaves its ``COUNT:HASH`` on the
object (``pitboard.io/audit``) and in an Event there; ``pitboard audit verify
--against-cluster`` reads them back and catches what the store alone cannot show:
truncation (newest rows deleted with sqlite3) and rewrite-and-rehash."""

from __future__ import annotations

import json
import sqlite3

import pytest

from backends.audit.chain import expected_hash
from backends.audit.schema import TRIGGERS
from backends.domain.actions import ActionKind, ActionStatus
from console.cli.main import main

from .helpers import NS
from .helpers_guard import DEP, key

pytestmark = pytest.mark.integration

AUDIT = "pitboard.io/audit"


def _act(rig) -> None:
    """Two actions and an approval: entries #1..#7 (intent, outcome, settle twice; one
    approval)."""
    for kind, name in ((ActionKind.RESTART, "embedder"), (ActionKind.ROLLBACK, "llama-chat")):
        result = rig.run(rig.plan(kind, key(name)))
        assert result.status == ActionStatus.SUCCEEDED, result.message
        assert not result.warnings, result.warnings
    approved = rig.runner.approve(key("mistral-chat", "Rollout"),
                                  "bob@desk k8s:bob@example.com", "canary fine", canary="3")
    assert approved.annotated, approved.message


def _verify(apiserver, tmp_path, capsys, *extra: str) -> tuple[int, str, str]:
    conf = tmp_path / "empty.toml"
    conf.write_text("")
    db = next(tmp_path.glob("audit-*.db"))
    code = main(["--config", str(conf), "audit", "verify", "--audit-db", str(db),
                 "--against-cluster", "--kubeconfig", str(apiserver.kubeconfig),
                 "--context", "test-admin", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _sql(rig, *statements: str, params=()) -> None:
    conn = sqlite3.connect(str(rig.audit.path))
    try:
        for sql in statements:
            conn.execute(sql, params) if "?" in sql else conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def test_every_entry_of_an_action_is_anchored_on_its_object_and_in_an_event(apiserver, rigs):
    rig = rigs()
    _act(rig)
    entries = rig.audit.entries()
    assert [e.kind for e in entries] == ["intent", "outcome", "settle"] * 2 + ["approval"]
    chain = entries[0].hash[:16]
    anchored = {}
    for ev in apiserver.list_objects("v1", "events", NS):
        marks = (ev["metadata"].get("annotations") or {})
        if AUDIT in marks:
            anchored[marks[AUDIT]] = ev
            assert marks["pitboard.io/audit-chain"] == chain
            assert ev["message"].endswith(f"[audit {marks[AUDIT]}]")
    assert set(anchored) == {f"{e.seq}:{e.hash}" for e in entries}
    assert anchored[f"1:{entries[0].hash}"]["reason"] == "PitboardRestart"  # the action's own
    for name, newest in (("embedder", entries[2]), ("llama-chat", entries[5])):
        obj = apiserver.get_object("apps/v1", "deployments", NS, name)
        marks = obj["metadata"]["annotations"]
        assert marks[AUDIT] == f"{newest.seq}:{newest.hash}"
        assert json.loads(marks["pitboard.io/last-action"])["audit"] == \
            f"{newest.seq - 2}:{entries[newest.seq - 3].hash}"  # the intent's, at the call
    rollout = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    assert rollout["metadata"]["annotations"][AUDIT] == f"7:{entries[6].hash}"


def test_verify_against_the_cluster_passes_on_an_untouched_store(apiserver, rigs, tmp_path,
                                                                capsys):
    rig = rigs()
    _act(rig)
    code, out, err = _verify(apiserver, tmp_path, capsys, "--namespace", NS)
    assert code == 0, err
    assert "chain intact" in out and "read in the cluster (test-admin) match" in out


def test_truncation_is_caught_against_the_cluster_not_by_the_store_alone(apiserver, rigs,
                                                                         tmp_path, capsys):
    rig = rigs()
    _act(rig)
    rig.audit.close()
    # the insider: drop the guard, delete the newest two entries, put the guard back
    _sql(rig, "DROP TRIGGER entries_no_delete", "DELETE FROM entries WHERE seq >= 6",
         f"CREATE TRIGGER entries_no_delete {TRIGGERS['entries_no_delete']}")
    conf = tmp_path / "empty.toml"
    conf.write_text("")
    assert main(["--config", str(conf), "audit", "verify", "--audit-db",
                 str(rig.audit.path)]) == 0  # the store alone cannot tell
    capsys.readouterr()
    code, out, err = _verify(apiserver, tmp_path, capsys)
    assert code == 1, out
    assert "BROKEN against the cluster" in err and "truncated" in err
    assert "names entry #6" in err or "names entry #7" in err
    assert "Traceback" not in err


def test_rewrite_and_rehash_is_caught_against_the_cluster(apiserver, rigs, tmp_path, capsys):
    rig = rigs()
    _act(rig)
    rig.audit.close()
    conn = sqlite3.connect(str(rig.audit.path))
    conn.row_factory = sqlite3.Row
    for name in ("entries_no_update",):
        conn.execute(f"DROP TRIGGER {name}")
    rows = [dict(r) for r in conn.execute("SELECT * FROM entries ORDER BY seq")]
    prev = rows[3]["prev_hash"]
    for row in rows[3:]:  # entry #4 says another reason; #4..#7 re-hashed to match
        if row["seq"] == 4:
            row["reason"] = "routine restart, nothing to see"
        row["prev_hash"] = prev
        row["hash"] = expected_hash(dict(row, detail=json.loads(row["detail"])), None)
        conn.execute("UPDATE entries SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                     (row["reason"], row["prev_hash"], row["hash"], row["seq"]))
        prev = row["hash"]
    conn.execute(f"CREATE TRIGGER entries_no_update {TRIGGERS['entries_no_update']}")
    conn.commit()
    conn.close()
    conf = tmp_path / "empty.toml"
    conf.write_text("")
    assert main(["--config", str(conf), "audit", "verify", "--audit-db",
                 str(rig.audit.path)]) == 0  # re-hashed: the store alone cannot tell
    capsys.readouterr()
    code, out, err = _verify(apiserver, tmp_path, capsys)
    assert code == 1, out
    assert "entry #4" in err and "re-hashed" in err and "names entry #4" in err


def test_another_stores_anchors_are_named_not_checked(apiserver, rigs, tmp_path, capsys):
    mine, teammate = rigs(), rigs()
    _act(teammate)  # another store, the same objects
    result = mine.run(mine.plan(ActionKind.RESTART, key("embedder")))
    assert result.status == ActionStatus.SUCCEEDED
    db = mine.audit.path
    conf = tmp_path / "empty.toml"
    conf.write_text("")
    code = main(["--config", str(conf), "audit", "verify", "--audit-db", str(db),
                 "--against-cluster", "--kubeconfig", str(apiserver.kubeconfig),
                 "--context", "test-admin"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "anchors of other audit chains not checked" in out
    assert teammate.audit.entries()[0].hash[:16] in out


def test_an_unreachable_cluster_or_unknown_context_is_exit_2_with_a_message(
        apiserver, rigs, tmp_path, capsys):
    rig = rigs()
    _act(rig)
    code, out, err = _verify(apiserver, tmp_path, capsys, "--context", "nowhere")
    assert code == 2 and "nowhere" in err and "Traceback" not in err
    apiserver.inject("GET", r"/events$", 503, times=None)
    code, out, err = _verify(apiserver, tmp_path, capsys)
    assert code == 2 and "cannot read the anchors in the cluster" in err
    code = main(["audit", "verify", "--against-cluster", "--anchor", "1:" + "a" * 64,
                 "--audit-db", str(rig.audit.path)])
    assert code == 2
