"""``pitboard rollback MODEL --reason ...`` and the other guarded actions from a shell, on
the test API server: every exit code, --format json, read-only, a protected context."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from backends.actions import catalog
from backends.audit.store import SqliteAudit
from console.cli.main import build_parser, main

from .helpers import NS
from .helpers_guard import DEP, REVISION

pytestmark = pytest.mark.integration


class Terminal(io.StringIO):
    """stdin as a terminal, with the user's answers."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def shell(apiserver, tmp_path, capsys, monkeypatch):
    """``shell(*args, config="", stdin=None)`` -> (exit code, stdout, stderr)."""
    db = tmp_path / "audit.db"

    def run(*args: str, config: str = "", stdin: io.StringIO | None = None):
        conf = tmp_path / "config.toml"
        conf.write_text(f'[audit]\npath = "{db}"\n[actions.contexts.test-admin]\n'
                        f'progress_poll_s = 0.05\nprogress_timeout_s = 20\n{config}')
        monkeypatch.setattr("sys.stdin", stdin or io.StringIO(""))
        code = main([*args, "--kubeconfig", str(apiserver.kubeconfig), "--context",
                     "test-admin", "--namespace", NS, "--config", str(conf)])
        out, err = capsys.readouterr()
        return code, out, err

    run.db = db  # type: ignore[attr-defined]
    return run


def entries(db: Path) -> list[tuple[str, str | None]]:
    if not db.exists():
        return []
    audit = SqliteAudit(str(db), create=False)
    try:
        return [(e.kind, e.outcome) for e in audit.entries()]
    finally:
        audit.close()


def revision(apiserver, name: str) -> str:
    dep = apiserver.get_object("apps/v1", "deployments", NS, name)
    return dep["metadata"]["annotations"][REVISION]


def mutations(apiserver) -> list:
    """Requests that change something (not who-am-I, not a server-side dry run)."""
    return [r for r in apiserver.requests if r.mutating and not r.path.endswith(
        "selfsubjectreviews") and r.query.get("dryRun") != "All"]


def test_one_subcommand_per_declared_guarded_action():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    names = set(sub.choices)  # type: ignore[attr-defined]
    declared = {a.shell for a in catalog.ACTIONS if a.kind is not None and a.shell}
    assert declared <= names
    assert declared == {"rollback", "promote", "promote-full", "abort", "retry", "restart",
                        "scale", "pause", "resume", "silence"}


def test_rollback_with_yes_exits_0_after_it_settled(shell, apiserver):
    before = revision(apiserver, "llama-chat")
    code, out, err = shell("rollback", "llama-chat", "--reason", "p95 doubled", "--yes")
    assert code == 0, err
    assert "Rollback: test-admin / ml-serving / deployment/llama-chat" in out
    assert "[ok  ] server-side dry run" in out and "revision" in out
    assert "succeeded: deployment/llama-chat: rolled back to revision" in out
    assert revision(apiserver, "llama-chat") != before
    assert entries(shell.db) == [("intent", None), ("outcome", "succeeded"),
                                 ("settle", "complete")]


def test_json_output(shell, apiserver):
    code, out, err = shell("rollback", "llama-chat", "--reason", "p95 doubled", "--yes",
                           "--to-revision", "1", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)  # stdout is exactly one JSON object; the preview went to stderr
    assert doc["exit_code"] == 0 and doc["action"] == "rollback"
    assert doc["service_key"] == f"test-admin/{NS}/Deployment/llama-chat"
    assert doc["plan"]["object"] == "deployment/llama-chat"
    assert {c["name"] for c in doc["plan"]["checks"]} >= {"target exists",
                                                         "server-side dry run"}
    assert doc["result"]["status"] == "succeeded"
    assert doc["result"]["detail"]["to_revision"] == 1
    assert doc["result"]["detail"]["progress"]["phase"] == "complete"
    assert doc["warnings"] == []
    assert "Rollback:" in err


def test_without_a_terminal_and_without_yes_it_refuses(shell, apiserver):
    code, out, err = shell("rollback", "llama-chat", "--reason", "p95")
    assert code == 1
    assert "not confirmed" in err and "--yes" in err
    assert mutations(apiserver) == [] and entries(shell.db) == []


def test_the_prompt_on_a_terminal(shell, apiserver):
    code, _out, err = shell("rollback", "llama-chat", "--reason", "p95", stdin=Terminal("n\n"))
    assert code == 1 and "cancelled" in err and "Go ahead? [y/N]" in err
    assert mutations(apiserver) == []
    code, out, err = shell("rollback", "llama-chat", "--reason", "p95", stdin=Terminal("y\n"))
    assert code == 0, err
    assert "succeeded" in out


