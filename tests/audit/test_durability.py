"""Crash safety and several writers: real subprocesses on one audit file."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from backends.audit.store import SqliteAudit

ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.audit._worker", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _wait_line(proc: subprocess.Popen, expected: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == expected:
                return
            if not line and proc.poll() is not None:
                break
    status = proc.stderr.read() if proc.poll() is not None else "still running"
    raise AssertionError(f"no {expected!r} from worker: {status}")


def test_sigkill_between_intent_and_outcome_leaves_a_pending_intent(tmp_path):
    db = tmp_path / "audit.db"
    proc = _spawn("hang", str(db))
    try:
        _wait_line(proc, "EXECUTING")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    audit = SqliteAudit(db)
    try:
        ok, message = audit.verify()
        assert ok, message
        pending = audit.pending_intents()
        assert [(e.kind, e.action, e.reason) for e in pending] == [
            ("intent", "rollback", "crash test")]
        assert [e.kind for e in audit.entries()] == ["intent"]
    finally:
        audit.close()


def test_two_processes_appending_at_once_lose_nothing(tmp_path):
    db = tmp_path / "audit.db"
    go = tmp_path / "go"
    # no store yet: both processes create the file and schema at once, then append
    procs = [_spawn("append", str(db), "1000", tag, str(go)) for tag in ("p1", "p2")]
    try:
        for proc in procs:
            _wait_line(proc, "READY")
        go.touch()
        for proc in procs:
            _wait_line(proc, "DONE", timeout=120)
            assert proc.wait(timeout=30) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.stderr.close()
    audit = SqliteAudit(db)
    try:
        entries = audit.entries()
        assert [e.seq for e in entries] == list(range(1, 2001))
        for tag in ("p1", "p2"):
            mine = [e.detail["i"] for e in entries if e.detail["tag"] == tag]
            assert mine == list(range(1000)), tag  # all there, each in its own order
        tags = [e.detail["tag"] for e in entries]
        switches = sum(1 for a, b in zip(tags, tags[1:]) if a != b)
        assert switches >= 1
        ok, message = audit.verify()
        assert ok and "2000 entries" in message
    finally:
        audit.close()
