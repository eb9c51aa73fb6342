"""The screens' partial updates (widgets.render.compositor) write what Textual's write.

A virtual terminal takes every update the app renders; after each frame its cells must be
the screen's full render (nothing stale, nothing missing), and each partial update must
write, cell for cell, what Textual's own ``Compositor.render_partial_update`` writes for
the same dirty regions.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import ControlType
from rich.segment import Segment
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Size

from backends.domain.models import GpuDevice
from console.app import make_app
from console.config import load_settings
from console.controllers.polling import FLEET_SCOPE
from console.controllers.state import RATE_WINDOW_S
from tests.console.conftest import demo_backends, wait_for, wait_loaded, workers_idle
from widgets.gpu_grid import GpuGrid
from widgets.render.compositor import DirtyOnlyCompositor

_CONSOLE = Console(width=200, height=60, color_system="truecolor", legacy_windows=False)


def cells(update, size: Size) -> dict[tuple[int, int], tuple[str, object]]:
    """(x, y) -> (character, style) of what ``update`` writes to a terminal."""
    out: dict[tuple[int, int], tuple[str, object]] = {}
    x = y = 0
    for seg in update.__rich_console__(_CONSOLE, _CONSOLE.options):
        if not isinstance(seg, Segment):
            continue
        if seg.control:
            for code in seg.control:
                if code[0] == ControlType.CURSOR_MOVE_TO:
                    x, y = code[1], code[2]
            continue
        if seg.text == "\n":
            x, y = 0, y + 1
            continue
        for ch in seg.text:
            if 0 <= x < size.width and 0 <= y < size.height:
                out[(x, y)] = (ch, seg.style)
            x += 1
    return out


class Watch:
    """Patches DirtyOnlyCompositor for a test: each partial update also rendered by
    Textual's compositor (compared), every update applied to a virtual terminal."""

    def __init__(self, monkeypatch) -> None:
        self.terminal: dict[tuple[int, int], tuple[str, object]] = {}
        self.partial = 0
        self.mismatches: list[str] = []
        ours = DirtyOnlyCompositor.render_partial_update
        full = Compositor.render_full_update
        watch = self

        def partial(compositor):
            dirty = set(compositor._dirty_regions)
            theirs = Compositor.render_partial_update(compositor)  # clears the regions
            compositor._dirty_regions.update(dirty)
            update = ours(compositor)
            if update is not None:
                watch.partial += 1
                a, b = cells(theirs, compositor.size), cells(update, compositor.size)
                if a != b:
                    diff = sorted(set(a.items()) ^ set(b.items()))[:5]
                    watch.mismatches.append(f"{len(set(a.items()) ^ set(b.items()))} "
                                            f"cells differ, e.g. {diff}")
                watch.terminal.update(b)
            return update

        def whole(compositor, simplify: bool = False):
            update = full(compositor, simplify)
            watch.terminal.update(cells(update, compositor.size))
            return update

        monkeypatch.setattr(DirtyOnlyCompositor, "render_partial_update", partial)
        monkeypatch.setattr(DirtyOnlyCompositor, "render_full_update", whole)

    def stale(self, screen) -> list[int]:
        """Lines whose terminal cells differ from the screen's full render now."""
        size = screen._compositor.size
        strips = screen._compositor.render_strips()
        want = {}
        for y, strip in enumerate(strips):
            x = 0
            for seg in strip:
                for ch in seg.text:
                    want[(x, y)] = (ch, seg.style)
                    x += 1
        return sorted({y for (x, y), v in want.items()
                       if x < size.width and self.terminal.get((x, y)) != v})


def refresh(app, backends) -> None:
    """One metrics refresh, 15 s later, as the poller makes it."""
    at = backends.clock.advance(15)
    scope = app.poller.gpu_scope()
    part = (backends.metrics.read(app.state.cluster.services, RATE_WINDOW_S, at)
            if scope is None else backends.metrics.read(
                app.state.cluster.services, RATE_WINDOW_S, at, gpu_scope=scope))
    app.poller.on_source_updated(app.poller.metrics_update(part, at))


async def test_partial_updates_match_textual_and_leave_nothing_stale(monkeypatch):
    watch = Watch(monkeypatch)
    backends = demo_backends(n_gpus=2400, n_models=120)
    app = make_app(load_settings(refresh=3600), backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        app.paused = True
        await pilot.pause()
        assert type(app.screen._compositor) is DirtyOnlyCompositor
        assert app.poller.gpu_scope() == FLEET_SCOPE  # the 100 busiest: line counts vary
        for step in range(6):
            refresh(app, backends)
            await pilot.pause()
            if step % 2:
                await pilot.press("down", "down")
                await pilot.pause()
            assert watch.stale(app.screen) == [], f"refresh {step}"
        app.navigator.open_view("gpus")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "GpuScreen")
        await workers_idle(pilot)
        refresh(app, backends)
        await pilot.pause()
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert type(app.screen._compositor) is DirtyOnlyCompositor
        assert watch.stale(app.screen) == []
    assert watch.partial >= 10
    assert watch.mismatches == []


def gpu(node: str, index: int, util: float) -> GpuDevice:
    return GpuDevice(node=node, index=index, model_name="H100", util_percent=util,
                     memory_used_mib=1000, memory_total_mib=80000, pod=f"p{index}")


async def test_gpu_panel_has_no_horizontal_scrollbar_and_blanks_a_shortened_end(monkeypatch):
    """Its lines are drawn at the visible width: a vertical scrollbar must not bring a
    horizontal one; a list that gets shorter leaves no stale line below its end; a new
    line count repaints the scrollbar only, not the whole panel."""
    from textual.app import App, ComposeResult

    watch = Watch(monkeypatch)

    class Host(App):
        def compose(self) -> ComposeResult:
            yield GpuGrid()

        def on_mount(self) -> None:
            from widgets.render.compositor import render_dirty_only

            render_dirty_only(self.screen)

    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        grid = app.query_one(GpuGrid)
        grid.show_gpus([gpu(f"n{i // 8}", i % 8, 50) for i in range(40)])
        await pilot.pause()
        assert grid.show_vertical_scrollbar and not grid.show_horizontal_scrollbar
        whole = []
        real = grid.refresh
        monkeypatch.setattr(grid, "refresh", lambda *r, **k: (whole.append(r), real(*r, **k))[1])
        grid.show_gpus([gpu(f"n{i // 8}", i % 8, 60) for i in range(38)])
        await pilot.pause()
        assert () not in whole  # lines, never the whole panel
        assert watch.stale(app.screen) == []
        grid.show_gpus([gpu("n0", i, 70) for i in range(8)])  # 9 lines: no scrollbar
        await pilot.pause()
        assert not grid.show_vertical_scrollbar and watch.stale(app.screen) == []
        whole.clear()
        grid.show_gpus([gpu("n0", i, 70) for i in range(3)])  # 4 lines: 5 to blank
        await pilot.pause()
        assert () not in whole
        assert watch.stale(app.screen) == []
        assert app.screen._compositor.render_strips()[6].text.strip() == ""
    assert watch.mismatches == []
