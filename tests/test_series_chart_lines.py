"""SeriesChart's line API draws exactly what Textual drew of the chart as one Rich Text
(the widget before it kept its own lines): every cell's character and style, for charts
with several series, a threshold, markers, no data, a sparkline and the waiting line;
and a chart drawn ahead (in a worker) is taken only while it still fits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.widget import Widget

from backends.domain.models import Point, Series
from widgets.series_chart import ChartPainter, Marker, SeriesChart, render_chart

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def series(name: str, values) -> Series:
    return Series(name=name, points=[Point(at=T0 + timedelta(minutes=i), value=v)
                                     for i, v in enumerate(values)])


CASES = [
    ([series("p50 ms", [10, 12, 11, 30, 25, 24, 26, 40]),
      series("p95 ms", [20, 22, 31, 60, 45, 44, 46, 70]),
      series("p99 ms", [40, None, 51, 90, 85, 84, 96, 120])],
     {"threshold": 80.0, "markers": [Marker(T0 + timedelta(minutes=3), "▲", "rev 2"),
                                     Marker(T0 + timedelta(minutes=7), "◆", "note")]}),
    ([series("rps", [1.5, 2.5, 2.0, 3.0])], {}),
    ([series("error %", [None, None])], {"threshold": 1.0}),
    ([], {}),
]


class OldChart(SeriesChart):
    """The widget as it was: ``render()`` gives one Text of role-styled segments and
    Textual turns it into lines (Static's path)."""

    def render(self) -> Text:
        width, height = self.content_size
        role = lambda name: self.get_component_rich_style(f"chart--{name}", partial=True)  # noqa: E731
        if self._data is None:
            return Text("waiting for data…", style=role("empty"), no_wrap=True)
        data, start, end, threshold, markers = self._data
        text = Text(no_wrap=True, overflow="crop")
        lines = render_chart(data, width, height, start=start, end=end,
                             threshold=threshold, markers=markers)
        for i, line in enumerate(lines):
            if i:
                text.append("\n")
            for chunk, name in line:
                text.append(chunk, role(name))
        return text

    render_line = Widget.render_line
    render_lines = Widget.render_lines


class Pair(App):
    CSS = ".box { border: round $primary; width: 1fr; }"

    def __init__(self, height: int) -> None:
        super().__init__()
        self.box_height = height

    def compose(self) -> ComposeResult:
        with Horizontal():
            for cls, cid in ((SeriesChart, "new"), (OldChart, "old")):
                with Vertical(classes="box") as box:
                    box.styles.height = self.box_height
                    yield cls(id=cid)


def segments(lines) -> list[list[tuple[str, object]]]:
    """Each line's segments: text and style (its meta too: the offsets Textual marks
    text with), so not only every cell but how the line is cut into segments (what a
    screenshot shows) are compared."""
    return [[(seg.text, seg.style) for seg in line] for line in lines]


async def assert_same(app: Pair) -> None:
    new, old = app.query_one("#new", SeriesChart), app.query_one("#old", OldChart)
    assert new.size == old.size
    region = Region(0, 0, new.outer_size.width, new.outer_size.height)
    assert segments(new.render_lines(region)) == segments(old.render_lines(region))


async def test_lines_are_what_textual_drew_of_the_text():
    compared = 0
    for height, width in ((12, 120), (5, 80), (4, 30)):
        app = Pair(height)
        async with app.run_test(size=(width, 30)) as pilot:
            await pilot.pause()
            await assert_same(app)  # waiting for data
            for data, kwargs in CASES:
                for chart in app.query(SeriesChart):
                    chart.show(data, start=T0, end=T0 + timedelta(minutes=8), **kwargs)
                await pilot.pause()
                await assert_same(app)
                compared += 1
            app.theme = "textual-light"  # other colours: drawn again in them
            await pilot.pause()
            await assert_same(app)
    assert compared == len(CASES) * 3


async def test_a_chart_drawn_ahead_is_used_only_while_it_fits(monkeypatch):
    app = Pair(12)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        chart = app.query_one("#new", SeriesChart)
        painter = chart.painter()
        assert painter is not None
        data, kwargs = CASES[0]
        drawn = painter.draw(data, start=T0, end=T0 + timedelta(minutes=8), **kwargs)
        other = painter.draw(data, start=T0, end=T0 + timedelta(minutes=9), **kwargs)
        calls: list = []
        real = ChartPainter.strips
        monkeypatch.setattr(ChartPainter, "strips",
                            lambda self, data: calls.append(data) or real(self, data))
        chart.show(data, start=T0, end=T0 + timedelta(minutes=8), drawn=drawn, **kwargs)
        await pilot.pause()
        assert calls == []  # its lines were drawn ahead: none drawn on the UI thread
        assert chart._lines is not None and chart._lines[1] is drawn.strips
        # drawn for other data (another end): not taken, the widget draws its own
        chart.show(data, start=T0, end=T0 + timedelta(minutes=10), drawn=other, **kwargs)
        await pilot.pause()
        assert len(calls) == 1 and chart._lines[1] is not other.strips
        assert_same_text(chart)
        # drawn at another size (the terminal was resized since): not taken either
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        before = len(calls)  # (the chart drew its data again at the new size)
        chart.show(data, start=T0, end=T0 + timedelta(minutes=9), drawn=other, **kwargs)
        await pilot.pause()
        assert chart.painter() != painter
        assert len(calls) == before + 1 and chart._lines[1] is not other.strips
        assert_same_text(chart)


def assert_same_text(chart: SeriesChart) -> None:
    assert chart._lines is not None
    expected = chart._lines[0].strips(chart._data)
    assert [s.text for s in chart._lines[1]] == [s.text for s in expected]
