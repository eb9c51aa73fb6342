"""Before every source answered once, the first answers are shown together (one layout and
repaint of the fleet screen, not one per source), or, should a source be slow, after
FIRST_SHOW_GRACE_S; from then on each answer is shown as it comes."""

from __future__ import annotations

import threading

from console.app import make_app
from console.controllers import polling
from tests.console.conftest import demo_backends, spy, wait_for, wait_loaded
from tests.console.fakes import FakeMetrics


async def test_the_demos_first_answers_are_shown_in_one_snapshot(settings):
    app = make_app(settings, demo_backends())
    shown = spy(app, "show_state")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        # cluster, alerts, metrics: one snapshot shown, with all three
        first = app.fleet_screen.snapshot
        assert first is not None and first.services and app.state.answered()
        assert len(shown) == 1
        app.poller.poll("alerts")  # later answers: each shown as it comes
        await wait_for(pilot, lambda: len(shown) == 2)


class SlowMetrics(FakeMetrics):
    """Answers only once ``go`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def read(self, *args, **kwargs):
        self.go.wait(10)
        return super().read(*args, **kwargs)


async def test_a_slow_source_holds_the_others_only_for_the_grace(settings, fakes, monkeypatch):
    monkeypatch.setattr(polling, "FIRST_SHOW_GRACE_S", 1.5)  # long: a loaded machine
    cluster, _, backends = fakes
    metrics = SlowMetrics()
    backends = backends.__class__(cluster=cluster, metrics=metrics, clock=backends.clock)
    app = make_app(settings, backends)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None)
        assert app.fleet_screen.snapshot is None  # held: the metrics may come at once
        await wait_for(pilot, lambda: app.fleet_screen.snapshot is not None, timeout=6)
        table = app.fleet_screen.query_one("#models")
        assert table.row_count == len(cluster.svcs)  # the models, without their figures
        assert app.state.metrics is None
        metrics.go.set()
        await wait_for(pilot, lambda: app.fleet_screen.snapshot.sources["metrics"]
                       .last_success is not None)
