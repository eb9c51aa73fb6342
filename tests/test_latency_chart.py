"""The fleet latency chart: plotext figures drawn in threads, shown through the line API."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from textual.app import App, ComposeResult

from backends.domain.models import Point, Series
from widgets.chart import LatencyChart, build_chart

T0 = datetime(2026, 11, 21, 13, 0, tzinfo=timezone.utc)
THEME = ("textual-dark", (30, 30, 30), (220, 220, 220))


def series(name: str, scale: float, n: int = 60) -> Series:
    return Series(name=name, points=tuple(
        Point(at=T0 + timedelta(minutes=i), value=scale * (1 + (i % 7))) for i in range(n)))


def lines_of(content) -> list[str]:
    return content.plain.split("\n")


def test_build_chart_fills_the_size_asked():
    lines = lines_of(build_chart("1h", [series("p95", 10), series("errors %", 0.1)],
                                 70, 14, THEME))
    assert len(lines) == 14
    assert all(len(line) == 70 for line in lines)
    assert "min (1h)" in "\n".join(lines)


def test_no_data_says_so():
    assert "no data" in build_chart("1h", [], 40, 8, THEME).plain


def test_hostile_series_name_stays_literal():
    text = build_chart("1h", [series("p95 \x1b[2J[bold red]x[/]", 10)], 80, 12, THEME).plain
    assert "\x1b" not in text
    assert "[bold red]x[/]" in text


def test_concurrent_builds_do_not_share_a_figure():
    jobs = [("1h", [series(f"p{50 + k}", 10 * (k + 1))], 60 + k, 10 + k, THEME)
            for k in range(6)]
    alone = [build_chart(*job).plain for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = [f.plain for f in pool.map(lambda job: build_chart(*job), jobs * 3)]
    assert together == alone * 3


class ChartApp(App):
    CSS = "LatencyChart { height: 10; }"

    def compose(self) -> ComposeResult:
        yield LatencyChart(id="chart")


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await pilot.pause(0.02)


async def test_widget_draws_off_thread_and_redraws_on_resize():
    app = ChartApp()
    async with app.run_test(size=(60, 20)) as pilot:
        chart = app.query_one(LatencyChart)
        chart.show_series("llm", "1h", [series("p95", 10), series("p99", 20)])

        def width() -> int:
            plain = chart.plain
            return len(plain.split("\n")[0]) if plain else 0

        await wait_for(pilot, lambda: width() == 60)
        assert "min (1h)" in chart.plain
        shown = [chart.render_line(y).text for y in range(chart.content_size.height)]
        assert all(len(line) == 60 for line in shown)  # every line exactly the width
        assert shown == chart.plain.split("\n")  # what is on screen is the figure
        await pilot.resize_terminal(90, 20)
        await wait_for(pilot, lambda: width() == 90)
        chart.show_series("llm", "6h", [series("p95", 10)])
        await wait_for(pilot, lambda: "min (6h)" in chart.plain)


async def test_a_figure_drawn_by_the_loading_worker_is_shown_without_a_second_worker():
    app = ChartApp()
    async with app.run_test(size=(60, 20)) as pilot:
        chart = app.query_one(LatencyChart)
        await pilot.pause()
        data = [series("p95", 10), series("p99", 20)]
        drawn = chart.drawer("llm", "1h")(data)  # what load_chart's thread does
        chart.show_series("llm", "1h", data, drawn)
        assert chart.plain == drawn[1].plain and "min (1h)" in chart.plain  # at once
        assert not [w for w in app.workers if w.group == "chart-draw"]
        # drawn for another size (the terminal was resized meanwhile): drawn again
        stale = chart.drawer("llm", "6h")(data)
        await pilot.resize_terminal(90, 20)
        await pilot.pause()
        chart.show_series("llm", "6h", data, stale)
        await wait_for(pilot, lambda: "min (6h)" in chart.plain
                       and len(chart.plain.split("\n")[0]) == 90)


def test_legend_is_a_line_of_its_own_in_the_series_colours():
    palette = ((1, 2, 3), (4, 5, 6), (7, 8, 9), (200, 10, 10))
    theme = (*THEME, palette)
    figure = build_chart("1h", [series("p95 ms", 10), series("error %", 0.1),
                                series("[bold red]x[/] p50", 5)], 70, 14, theme)
    first, *plot = figure.plain.split("\n")
    # literal names, left-axis series first (in their order), then the right-axis one
    assert first.split() == ["━", "p95", "ms", "━", "[bold", "red]x[/]", "p50",
                             "━", "error", "%", "(right)"]
    assert len(plot) == 13 and "min (1h)" in plot[-1]
    assert not any("⢕⢕" in line for line in plot)  # plotext's own legend is not drawn
    marks = [seg for seg in figure.strips[0] if seg.text.strip() == "━"]
    assert [seg.style.color.triplet for seg in marks] == [(4, 5, 6), (1, 2, 3), (200, 10, 10)]


def test_a_small_chart_keeps_its_lines_for_the_plot():
    figure = build_chart("1h", [series("p95 ms", 10)], 40, 7, THEME)
    assert len(figure.plain.split("\n")) == 7 and "━ p95" not in figure.plain
