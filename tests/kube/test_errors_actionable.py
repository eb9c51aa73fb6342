"""Errors a user can act on: --once tries transient failures again (bounded), an
unreachable cluster says where and why (exit 2, the app too), a malformed kubeconfig
names its file and field, a failed Event or annotation after a successful action is a
visible warning."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from backends.domain.actions import ActionKind, ActionStatus
from backends.domain.errors import ConfigError
from backends.kube.connect import connect
from console.app import make_app
from console.cli.main import build_parser, main, run_once, settings_from_args
from console.config import load_settings
from tests.console.actions_support import open_guard, select, type_text
from tests.console.conftest import wait_for, workers_idle

from .helpers import NS
from .helpers_guard import EVENTS, key

pytestmark = pytest.mark.integration


def once_settings(apiserver, *extra: str):
    return settings_from_args(build_parser().parse_args([
        "--kubeconfig", str(apiserver.kubeconfig), "--context", "test-admin",
        "--namespace", NS, *extra]))


def test_once_tries_a_transient_500_again(apiserver, capsys):
    apiserver.inject("GET", r"/deployments", 500, times=1)
    naps: list[float] = []
    assert run_once(once_settings(apiserver), "json", sleep=naps.append) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["services"]
    assert "failed (500)" in err and "trying again in 0.5s (1/3)" in err
    assert naps == [0.5]


def test_once_gives_up_after_bounded_tries(apiserver, capsys):
    apiserver.inject("GET", r"/apis$", 503, times=None)
    naps: list[float] = []
    assert run_once(once_settings(apiserver), "text", sleep=naps.append) == 2
    _out, err = capsys.readouterr()
    assert naps == [0.5, 1.0, 2.0]  # three retries, growing, then it stops
    assert "nothing can be read from kubernetes (after 4 tries)" in err and "503" in err


def test_once_tries_a_timeout_again(apiserver, tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text("[kubernetes]\nrequest_timeout_s = 0.5\n")
    # four slow answers: more than the client's own three read retries absorb
    apiserver.inject("GET", r"/apis$", None, times=4, delay_s=1.0)
    assert run_once(once_settings(apiserver, "--config", str(conf)), "json",
                    sleep=lambda _s: None) == 0
    _out, err = capsys.readouterr()
    assert "timed out" in err.lower() and "trying again" in err


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_kubeconfig(tmp_path: Path) -> tuple[Path, int]:
    port = _dead_port()
    path = tmp_path / "dead.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: prod, context: {cluster: c, user: u, namespace: ml}}]\n"
        "current-context: prod\n")
    return path, port


def test_once_on_an_unreachable_cluster_says_host_and_error(tmp_path, capsys):
    path, port = dead_kubeconfig(tmp_path)
    assert main(["--once", "--kubeconfig", str(path)]) == 2
    _out, err = capsys.readouterr()
    assert f"http://127.0.0.1:{port}" in err and "refused" in err.lower()
    assert "context 'prod'" in err and "trying again" not in err  # refused: no retry


async def test_the_app_exits_2_when_the_cluster_is_unreachable_at_start(tmp_path):
    path, port = dead_kubeconfig(tmp_path)
    app = make_app(load_settings(kubernetes={"kubeconfig": str(path)},
                                 audit={"path": str(tmp_path / "a.db")}))
    said: list[str] = []
    real_exit = app.exit

    def exit_spy(*args, **kw):
        said.append(str(kw.get("message", "")))
        real_exit(*args, **kw)

    app.exit = exit_spy  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.return_code is not None, timeout=20)
    assert app.return_code == 2
    assert said and f"http://127.0.0.1:{port}" in said[0] and "refused" in said[0].lower()
    assert said[0].startswith("pitboard: cannot reach the cluster:")


@pytest.mark.parametrize("text,words", [
    ("clusters: {c: 1}\n", "field clusters: expected a list, got a mapping"),
    ("clusters: [{name: c, cluster: {server: 8443}}]\n",
     "field clusters[0].cluster.server: expected a string, got a number"),
    ("clusters: [{name: c, cluster: {server: 'http://x'}}]\nusers: [{user: {token: t}}]\n",
     "field users[0].name: missing"),
    ("clusters: [{name: c, cluster: {server: 'http://x'}}]\nusers: [{name: u, user: {token: [1]}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
     "field users[0].user.token: expected a string, got a list"),
    ("clusters: [{name: c, cluster: {server: 'http://x'}}]\n"
     "contexts: [{name: x, context: {cluster: c, user: ghost}}]\ncurrent-context: x\n",
     "field contexts[0].context.user: 'ghost' is not the name of any users[] entry"),
    ("current-context: [x]\n", "field current-context: expected a string, got a list"),
    ("clusters:\n  - name: c\n   bad: indent\n", "is not valid YAML (line 5, column"),
])
def test_a_malformed_kubeconfig_names_its_file_and_field(tmp_path, capsys, text, words):
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\n" + text)
    with pytest.raises(ConfigError) as exc:
        connect(str(path), None)
    assert str(path) in str(exc.value) and words in str(exc.value)
    assert "Traceback" not in str(exc.value) and "Invalid kube-config" not in str(exc.value)
    assert main(["--once", "--kubeconfig", str(path)]) == 2
    assert words in capsys.readouterr().err


def test_a_failed_event_write_is_a_warning_of_a_successful_action(apiserver, rigs):
    rig = rigs()
    apiserver.inject("POST", EVENTS, 422, times=None)
    result = rig.run(rig.plan(ActionKind.ROLLBACK, key("llama-chat")))
    assert result.status == ActionStatus.SUCCEEDED
    # the action's Event, then those carrying the outcome's and the settle's audit anchors
    assert len(result.warnings) == 3, result.warnings
    assert all(w.startswith("event not recorded") and "422" in w for w in result.warnings)
    assert "audit anchor" in result.warnings[1]


def test_the_shell_prints_the_warning(apiserver, tmp_path, capsys):
    apiserver.inject("POST", EVENTS, 422, times=None)
    conf = tmp_path / "c.toml"
    conf.write_text(f'[audit]\npath = "{tmp_path / "a.db"}"\n')
    code = main(["rollback", "llama-chat", "--reason", "r", "--yes", "--format", "json",
                 "--kubeconfig", str(apiserver.kubeconfig), "--context", "test-admin",
                 "--config", str(conf)])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["warnings"][0].startswith("event not recorded")
    assert "warning: event not recorded" in err


async def test_the_console_notifies_the_warning(apiserver, tmp_path):
    apiserver.inject("POST", EVENTS, 422, times=None)
    settings = load_settings(
        refresh=3600, audit={"path": str(tmp_path / "audit.db")},
        kubernetes={"kubeconfig": str(apiserver.kubeconfig), "contexts": ["test-admin"],
                    "namespaces": [NS]},
        actions={"contexts": {"test-admin": {"progress_poll_s": 0.05}}})
    app = make_app(settings)
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None
                       and app.actions.runner is not None, timeout=20)
        await workers_idle(pilot)
        await select(pilot, key("llama-chat"))
        await open_guard(pilot, "R")
        await type_text(pilot, "p95")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.actions.in_flight and any(
            n.severity == "warning" for n in app._notifications), timeout=20)
        warned = [n for n in app._notifications if n.severity == "warning"]
        assert "event not recorded" in warned[0].message and "422" in warned[0].message
        assert warned[0].title == "rollback llama-chat: done, with a warning"
        result = str(app.screen.query_one("#p-result").render())
        assert "succeeded" in result and "warning: event not recorded" in result
