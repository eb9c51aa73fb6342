"""A panel that moves is one layout (widgets.render.settled_sizes): the fleet screen's
panels moved by the problem strip (an incident starting, a calm given back) are laid
out once, to the geometry a further layout would give them, and the scrollable tables
and the GPU panel get the quiet scrollbars."""

from __future__ import annotations

import time

from textual.containers import Horizontal, Vertical
from textual.scrollbar import ScrollBar

from console.app import make_app
from tests.console.conftest import count_layouts, demo_backends, wait_for, wait_loaded
from widgets.gpu_grid import GpuGrid
from widgets.model_table import ModelTable
from widgets.problem_strip import ProblemStrip
from widgets.render.settled_sizes import QuietScrollBar, SettledHorizontal, SettledVertical


def _geometry(screen) -> dict:
    """Every visible widget's region, virtual size and container size, by widget."""
    return {w: (r, v, c) for w, (r, _o, _clip, v, c, _, _) in
            screen._compositor.layers}


async def test_an_incident_starting_and_ending_moves_the_fleet_screen_in_one_layout(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        screen = app.fleet_screen
        strip = screen.query_one(ProblemStrip)
        table = screen.query_one(ModelTable)
        problems = strip.lines
        assert problems and strip.size.height == 4  # the demo has an incident on
        now = [time.monotonic()]
        strip.clock = lambda: now[0]
        for lines, height in (((), 1), (problems, 4), ((), 1)):
            now[0] += 10 * ProblemStrip.SHRINK_AFTER_S  # a calm is given back at once
            top, before = table.region.y, strip.size.height
            layouts = count_layouts(app)
            strip.show(lines)
            await wait_for(pilot, lambda: strip.size.height == height)
            await pilot.pause(0.1)
            assert len(layouts) == 1, layouts  # Textual's own containers: two
            assert table.region.y == top + height - before != top  # the panels moved
            moved = _geometry(screen)
            screen._refresh_layout(app.size)  # what another layout would make of it
            await pilot.pause()
            assert _geometry(screen) == moved


async def test_the_panels_and_scrollbars_are_the_settled_ones(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        screen = app.fleet_screen
        for name, kind in (("#body", SettledHorizontal), ("#left", SettledVertical),
                           ("#right", SettledVertical)):
            box = screen.query_one(name)
            # still Textual's containers to the CSS (type selectors, default styles)
            assert isinstance(box, kind) and isinstance(box, (Horizontal, Vertical))
            assert box.styles.layout is not None
        for widget in (screen.query_one(ModelTable), screen.query_one(GpuGrid)):
            bar = widget.vertical_scrollbar
            assert type(bar) is QuietScrollBar and isinstance(bar, ScrollBar)
            assert widget.vertical_scrollbar is bar  # created once, kept
