"""Widgets are usable alone, show None as a marker (never 0) and keep strings literal."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from backends.domain.models import (
    CostBurn, FleetSnapshot, GpuDevice, HealthSample, ModelService, SourceStatus,
)
from tests.console.conftest import count_layouts
from widgets.levels import Level, model_status, source_label
from widgets.cost_panel import CostPanel
from widgets.gpu_grid import GpuGrid
from widgets.levels import UTIL_THRESHOLDS, load_level, temp_level
from widgets.model_rows import rows_from_snapshot
from widgets.text import MISSING, fmt_age, fmt_money, safe

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def test_safe_escapes_controls_and_truncates():
    assert safe("[bold red]x[/]") == "[bold red]x[/]"
    assert safe("a\x1b[2Jb\n") == "a\\x1b[2Jb\\x0a"
    assert safe("🔥 ok") == "🔥 ok"
    assert safe("x" * 300, 10) == "x" * 9 + "…"
    assert safe(None) == MISSING and fmt_money(None) == MISSING and fmt_age(None) == MISSING
    assert fmt_money(0.0) == "$0.00"  # a real zero stays a zero


def test_thresholds_like_nvitop():
    assert load_level(5, UTIL_THRESHOLDS) is Level.OK
    assert load_level(50, UTIL_THRESHOLDS) is Level.WARN
    assert load_level(90, UTIL_THRESHOLDS) is Level.BAD
    assert load_level(None, UTIL_THRESHOLDS) is Level.UNKNOWN
    assert temp_level(79.9) is Level.WARN and temp_level(80) is Level.BAD


def test_missing_figures_render_as_marker_not_zero():
    svc = ModelService(name="m", namespace="ns", cluster="c")
    snap = FleetSnapshot(taken_at=NOW, context="c", services=(svc,),
                         health={"m": HealthSample(model="m", at=NOW)})
    (row,) = rows_from_snapshot(snap)
    texts = [t for t, _ in row.cells]
    assert texts[0] == "m" and "0" not in texts[3:]
    assert texts.count(MISSING) >= 6
    assert model_status(svc, None, None) == ("?", Level.UNKNOWN)


def test_source_label_fresh_and_stale():
    ok = SourceStatus(name="metrics", ok=True, last_success=NOW)
    stale = SourceStatus(name="metrics", ok=False, last_success=NOW, error="boom")
    later = NOW.replace(second=42)
    assert source_label(ok, later) == ("metrics 42s", Level.OK)
    assert source_label(stale, later) == ("metrics stale 42s", Level.BAD)
    assert source_label(SourceStatus(name="x", ok=False, error="e"), NOW)[0] == "x failed"


class Alone(App):
    def compose(self) -> ComposeResult:
        yield GpuGrid()
        yield CostPanel()


async def test_gpu_grid_and_cost_panel_alone():
    app = Alone()
    async with app.run_test(size=(70, 20)) as pilot:
        cost = app.query_one(CostPanel)
        assert "waiting" in str(cost.render())
        grid = app.query_one(GpuGrid)
        grid.show_gpus((GpuDevice(node="[b]node[/b]\x1b[2J", index=0, util_percent=None,
                                  temperature_c=85.0, last_xid=79, xid_current=True),
                        # dcgm keeps the last XID forever: an old one is not counted or red
                        GpuDevice(node="[b]node[/b]\x1b[2J", index=1, last_xid=48),))
        cost.cost = CostBurn(hourly=None, monthly_budget=100.0, month_projection=120.0)
        await pilot.pause()
        assert grid.hot_count == 1 and grid.xid_count == 1
        lines = [grid.render_line(y).text for y in range(2)]
        assert lines[0].startswith("[b]node[/b]\\x1b[2J")
        assert " n/a" in lines[1] and "85C" in lines[1] and "XID 79" in lines[1]
        assert "XID" not in grid.render_line(2).text
        text = str(cost.render())
        assert "120% over" in text and MISSING in text


def test_status_badge_order_canary_paused_rolling():
    from backends.domain.models import TrafficTarget

    base = ModelService(name="m", namespace="ns", cluster="c", replicas_ready=1,
                        replicas_desired=1)
    canary = base.model_copy(update={"paused": True, "traffic": (
        TrafficTarget(revision="a", percent=90), TrafficTarget(revision="b", percent=10,
                                                               role="canary"))})
    assert model_status(canary, None, None)[0] == "CANARY"  # Argo paused at a canary step
    assert model_status(base.model_copy(update={"paused": True}), None, None) == (
        "PAUSED", Level.WARN)
    assert model_status(base.model_copy(update={"rollout_in_progress": True}), None, None) == (
        "ROLLING", Level.INFO)
    assert model_status(base, None, None) == ("?", Level.UNKNOWN)


async def test_cost_panel_says_why_it_is_empty():
    from widgets.cost_panel import CostPanel

    class One(App):
        def compose(self) -> ComposeResult:
            yield CostPanel()

    app = One()
    async with app.run_test() as pilot:
        panel = app.query_one(CostPanel)
        assert "waiting for data" in str(panel.render_cost(None))
        panel.empty_text = "no metrics source (--prometheus URL)"
        await pilot.pause()
        assert "no metrics source" in str(panel.render_cost(None))


def test_model_names_carry_their_context_when_the_table_holds_several():
    from backends.domain.models import FleetSnapshot
    from widgets.model_rows import rows_from_snapshot

    def svc(ctx):
        return ModelService(name="embedder", namespace="ml", cluster=ctx, replicas_ready=1,
                            replicas_desired=1)

    eu = svc("prod-eu")
    one = FleetSnapshot(taken_at=NOW, context="prod-eu", services=(eu,))
    assert [r.cells[0][0] for r in rows_from_snapshot(one)] == ["embedder"]
    cache: dict = {}
    two = FleetSnapshot(taken_at=NOW, context="prod-eu,prod-us",
                        services=(eu, svc("[b]us[/b]")))
    rows = rows_from_snapshot(two, cache)
    assert [r.cells[0][0] for r in rows] == ["prod-eu/embedder", "[b]us[/b]/embedder"]
    assert [r.matches("prod-eu") for r in rows] == [True, False]  # / filters by context
    # the same service object, cached with its context: one context again, plain name
    assert [r.cells[0][0] for r in rows_from_snapshot(one, cache)] == ["embedder"]


def test_rows_show_only_a_services_own_figures_when_its_name_is_shared():
    """Metrics are joined by model name (and namespace): a row never shows figures of
    another service with the same name. Same name and namespace in two contexts: neither
    row can be given figures; another namespace: only the row whose namespace they carry."""
    at = datetime(2026, 11, 21, 14, tzinfo=timezone.utc)
    sample = HealthSample(model="m", namespace="ml", at=at, rps=12.5, error_ratio=0.01)
    for other_ns, expected in (("ml", [MISSING, MISSING, "7.0"]),
                               ("dev", ["12.5", MISSING, "7.0"])):
        services = (ModelService(name="m", namespace="ml", cluster="eu"),
                    ModelService(name="m", namespace=other_ns, cluster="us"),
                    ModelService(name="solo", namespace="ml", cluster="eu"))
        snap = FleetSnapshot(taken_at=at, context="eu,us", services=services,
                             health={"m": sample, "solo": sample.model_copy(
                                 update={"model": "solo", "rps": 7.0})})
        assert [r.cells[5][0] for r in rows_from_snapshot(snap)] == expected, other_ns


async def test_tiles_wrap_between_tiles_never_inside_one():
    from widgets.model_panels import Tiles, health_tiles

    at = datetime(2026, 11, 21, 14, tzinfo=timezone.utc)
    tiles = health_tiles(HealthSample(model="m", at=at, rps=13.8, error_ratio=0.0006,
                                      p50_ms=1613, p95_ms=3432, p99_ms=4842, ttft_p95_ms=326,
                                      itl_p95_ms=27, tokens_per_s=2893,
                                      prompt_tokens_per_s=11571, queue_depth=0,
                                      kv_cache_percent=53), llm=True)

    class One(App):
        def compose(self) -> ComposeResult:
            yield Tiles(id="tiles")

    def lines(widget) -> list[str]:
        return [widget.render_line(y).text.strip() for y in range(widget.size.height)]

    async with One().run_test(size=(50, 12)) as pilot:
        widget = pilot.app.query_one(Tiles)
        widget.show_tiles(tiles)
        await pilot.pause()
        narrow = lines(widget)
        assert len(narrow) >= 4 and all(len(line) <= 48 for line in narrow)
        for t in tiles:  # each tile whole on one line, in order
            assert sum(f"{t.label} {t.value}" in line for line in narrow) == 1, t
        assert "ITL p95 27ms" in " ".join(narrow) and "prompt tok/s 11,571" in " ".join(narrow)
        await pilot.resize_terminal(160, 12)
        await pilot.pause()
        assert len(lines(widget)) < len(narrow)  # laid out again for the new width


def _gpus(nodes: int, per_node: int = 4) -> tuple[GpuDevice, ...]:
    return tuple(GpuDevice(node=f"node-{n:03d}", index=i, util_percent=float(50 + i))
                 for n in range(nodes) for i in range(per_node))


async def test_gpu_panel_grows_and_shrinks_without_laying_out_the_screen():
    """A GPU panel whose line count changes (the fleet's busiest GPUs, grouped by node)
    keeps its box: the scrollbar follows the new length and the scroll stays in range,
    and the screen is laid out again only when the scrollbar appears or goes."""
    app = Alone()
    async with app.run_test(size=(70, 20)) as pilot:
        grid = app.query_one(GpuGrid)
        grid.show_gpus(_gpus(30))  # 150 lines: scrolled
        await pilot.pause()
        assert grid.show_vertical_scrollbar and grid.virtual_size.height == 150
        grid.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert grid.scroll_y == grid.max_scroll_y > 0
        layouts = count_layouts(app)
        box = grid.region
        grid.show_gpus(_gpus(20))  # 100 lines: still scrolled, now past the end
        await pilot.pause()
        assert not layouts
        assert grid.region == box and grid.virtual_size.height == 100
        assert grid.vertical_scrollbar.window_virtual_size == 100
        assert grid.scroll_y == grid.max_scroll_y == 100 - grid.scrollable_content_region.height
        assert grid.render_line(0).text.strip()  # a line of the new list, not a blank
        grid.show_gpus(_gpus(1))  # 5 lines: the scrollbar goes, the screen is laid out
        await pilot.pause()
        assert layouts and not grid.show_vertical_scrollbar and grid.scroll_y == 0
        assert grid.render_line(0).text.startswith("node-000")


def test_a_node_heading_keeps_the_node_name_and_gives_up_the_product_name_first():
    """The GPU panel's node line: the node's name (what is cordoned or drained) whole while
    it fits; the product name loses its vendor, then its end, then goes; never wider than
    the panel."""
    from types import SimpleNamespace

    from widgets.gpu_grid import node_heading

    devices = [SimpleNamespace(model_name="NVIDIA H100 80GB HBM3", allocated=i < 6)
               for i in range(8)]
    assert node_heading("gpu-h100-a", devices, 60) == (
        "gpu-h100-a NVIDIA H100 80GB HBM3 ×8 · 6/8 used")
    assert node_heading("gpu-h100-a", devices, 42) == "gpu-h100-a H100 80GB HBM3 ×8 · 6/8 used"
    assert node_heading("gpu-h100-a", devices, 30) == "gpu-h100-a H100… ×8 · 6/8 used"
    assert node_heading("gpu-h100-a", devices, 26) == "gpu-h100-a ×8 · 6/8 used"
    for width in range(8, 70):
        line = node_heading("gpu-h100-a", devices, width)
        assert len(line) <= width, (width, line)
        if width >= len("gpu-h100-a ×8 · 6/8 used"):
            assert line.startswith("gpu-h100-a ") and line.endswith(" ×8 · 6/8 used")
    mixed = devices[:4] + [SimpleNamespace(model_name="NVIDIA A100-SXM4-80GB", allocated=1)]
    assert node_heading("n1", mixed, 40) == "n1 mixed ×5 · 5/5 used"
