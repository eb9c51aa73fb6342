"""Exports: control and bidi characters escaped visibly, files 0600 (also over an existing
file), and the chain's state in the header."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from backends.audit.store import SqliteAudit
from console.cli.audit import main
from console.presenters.records import write_new
from tests.audit.conftest import ALICE, LLM

# C0 (ESC, NUL, CR, VT), DEL, C1 (CSI U+009B, NEL U+0085), bidi embeddings/overrides,
# isolates and marks
CONTROLS = ["\x1b", "\x00", "\r", "\x0b", "\x7f", "\x9b", "\x85", "\u202a", "\u202b",
            "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
            "\u200f", "\u061c"]
HOSTILE = "pay\u202etxt.exe " + "".join(f"<{c}>" for c in CONTROLS) + " \x9b31m red"


@pytest.fixture
def store(tmp_path, clock) -> Path:
    path = tmp_path / "audit.db"
    audit = SqliteAudit(path, clock=clock)
    audit.open_incident(f"title {HOSTILE}", "SEV2", ALICE)
    audit.add_note(HOSTILE, f"mallory{HOSTILE}", {f"k{HOSTILE}": 1})
    audit.append("intent", actor=ALICE, action="rollback", target=LLM, reason=HOSTILE)
    audit.close()
    return path


def _export(store: Path, out: Path, fmt: str, capsys) -> str:
    assert main(["export", "--incident", "1", "--format", fmt, "-o", str(out),
                 "--audit-db", str(store)]) == 0, capsys.readouterr().err
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_control_and_bidi_characters_are_escaped_visibly(store, tmp_path, fmt, capsys):
    text = _export(store, tmp_path / f"pm.{fmt}", fmt, capsys)
    for char in CONTROLS:
        assert char not in text, repr(char)
    if fmt == "md":
        for shown in ("\\x1b", "\\x00", "\\x9b", "\\x85", "\\x7f", "\\u202e", "\\u2066",
                      "\\u200e", "\\u200f", "\\u061c"):
            assert shown in text, shown
    else:
        assert "\\u202e" in text and "\\u009b" in text and "\\u200f" in text
        report = json.loads(text)  # the strings themselves are kept, escaped in the file
        assert report["notes"][0]["text"] == HOSTILE
        assert report["incident"]["title"] == f"title {HOSTILE}"


def test_log_escapes_them_too(store, capsys):
    assert main(["audit", "log", "--audit-db", str(store)]) == 0
    out = capsys.readouterr().out
    for char in CONTROLS:
        assert char not in out, repr(char)
    assert "\\u202e" in out and "\\x9b" in out


def test_export_files_are_private_even_over_an_existing_file(store, tmp_path, capsys):
    old = os.umask(0)
    try:
        fresh = tmp_path / "fresh.md"
        _export(store, fresh, "md", capsys)
        assert fresh.stat().st_mode & 0o777 == 0o600
        existing = tmp_path / "existing.md"
        existing.write_text("x" * 100_000, encoding="utf-8")
        os.chmod(existing, 0o666)
        text = _export(store, existing, "md", capsys)
        assert existing.stat().st_mode & 0o777 == 0o600
        assert text.startswith("# Postmortem draft") and "x" * 1000 not in text
    finally:
        os.umask(old)


def test_console_export_file_is_private_and_never_replaced(tmp_path):
    old = os.umask(0)
    try:
        path = write_new(tmp_path / "exports" / "pitboard-incident-1.md", "draft")
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        with pytest.raises(FileExistsError):
            write_new(path, "other")
        assert path.read_text() == "draft"
    finally:
        os.umask(old)


def test_header_states_the_chain(store, tmp_path, capsys):
    md = _export(store, tmp_path / "ok.md", "md", capsys)
    header = "\n".join(md.splitlines()[:14])
    assert "| Audit chain | chain verified up to entry 3 |" in header
    assert "Warning" not in header
    conn = sqlite3.connect(store)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET reason = 'nothing happened' WHERE seq = 3")
    conn.commit()
    conn.close()
    md = _export(store, tmp_path / "broken.md", "md", capsys)
    header = "\n".join(md.splitlines()[:6])
    assert "Warning: chain broken at entry 3" in header
    assert "chain broken at entry 3" in md.split("| Audit chain |", 1)[1].splitlines()[0]
    report = json.loads(_export(store, tmp_path / "broken.json", "json", capsys))
    assert report["chain"]["broken_at"] == 3 and report["chain"]["verified_through"] == 2
    assert report["summary"]["audit_chain"].startswith("chain broken at entry 3")


def test_chain_warning_for_the_start_banner(store, clock):
    from console.presenters.records import chain_warning

    audit = SqliteAudit(store, clock=clock)
    try:
        assert chain_warning(audit) is None and chain_warning(None) is None
    finally:
        audit.close()
    conn = sqlite3.connect(store)
    conn.execute("DROP TRIGGER entries_no_delete")
    conn.execute("DELETE FROM entries WHERE seq = 2")
    conn.commit()
    conn.close()
    audit = SqliteAudit(store, clock=clock)
    try:
        warning = chain_warning(audit)
    finally:
        audit.close()
    assert warning is not None
    assert warning.startswith("Audit log BROKEN: chain broken at entry 2: ")
