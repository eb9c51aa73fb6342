"""The model detail at 80x24 (narrow: panels stacked): both tables keep their height,
the GPUs under the canary legs are not squeezed out of the tables' row."""

from __future__ import annotations

from console.app import make_app
from console.screens.model_detail import ModelDetailScreen
from tests.console.conftest import demo_backends, select_model, wait_for, wait_loaded, workers_idle
from tests.console.test_views_screens import settings


async def test_narrow_tables_each_keep_their_height():
    app = make_app(settings(), demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        await select_model(pilot, "llm-chat")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        await workers_idle(pilot)
        await pilot.pause()
        screen = app.screen
        assert screen.has_class("-narrow")
        legs, gpus = screen.query_one("#md-legs"), screen.query_one("#md-gpus")
        assert legs.outer_size.height == gpus.outer_size.height == 7
        assert gpus.region.y >= legs.region.bottom  # stacked, one under the other
        # and their row holds both (was 9 lines high: the GPUs cut to their header)
        row = screen.query_one("#md-tables")
        assert row.region.contains_region(gpus.region)
        assert gpus.row_count >= 5  # rows to show in its 5 lines under the header
