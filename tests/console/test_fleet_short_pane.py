"""The fleet screen in a short terminal (a split pane): the model table keeps the room."""

from __future__ import annotations

import pytest

from console.app import make_app
from tests.console.conftest import demo_backends, wait_loaded
from widgets.model_table import ModelTable


def _shown(app) -> dict[str, bool]:
    screen = app.fleet_screen
    return {name: screen.query_one(f"#{name}").display and screen.query_one(f"#{name}").size.height > 0
            for name in ("detail", "right")}


@pytest.mark.parametrize(("size", "detail", "right", "rows_at_least"), [
    ((80, 24), True, True, 4),     # the standard terminal: every panel
    ((80, 21), False, True, 7),    # short: the chart and history go first
    ((80, 16), False, False, 10),  # tiny and narrow: cost and GPUs go too
    ((160, 18), False, True, 11),  # tiny but wide: cost and GPUs stay beside the table
])
async def test_the_model_table_keeps_the_room(settings, size, detail, right, rows_at_least):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot)
        await pilot.pause()
        table = app.fleet_screen.query_one(ModelTable)
        assert _shown(app) == {"detail": detail, "right": right}
        assert table.size.height - 1 >= rows_at_least  # (the header line)


async def test_resizing_moves_between_the_layouts_and_x_still_shows_the_chart(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        assert _shown(app) == {"detail": True, "right": True}
        await pilot.resize_terminal(80, 16)
        await pilot.pause()
        assert _shown(app) == {"detail": False, "right": False}
        app.fleet_screen.query_one(ModelTable).focus()
        await pilot.press("x")  # expand: the selected model's chart and history
        await pilot.pause()
        assert _shown(app)["detail"] is True
        await pilot.press("escape")
        await pilot.pause()
        assert _shown(app)["detail"] is False
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert _shown(app) == {"detail": True, "right": True}