def test_read_only_refuses_before_sending_anything(shell, apiserver):
    start = len(apiserver.requests)
    code, _out, err = shell("--read-only", "rollback", "llama-chat", "--reason", "p95", "--yes")
    assert code == 1 and "read-only" in err
    assert list(apiserver.requests)[start:] == [] and entries(shell.db) == []
    code, _out, err = shell("rollback", "llama-chat", "--reason", "p95", "--yes",
                            "--read-only")  # after the subcommand too
    assert code == 1 and "read-only" in err


def test_a_read_only_context_refuses_after_reading_only(shell, apiserver):
    code, _out, err = shell("rollback", "llama-chat", "--reason", "p95", "--yes",
                            config='[actions]\nread_only_contexts = ["test-admin"]\n')
    assert code == 1 and "read-only" in err
    assert mutations(apiserver) == [] and entries(shell.db) == []


def test_protected_context_needs_the_object_name(shell, apiserver):
    protected = '[actions]\nprotected_contexts = ["test-admin"]\n'
    code, _out, err = shell("rollback", "llama-chat", "--reason", "p95", "--yes",
                            config=protected)
    assert code == 1 and "--confirm llama-chat" in err
    code, _out, err = shell("rollback", "llama-chat", "--reason", "p95", "--yes",
                            "--confirm", "ranker", config=protected)
    assert code == 1
    assert mutations(apiserver) == []
    assert entries(shell.db) == []
    code, out, err = shell("rollback", "llama-chat", "--reason", "p95", "--yes",
                           "--confirm", "llama-chat", config=protected)
    assert code == 0, err


def test_a_failed_check_refuses_with_exit_1(shell, apiserver):
    code, out, err = shell("rollback", "whisper-asr", "--reason", "p95", "--yes")
    assert code == 1
    assert "[FAIL] allowed by the reference tool" in out and "paused" in out
    assert "refused by the preflight" in err
    assert mutations(apiserver) == [] and entries(shell.db) == []


@pytest.mark.parametrize("args,words", [
    (("rollback", "no-such-model"), "no model 'no-such-model'"),
    (("promote", "llama-chat"), "promote is for Rollout and InferenceService only"),
    (("rollback", "llama-chat", "--context", "no-such-context"), "no-such-context"),
])
def test_bad_input_exits_2(shell, apiserver, args, words):
    code, _out, err = shell(*args, "--reason", "p95", "--yes")
    assert code == 2 and words in err
    assert mutations(apiserver) == []


@pytest.mark.parametrize("args", [
    ("rollback", "llama-chat"),  # no --reason
    ("scale", "llama-chat", "--reason", "r", "--replicas", "-1"),
    # past the console's rule (the demo rolled out 10^20 replicas; the test API server
    # hung on it: neither got there now)
    ("scale", "llama-chat", "--reason", "r", "--replicas", "1001"),
    ("scale", "llama-chat", "--reason", "r", "--replicas", "99999999999999999999"),
    ("scale", "llama-chat", "--reason", "r"),  # --replicas is required
    ("rollback", "llama-chat", "--reason", "r", "--to-revision", "two"),
])
def test_bad_arguments_exit_2(shell, apiserver, args):
    with pytest.raises(SystemExit) as exc:
        shell(*args)
    assert exc.value.code == 2
    assert mutations(apiserver) == []


def test_a_failed_call_exits_3(shell, apiserver):
    apiserver.inject("PATCH", r"/deployments/llama-chat$", 500, times=None,
                     query={"dryRun": None})
    code, out, err = shell("rollback", "llama-chat", "--reason", "p95", "--yes",
                           "--format", "json")
    assert code == 3, err
    doc = json.loads(out)
    assert doc["exit_code"] == 3 and doc["result"]["status"] == "failed"
    assert entries(shell.db) == [("intent", None), ("outcome", "failed")]


def test_timed_out_settle_exits_3(shell, apiserver, tmp_path):
    apiserver.rollout_delay_s = 600
    conf = f'[audit]\npath = "{shell.db}"\n[actions.contexts.test-admin]\n' \
           f'progress_poll_s = 0.05\nprogress_timeout_s = 0.5\n'
    path = tmp_path / "short.toml"
    path.write_text(conf)
    code = main(["rollback", "llama-chat", "--reason", "p95", "--yes", "--kubeconfig",
                 str(apiserver.kubeconfig), "--context", "test-admin", "--config", str(path)])
    assert code == 3
    assert entries(shell.db)[-1] == ("settle", "timed_out")
    apiserver.finish_rollouts()
