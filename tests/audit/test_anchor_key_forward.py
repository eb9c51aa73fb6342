"""What the chain can prove with a witness: anchors (truncation, rewrite-and-rehash), an
HMAC key (rewrite without the key, downgrade, old plain stores), forwarding (a copy of
each entry outside the store)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from backends.audit.chain import ALG_KEYED, ALG_PLAIN, entry_hash, key_id
from backends.audit.store import SqliteAudit
from backends.audit.verify import Anchor
from backends.domain.errors import ConfigError
from console.cli import main as cli
from console.cli.audit import main
from tests.audit.conftest import ALICE, BOB, LLM

KEY = b"k" * 24 + b"0123456789"


def _fill(audit: SqliteAudit, n: int = 3, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.append("intent", actor=ALICE, action="rollback", target=LLM, reason=f"r{i}")


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "audit.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, KEY + b"\n")
    os.close(fd)
    return path


def _unlock(conn: sqlite3.Connection) -> None:
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")


def _relock(path: Path) -> None:
    """Put the triggers back (a careful attacker leaves no dropped trigger behind)."""
    from backends.audit.schema import TRIGGERS

    conn = sqlite3.connect(path)
    for name, body in TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    conn.commit()
    conn.close()


def truncate(path: Path, keep: int) -> None:
    conn = sqlite3.connect(path)
    _unlock(conn)
    conn.execute("DELETE FROM entries WHERE seq > ?", [keep])
    conn.commit()
    conn.close()
    _relock(path)


def rewrite(path: Path, seq: int, *, reason: str, key: bytes | None = None,
            alg: str | None = None, from_seq: int | None = None,
            through: int | None = None) -> None:
    """Edit entry ``seq``'s reason, then re-hash every entry from ``from_seq`` (default
    ``seq``) to ``through`` (default: the end): with ``key`` (HMAC) or plain SHA-256,
    labelled ``alg``."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    _unlock(conn)
    conn.execute("UPDATE entries SET reason = ? WHERE seq = ?", [reason, seq])
    rows = [dict(r) for r in conn.execute("SELECT * FROM entries ORDER BY seq")]
    prev = None
    for row in rows:
        if (from_seq or seq) <= row["seq"] <= (through or row["seq"]):
            record = dict(row, detail=json.loads(row["detail"]), prev_hash=prev or row["prev_hash"])
            new = entry_hash(record, key)
            conn.execute("UPDATE entries SET prev_hash = ?, hash = ?, alg = ? WHERE seq = ?",
                         [record["prev_hash"], new, alg or (ALG_KEYED if key else ALG_PLAIN),
                          row["seq"]])
            prev = new
        else:
            prev = row["hash"]
    conn.commit()
    conn.close()
    _relock(path)


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- anchors ---------------------------------------------------------------------------
def test_anchor_prints_the_head(tmp_path, clock, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 4)
    head = audit.head()
    audit.close()
    code, out, _ = run(["audit", "anchor", "--audit-db", str(db)], capsys)
    assert code == 0 and out == f"4:{head.hash}\n"
    assert re.fullmatch(r"\d+:[0-9a-f]{64}\n", out)


