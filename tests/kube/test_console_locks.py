"""The console on the test API server: a second model rolled back while the first one's
rollout is still in flight (the server's controller holds it), each locked on its own."""

from __future__ import annotations

import pytest

from backends.domain.actions import ActionKind
from console.app import make_app
from console.config import load_settings
from console.screens.modals.guard import ProgressScreen
from tests.console.actions_support import open_guard, select, type_text
from tests.console.conftest import wait_for, workers_idle

from .helpers import NS

pytestmark = pytest.mark.integration
LLAMA = f"test-admin/{NS}/Deployment/llama-chat"
RANKER = f"test-admin/{NS}/Deployment/ranker"


def entries(app) -> list[tuple[str, str, str | None]]:
    return [(e.target or "", e.kind, e.outcome) for e in app.backends.audit.entries()]


async def test_two_models_acted_on_at_once(apiserver, tmp_path):
    settings = load_settings(
        refresh=3600, audit={"path": str(tmp_path / "audit.db")},
        kubernetes={"kubeconfig": str(apiserver.kubeconfig), "contexts": ["test-admin"],
                    "namespaces": [NS]},
        actions={"contexts": {"test-admin": {"progress_poll_s": 0.05,
                                             "progress_timeout_s": 60}}})
    app = make_app(settings)
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None
                       and app.actions.runner is not None, timeout=20)
        await workers_idle(pilot)
        screen = app.fleet_screen

        apiserver.rollout_delay_s = 600  # llama-chat's rollback stays in flight
        await select(pilot, LLAMA)
        await open_guard(pilot, "R")
        await type_text(pilot, "p95 regression")
        await pilot.press("enter")
        await wait_for(pilot, lambda: (LLAMA, "outcome", "succeeded") in entries(app),
                       timeout=20)
        await pilot.press("escape")  # the progress view closes; the rollout goes on
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.actions.in_flight == {LLAMA: ActionKind.ROLLBACK}
        assert app.actions.action_unavailable("rollback", screen._selected_model()) == \
            "rollback of llama-chat is under way"

        apiserver.rollout_delay_s = 0  # the second one rolls out at once
        await select(pilot, RANKER)
        assert screen.check_action("rollback", ()) is True
        await open_guard(pilot, "R")
        await type_text(pilot, "ranker bad as well")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen) and app.screen.done,
                       timeout=20)
        assert (RANKER, "settle", "complete") in entries(app)
        assert (LLAMA, "settle", "complete") not in entries(app)  # still rolling out
        assert app.actions.in_flight == {LLAMA: ActionKind.ROLLBACK}
        dep = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
        assert dep["status"]["updatedReplicas"] < dep["status"]["replicas"]  # truly in flight

        apiserver.finish_rollouts()
        await wait_for(pilot, lambda: not app.actions.in_flight, timeout=20)
        assert (LLAMA, "settle", "complete") in entries(app)
        await pilot.press("escape")
