"""Rollback to a revision picked in the console's history view leaves the same objects as
the real kubectl's ``rollout undo --to-revision=N`` on a second server loaded from the
same fixture: the revision is highlighted in the fleet screen's releases panel or in
``:releases``, ``R`` / ``U`` pressed, the guard confirmed."""

from __future__ import annotations

import pytest

from console.app import make_app
from console.config import load_settings
from console.screens.modals.guard import GuardScreen, ProgressScreen
from console.screens.releases import ReleasesScreen
from tests.conftest import require_binary
from tests.console.actions_support import highlight, select, type_text
from tests.console.conftest import wait_for, workers_idle
from widgets.release_history import ReleaseHistory

from .helpers import NS, eventually
from .test_rollback_parity import kubectl, revision, state

pytestmark = pytest.mark.integration


def entries(app) -> list[tuple[str, str, str | None]]:
    return [(e.target or "", e.kind, e.outcome) for e in app.backends.audit.entries()]


@pytest.mark.parametrize("name,to_revision,where,key", [
    ("llama-chat", 1, "fleet", "R"),      # the oldest, from the releases panel
    ("ranker", 3, "releases", "U"),       # a history with a reused ReplicaSet, from :releases
])
async def test_history_pick_matches_kubectl_rollout_undo_to_revision(
        apiserver_factory, tmp_path, name, to_revision, where, key):
    binary = require_binary("kubectl")
    home = tmp_path / "home"
    home.mkdir()
    reference, ours = apiserver_factory(), apiserver_factory()
    assert state(reference, name) == state(ours, name)
    out = kubectl(binary, reference, home, "rollout", "undo", f"deployment/{name}", "-n", NS,
                  f"--to-revision={to_revision}")
    assert "rolled back" in out

    service_key = f"test-admin/{NS}/Deployment/{name}"
    settings = load_settings(
        refresh=3600, audit={"path": str(tmp_path / "audit.db")},
        kubernetes={"kubeconfig": str(ours.kubeconfig), "contexts": ["test-admin"],
                    "namespaces": [NS]},
        actions={"contexts": {"test-admin": {"progress_poll_s": 0.05,
                                             "progress_timeout_s": 60}}})
    app = make_app(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None
                       and app.actions.runner is not None, timeout=20)
        await workers_idle(pilot)
        if where == "fleet":
            await select(pilot, service_key)
            panel = app.fleet_screen.query_one(ReleaseHistory)
            await wait_for(pilot, lambda: panel.row_count > 0)
            shown = panel._shown or ()
            await highlight(pilot, panel, next(i for i, r in enumerate(shown)
                                               if r.number == to_revision))
            assert panel.highlighted_revision is not None
            assert panel.highlighted_revision.number == to_revision
        else:
            app.navigator.open_view("releases")
            await wait_for(pilot, lambda: isinstance(app.screen, ReleasesScreen))
            view = app.screen
            await wait_for(pilot, lambda: any(r.key == service_key for r in view._rows))
            row = next(i for i, r in enumerate(view._rows)
                       if r.key == service_key and r.revision == to_revision)
            await highlight(pilot, view.query_one("#rel-table"), row)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen), timeout=20)
        await type_text(pilot, "parity")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen) and app.screen.done,
                       timeout=30)
        assert (service_key, "outcome", "succeeded") in entries(app)
        intent = next(e for e in app.backends.audit.entries() if e.kind == "intent")
        assert intent.detail["to_revision"] == to_revision
        await pilot.press("escape")

    eventually(lambda: revision(reference, name) == revision(ours, name))
    eventually(lambda: state(reference, name) == state(ours, name), timeout=5)
    assert state(reference, name) == state(ours, name)