def test_truncation_passes_plain_verify_but_not_the_anchor(tmp_path, clock, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 5)
    audit.close()
    _, anchor, _ = run(["audit", "anchor", "--audit-db", str(db)], capsys)
    truncate(db, 3)
    code, out, _ = run(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 0 and "ok: 3 entries" in out  # the limit without a witness
    code, _, err = run(["audit", "verify", "--anchor", anchor.strip(), "--audit-db", str(db)],
                       capsys)
    assert code == 1
    assert "truncated: the chain ends at entry #3" in err and "entry #5" in err


def test_rewrite_and_rehash_passes_plain_verify_but_not_the_anchor(tmp_path, clock, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 4)
    audit.close()
    _, anchor, _ = run(["audit", "anchor", "--audit-db", str(db)], capsys)
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 2, start=4)  # the log goes on after the anchor was taken
    audit.close()
    code, out, _ = run(["audit", "verify", "--anchor", anchor.strip(), "--audit-db", str(db)],
                       capsys)
    assert code == 0 and "1 anchor matched" in out
    rewrite(db, 2, reason="nothing to see")
    code, out, _ = run(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 0  # re-hashed: the chain alone cannot tell
    code, _, err = run(["audit", "verify", "--anchor", anchor.strip(), "--audit-db", str(db)],
                       capsys)
    assert code == 1 and "entry #4: its hash" in err and "differs from the anchor" in err


def test_anchor_prefix_and_bad_anchors(tmp_path, clock, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 2)
    head = audit.head()
    audit.close()
    assert run(["audit", "verify", "--anchor", f"2:{head.hash[:16]}", "--audit-db", str(db)],
               capsys)[0] == 0
    assert run(["audit", "verify", "--anchor", "0:" + "0" * 64, "--audit-db", str(db)],
               capsys)[0] == 0
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify", "--anchor", "two:abc", "--audit-db", str(db)])
    assert exc.value.code == 2
    assert "is not COUNT:HASH" in capsys.readouterr().err
    assert Anchor.parse(" #7 : ABCDEF0123456789 ") == Anchor(7, "abcdef0123456789")


def test_a_broken_chain_has_no_anchor(tmp_path, clock, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 3)
    audit.close()
    conn = sqlite3.connect(db)
    _unlock(conn)
    conn.execute("UPDATE entries SET reason = 'x' WHERE seq = 2")
    conn.commit()
    conn.close()
    code, out, err = run(["audit", "anchor", "--audit-db", str(db)], capsys)
    assert code == 1 and out == "" and "no anchor" in err and "entry #2" in err


# -- keyed chains ------------------------------------------------------------------------
def test_keyed_chain_catches_rewrite_without_the_key(tmp_path, clock, key_file, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock, key=KEY)
    _fill(audit, 4)
    assert {r["alg"] for r in audit._query("SELECT alg FROM entries")} == {ALG_KEYED}
    audit.close()
    args = ["--audit-db", str(db), "--key-file", str(key_file)]
    code, out, _ = run(["audit", "verify", *args], capsys)
    assert code == 0 and "4 keyed (HMAC)" in out
    rewrite(db, 2, reason="forged", key=b"another key of 24 bytes!", alg=ALG_KEYED)
    code, _, err = run(["audit", "verify", *args], capsys)
    assert code == 1 and "entry #2: content does not match its HMAC" in err


def test_keyed_chain_catches_a_downgrade_to_plain(tmp_path, clock, key_file, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock, key=KEY)
    _fill(audit, 4)
    audit.close()
    args = ["--audit-db", str(db), "--key-file", str(key_file)]
    rewrite(db, 3, reason="forged", alg=ALG_PLAIN)  # entries 3..4 relabelled plain
    code, _, err = run(["audit", "verify", *args], capsys)
    assert code == 1 and "entry #3: not keyed, after keyed entries from #1" in err
    rewrite(db, 1, reason="forged", alg=ALG_PLAIN)  # every entry plain
    code, _, err = run(["audit", "verify", *args], capsys)
    assert code == 1 and "entries #1..#4 are not keyed, but a key is given" in err
    code, _, _ = run(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 0  # without the key such a rewrite cannot be told (the README says so)


def test_keyed_chain_without_the_key_is_not_verified(tmp_path, clock, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock, key=KEY)
    _fill(audit, 2)
    audit.close()
    code, out, err = run(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 2 and "2 entries are keyed (HMAC) and no key was given" in err
    code, out, _ = run(["audit", "log", "--audit-db", str(db)], capsys)
    assert code == 0 and len(out.splitlines()) == 2  # readable, just not checked
    writer = SqliteAudit(db, clock=clock)  # a console without the key
    with pytest.raises(ConfigError, match="keyed .HMAC. audit store"):
        writer.append("note", actor=ALICE, reason="x")
    writer.close()


def test_old_plain_store_stays_verifiable_and_switches_to_keyed(tmp_path, clock, key_file,
                                                                 capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock)
    _fill(audit, 3)
    audit.close()
    # a store written by pitboard v1: no alg column, schema version 1
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE entries DROP COLUMN alg")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    args = ["--audit-db", str(db), "--key-file", str(key_file)]
    assert run(["audit", "verify", "--audit-db", str(db)], capsys)[0] == 0
    code, _, err = run(["audit", "verify", *args], capsys)
    assert code == 1 and "entries #1..#3 are not keyed" in err  # nothing vouches yet
    audit = SqliteAudit(db, clock=clock, key=KEY)  # the console starts with the key
    switch = audit.head()
    assert (switch.seq, switch.kind, switch.action) == (4, "chain", "keyed")
    assert switch.detail == {"key_id": key_id(KEY), "plain_through": 3}
    _fill(audit, 2, start=3)
    audit.close()
    code, out, _ = run(["audit", "verify", *args], capsys)
    assert code == 0 and "ok: 6 entries, chain intact, 3 keyed (HMAC)" in out
    rewrite(db, 2, reason="forged", through=3)  # the plain part, re-hashed (no key needed)
    code, _, err = run(["audit", "verify", *args], capsys)
    assert code == 1 and "entry #4: prev_hash does not match" in err  # the switch vouched
    rewrite(db, 2, reason="forged")  # ... and on to the end, the keyed entries relabelled
    code, _, err = run(["audit", "verify", *args], capsys)
    assert code == 1 and "entries #1..#6 are not keyed" in err


@pytest.mark.parametrize(("content", "mode", "message"), [
    (KEY, 0o644, "readable by others"),
    (b"short\n", 0o600, "a key needs at least 16"),
    (b"k" * (64 << 10) + b"k", 0o600, "is over 64 KiB: not a key file"),
])
def test_unusable_key_files_are_bad_input(tmp_path, clock, capsys, content, mode, message):
    db = tmp_path / "a.db"
    SqliteAudit(db, clock=clock).close()
    key = tmp_path / "k"
    key.write_bytes(content)
    os.chmod(key, mode)
    code, _, err = run(["audit", "verify", "--audit-db", str(db), "--key-file", str(key)],
                       capsys)
    assert code == 2 and message in err
    code, _, err = run(["audit", "verify", "--audit-db", str(db), "--key-file",
                        str(tmp_path / "none")], capsys)
    assert code == 2 and "cannot read the audit key file" in err


def test_a_key_from_a_pipe_is_read(tmp_path, clock, capsys):
    """--key-file <(vault read ...): a pipe (mode 600 here, as bash makes them), read once."""
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock, key=KEY)
    _fill(audit, 2)
    audit.close()
    read, write = os.pipe()
    os.write(write, KEY + b"\n")
    os.close(write)
    try:
        os.fchmod(read, 0o600)
        code, out, _ = run(["audit", "verify", "--audit-db", str(db), "--key-file",
                            f"/dev/fd/{read}"], capsys)
    finally:
        os.close(read)
    assert code == 0 and "2 keyed" in out


def test_key_file_from_the_config(tmp_path, clock, key_file, monkeypatch, capsys):
    db = tmp_path / "a.db"
    audit = SqliteAudit(db, clock=clock, key=KEY)
    _fill(audit, 2)
    audit.close()
    monkeypatch.setenv("PITBOARD_AUDIT__PATH", str(db))
    assert cli.main(["audit", "verify"]) == 2
    monkeypatch.setenv("PITBOARD_AUDIT__KEY_FILE", str(key_file))
    assert cli.main(["audit", "verify"]) == 0
    assert "2 keyed" in capsys.readouterr().out


def test_console_wiring_reads_key_and_forward(tmp_path, key_file, monkeypatch):
    from console.config import load_settings
    from console.wiring import open_audit

    out = tmp_path / "fwd.jsonl"
    monkeypatch.setenv("PITBOARD_AUDIT__PATH", str(tmp_path / "a.db"))
    monkeypatch.setenv("PITBOARD_AUDIT__KEY_FILE", str(key_file))
    monkeypatch.setenv("PITBOARD_AUDIT__FORWARD", str(out))
    audit = open_audit(load_settings())
    try:
        entry = audit.append("note", actor=BOB, reason="hello")
    finally:
        audit.close()
    line = json.loads(out.read_text().splitlines()[-1])
    assert line["hash"] == entry.hash and line["alg"] == ALG_KEYED


# -- forwarding --------------------------------------------------------------------------
def test_each_entry_is_forwarded_to_a_file_as_one_json_line(tmp_path, clock):
    out = tmp_path / "siem" / "pitboard.jsonl"
    out.parent.mkdir()
    audit = SqliteAudit(tmp_path / "a.db", clock=clock, key=KEY, forward=str(out))
    try:
        audit.open_incident("slow", "SEV2", ALICE)
        audit.add_note("looking", ALICE, {"p95_ms": 3})
        _fill(audit, 2)
        with pytest.raises(Exception):
            audit.append("bad kind!", actor=ALICE)  # refused: nothing forwarded
        entries = audit.entries()
    finally:
        audit.close()
    lines = out.read_text(encoding="ascii").splitlines()
    assert len(lines) == len(entries) == 4
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    prev = "0" * 64
    for line, entry in zip(lines, entries):
        record = json.loads(line)
        assert record["seq"] == entry.seq and record["hash"] == entry.hash
        assert record["prev_hash"] == prev and entry_hash(record, KEY) == record["hash"]
        prev = record["hash"]


def test_forwarding_to_syslog(tmp_path, clock, monkeypatch):
    import syslog

    sent: list[tuple] = []
    monkeypatch.setattr(syslog, "openlog", lambda *a, **k: sent.append(("open", a)))
    monkeypatch.setattr(syslog, "syslog", lambda *a: sent.append(("log", a)))
    audit = SqliteAudit(tmp_path / "a.db", clock=clock, forward="syslog")
    try:
        entry = audit.append("note", actor=ALICE, reason="hi")
    finally:
        audit.close()
    assert sent[0] == ("open", ("pitboard-audit", syslog.LOG_PID, syslog.LOG_USER))
    priority, line = sent[1][1]
    assert priority == syslog.LOG_INFO and json.loads(line)["hash"] == entry.hash


def test_a_forwarding_failure_never_loses_the_append(tmp_path, clock):
    target = tmp_path / "a-directory"
    target.mkdir()
    audit = SqliteAudit(tmp_path / "a.db", clock=clock, forward=str(target))
    try:
        entry = audit.append("note", actor=ALICE, reason="kept")
        assert audit.entry(entry.seq) is not None
        assert "forwarding audit entry #1" in (audit.forwarder.error or "")
    finally:
        audit.close()
