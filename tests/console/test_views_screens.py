"""Pilot tests of the deep views: GPUs, model detail, drift, cost, releases."""

from __future__ import annotations

import html

from console.app import make_app
from console.config import load_settings
from console.screens.cost import CostScreen, unit_cost
from console.screens.drift import DriftScreen
from console.screens.gpus import GpuScreen
from console.screens.model_detail import ModelDetailScreen
from console.screens.releases import ReleasesScreen
from tests.console.conftest import demo_backends, select_model, wait_for, wait_loaded, workers_idle
from widgets.drift_chart import DriftPanel
from widgets.gpu_table import GpuTable
from widgets.series_chart import SeriesChart

SLO = {"default": {"availability": 0.99, "latency_ms": 500},
       "models": {"llm-chat": {"latency_ms": 6000}}}


def text_of(app) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def settings(**kw):
    return load_settings(refresh=3600, slo=SLO, **kw)


async def jump(pilot, name: str) -> None:
    await pilot.press("colon", *name, "enter")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ != "FleetScreen")
    await workers_idle(pilot)
    await pilot.pause()


async def test_gpu_view_sort_filter_and_chart():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        await jump(pilot, "gpus")
        screen = app.screen
        assert isinstance(screen, GpuScreen)
        table = screen.query_one(GpuTable)
        assert len(table.gpus) == 38
        text = text_of(app)
        assert "idle-allocated" in text and "IDLE $2.90/h" in text and "79" in text
        await pilot.press("s")  # util, highest first
        assert screen.sort == "util"
        utils = [g.util_percent for g in table.gpus if g.util_percent is not None]
        assert utils == sorted(utils, reverse=True)
        await pilot.press("slash", *"idle")
        await wait_for(pilot, lambda: len(table.gpus) == 2)
        assert all(g.model == "legacy-sentiment" for g in table.gpus)
        await pilot.press("enter")  # closes the prompt, back on the table
        await pilot.press("enter")  # chart of the selected GPU
        chart = screen.query_one("#gpu-load", SeriesChart)
        await wait_for(pilot, lambda: chart.has_data)
        assert screen.has_class("-chart") and app.navigator.view_points["gpu"] > 0
        await pilot.press("escape")
        assert not screen.has_class("-chart")
        await pilot.press("escape")  # clears nothing left: back to the fleet
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_model_detail_from_enter():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_loaded(pilot)
        await select_model(pilot, "llm-chat")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.slo is not None
                       and screen.query_one("#md-ttft", SeriesChart).has_data)
        await workers_idle(pilot)
        await pilot.pause()
        assert screen.model_name == "llm-chat" and screen.has_class("-llm")
        assert screen.slo.objective.latency_ms == 6000
        assert screen.slo.burn_1h is not None and screen.slo.budget_left is not None
        text = text_of(app)
        for word in ("TTFT", "tokens/s", "KV cache", "Canary vs stable", "Pods / GPUs",
                     "runbooks.example.com/ml/gpuxiderror", "XID 79", "rev 12", "burn 1h"):
            assert word in text, word
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_model_detail_canary_side_by_side():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_loaded(pilot)
        svc = next(s for s in app.state.cluster.services if s.name == "recommender")
        app.navigator.open_view("model", key=svc.key)
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        await workers_idle(pilot)
        await pilot.pause()
        legs = app.screen.query_one("#md-legs")
        assert legs.row_count == 2
        roles = [str(legs.get_row_at(i)[0]) for i in range(2)]
        assert roles == ["stable", "canary"]
        assert "CanaryErrorRateHigh" in text_of(app)


async def test_drift_view_worst_first():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        await jump(pilot, "drift")
        screen = app.screen
        assert isinstance(screen, DriftScreen)
        await wait_for(pilot, lambda: len(screen.query(DriftPanel)) == 4)
        panels = list(screen.query(DriftPanel))
        assert screen.model == "fraud-scorer"
        assert panels[0].drift.feature == "merchant_category" and panels[0].has_class("-over")
        assert "1 of 2 models drifting" in text_of(app)
        assert "crossed" in str(panels[0].border_title)
        await pilot.press("down")
        await wait_for(pilot, lambda: len(screen.query(DriftPanel)) == 2)
        assert screen.model == "recommender"


