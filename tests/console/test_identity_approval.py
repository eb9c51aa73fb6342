"""The console's actor carries the cluster identity; ``A`` shows where the approval went."""

from __future__ import annotations

import json

from backends.actions import identity
from backends.actions.approvals import APPROVALS
from console.app import make_app
from console.config import load_settings
from console.controllers.state import Backends
from tests.console.actions_support import (BOB, RERANKER, action_app, fill, ready, select,
                                           service)
from tests.console.conftest import wait_for
from tests.console.fakes import FakeCluster, FakeMetrics, frozen_clock


class _KnownCluster(FakeCluster):
    """A cluster that knows its kubeconfig user and, when asked, the server's name for us."""

    identity = "laptop-admin"

    def __init__(self, whoami_error: bool = False) -> None:
        super().__init__()
        self.whoami_error = whoami_error
        self.asked = 0

    def whoami(self) -> str | None:
        self.asked += 1
        if self.whoami_error:
            raise RuntimeError("API unreachable")
        return "admin@example.com"


async def _actor_with(tmp_path, cluster: _KnownCluster) -> str:
    settings = load_settings(refresh=3600, audit={"path": str(tmp_path / "audit.db")})
    app = make_app(settings, Backends(cluster=cluster, metrics=FakeMetrics(),
                                      clock=frozen_clock))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.actions.runner is not None)
        return app.actions.actor


async def test_actor_carries_the_identity_the_server_reports(tmp_path):
    cluster = _KnownCluster()
    actor = await _actor_with(tmp_path, cluster)
    assert actor == identity.actor("admin@example.com")
    assert actor.endswith(" k8s:admin@example.com") and cluster.asked == 1
    assert identity.parse_actor(actor)[2] == "admin@example.com"


async def test_actor_falls_back_to_the_local_identity_when_asking_fails(tmp_path):
    actor = await _actor_with(tmp_path, _KnownCluster(whoami_error=True))
    assert actor == identity.actor("laptop-admin")


async def test_approve_key_annotates_the_demo_object_and_says_so(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db", actor=BOB)
    notes: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        real_notify = app.notify
        app.notify = lambda message, *a, **kw: (notes.append(str(message)),
                                                real_notify(message, *a, **kw))[1]
        await ready(pilot)
        await select(pilot, RERANKER)
        await pilot.press("A")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ApproveScreen")
        await fill(pilot, app.screen, "#reason", "canary good")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("rollout/reranker" in n for n in notes))
        assert [e.kind for e in app.backends.audit.entries()] == ["approval"]
    [record] = json.loads(service(fleet, RERANKER).annotations[APPROVALS])
    assert record["who"] == BOB and record["reason"] == "canary good"
    assert any("recorded in the audit log and on rollout/reranker" in n for n in notes)
