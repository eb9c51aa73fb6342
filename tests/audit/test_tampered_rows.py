"""Rows edited behind the store never crash a reader: `audit verify` names the first
broken entry (exit 1), `audit log` shows the row marked, `export` still writes its draft."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backends.audit.store import SqliteAudit
from console.cli.audit import main
from tests.audit.conftest import ALICE, LLM

ROOT = Path(__file__).resolve().parents[2]

# column, SQL expression written over entry #3 (a rollback intent)
ENTRY_EDITS = [
    ("detail", "'not json'"),
    ("detail", "'[1, 2]'"),
    ("detail", "'1e999'"),
    ("detail", "'{\"x\": 1e999}'"),
    ("detail", "'" + "[" * 5000 + "'"),
    ("detail", "x'ff00'"),
    ("detail", "'\"text\"'"),
    ("at", "'yesterday'"),
    ("at", "12345"),
    ("at", "x'00ff'"),
    ("at", "NULL"),
    ("actor", "x'c3'"),
    ("kind", "42"),
    ("intent_seq", "'abc'"),
    ("incident_id", "1.5"),
    ("hash", "NULL"),
    ("prev_hash", "x'00'"),
]
NOTE_EDITS = [
    ("figures", "'not json'"),
    ("figures", "'{\"p\": 1e999}'"),
    ("text", "x'ff'"),
    ("at", "'soon'"),
    ("author", "NULL"),
]
INCIDENT_EDITS = [
    ("opened_at", "'never'"),
    ("closed_at", "'later'"),
    ("title", "x'00'"),
]


@pytest.fixture
def store_path(tmp_path, clock) -> Path:
    path = tmp_path / "audit.db"
    audit = SqliteAudit(path, clock=clock)
    audit.open_incident("llm-chat slow", "SEV2", ALICE)       # 1
    audit.add_note("p95 up", ALICE, {"p95_ms": 500})          # 2
    intent = audit.append("intent", actor=ALICE, action="rollback", target=LLM,
                          reason="slow")                        # 3
    audit.append("outcome", actor=ALICE, action="rollback", target=LLM,
                 intent_seq=intent.seq, outcome="succeeded")   # 4
    audit.close()
    return path


def tamper(path: Path, table: str, column: str, expr: str, row_id: int) -> None:
    """What an insider with the sqlite3 shell does: drop the triggers, edit a row."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    key = "seq" if table == "entries" else "id"
    # NOT NULL columns: rewrite the schema so NULL can go in (what a determined editor does)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') "
                 "WHERE type = 'table'")
    conn.execute("PRAGMA writable_schema = OFF")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE {table} SET {column} = {expr} WHERE {key} = ?", [row_id])
    conn.commit()
    conn.close()


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _ids(edits):
    return [f"{column}={expr[:14]}" for column, expr in edits]


@pytest.mark.parametrize(("column", "expr"), ENTRY_EDITS, ids=_ids(ENTRY_EDITS))
def test_edited_entry_is_named_marked_and_exported(store_path, column, expr, capsys):
    tamper(store_path, "entries", column, expr, 3)
    db = ["--audit-db", str(store_path)]
    code, out, err = run(["audit", "verify", *db], capsys)
    assert code == 1, (out, err)
    assert "BROKEN" in err and "entry #3" in err and "Traceback" not in err
    code, out, err = run(["audit", "log", *db], capsys)
    assert code == 1 and "Traceback" not in err
    lines = out.splitlines()
    assert len(lines) == 4
    assert "DAMAGED" in lines[2] and "DAMAGED" not in "".join(lines[:2] + lines[3:])
    assert "entry #3" in err
    code, out, err = run(["audit", "log", "--json", *db], capsys)
    assert code == 1 and len(out.splitlines()) == 4
    code, out, err = run(["export", "--incident", "1", *db], capsys)
    assert code == 0, err
    code, out, err = run(["export", "--incident", "1", "--format", "json", *db], capsys)
    assert code == 0, err
    assert json.loads(out)["summary"]["audit_chain"].startswith(
        "chain broken at entry 3: entry #3: ")


@pytest.mark.parametrize(("column", "expr"), NOTE_EDITS, ids=_ids(NOTE_EDITS))
def test_edited_note_is_named_and_exported(store_path, column, expr, capsys):
    tamper(store_path, "notes", column, expr, 1)
    db = ["--audit-db", str(store_path)]
    code, _, err = run(["audit", "verify", *db], capsys)
    assert code == 1 and "note #1" in err and "Traceback" not in err
    code, out, err = run(["export", "--incident", "1", *db], capsys)
    assert code == 0, err
    code, out, err = run(["export", "--incident", "1", "--format", "json", *db], capsys)
    assert code == 0, err


@pytest.mark.parametrize(("column", "expr"), INCIDENT_EDITS, ids=_ids(INCIDENT_EDITS))
def test_edited_incident_is_named_and_exported(store_path, column, expr, capsys):
    tamper(store_path, "incidents", column, expr, 1)
    db = ["--audit-db", str(store_path)]
    code, _, err = run(["audit", "verify", *db], capsys)
    assert code == 1 and "incident #1" in err and "Traceback" not in err
    for fmt in ("md", "json"):
        code, out, err = run(["export", "--incident", "1", "--format", fmt, *db], capsys)
        assert code == 0, err


def test_exit_codes_through_the_command(store_path, tmp_path):
    """0 intact, 1 broken, 2 bad input -- from the real command, never a traceback."""
    def pitboard(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "console", *argv], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    ok = pitboard("audit", "verify", "--audit-db", str(store_path))
    assert ok.returncode == 0, ok.stderr
    missing = pitboard("audit", "verify", "--audit-db", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "no audit store" in missing.stderr
    (tmp_path / "junk.db").write_bytes(b"\x00" * 512)
    junk = pitboard("audit", "log", "--audit-db", str(tmp_path / "junk.db"))
    assert junk.returncode == 2 and "not an SQLite file" in junk.stderr
    tamper(store_path, "entries", "at", "'yesterday'", 2)
    broken = pitboard("audit", "verify", "--audit-db", str(store_path))
    assert broken.returncode == 1 and "entry #2" in broken.stderr
    for proc in (ok, missing, junk, broken):
        assert "Traceback" not in proc.stderr