async def test_cost_view_breakdowns_and_unit_costs():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        await jump(pilot, "cost")
        assert isinstance(app.screen, CostScreen)
        text = text_of(app)
        for word in ("$130.60/h", "month to date", "OVER budget", "idle GPUs", "$5.80/h",
                     "/1k tok", "/1k req", "By namespace", "By node", "gpu-h100-a"):
            assert word in text, word


def test_unit_cost_by_hand():
    from backends.domain.models import HealthSample
    from tests.console.conftest import FROZEN

    h = HealthSample(model="m", at=FROZEN, rps=10.0, tokens_per_s=1000.0)
    # $3.60/h over 1000 tok/s = 3.6M tok/h = 3,600 thousands -> $0.001 per 1k tokens
    assert unit_cost(3.6, h, llm=True) == (0.001, "1k tok")
    assert unit_cost(3.6, h, llm=False) == (0.1, "1k req")
    assert unit_cost(None, h, True)[0] is None
    assert unit_cost(3.6, HealthSample(model="m", at=FROZEN, rps=0.0), False)[0] is None


async def test_releases_view_merges_audit_entries():
    from tests.console.test_views_replay import FakeAudit

    backends = demo_backends()
    backends.audit = FakeAudit()
    app = make_app(settings(), backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        await jump(pilot, "releases")
        screen = app.screen
        assert isinstance(screen, ReleasesScreen)
        await wait_for(pilot, lambda: screen.audit)
        await pilot.pause()
        text = text_of(app)
        assert "◆ rollback" in text and "◆ approve" in text and "1 audit entries" not in text
        revisions = sum(len(v) for v in app.state.cluster.revisions.values())
        assert screen.query_one("#rel-table").row_count == revisions + 2


async def test_cost_view_shows_the_pollers_rows_and_keeps_the_cursor_row():
    import console.screens.cost as cost_screen  # noqa: PLC0415
    from console.presenters.cost import idle_util_of  # noqa: PLC0415
    from tests.console.conftest import spy  # noqa: PLC0415
    from widgets.row_table import RowTable  # noqa: PLC0415

    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        assert app.fleet_screen.prepared.cost is None  # no cost view open: not made
        await jump(pilot, "cost")
        screen = app.screen
        assert isinstance(screen, CostScreen)
        table = screen.query_one("#cost-models", RowTable)
        await pilot.press("down", "down")
        picked = table.selected_key
        assert picked == table.rows[2][0]
        made_here = spy(cost_screen, "cost_rows")
        app.backends.clock.advance(120)  # figures move on
        app.poller.poll("metrics")
        await workers_idle(pilot)
        await pilot.pause()
        # grouped, sorted and formatted in the poller's thread: the screen only shows them
        rows = app.fleet_screen.prepared.cost_for(screen.snapshot, app.state.metrics,
                                                  idle_util_of(app.settings))
        assert rows is not None and made_here == []
        assert table.rows == rows.models.rows and table.selected_key == picked
        assert screen.query_one("#cost-nodes", RowTable).rows == rows.nodes.rows
        # rows not made of this very snapshot (replay, tests): made here, the same
        app.fleet_screen.prepared = None
        screen.apply_snapshot(screen.snapshot)
        assert len(made_here) == 1 and table.rows == rows.models.rows


async def test_releases_view_shows_the_highlighted_rows_reason_whole_at_80x24():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        await jump(pilot, "releases")
        screen = app.screen
        assert isinstance(screen, ReleasesScreen)
        table = screen.query_one("#rel-table")
        why = screen.query_one("#rel-why")
        # a reason longer than the table leaves the why column at 80 columns
        long = next(i for i, r in enumerate(screen._rows) if i and len(r.why) > 24)
        while table.cursor_row != long:
            await pilot.press("down")
        await pilot.pause()
        row = screen._rows[long]
        shown = why.render().plain
        assert row.model in shown and row.why in shown and row.who in shown
        assert why.region.height >= 1 and why.region.y > table.region.y
        # the table is wider than the terminal: its last column, why, is cut there
        assert table.virtual_size.width > table.scrollable_content_region.width
        await pilot.press("up")
        await pilot.pause()
        assert why.render().plain != shown and screen._rows[long - 1].why in why.render().plain
