"""Readers (`audit verify`, `audit log`, `export`) open the store read-only: they change
nothing on disk and work on an auditor's copy (a 0444 file in a 0555 directory)."""

from __future__ import annotations

import ctypes
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backends.audit.store import SqliteAudit
from backends.domain.errors import BackendError, ConfigError
from console.cli.audit import main
from tests.audit.conftest import ALICE, LLM

ROOT = Path(__file__).resolve().parents[2]
READERS = [
    ["audit", "verify"],
    ["audit", "log"],
    ["audit", "log", "--json"],
    ["export", "--incident", "1"],
    ["export", "--incident", "1", "--format", "json"],
]


def _fill(audit: SqliteAudit) -> None:
    audit.open_incident("llm-chat slow", "SEV2", ALICE)
    audit.add_note("p95 up", ALICE, {"p95_ms": 500})
    intent = audit.append("intent", actor=ALICE, action="rollback", target=LLM, reason="slow")
    audit.append("outcome", actor=ALICE, action="rollback", target=LLM, intent_seq=intent.seq,
                 outcome="succeeded")


@pytest.fixture
def closed_store(tmp_path, clock) -> Path:
    path = tmp_path / "live" / "audit.db"
    audit = SqliteAudit(path, clock=clock)
    _fill(audit)
    audit.close()
    assert not Path(f"{path}-wal").exists()  # the last writer checkpointed
    return path


def _state(directory: Path) -> dict[str, tuple]:
    """Every file in ``directory``: bytes, mtime (ns), mode."""
    out = {}
    for f in sorted(directory.iterdir()):
        st = f.stat()
        out[f.name] = (f.read_bytes(), st.st_mtime_ns, st.st_mode)
    return out


def _auditor_copy(src: Path, dest_dir: Path, *suffixes: str) -> Path:
    """A 0444 copy (with the side files named) in a 0555 directory."""
    dest_dir.mkdir()
    copy = dest_dir / "audit.db"
    for suffix in ("", *suffixes):
        shutil.copyfile(f"{src}{suffix}", f"{copy}{suffix}")
        os.chmod(f"{copy}{suffix}", 0o444)
    os.chmod(dest_dir, 0o555)
    return copy


def _drop_file_capabilities() -> None:  # pragma: no cover - runs in the child
    """As root, drop CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the bounding
    set before exec: the child then obeys file modes like any user (0555 is not writable)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unprivileged(argv: list[str]) -> subprocess.CompletedProcess:
    """``python -m console ARGV`` as a process that file modes apply to."""
    return subprocess.run([sys.executable, "-m", "console", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=_drop_file_capabilities if os.geteuid() == 0 else None)


@pytest.fixture
def unwritable_dir_is_real(tmp_path):
    """Check the harness itself: the child really cannot write into a 0555 directory."""
    probe = tmp_path / "probe"
    probe.mkdir()
    os.chmod(probe, 0o555)
    proc = subprocess.run([sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"],
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=_drop_file_capabilities if os.geteuid() == 0 else None)
    assert proc.returncode != 0 and "Permission denied" in proc.stderr
    os.chmod(probe, 0o755)


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_readers_change_nothing_on_a_read_only_copy(closed_store, tmp_path, argv, capsys):
    copy = _auditor_copy(closed_store, tmp_path / "copy")
    before = _state(copy.parent)
    try:
        code = main([*argv, "--audit-db", str(copy)])
    finally:
        after = _state(copy.parent)
        os.chmod(copy.parent, 0o755)
    assert code == 0, capsys.readouterr().err
    assert after == before  # same files, bytes, mtimes and modes: no chmod, no -wal/-shm


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_readers_change_nothing_on_the_live_store(closed_store, argv, capsys):
    before = _state(closed_store.parent)
    assert main([*argv, "--audit-db", str(closed_store)]) == 0, capsys.readouterr().err
    assert _state(closed_store.parent) == before


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_readers_work_as_a_user_who_cannot_write(closed_store, tmp_path, argv,
                                                  unwritable_dir_is_real):
    copy = _auditor_copy(closed_store, tmp_path / "copy")
    try:
        proc = run_unprivileged([*argv, "--audit-db", str(copy)])
    finally:
        os.chmod(copy.parent, 0o755)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    if argv[:2] == ["audit", "verify"]:
        assert "ok: 4 entries" in proc.stdout
    elif argv[0] == "audit":
        assert "rollback" in proc.stdout
    else:
        assert "llm-chat slow" in proc.stdout


@pytest.mark.parametrize("sides", [("-wal",), ("-wal", "-shm")], ids=["wal", "wal+shm"])
def test_copy_taken_while_a_console_writes(tmp_path, clock, sides, unwritable_dir_is_real):
    """Entries still in the -wal (a console has the store open) are read too, even from a
    directory where SQLite cannot create the -shm it would need."""
    live = tmp_path / "live" / "audit.db"
    audit = SqliteAudit(live, clock=clock)
    try:
        _fill(audit)
        assert Path(f"{live}-wal").stat().st_size > 0
        copy = _auditor_copy(live, tmp_path / "copy", *sides)
    finally:
        audit.close()
    before = _state(copy.parent)
    try:
        proc = run_unprivileged(["audit", "verify", "--audit-db", str(copy)])
    finally:
        os.chmod(copy.parent, 0o755)
    assert proc.returncode == 0, proc.stderr
    assert "ok: 4 entries" in proc.stdout
    assert _state(copy.parent) == before


def test_a_sqlite_file_that_is_not_a_store_gets_no_tables(tmp_path, capsys):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = _state(tmp_path)
    assert main(["audit", "verify", "--audit-db", str(other)]) == 2
    assert "not a pitboard audit store" in capsys.readouterr().err
    assert _state(tmp_path) == before
    names = {r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")}
    assert names == {"t"}


def test_read_only_store_refuses_writes(closed_store):
    reader = SqliteAudit(closed_store, read_only=True)
    try:
        with pytest.raises(BackendError, match="read-only"):
            reader.append("note", actor=ALICE, reason="x")
        assert len(reader.entries()) == 4
    finally:
        reader.close()


def test_reader_sees_a_writer_that_starts_while_it_is_open(closed_store, clock):
    """The immutable open (no -wal beside the file) notices a writer and reads again."""
    reader = SqliteAudit(closed_store, read_only=True)
    try:
        assert len(reader.entries()) == 4
        writer = SqliteAudit(closed_store, clock=clock)
        try:
            writer.append("note", actor=ALICE, reason="written meanwhile")
            assert [e.reason for e in reader.entries()][-1] == "written meanwhile"
            assert reader.verify()[0]
        finally:
            writer.close()
        assert len(reader.entries()) == 5  # and after the writer checkpointed and left
    finally:
        reader.close()


def test_missing_or_foreign_files_are_bad_input(tmp_path):
    with pytest.raises(BackendError, match="no audit store"):
        SqliteAudit(tmp_path / "none.db", read_only=True)
    (tmp_path / "text.db").write_text("hello", encoding="utf-8")
    with pytest.raises(ConfigError, match="not an SQLite file"):
        SqliteAudit(tmp_path / "text.db", read_only=True)
    assert not (tmp_path / "none.db").exists()
