"""The console on clusters without pitboard labels: --once JSON and text, the fleet table
(unlabelled rows, their keys refused with the line that adopts them), and the empty
cluster's explanation instead of an empty table."""

from __future__ import annotations

import pytest

from backends.domain.models import FleetSnapshot
from console.app import make_app
from console.cli.main import build_parser, main, settings_from_args

from . import gen_workloads as gen
from .helpers import mutations

pytestmark = pytest.mark.integration


def args(server, *more: str) -> list[str]:
    return ["--kubeconfig", str(server.kubeconfig), "--context", "test-admin",
            "--namespace", "ml-serving", *more]


def test_once_json_marks_unlabelled_with_the_line_that_adopts(server_of, capsys):
    server = server_of(gen.unlabelled_fleet())
    rc = main(["--once", "--format", "json", *args(server)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    snap = FleetSnapshot.model_validate_json(out)
    qwen = next(s for s in snap.services if s.name == "qwen-chat")
    assert qwen.unlabelled and qwen.adopt[0] == \
        '[kubernetes] adopt = ["app.kubernetes.io/name=qwen-chat"]'
    assert snap.status[qwen.key].status == "NO LABEL"
    assert "adopt it with [kubernetes] adopt" in snap.status[qwen.key].problems[-1].text
    assert snap.cluster_search is None


def test_once_text_of_an_empty_cluster_says_what_was_looked_for(server_of, capsys):
    server = server_of(gen.empty_fleet())
    rc = main(["--once", *args(server)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "No models in context test-admin (namespace ml-serving)." in out
    assert "Looked for: Deployment, StatefulSet, LeaderWorkerSet labelled pitboard.io/model" \
        in out


async def _app_with(server, size=(120, 40)):
    app = make_app(settings_from_args(build_parser().parse_args(args(server))))
    return app


async def _wait_cluster(app, pilot) -> None:
    for _ in range(200):
        await pilot.pause(0.05)
        if app.state.cluster is not None and app.fleet_screen.snapshot is not None:
            return
    raise AssertionError("the cluster was never read")


async def test_fleet_table_shows_unlabelled_rows_and_refuses_their_actions(server_of, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = server_of(gen.unlabelled_fleet())
    app = await _app_with(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait_cluster(app, pilot)
        await pilot.pause(0.2)
        text = app.export_screenshot()
        assert "qwen-chat" in text and "NO&#160;LABEL" in text and "static-web" not in text
        svc = next(s for s in app.state.cluster.services if s.name == "qwen-chat")
        why = app.actions.action_unavailable("restart", svc)
        assert why == ("qwen-chat is unlabelled (no model label): read-only until adopted; "
                       'adopt it: [kubernetes] adopt = ["app.kubernetes.io/name=qwen-chat"] '
                       "(or kubectl label deployment qwen-chat -n ml-serving "
                       "pitboard.io/model=qwen-chat)")
        table = app.fleet_screen.query_one("#models")
        table.move_cursor(row=[r.key for r in table._shown].index(svc.key))
        await pilot.pause(0.1)
        before = len(server.requests)
        seen: list[str] = []
        orig = app.notify
        monkeypatch.setattr(app, "notify", lambda msg, **kw: (seen.append(str(msg)),
                                                              orig(msg, **kw)))
        await pilot.press("R")
        await pilot.pause(0.2)
        assert any("unlabelled" in m and "adopt it" in m for m in seen), seen
        assert mutations(server, before) == []  # refused before anything was sent


async def test_empty_cluster_shows_the_explanation_not_an_empty_table(server_of, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = server_of(gen.empty_fleet())
    app = await _app_with(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait_cluster(app, pilot)
        await pilot.pause(0.2)
        box = app.fleet_screen.query_one("#models-empty")
        assert box.display and not app.fleet_screen.query_one("#models").display
        text = str(box.render())
        assert text.startswith("No models in context test-admin (namespace ml-serving).")
        assert "Looked for:" in text and "To change it:" in text
        assert "No&#160;models&#160;in&#160;context" in app.export_screenshot()  # on screen


def test_a_shell_action_on_an_unlabelled_model_is_refused_and_sends_nothing(
        server_of, tmp_path, capsys):
    server = server_of(gen.unlabelled_fleet())
    conf = tmp_path / "config.toml"
    conf.write_text(f'[audit]\npath = "{tmp_path / "audit.db"}"\n', encoding="utf-8")
    before = len(server.requests)
    rc = main(["restart", "qwen-chat", "--reason", "stuck", "--yes", *args(server),
               "--config", str(conf)])
    out, err = capsys.readouterr()
    assert rc == 1, (out, err)
    assert "qwen-chat is unlabelled (no model label): read-only until adopted" in out + err
    assert mutations(server, before) == []  # refused before anything was sent
