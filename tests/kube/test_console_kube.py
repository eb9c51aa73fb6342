"""The console on a (test) Kubernetes cluster: CLI wiring, --once, and the app itself."""

from __future__ import annotations

import json

import pytest

from backends.domain.models import FleetSnapshot
from console.cli.main import main, settings_from_args, build_parser
from console.app import make_app

pytestmark = pytest.mark.integration


def once(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["--once", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_once_json_reads_the_cluster(apiserver, capsys):
    rc, out, err = once(capsys, "--format", "json", "--kubeconfig", str(apiserver.kubeconfig),
                        "--context", "test-admin", "--namespace", "ml-serving")
    assert rc == 0, err
    snap = FleetSnapshot.model_validate_json(out)
    names = {s.name for s in snap.services}
    assert {"llama-chat", "embedder"} <= names
    assert all(s.namespace == "ml-serving" for s in snap.services)
    llama = next(s for s in snap.services if s.name == "llama-chat")
    history = snap.revisions[llama.key]
    assert [r.number for r in history] == sorted((r.number for r in history), reverse=True)
    assert history[0].current
    # the figures printed are what the API server holds
    dep = apiserver.get_object("apps/v1", "deployments", "ml-serving", "llama-chat")
    assert str(history[0].number) == dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"]


def test_unknown_context_exits_2_naming_the_available_ones(apiserver, capsys):
    rc, out, err = once(capsys, "--kubeconfig", str(apiserver.kubeconfig), "--context", "nope")
    assert rc == 2 and out == ""
    assert "unknown context 'nope'" in err and "test-admin" in err


def test_missing_kubeconfig_exits_2_with_a_hint(tmp_path, capsys):
    rc, _out, err = once(capsys, "--kubeconfig", str(tmp_path / "absent"))
    assert rc == 2
    assert "does not exist" in err and "--demo" in err


async def test_app_shows_the_cluster_models(apiserver):
    args = build_parser().parse_args(["--kubeconfig", str(apiserver.kubeconfig),
                                      "--context", "test-admin", "--namespace", "ml-serving",
                                      "--read-only"])
    app = make_app(settings_from_args(args))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.state.cluster is not None and app.state.cluster.services:
                break
        assert app.state.cluster is not None, "the cluster was never read"
        names = {s.name for s in app.state.cluster.services}
        assert "llama-chat" in names
        await pilot.pause(0.2)
        text = app.export_screenshot()
        assert "llama-chat" in text and "test-admin" in text
    # read-only: nothing but reads reached the server
    assert {r.method for r in apiserver.requests} <= {"GET"}
