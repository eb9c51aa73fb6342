"""Retention: `audit prune --before DATE` moves old entries to a sealed archive the live
chain goes on from, and `verify` proves continuity across both."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from backends.audit.store import SqliteAudit
from console.cli.audit import main
from tests.audit.conftest import ALICE, LLM, T0

KEY = b"retention-key-0123456789"


def _week(audit: SqliteAudit, clock, days: int = 6) -> None:
    """One entry a day (plus an incident and a note on the first day)."""
    audit.open_incident("old", "SEV3", ALICE)
    audit.add_note("an old note", ALICE, {"p95_ms": 1})
    for day in range(days):
        audit.append("intent", actor=ALICE, action="rollback", target=LLM, reason=f"d{day}")
        clock.advance(86_400)


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pruned(tmp_path, clock, capsys):
    db = tmp_path / "audit.db"
    audit = SqliteAudit(db, clock=clock)
    _week(audit, clock)
    audit.close()
    _, anchor, _ = run(["audit", "anchor", "--audit-db", str(db)], capsys)
    cut = (T0 + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, out, err = run(["audit", "prune", "--before", cut, "--audit-db", str(db)], capsys)
    assert code == 0, err
    return db, anchor.strip(), out


def test_prune_moves_old_entries_to_a_sealed_archive(pruned, clock):
    db, _, out = pruned
    archive = db.with_name("audit.archive-000001-000005.db")
    assert f"archived entries #1..#5 to {archive}" in out
    assert archive.stat().st_mode & 0o777 == 0o400
    rows = sqlite3.connect(f"file:{archive}?mode=ro", uri=True).execute(
        "SELECT seq FROM entries ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    audit = SqliteAudit(db, clock=clock)
    try:
        live = audit.entries()
        assert [e.seq for e in live] == [6, 7, 8, 9]  # d3..d5, then the prune entry
        seal = live[-1]
        assert (seal.kind, seal.action) == ("chain", "prune")
        assert seal.detail["archive"] == archive.name and seal.detail["last"] == 5
        assert live[0].prev_hash == seal.detail["head"]  # the live chain goes on from it
        nxt = audit.append("note", actor=ALICE, reason="after the prune")
        assert nxt.seq == 10 and nxt.prev_hash == seal.hash
        assert audit.notes()[0].text == "an old note"  # records stay in the live store
    finally:
        audit.close()


def test_verify_proves_continuity_across_archive_and_live(pruned, capsys):
    db, anchor, _ = pruned
    code, out, _ = run(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 0 and "ok: 9 entries (5 in 1 sealed archive), chain intact" in out
    code, out, _ = run(["audit", "verify", "--anchor", anchor, "--audit-db", str(db)], capsys)
    assert code == 0 and "1 anchor matched" in out  # an anchor taken before the prune


def test_a_second_prune_chains_from_the_first_archive(pruned, clock, capsys):
    db, anchor, _ = pruned
    cut = (T0 + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(86_400 * 30)
    code, out, err = run(["audit", "prune", "--before", cut, "--audit-db", str(db)], capsys)
    assert code == 0 and "archived entries #6..#9" in out, err
    code, out, _ = run(["audit", "verify", "--anchor", anchor, "--audit-db", str(db)], capsys)
    assert code == 0 and "ok: 10 entries (9 in 2 sealed archives)" in out
    audit = SqliteAudit(db, clock=clock)
    try:
        assert [e.seq for e in audit.entries()] == [10]  # only the second prune's entry
        assert audit.append("note", actor=ALICE, reason="x").seq == 11
        assert audit.verify()[0]
    finally:
        audit.close()


def test_missing_changed_or_truncated_archives_are_caught(pruned, capsys):
    db, _, _ = pruned
    archive = db.with_name("audit.archive-000001-000005.db")
    args = ["audit", "verify", "--audit-db", str(db)]
    saved = archive.read_bytes()
    os.chmod(archive, 0o600)
    archive.unlink()
    code, _, err = run(args, capsys)
    assert code == 1 and "entries #1..#5 were archived to audit.archive-000001-000005.db, " \
                         "which is not beside the store" in err
    archive.write_bytes(saved)
    conn = sqlite3.connect(archive)
    conn.execute("DROP TRIGGER archive_no_update")
    conn.execute("UPDATE entries SET reason = 'forged' WHERE seq = 3")
    conn.commit()
    conn.close()
    code, _, err = run(args, capsys)
    assert code == 1 and "archive audit.archive-000001-000005.db changed after it was " \
                         "sealed" in err
    # ... and with the listing's checksum edited to match, the entry itself fails
    conn = sqlite3.connect(db)
    from backends.audit.archive import file_sha256
    conn.execute("UPDATE archives SET sha256 = ?", [file_sha256(archive)])
    conn.commit()
    conn.close()
    code, _, err = run(args, capsys)
    assert code == 1 and "entry #3: content does not match its hash" in err


def test_front_truncation_dressed_as_a_prune_is_caught(tmp_path, clock, capsys):
    db = tmp_path / "audit.db"
    audit = SqliteAudit(db, clock=clock)
    _week(audit, clock)
    audit.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER entries_no_delete")
    conn.execute("DELETE FROM entries WHERE seq <= 3")
    conn.execute("CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN "
                 "SELECT RAISE(ABORT, 'audit entries are append-only'); END")
    conn.commit()
    conn.close()
    code, _, err = run(["audit", "verify", "--audit-db", str(db)], capsys)
    assert code == 1 and "entry #4: entry #1..#3 is missing" in err


def test_keyed_store_prunes_and_verifies(tmp_path, clock, capsys):
    db = tmp_path / "audit.db"
    audit = SqliteAudit(db, clock=clock, key=KEY)
    _week(audit, clock)
    result = audit.prune(T0 + timedelta(days=2), "alice@laptop")
    assert (result.first, result.last) == (1, 4)
    assert audit.chain_state().ok
    audit.close()
    key = tmp_path / "k"
    key.write_bytes(KEY)
    os.chmod(key, 0o600)
    code, out, _ = run(["audit", "verify", "--audit-db", str(db), "--key-file", str(key)],
                       capsys)
    assert code == 0 and "keyed (HMAC)" in out


def test_an_auditor_copies_store_and_archives(pruned, tmp_path, capsys):
    db, anchor, _ = pruned
    copy = tmp_path / "auditor"
    copy.mkdir()
    for f in db.parent.glob("audit*.db"):
        shutil.copy(f, copy / f.name)
        os.chmod(copy / f.name, 0o444)
    os.chmod(copy, 0o555)
    try:
        code, out, _ = run(["audit", "verify", "--anchor", anchor, "--audit-db",
                            str(copy / "audit.db")], capsys)
    finally:
        os.chmod(copy, 0o755)
    assert code == 0 and "5 in 1 sealed archive" in out


def test_prune_refuses_a_broken_chain_and_bad_dates(tmp_path, clock, capsys):
    db = tmp_path / "audit.db"
    audit = SqliteAudit(db, clock=clock)
    _week(audit, clock)
    audit.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET reason = 'x' WHERE seq = 4")
    conn.commit()
    conn.close()
    code, _, err = run(["audit", "prune", "--before", "2030-01-01", "--audit-db", str(db)],
                       capsys)
    assert code == 1 and "does not verify, nothing pruned" in err
    assert not list(tmp_path.glob("*.archive-*"))
    with pytest.raises(SystemExit) as exc:
        main(["audit", "prune", "--before", "someday", "--audit-db", str(db)])
    assert exc.value.code == 2
    code, _, err = run(["audit", "prune", "--before", "1d", "--audit-db",
                        str(tmp_path / "none.db")], capsys)
    assert code == 2 and "no audit store" in err


def test_nothing_old_enough(tmp_path, clock, capsys):
    db = tmp_path / "audit.db"
    audit = SqliteAudit(db, clock=clock)
    _week(audit, clock, days=1)
    audit.close()
    code, out, _ = run(["audit", "prune", "--before", "2000-01-01", "--audit-db", str(db)],
                       capsys)
    assert code == 0 and "nothing to prune" in out
    assert not list(Path(tmp_path).glob("*.archive-*"))
