"""Tiles (line API) draws exactly what the Static it was drew of the same tiles: the
same segments, styles and offsets, wrapped at the same places; equal tiles again cost
no repaint, and a layout happens only when the number of lines changes."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widgets import Static

from backends.domain.models import HealthSample
from tests.console.conftest import count_layouts, spy
from widgets.levels import Level
from widgets.model_panels import Tile, Tiles, health_tiles

AT = datetime(2026, 11, 21, 14, tzinfo=timezone.utc)
SAMPLE = HealthSample(model="m", at=AT, rps=13.8, error_ratio=0.0006, p50_ms=1613,
                      p95_ms=3432, p99_ms=4842, ttft_p95_ms=326, itl_p95_ms=27,
                      tokens_per_s=2893, prompt_tokens_per_s=11571, queue_depth=0,
                      kv_cache_percent=None)
SLO = {"budget_left": 0.42, "burn_1h": 1.5, "burn_6h": 0.9, "level": "warn"}


class OldTiles(Static):
    """The widget as it was (a Static showing one Text); the CSS is Tiles' own."""

    DEFAULT_CSS = Tiles.DEFAULT_CSS.replace("Tiles", "OldTiles")
    COMPONENT_CLASSES = Tiles.COMPONENT_CLASSES
    GAP = "   "

    def show_tiles(self, tiles) -> None:
        self._tiles = tuple(tiles)
        self._lay_out()

    def on_resize(self) -> None:
        if getattr(self, "_tiles", ()):
            self._lay_out()

    def _lay_out(self) -> None:
        width = self.content_size.width
        label = self.get_component_rich_style("tiles--label", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        used = 0
        for t in self._tiles:
            size = cell_len(t.label) + 1 + cell_len(t.value)
            if used and width and used + len(self.GAP) + size > width:
                text.append("\n")
                used = 0
            elif used:
                text.append(self.GAP)
                used += len(self.GAP)
            text.append(f"{t.label} ", label)
            text.append(t.value, self.get_component_rich_style(f"tiles--{t.level.value}",
                                                               partial=True))
            used += size
        self.update(text)


class Pair(App):
    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Tiles(id="new")
            yield OldTiles(id="old")


def segments(widget) -> list[list[tuple[str, object]]]:
    region = Region(0, 0, widget.outer_size.width, widget.outer_size.height)
    return [[(seg.text, seg.style) for seg in line] for line in widget.render_lines(region)]


TILE_SETS = [
    health_tiles(SAMPLE, llm=True, slo=SLO, latency_ms=3000),
    health_tiles(SAMPLE, llm=False),
    health_tiles(None, llm=True),  # every figure missing: label and value of one style
    [Tile("a very long label that is wider than the widget itself", "1", Level.BAD)],
]


async def test_lines_are_what_the_static_drew():
    compared = 0
    for width in (160, 70, 40):
        app = Pair()
        async with app.run_test(size=(width, 20)) as pilot:
            new, old = app.query_one(Tiles), app.query_one(OldTiles)
            for tiles in TILE_SETS:
                new.show_tiles(tiles)
                old.show_tiles(tiles)
                await pilot.pause()
                assert new.outer_size == old.outer_size
                assert segments(new) == segments(old), (width, tiles)
                compared += 1
            app.theme = "textual-light"
            await pilot.pause()
            assert segments(new) == segments(old)
    assert compared == 3 * len(TILE_SETS)


async def test_same_tiles_no_repaint_and_a_layout_only_for_another_line_count():
    app = Pair()
    async with app.run_test(size=(120, 20)) as pilot:
        tiles = app.query_one(Tiles)
        tiles.show_tiles(TILE_SETS[0])
        await pilot.pause()
        height = tiles.outer_size.height
        refreshes = spy(tiles, "refresh")
        layouts = count_layouts(app)
        tiles.show_tiles(list(TILE_SETS[0]))  # equal tiles, another list
        await pilot.pause()
        assert refreshes == [] and layouts == []
        changed = [Tile(t.label, "9" + t.value, t.level, t.field) for t in TILE_SETS[0][:5]] + \
            list(TILE_SETS[0][5:])
        tiles.show_tiles(changed)  # other figures, as many lines
        await pilot.pause()
        assert len(refreshes) == 1 and layouts == [] and tiles.outer_size.height == height
        assert "rps 9" in tiles.render_line(0).text
        tiles.show_tiles(TILE_SETS[0][:2])  # one line now: laid out again
        await pilot.pause()
        assert layouts and tiles.outer_size.height == 1
