"""The audit store: chain, append-only triggers, file modes, secrets, incidents, notes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from datetime import timedelta

import pytest

from backends.audit.store import SqliteAudit, default_audit_path
from backends.audit.chain import GENESIS
from backends.domain.errors import ActionRefused, BackendError, NotFoundError
from tests.audit.conftest import ALICE, BOB, LLM
from tests.conftest import require_binary


def _fill(audit: SqliteAudit, n: int = 6) -> None:
    for i in range(n):
        audit.append("test", actor=ALICE, action="poke", target=LLM, reason=f"r{i}",
                     detail={"i": i})


def test_chain_links_and_verifies(audit):
    _fill(audit, 3)
    entries = audit.entries()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    ok, message = audit.verify()
    assert ok and "3 entries" in message


def test_empty_store_verifies(audit):
    assert audit.verify() == (True, "ok: the audit log is empty")


def test_default_path_is_xdg_and_modes_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = SqliteAudit()
    try:
        store.append("test", actor=ALICE)
        assert store.path == default_audit_path() == tmp_path / "data" / "pitboard" / "audit.db"
        assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
        for suffix in ("", "-wal", "-shm"):
            path = f"{store.path}{suffix}"
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        conn = store.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    finally:
        store.close()


def test_existing_loose_file_is_tightened(tmp_path):
    path = tmp_path / "a.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    SqliteAudit(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_missing_store_without_create_is_a_clear_error(tmp_path):
    with pytest.raises(NotFoundError, match="no audit store"):
        SqliteAudit(tmp_path / "nope.db", create=False)
    assert not (tmp_path / "nope.db").exists()


def test_not_a_database_is_a_backend_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BackendError, match="cannot open audit store"):
        SqliteAudit(path)


@pytest.mark.parametrize("sql", ["UPDATE entries SET reason = 'x' WHERE seq = 1",
                                 "DELETE FROM entries WHERE seq = 1",
                                 "UPDATE notes SET text = 'x'", "DELETE FROM notes",
                                 "DELETE FROM incidents", "UPDATE incidents SET title = 'x'"])
def test_triggers_refuse_update_and_delete(audit, sql):
    incident = audit.open_incident("db down", "SEV2", ALICE)
    audit.add_note("hello", ALICE)
    audit.close_incident(incident.id, ALICE)
    conn = sqlite3.connect(audit.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only|closed"):
        conn.execute(sql)
    conn.close()
    assert audit.verify()[0]


def test_secrets_never_stored(audit):
    audit.append("intent", actor=ALICE, reason="used Bearer abcdefghijklmnop123 by mistake",
                 detail={"token": "s3cr3t", "Authorization": "Basic Zm9vOmJhcg==",
                         "nested": {"password": "hunter2", "client_key_data": "PEM"},
                         "items": [{"api_key": "k"}], "ok": "visible"})
    raw = audit.path.read_bytes() + (audit.path.with_name("audit.db-wal")).read_bytes()
    for secret in (b"s3cr3t", b"Zm9vOmJhcg", b"hunter2", b"abcdefghijklmnop123", b"PEM"):
        assert secret not in raw
    entry = audit.entries()[0]
    assert entry.detail["token"] == "[redacted]" and entry.detail["ok"] == "visible"
    assert entry.detail["nested"]["password"] == "[redacted]"
    assert "[redacted]" in (entry.reason or "")
    assert audit.verify()[0]


def test_odd_values_round_trip_and_hash(audit, clock):
    audit.append("test", actor="ünï 🚀 [bold red]x[/] \x1b[2J", detail={
        "nan": float("nan"), "inf": float("inf"), "when": clock(), "tuple": (1, 2),
        3: "int key", "emoji": "🔥", "big": 10**30, "float": 0.1 + 0.2})
    entry = audit.entries()[0]
    assert entry.detail["nan"] is None and entry.detail["3"] == "int key"
    assert entry.detail["float"] == 0.1 + 0.2 and entry.actor.endswith("\x1b[2J")
    assert audit.verify()[0]


def test_bad_input_is_refused_cleanly(audit):
    with pytest.raises(BackendError, match="kind"):
        audit.append("bad kind!", actor=ALICE)
    with pytest.raises(BackendError, match="actor"):
        audit.append("test", actor="  ")
    with pytest.raises(TypeError, match="unknown audit fields"):
        audit.append("test", actor=ALICE, colour="red")
    with pytest.raises(BackendError, match="too long"):
        audit.append("test", actor=ALICE, reason="x" * 5000)
    with pytest.raises(BackendError, match="some text"):
        audit.add_note("   ", ALICE)
    assert audit.entries() == [] and audit.verify()[0]


def test_pending_intents_are_those_without_outcome(audit):
    a = audit.append("intent", actor=ALICE, action="rollback", target=LLM, reason="x")
    b = audit.append("intent", actor=ALICE, action="promote", target=LLM, reason="y")
    audit.append("outcome", actor=ALICE, intent_seq=a.seq, outcome="succeeded")
    assert [e.seq for e in audit.pending_intents()] == [b.seq]


def test_entries_filters(audit, clock):
    audit.append("test", actor=ALICE, target=LLM)
    clock.advance(3600)
    audit.append("test", actor=ALICE, target="demo/ml-serving/Deployment/llm-chat-2")
    audit.append("test", actor=ALICE, target="demo/ml-serving/Rollout/x_m")
    audit.append("test", actor=ALICE, target="demo/ml-serving/Rollout/xym")
    assert [e.seq for e in audit.entries(model="llm-chat")] == [1]
    assert [e.seq for e in audit.entries(model="x_m")] == [3]  # '_' is not a wildcard
    assert [e.seq for e in audit.entries(since=clock() - timedelta(minutes=5))] == [2, 3, 4]
    assert [e.seq for e in audit.entries(limit=2)] == [3, 4]
    assert [e.seq for e in audit.entries(target=LLM)] == [1]


def test_incidents_and_notes_join_the_chain(audit, clock):
    assert audit.current_incident() is None
    incident = audit.open_incident("  GPU node lost ", "SEV1", ALICE)
    assert incident.title == "GPU node lost" and incident.is_open
    assert audit.current_incident() == incident
    clock.advance(60)
    note = audit.add_note("node gpu-3 gone", BOB, {"model": {"p95_ms": 320.5}})
    action = audit.append("intent", actor=ALICE, action="rollback", target=LLM, reason="r")
    assert note.incident_id == incident.id and action.incident_id == incident.id
    assert note.at == clock() and note.figures == {"model": {"p95_ms": 320.5}}
    closed = audit.close_incident(incident.id, BOB)
    assert closed.closed_by == BOB and not closed.is_open
    assert audit.current_incident() is None
    after = audit.append("test", actor=ALICE)
    assert after.incident_id is None
    kinds = [(e.kind, e.action) for e in audit.entries(incident_id=incident.id)]
    assert kinds == [("incident", "open"), ("note", "add"), ("intent", "rollback"),
                     ("incident", "close")]
    assert audit.notes(incident.id) == [note]
    with pytest.raises(ActionRefused, match="already closed"):
        audit.close_incident(incident.id, ALICE)
    with pytest.raises(NotFoundError):
        audit.close_incident(99, ALICE)
    assert audit.verify()[0]


def _tamper(path, *statements) -> None:
    """What an attacker with file access does: drop the triggers, then edit."""
    conn = sqlite3.connect(path)
    for name in ("entries_no_update", "entries_no_delete", "notes_no_update",
                 "notes_no_delete", "incidents_no_delete", "incidents_close_only"):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    for sql in statements:
        conn.execute(sql)
    # put the triggers back so only the chain can tell
    from backends.audit.schema import TRIGGERS
    for name, body in TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER {name} {body}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("statements, expected", [
    (["UPDATE entries SET reason = 'nothing to see' WHERE seq = 4"],
     "entry #4: content does not match its hash"),
    (["DELETE FROM entries WHERE seq = 3"], "entry #4: entry #3 is missing"),
    (["DELETE FROM entries WHERE seq IN (2, 3)"], "entry #4: entry #2..#3 is missing"),
    # reorder: swap the contents of rows 3 and 4, keeping seq
    (["UPDATE entries SET seq = -3 WHERE seq = 3", "UPDATE entries SET seq = 3 WHERE seq = 4",
      "UPDATE entries SET seq = 4 WHERE seq = -3"], "entry #3: prev_hash does not match"),
    (["UPDATE entries SET hash = 'f' || substr(hash, 2) WHERE seq = 5"],
     "entry #5: content does not match"),
    (["UPDATE entries SET detail = '{\"i\": 99}' WHERE seq = 2"], "entry #2: content"),
])
def test_tampering_with_python_sqlite_is_caught(audit, statements, expected):
    _fill(audit)
    _tamper(audit.path, *statements)
    ok, message = audit.verify()
    assert not ok and message.startswith(expected), message


def test_rewritten_chain_after_an_edit_is_caught_by_prev_hash(audit):
    _fill(audit)
    # a smarter attacker recomputes the edited row's hash, but not the rest of the chain
    from backends.audit.chain import ENTRY_FIELDS, entry_hash
    conn = sqlite3.connect(audit.path)
    values = conn.execute(f"SELECT {', '.join(ENTRY_FIELDS)} FROM entries WHERE seq = 2")
    row = dict(zip(ENTRY_FIELDS, values.fetchone()))
    conn.close()
    row["reason"] = "forged"
    forged = entry_hash(dict(row, detail=json.loads(row["detail"])))
    _tamper(audit.path, f"UPDATE entries SET reason = 'forged', hash = '{forged}' WHERE seq = 2")
    ok, message = audit.verify()
    assert not ok and message.startswith("entry #3: prev_hash does not match entry #2")


def test_edited_note_and_incident_rows_are_caught(audit):
    incident = audit.open_incident("outage", "SEV2", ALICE)
    audit.add_note("we rolled back", ALICE)
    _tamper(audit.path, "UPDATE notes SET text = 'we did nothing' WHERE id = 1")
    ok, message = audit.verify()
    assert not ok and message.startswith("note #1: does not match its audit entry")
    _tamper(audit.path, "UPDATE notes SET text = 'we rolled back' WHERE id = 1",
            f"UPDATE incidents SET severity = 'SEV4' WHERE id = {incident.id}")
    ok, message = audit.verify()
    assert not ok and message.startswith("incident #1: does not match")
    _tamper(audit.path, "UPDATE incidents SET severity = 'SEV2'", "DELETE FROM notes")
    ok, message = audit.verify()
    assert not ok and message.startswith("note #1: recorded in the audit log but missing")


def test_dropped_triggers_are_reported(audit):
    _fill(audit, 2)
    conn = sqlite3.connect(audit.path)
    conn.execute("DROP TRIGGER entries_no_delete")
    conn.commit()
    conn.close()
    ok, message = audit.verify()
    assert not ok and "entries_no_delete" in message


def test_tampering_with_the_sqlite3_shell_is_caught(audit):
    sqlite3_bin = require_binary("sqlite3")
    _fill(audit)
    script = ("DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;"
              "UPDATE entries SET actor = 'mallory@evil' WHERE seq = 2;")
    subprocess.run([sqlite3_bin, str(audit.path), script], check=True, timeout=30)
    ok, message = audit.verify()
    assert not ok and message.startswith("entry #2: content does not match"), message
    script = "DELETE FROM entries WHERE seq = 5;"
    subprocess.run([sqlite3_bin, str(audit.path), script], check=True, timeout=30)
    ok, message = audit.verify()
    assert not ok and message.startswith("entry #2"), message  # still the first broken one


def test_one_store_shared_by_threads(audit):
    import threading

    def work(tag: str) -> None:
        for i in range(50):
            audit.append("test", actor=f"{tag}@t", detail={"i": i})

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(audit.entries()) == 200 and audit.verify()[0]
