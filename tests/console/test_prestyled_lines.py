"""The line widgets' own styled-line path (widgets.repaint.PrestyledLines) paints exactly
what Textual's per-line styling would, whatever the border, padding, focus, crop or
theme; effects it cannot reproduce take Textual's path; TextLines repaints only the
lines whose text changed."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from backends.domain.models import CostBurn, GpuDevice
from tests.console.conftest import spy
from widgets.cost_panel import CostPanel
from widgets.gpu_grid import GpuGrid
from widgets.model_rows import rows_from_snapshot
from widgets.model_table import ModelTable
from widgets.text_lines import TextLines
from widgets.titles import set_border_subtitle

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def gpus(util: float, n: int = 12) -> tuple[GpuDevice, ...]:
    return tuple(GpuDevice(node=f"node-{i // 4}", index=i % 4, util_percent=(util + 7 * i) % 100,
                           memory_used_mib=1000.0 * i, memory_total_mib=80000.0,
                           temperature_c=60.0 + i, power_watts=300.0, model=f"m{i % 3}")
                 for i in range(n))


class Panels(App):
    CSS = """
    GpuGrid { border: round $primary-muted; padding: 0 1; height: 10; }
    GpuGrid:focus { border: round $primary; }
    ModelTable { border-top: solid $primary-muted; height: 8; }
    CostPanel { border: round $primary-muted; border-title-color: $text-accent; }
    TextLines#tinted { tint: red 30%; }
    """

    def compose(self) -> ComposeResult:
        yield GpuGrid()
        yield ModelTable()
        yield CostPanel()
        yield TextLines(Text("tinted\nlines"), id="tinted")
        # ANSI colours and dim: the app's line filter changes these segments
        ansi = Text("ansi red ")
        ansi.append("dim", "dim green")
        ansi.append("\nplain line")
        yield TextLines(ansi, id="ansi")


def textual_lines(widget: Widget, crop: Region) -> list:
    """What Textual's own path paints for ``crop`` of ``widget`` (its cache dropped)."""
    widget._styles_cache.clear()
    return Widget.render_lines(widget, crop)


def same_paint(widget: Widget) -> None:
    """The widget's lines equal Textual's for the whole widget and for partial crops."""
    width, height = widget.outer_size
    for crop in (Region(0, 0, width, height), Region(3, 1, width - 5, height - 2),
                 Region(0, height - 1, width, 1)):
        ours = [strip.text for strip in widget.render_lines(crop)]
        ours_segments = [list(strip) for strip in widget.render_lines(crop)]
        theirs = textual_lines(widget, crop)
        assert ours == [strip.text for strip in theirs], crop
        assert ours_segments == [list(strip) for strip in theirs], crop


async def test_fast_lines_equal_textuals_own_painting() -> None:
    app = Panels()
    async with app.run_test(size=(90, 40)) as pilot:
        grid, table, cost = app.query_one(GpuGrid), app.query_one(ModelTable), app.query_one(CostPanel)
        grid.show_gpus(gpus(10.0))
        cost.cost = CostBurn(hourly=12.5, today=100.0, month_projection=900.0,
                             monthly_budget=1000.0, source="demo")
        cost.border_title = "cost"
        await pilot.pause()
        from backends.domain.models import FleetSnapshot, ModelService  # noqa: PLC0415

        snap = FleetSnapshot(taken_at=NOW, context="c", services=tuple(
            ModelService(name=f"model-{i}", namespace="ns", cluster="c") for i in range(5)))
        table.show_rows(rows_from_snapshot(snap))
        await pilot.pause()
        ansi = app.query_one("#ansi", TextLines)
        for widget in (grid, table, cost, ansi):
            assert widget._frame_for_lines() is not None  # the fast path is the one tested
            same_paint(widget)
        # new figures: the changed lines come from the fast path, still Textual's paint
        grid.show_gpus(gpus(55.0))
        await pilot.pause()
        same_paint(grid)
        # scrolled: other lines in the same rows
        top_row = grid.render_lines(Region(0, 1, grid.outer_size.width, 1))[0].text
        grid.scroll_to(y=5, animate=False)
        await pilot.pause()
        assert grid.render_lines(Region(0, 1, grid.outer_size.width, 1))[0].text != top_row
        same_paint(grid)
        # focus changes the border colour: the frame follows
        table.focus()
        await pilot.pause()
        same_paint(grid)
        before = grid.render_lines(Region(0, 1, grid.outer_size.width, 1))[0]
        grid.focus()
        await pilot.pause()
        after = grid.render_lines(Region(0, 1, grid.outer_size.width, 1))[0]
        assert list(before) != list(after)
        same_paint(grid)
        # a new theme: new colours everywhere, still the same paint
        app.theme = "textual-light"
        await pilot.pause()
        for widget in (grid, table, cost):
            same_paint(widget)


async def test_effects_the_fast_path_cannot_paint_take_textuals_path() -> None:
    app = Panels()
    async with app.run_test(size=(90, 40)) as pilot:
        await pilot.pause()
        tinted = app.query_one("#tinted", TextLines)
        assert tinted._frame_for_lines() is None
        same_paint(tinted)


async def test_text_lines_repaint_only_changed_lines() -> None:
    app = Panels()
    async with app.run_test(size=(90, 40)) as pilot:
        cost = app.query_one(CostPanel)
        first = CostBurn(hourly=12.5, today=100.0, month_projection=900.0,
                         monthly_budget=1000.0, source="demo")
        cost.cost = first
        await pilot.pause()
        calls = spy(cost, "refresh")
        cost.cost = first.model_copy(update={"hourly": 13.75})  # one line changes
        await pilot.pause()
        assert len(calls) == 1
        regions, kwargs = calls[0]
        assert [r.y for r in regions] == [0] and not kwargs.get("layout")
        assert "$13.75" in cost.render_lines(Region(0, 1, cost.outer_size.width, 1))[0].text
        calls.clear()
        cost.cost = None  # another shape: the whole panel, laid out again
        await pilot.pause()
        assert calls and calls[0][0] == () and calls[0][1].get("layout")


async def test_a_new_subtitle_repaints_only_the_bottom_border() -> None:
    app = Panels()
    async with app.run_test(size=(90, 40)) as pilot:
        grid = app.query_one(GpuGrid)
        grid.show_gpus(gpus(10.0))
        await pilot.pause()
        width, height = grid.outer_size
        bottom = Region(0, height - 1, width, 1)
        calls = spy(grid, "refresh")
        set_border_subtitle(grid, Text("[b]12 GPUs[/b] · avg util 55%"))  # Text: literal
        await pilot.pause()
        # one row: the bottom border (relative to the content: border and padding 0 1 before it)
        assert calls == [((Region(-2, height - 2, width, 1),), {})]
        quiet = grid.render_lines(bottom)[0]
        assert "[b]12 GPUs[/b] · avg util 55%" in quiet.text
        same_paint(grid)
        # the same paint as Textual's own descriptor gives
        del grid.refresh  # the spy off: the class's own refresh again
        grid.border_subtitle = Text("[b]12 GPUs[/b] · avg util 55%")
        await pilot.pause()
        assert list(grid.render_lines(bottom)[0]) == list(quiet)
