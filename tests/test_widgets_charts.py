"""Chart and bar helpers on hostile series: empty, single point, gaps, NaN, huge values."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.models import DriftSeries, GpuDevice, Point, Series
from widgets.bars import meter, power_limits, power_percent
from widgets.drift_chart import crossed_at, model_summary, worst_first
from widgets.gpu_table import filter_gpus, is_idle, sort_gpus
from widgets.series_chart import Marker, plain, render_chart, si, sparkline

T0 = datetime(2026, 11, 21, 13, 0, tzinfo=timezone.utc)


def series(values, name="s", step_s=60) -> Series:
    # model_construct keeps NaN/inf as they are (the renderer must cope on its own)
    pts = tuple(Point.model_construct(at=T0 + timedelta(seconds=i * step_s), value=v)
                for i, v in enumerate(values))
    return Series(name=name, points=pts)


def check_shape(lines, width, height):
    text = plain(lines)
    assert len(text) == height
    assert all(len(line) == width for line in text), [len(x) for x in text]
    return text


@pytest.mark.parametrize("width,height", [(60, 12), (30, 6), (12, 3), (8, 2), (1, 1)])
def test_empty_series_say_no_data(width, height):
    for data in ([], [series([])], [series([None, None])], [series([math.nan])]):
        text = check_shape(render_chart(data, width, height), width, height)
        if width >= 7 and height >= 1:
            assert "no data" in "\n".join(text)


def test_single_point_is_drawn_centred():
    text = check_shape(render_chart([series([42.0])], 40, 8), 40, 8)
    body = "\n".join(text)
    assert any("\u2800" < ch <= "\u28ff" for ch in body)
    top, bottom = float(text[1].split("┤")[0]), float(text[-2].split("┤")[0])
    assert bottom < 42.0 < top  # a visible band around the single value


def test_gaps_break_the_line():
    values = [10.0] * 10 + [None] * 20 + [10.0] * 10
    text = check_shape(render_chart([series(values)], 44, 6, legend=False), 44, 6)
    row = next(line for line in text if any("\u2800" < ch <= "\u28ff" for ch in line))
    plot = row[row.index("┤") + 1:] if "┤" in row else row[row.index("│") + 1:]
    # the gap stays blank: no dot in the middle third of the plot
    third = len(plot) // 3
    assert plot[third + 2: 2 * third - 2].strip() == ""


def test_nan_and_inf_are_gaps_not_crashes():
    values = [1.0, math.nan, 2.0, math.inf, -math.inf, 3.0]
    text = check_shape(render_chart([series(values)], 40, 8), 40, 8)
    assert "nan" not in "\n".join(text).lower() and "inf" not in "\n".join(text).lower()


@pytest.mark.parametrize("values", [[1e300, 2e300], [-1e308, 1e308], [1e12, 1e12 + 1], [0.0, 1e-300]])
def test_huge_and_tiny_values(values):
    text = check_shape(render_chart([series(values)], 40, 8, threshold=1e301), 40, 8)
    assert "nan" not in "\n".join(text).lower()


def test_threshold_and_markers():
    lines = render_chart([series([1.0, 2.0, 3.0])], 40, 8, threshold=2.5,
                         markers=[Marker(T0 + timedelta(seconds=60), "◆")])
    text = check_shape(lines, 40, 8)
    assert "╌" in "\n".join(text) and "limit 2.5" in text[0]
    assert "◆" in text[-1]
    roles = {role for line in lines for _, role in line}
    assert {"threshold", "marker", "s0", "axis"} <= roles


def test_legend_is_literal_and_truncated():
    hostile = series([1.0, 2.0], name="[bold red]x[/]")
    text = check_shape(render_chart([hostile, series([1, 2], name="m" * 300)], 40, 8), 40, 8)
    assert "[bold red]x[/]" in text[0]


def test_labels_and_sparkline():
    assert si(1234567) == "1.23M" and si(0.5) == "0.5" and si(None) == "—" and si(3e20) == "3e+20"
    assert sparkline([], 5) == "·····"
    assert sparkline([1, None, math.nan, 5], 4) == "▁  █"
    assert len(sparkline([1e308, -1e308], 2)) == 2


def test_meter_handles_missing_and_bounds():
    assert meter(None, 4) == "····"
    assert meter(math.nan, 3) == "···"
    assert meter(100, 4) == "████" and meter(250, 4) == "████" and meter(-5, 4) == "    "
    assert meter(50, 4) == "██  " and meter(0, 0) == ""


def gpu(node, index, util, model="m", cost=2.0, **kw):
    return GpuDevice(node=node, index=index, util_percent=util, pod="p" if model else None,
                     model=model, hourly_cost=cost, memory_used_mib=10, memory_total_mib=100,
                     **kw)


def test_gpu_sort_filter_and_idle():
    gpus = [gpu("n2", 0, 90), gpu("n1", 1, 2, cost=4.0), gpu("n1", 0, None, model=None),
            gpu("n3", 0, 50, last_xid=79, xid_current=True, temperature_c=88, power_watts=300,
                model_name="NVIDIA H100")]
    assert [g.node for g in sort_gpus(gpus, "node")] == ["n1", "n1", "n2", "n3"]
    assert [g.util_percent for g in sort_gpus(gpus, "util")][:2] == [90, 50]
    assert sort_gpus(gpus, "idle")[0].index == 1 and is_idle(gpus[1]) and not is_idle(gpus[2])
    assert [g.node for g in filter_gpus(gpus, "xid")] == ["n3"]
    assert [g.node for g in filter_gpus(gpus, "hot")] == ["n3"]
    assert len(filter_gpus(gpus, "free")) == 1 and len(filter_gpus(gpus, "n1 idle")) == 1
    limits = power_limits(gpus)
    assert power_percent(gpus[3], limits) == pytest.approx(300 / 700 * 100)


def test_drift_crossing_and_order():
    pts = tuple(Point(at=T0 + timedelta(minutes=30 * i), value=v)
                for i, v in enumerate([0.1, 0.25, 0.1, None, 0.3, 0.35]))
    assert crossed_at(pts, 0.2) == T0 + timedelta(minutes=120)
    assert crossed_at(pts[:3], 0.2) is None
    a = DriftSeries(model="m", feature="a", threshold=0.2, points=pts)
    b = DriftSeries(model="m", feature="b", threshold=0.2, points=pts[:1])
    c = DriftSeries(model="n", feature="c", threshold=0.2)
    assert [d.feature for d in worst_first([c, b, a])] == ["a", "b", "c"]
    assert model_summary([a, b, c])[0][:3] == ("m", 1, 2)
