"""`pitboard export` and `pitboard audit log|verify` through argparse."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backends.audit.store import SqliteAudit, default_audit_path
from console.cli.audit import add_subcommands, main, parse_since
from tests.audit.conftest import ALICE, LLM

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(clock):
    audit = SqliteAudit(clock=clock)  # the default XDG path (isolated by conftest)
    incident = audit.open_incident("llm-chat slow", "SEV2", ALICE)
    audit.add_note("looking \x1b[31m[bold]", ALICE, {"p95_ms": 500})
    intent = audit.append("intent", actor=ALICE, action="rollback", target=LLM,
                          reason="slow \x1b[2J")
    audit.append("intent", actor=ALICE, action="promote",
                 target="demo/ml-serving/Rollout/reranker", reason="ship")
    audit.append("outcome", actor=ALICE, action="rollback", target=LLM, intent_seq=intent.seq,
                 outcome="succeeded")
    yield audit, incident.id
    audit.close()


def test_verify_exit_codes(store, capsys):
    audit, _ = store
    assert main(["audit", "verify"]) == 0
    assert "ok: 5 entries" in capsys.readouterr().out
    conn = sqlite3.connect(audit.path)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET actor = 'mallory' WHERE seq = 3")
    conn.commit()
    conn.close()
    assert main(["audit", "verify", "--audit-db", str(audit.path)]) == 1
    err = capsys.readouterr().err
    assert "BROKEN" in err and "entry #3" in err


def test_verify_without_a_store_fails(tmp_path, capsys):
    assert main(["audit", "verify", "--audit-db", str(tmp_path / "none.db")]) == 2
    assert "no audit store" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_export_to_a_file(store, tmp_path, capsys):
    _, incident_id = store
    out = tmp_path / "pm.md"
    assert main(["export", "--incident", str(incident_id), "--format", "md", "-o",
                 str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Postmortem draft: incident #1: llm-chat slow")
    assert "\x1b" not in text and "wrote" in capsys.readouterr().err
    out_json = tmp_path / "pm.json"
    assert main(["export", "--incident", str(incident_id), "--format", "json",
                 "-o", str(out_json)]) == 0
    assert json.loads(out_json.read_text())["incident"]["title"] == "llm-chat slow"
    assert main(["export", "--incident", "99"]) == 2
    assert "no incident 99" in capsys.readouterr().err


def test_export_bad_format_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["export", "--incident", "1", "--format", "pdf"])
    assert exc.value.code == 2


def test_audit_log_text_and_json(store, capsys):
    assert main(["audit", "log", "--model", "llm-chat"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "rollback" in lines[0] and "succeeded" in lines[1]
    assert main(["audit", "log"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "slow \\x1b[2J" in out
    promote = [line for line in out.splitlines() if "promote" in line]
    assert "outcome unknown" in promote[0]
    assert main(["audit", "log", "--json", "--since", "2026-11-21T13:00:00Z"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["outcome_unknown"] for r in rows].count(True) == 1


def test_since_parsing():
    from datetime import datetime, timezone
    now = datetime(2026, 1, 2, 12, tzinfo=timezone.utc)
    assert parse_since("1h", now) == datetime(2026, 1, 2, 11, tzinfo=timezone.utc)
    assert parse_since("2d", now).day == 31
    assert parse_since("2026-01-01T00:00:00", now).tzinfo is not None
    with pytest.raises(argparse.ArgumentTypeError, match="neither"):
        parse_since("yesterday", now)
    # out of datetime's range: a usage error, not an OverflowError's traceback
    with pytest.raises(argparse.ArgumentTypeError, match="further back than any date"):
        parse_since("99999999d", now)
    with pytest.raises(argparse.ArgumentTypeError, match="years 1 to 9999, UTC"):
        parse_since("9999-12-31T23:59:59-14:00", now)
    assert parse_since("2026-01-02T14:00:00+02:00", now) == now  # in UTC


@pytest.mark.parametrize(("argv", "says"), [
    (["export", "--incident", "99999999999999999999999"], "--incident: at most 9223372036854775807"),
    (["export", "--incident", "0"], "--incident: at least 1, not 0"),
    (["audit", "log", "--limit", "-1"], "--limit: at least 1, not -1"),
    (["audit", "log", "--since", "0001-01-01T00:00:00+14:00"], "years 1 to 9999"),
])
def test_numbers_and_dates_out_of_range_are_usage_errors(argv, says, capsys):
    from console.cli.main import main as pitboard

    with pytest.raises(SystemExit) as exc:
        pitboard(argv)
    assert exc.value.code == 2 and says in capsys.readouterr().err


def test_subcommands_register_on_an_existing_parser(store):
    parser = argparse.ArgumentParser(prog="pitboard")
    parser.add_argument("--audit-db")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--audit-db", "/x.db", "audit", "verify"])
    assert args.audit_db == "/x.db" and callable(args.func)  # the global value survives
    args = parser.parse_args(["audit"])
    assert args.func(args) == 2


def test_runs_as_a_subprocess(store):
    audit, _ = store
    proc = subprocess.run([sys.executable, "-m", "console.cli.audit", "audit", "verify",
                           "--audit-db", str(default_audit_path())], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _many_entries(path: Path, n: int, reason_len: int) -> None:
    audit = SqliteAudit(path)
    try:
        for i in range(n):
            audit.append("note", actor=ALICE, target=LLM, reason=f"{i} " + "r" * reason_len)
    finally:
        audit.close()


@pytest.mark.parametrize("argv,read_first", [
    (["audit", "log", "--json"], True),  # `pitboard audit log --json | head -1`
    (["audit", "log"], False),  # the reader is gone before the first line
])
def test_log_into_a_pipe_closed_early_exits_quietly(tmp_path, argv, read_first):
    db = tmp_path / "audit.db"
    _many_entries(db, 150, 3000)  # far more than a pipe buffer holds
    proc = subprocess.Popen([sys.executable, "-m", "console", *argv, "--audit-db", str(db)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if read_first:
        first = proc.stdout.readline()
        assert json.loads(first)["seq"] == 1
    proc.stdout.close()  # like `head -1` exiting
    _, err = proc.communicate(timeout=60)
    assert err.decode() == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert proc.returncode == 141
