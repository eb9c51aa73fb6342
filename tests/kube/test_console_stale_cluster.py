"""One cluster whose objects list but whose watch is refused from the start (a role with
list but not watch, a proxy that drops long requests): the console shows the models as
listed, the cluster badge stale with the reason -- never an empty table under a message
that says cached data is shown."""

from __future__ import annotations

import pytest

from backends.domain.models import FleetSnapshot
from console.app import make_app
from console.cli.main import build_parser, settings_from_args
from widgets.model_table import ModelTable

pytestmark = pytest.mark.integration


async def test_listed_but_not_watched_shows_the_models_with_the_cluster_stale(apiserver):
    refused = apiserver.inject("GET", r"/deployments$", 503, times=None,
                               query={"watch": "true"})
    # the replicasets' LIST answers late: by the first read the refused watch has failed
    apiserver.inject("GET", r"/replicasets$", None, times=1, delay_s=1.0,
                     query={"watch": None})
    listed = {d["metadata"]["name"] for d in apiserver.list_objects("apps/v1", "deployments",
                                                                    "ml-serving")}
    settings = settings_from_args(build_parser().parse_args([
        "--kubeconfig", str(apiserver.kubeconfig), "--context", "test-admin",
        "--namespace", "ml-serving"]))
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        status = None
        for _ in range(200):
            await pilot.pause(0.05)
            status = app.state.status.get("cluster")
            if status is not None and app.fleet_screen.snapshot is not None:
                break
        assert status is not None and not status.ok, status
        assert "deployments watch of context 'test-admin' is failing" in (status.error or "")
        assert app.state.cluster is not None
        shown = {s.name for s in app.state.cluster.services}
        assert listed <= shown  # every listed Deployment's model is there
        table = app.fleet_screen.query_one(ModelTable)
        assert table.row_count == len(app.state.cluster.services) > 0
        # the watch comes back: the source is fresh again, the same models
        apiserver.remove_injection(refused)
        for _ in range(300):
            await pilot.pause(0.05)
            status = app.state.status.get("cluster")
            if status is not None and status.ok:
                break
        assert status is not None and status.ok, status
        assert {s.name for s in app.state.cluster.services} == shown


def test_once_prints_the_listed_models_with_the_cluster_failed(apiserver, capsys):
    from console.cli.main import main

    apiserver.inject("GET", r"/deployments$", 503, times=None, query={"watch": "true"})
    apiserver.inject("GET", r"/replicasets$", None, times=1, delay_s=1.0,
                     query={"watch": None})
    listed = {d["metadata"]["name"] for d in apiserver.list_objects("apps/v1", "deployments",
                                                                    "ml-serving")}
    flags = ["--kubeconfig", str(apiserver.kubeconfig), "--context", "test-admin",
             "--namespace", "ml-serving"]
    rc = main(["--once", *flags])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "source cluster: FAILED: deployments watch of context 'test-admin' is failing" in out
    assert "llama-chat" in out
    apiserver.inject("GET", r"/replicasets$", None, times=1, delay_s=1.0,
                     query={"watch": None})  # again: the refused watch fails first
    rc = main(["--once", "--format", "json", *flags])
    out, err = capsys.readouterr()
    assert rc == 0, err
    snap = FleetSnapshot.model_validate_json(out)
    assert not snap.sources["cluster"].ok
    assert listed <= {s.name for s in snap.services}
