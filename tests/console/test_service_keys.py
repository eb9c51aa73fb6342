"""ModelService keys are ``cluster/namespace/kind/name`` where both ends may hold "/"
(EKS context ARNs, hostile model names): nothing cuts a name at its last "/"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.actions.guard import split_key
from backends.domain.models import AuditEntry, ModelService, Point, Series, ServiceKind
from console.app import make_app
from console.config import load_settings
from console.screens.audit import short_target
from console.screens.model_detail import ModelDetailScreen
from console.screens.releases import ReleasesScreen
from console.controllers.state import Backends
from tests.console.conftest import wait_for, wait_loaded, workers_idle
from tests.console.fakes import T0, FakeCluster, FakeMetrics, frozen_clock
from widgets.model_panels import audit_rows, key_name

EKS = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
SLASHED = "team/llm-chat"


@pytest.mark.parametrize("key,parts", [
    ("demo/ml-serving/Deployment/llm-chat", ("demo", "ml-serving", "Deployment", "llm-chat")),
    (f"demo/ml/Rollout/{SLASHED}", ("demo", "ml", "Rollout", SLASHED)),
    (f"{EKS}/ml/InferenceService/a/Deployment/b", (EKS, "ml", "InferenceService",
                                                   "a/Deployment/b")),
    ("demo/ml/Deployment/[bold]x[/] \x1b[2J", ("demo", "ml", "Deployment", "[bold]x[/] \x1b[2J")),
])
def test_keys_split_with_slashes_on_either_end(key, parts):
    assert ModelService.parse_key(key) == parts
    assert split_key(key) == parts
    assert key_name(key) == short_target(key) == parts[3]
    svc = ModelService(name=parts[3], namespace=parts[1], cluster=parts[0],
                       kind=ServiceKind(parts[2]))
    assert svc.key == key and ModelService.parse_key(svc.key) == parts


@pytest.mark.parametrize("key", ["", "llm-chat", "demo/ml/Deployment/", "/ml/Deployment/x",
                                 "demo//Deployment/x"])
def test_malformed_keys_are_not_guessed(key):
    assert ModelService.parse_key(key) is None
    assert key_name(key) == key


def test_audit_rows_name_the_whole_model():
    entry = AuditEntry(seq=1, at=T0, actor="oncall", kind="approval", action="approve",
                       target=f"fake/ml/Deployment/{SLASHED}", prev_hash="0", hash="1")
    [row] = audit_rows(None, [entry])
    assert row.model == SLASHED and row.key == entry.target


class _Audit:
    """Entries for the releases view: one approval of the model whose name holds "/"."""

    def __init__(self, key: str) -> None:
        self.key = key

    def entries(self, *, since=None, target=None, limit=None):
        return [AuditEntry(seq=1, at=T0 - timedelta(minutes=5), actor="oncall", kind="approval",
                           action="approve", target=self.key, reason="ok", prev_hash="0",
                           hash="1")]

    def current_incident(self):
        return None


async def test_releases_view_opens_the_model_whose_name_holds_a_slash():
    cluster = FakeCluster(names=(SLASHED, "llm-chat", "embedder"))
    slashed = next(s for s in cluster.svcs if s.name == SLASHED)
    backends = Backends(cluster=cluster, metrics=FakeMetrics(), clock=frozen_clock,
                        audit=_Audit(slashed.key))
    app = make_app(load_settings(refresh=3600), backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        app.navigator.open_view("releases")
        await wait_for(pilot, lambda: isinstance(app.screen, ReleasesScreen) and app.screen.audit)
        await workers_idle(pilot)
        await pilot.pause()
        screen = app.screen
        rows = list(screen._shown)
        approval = next(i for i, r in enumerate(rows) if r.pitboard)
        assert rows[approval].model == SLASHED  # not "llm-chat"
        assert {r.model for r in rows if not r.pitboard} == {SLASHED, "llm-chat", "embedder"}
        table = screen.query_one("#rel-table")
        table.move_cursor(row=approval)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        assert app.screen.key == slashed.key


class Twins(FakeCluster):
    """llm-chat in namespace ml of contexts eu and us, and embedder."""

    def __init__(self):
        super().__init__(names=("llm-chat", "embedder"))
        twin = self.svcs[0].model_copy(update={"cluster": "us"})
        self.svcs = (self.svcs[0].model_copy(update={"cluster": "eu"}), twin, self.svcs[1])


async def test_model_detail_says_why_a_twin_in_another_context_has_no_figures():
    """Metrics joined by name only: llm-chat's figures cannot be either context's; the
    detail view says so instead of showing them."""
    cluster = Twins()
    metrics = FakeMetrics()
    backends = Backends(cluster=cluster, metrics=metrics, clock=frozen_clock)
    app = make_app(load_settings(refresh=3600), backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        for svc, shown in ((cluster.svcs[0], "no figures: metrics not told apart from us/ml/"),
                           (cluster.svcs[2], None)):
            app.navigator.open_view("model", key=svc.key)
            await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
            await pilot.pause()
            title = str(app.screen.query_one("#view-title").render())
            assert (shown in title) if shown else ("no figures" not in title), title
            # its charts ask for this service's series (not the model name's)
            await wait_for(pilot, lambda: any(c[2] == svc.key for c in metrics.chart_calls))
            app.pop_screen()
            await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_the_fleet_chart_shows_only_the_selected_services_series():
    """A chart answer for the other llm-chat (another context) is not drawn for this one."""
    from console.controllers.messages import ChartUpdated

    cluster = Twins()
    metrics = FakeMetrics()
    app = make_app(load_settings(refresh=3600),
                   Backends(cluster=cluster, metrics=metrics, clock=frozen_clock))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        screen = app.fleet_screen
        eu, us = cluster.svcs[0], cluster.svcs[1]
        await wait_for(pilot, lambda: screen._chart is not None
                       and screen._chart._data is not None)
        assert screen.selected == eu.key and metrics.chart_calls[-1][2] == eu.key
        shown = screen._chart._data
        other = (Series(name="p95 ms", points=(Point(at=T0, value=1.0),)),)
        app.post_message(ChartUpdated(eu.name, screen.window, other, None, us.key))
        await pilot.pause()
        await workers_idle(pilot)
        assert screen._chart._data is shown  # the other service's series: not drawn
        app.post_message(ChartUpdated(eu.name, screen.window, other, None, eu.key))
        await wait_for(pilot, lambda: screen._chart._data is not shown)
