"""What the speed work must not change: quick settings equal the full ones, heavy modules
stay out of the start-up path, display data made off the UI thread equal the UI thread's,
and partial repaints show the new figures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backends.slo import fleet_burn
from backends.slo_config import SloConfig
from console.app import make_app
from console.config import load_settings
from console.config_core import SECTIONS, CoreSettings, QuickSettings, quick_settings
from console.prepare import FleetPrep
from console.state import FleetState
from tests.console.conftest import FROZEN, demo_backends, wait_for, wait_loaded
from widgets.gpu_grid import GpuGrid
from widgets.model_rows import rows_from_snapshot
from widgets.footer import KeyFooter


@pytest.mark.parametrize("overrides", [
    {}, {"demo": {"enabled": True}}, {"demo": {"enabled": True, "seed": 3}},
    {"read_only": True, "refresh": 2.5, "time_window": "6h"}])
def test_quick_settings_equal_the_full_ones(overrides):
    quick = quick_settings(**overrides)
    full = load_settings(**overrides)
    assert isinstance(quick, QuickSettings)
    for name in CoreSettings.model_fields:
        assert getattr(quick, name) == getattr(full, name), name
    for name in SECTIONS:
        assert getattr(quick, name) == getattr(full, name), name
    assert set(SECTIONS) | set(CoreSettings.model_fields) == set(type(full).model_fields)


def test_anything_else_takes_the_full_path(tmp_path, monkeypatch):
    assert quick_settings(prometheus={"url": "http://x:9090"}) is None  # not a core field
    assert quick_settings(refresh=0.001) is None  # invalid: load_settings words the error
    assert quick_settings(tmp_path / "given.toml") is None  # an explicit file
    monkeypatch.setenv("PITBOARD_DEMO__SEED", "4")
    assert quick_settings() is None  # a setting from the environment
    monkeypatch.delenv("PITBOARD_DEMO__SEED")
    monkeypatch.setenv("PITBOARD_FIRST_FRAME_FILE", str(tmp_path / "f"))
    assert quick_settings() is not None  # the benchmark hook is not a setting


def test_heavy_modules_are_not_imported_before_the_first_frame():
    code = ("import sys, console.cli, console.app\n"
            "print(' '.join(sorted(m for m in ('pydantic_settings', 'sqlite_utils', "
            "'console.config', 'console.screens.guard', 'console.screens.incident', "
            "'console.screens.audit', 'console.screens.help', 'backends.guard', "
            "'backends.export', 'console.records', 'kubernetes') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.strip() == ""


def test_display_data_made_in_the_poller_equal_the_ui_threads():
    backends = demo_backends()
    state = FleetState()
    state.succeeded("cluster", backends.cluster.read(), FROZEN)
    part = backends.metrics.read(state.cluster.services, 300, FROZEN)
    prepared = FleetPrep(SloConfig())(state.cluster, part)
    state.succeeded("metrics", part, FROZEN)
    snapshot = state.snapshot(FROZEN)
    assert prepared.rows_for(snapshot) == rows_from_snapshot(snapshot, {}, fleet_burn(SloConfig()))
    assert prepared.gpus == snapshot.gpus
    state.adopt_gpus(prepared.cluster.gpus, part.gpus, prepared.gpus)
    assert prepared.plan_for(state.snapshot(FROZEN).gpus) is prepared.plan
    other = snapshot.model_copy(update={"health": dict(snapshot.health)})
    assert prepared.rows_for(other) is None  # made from other objects: recomputed


async def test_only_changed_gpu_lines_are_repainted_and_show_the_new_figures(settings):
    backends = demo_backends()
    app = make_app(settings, backends)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        grid = app.fleet_screen.query_one(GpuGrid)
        gpus = list(grid._gpus)
        target = next(i for i, g in enumerate(gpus) if g.util_percent is not None)
        gpus[target] = gpus[target].model_copy(update={"util_percent": 1.0})
        grid.show_gpus(tuple(gpus))
        line = next(y for y, item in enumerate(grid._lines) if item is gpus[target])
        await pilot.pause()
        assert "  1%" in grid.render_line(line - int(grid.scroll_offset.y)).text


async def test_footer_dims_keys_in_place(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        footer = app.fleet_screen.query_one(KeyFooter)
        await wait_for(pilot, lambda: app.runner is not None)
        keys = {k.key: k for k in footer.query("FooterKey")}
        assert not keys["R"].has_class("-disabled")
        app.action_busy = True  # "another action is under way": R and P dimmed
        app.fleet_screen.sync_action_keys()
        await wait_for(pilot, lambda: keys["R"].has_class("-disabled"))
        assert {k.key: k for k in footer.query("FooterKey")}["R"] is keys["R"]  # no rebuild
        app.action_busy = False
        app.fleet_screen.sync_action_keys()
        await wait_for(pilot, lambda: not keys["R"].has_class("-disabled"))
