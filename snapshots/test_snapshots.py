"""SVG snapshots of the fleet and help screens (frozen clock, fixed seed).

Update with ``pytest snapshots --snapshot-update`` and look at the SVGs in
``snapshots/__snapshots__/``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from backends.demo.fleet import FrozenClock
from console.app import make_app
from console.config import load_settings
from console.wiring import build_demo
from snapshots.settle import tables_settled

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (160, 48)]


def demo_app(hostile: bool = False):
    settings = load_settings(refresh=3600, demo={"enabled": True, "hostile": hostile})
    return make_app(settings, build_demo(settings, clock=FrozenClock(FROZEN)))


async def loaded(pilot) -> None:
    """Wait (with a deadline) for every source and the chart, then settle."""
    app = pilot.app
    deadline = time.monotonic() + 15
    while not (all(s.last_success for s in app.state.status.values())
               and app.fleet_screen._chart is not None
               and app.fleet_screen._chart._data is not None):
        assert time.monotonic() < deadline, "demo data did not arrive"
        await pilot.pause(0.02)
    await workers_idle(pilot)
    await tables_settled(pilot)


async def workers_idle(pilot, timeout: float = 10.0) -> None:
    """Until no worker is pending or running (cancelled ones are fine)."""
    from textual.worker import WorkerState

    deadline = time.monotonic() + timeout
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        if time.monotonic() > deadline:
            raise AssertionError("workers still running after the deadline")
        await pilot.pause(0.01)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_screen(snap_compare, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, size):
    async def open_help(pilot):
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=size, run_before=open_help)


@pytest.mark.parametrize("size", [(80, 16), (100, 21)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_screen_in_a_short_pane(snap_compare, size):
    """A split pane: under 24 rows the model table keeps the room (chart and history go,
    under 20 rows on a narrow terminal cost and GPUs too)."""
    assert snap_compare(demo_app(), terminal_size=size, run_before=loaded)


def test_fleet_screen_hostile_names(snap_compare):
    assert snap_compare(demo_app(hostile=True), terminal_size=(160, 48), run_before=loaded)
