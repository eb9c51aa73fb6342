"""A screen covered by a view is not redrawn each refresh; it shows the latest state once it
is on top again (console.screens.visibility)."""

from __future__ import annotations

from console.app import make_app
from console.config import load_settings
from console.screens.cost import CostScreen
from console.screens.model_detail import ModelDetailScreen
from tests.console.conftest import demo_backends, wait_for, wait_loaded, workers_idle
from widgets.model_table import ModelTable


def _cells(table: ModelTable) -> list[tuple]:
    return [tuple(c[0] for c in row.cells) for row in table._rows]


async def _refresh(pilot, seconds: float = 120) -> None:
    """Move the demo's clock on and read metrics again (figures change)."""
    app = pilot.app
    app.backends.clock.advance(seconds)
    app.poller.poll("metrics")
    await workers_idle(pilot)
    await pilot.pause()


async def test_fleet_under_a_view_catches_up_when_shown_again():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        fleet = app.fleet_screen
        table = fleet.query_one(ModelTable)
        before = _cells(table)
        app.navigator.open_view("cost")
        await wait_for(pilot, lambda: isinstance(app.screen, CostScreen))
        await workers_idle(pilot)
        await _refresh(pilot)
        # covered: kept, not drawn
        latest = fleet.snapshot
        assert fleet._stale and latest is not None
        assert latest.taken_at == app.clock()
        assert _cells(table) == before
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is fleet)
        assert not fleet._stale
        shown = _cells(table)
        assert shown != before  # the figures of the latest read, not those of before :cost
        expected = fleet.prepared.rows_for(latest)
        assert expected is not None
        assert shown == [tuple(c[0] for c in row.cells) for row in expected]


async def test_view_under_a_model_detail_catches_up():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        app.navigator.open_view("cost")
        await wait_for(pilot, lambda: isinstance(app.screen, CostScreen))
        cost = app.screen
        await workers_idle(pilot)
        first = cost.snapshot
        app.navigator.open_view("model", key=app.fleet_screen.selected)
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        await workers_idle(pilot)
        await _refresh(pilot)
        assert cost._stale and cost.snapshot is not first
        assert not app.screen._stale  # the detail on top was drawn
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is cost)
        assert not cost._stale
        assert cost.snapshot.taken_at == app.clock()
