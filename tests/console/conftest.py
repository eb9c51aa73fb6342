"""Fixtures for console tests: frozen demo fleet, fakes, a poll-with-deadline helper."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from backends.demo.fleet import FrozenClock
from console.config import load_settings
from console.controllers.state import Backends
from console.wiring import build_demo
from tests.console.fakes import FakeCluster, FakeMetrics, frozen_clock

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def demo_backends(hostile: bool = False, **demo) -> Backends:
    """The demo fleet on a frozen clock (deterministic)."""
    settings = load_settings(demo={"enabled": True, "hostile": hostile, **demo})
    return build_demo(settings, clock=FrozenClock(FROZEN))


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await pilot.pause(0.02)
    await pilot.pause()


async def select_model(pilot, name: str) -> str:
    """Put the model table's cursor on the model called ``name`` (the first of that name);
    its key, once the fleet screen has it selected."""
    screen = pilot.app.fleet_screen
    key = next(s.key for s in screen.snapshot.services if s.name == name)
    table = screen.query_one("#models")
    table.move_cursor(row=table.get_row_index(key))
    await wait_for(pilot, lambda: screen.selected == key)
    return key


async def workers_idle(pilot, timeout: float = 10.0) -> None:
    """Until no worker is pending or running (cancelled ones are fine)."""
    from textual.worker import WorkerState

    deadline = time.monotonic() + timeout
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        if time.monotonic() > deadline:
            raise AssertionError("workers still running after the deadline")
        await pilot.pause(0.01)


def spy(obj, name: str) -> list[tuple]:
    """Record each later call of ``obj.name`` as ``(args, kwargs)``, still calling it:
    the list fills as the calls come."""
    calls: list[tuple] = []
    real = getattr(obj, name)

    def recording(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    setattr(obj, name, recording)
    return calls


def count_layouts(app) -> list[tuple]:
    """The screen layouts of ``app``'s current screen from now on (one entry each)."""
    return spy(app.screen, "_refresh_layout")


async def wait_loaded(pilot) -> None:
    """Until cluster and metrics data are on screen and the chart was drawn."""
    app = pilot.app
    await wait_for(pilot, lambda: app.state.metrics is not None
                   and app.fleet_screen._chart is not None
                   and app.fleet_screen._chart._data is not None)
    await workers_idle(pilot)
    await pilot.pause()


@pytest.fixture
def settings():
    return load_settings(refresh=3600)


@pytest.fixture
def fakes():
    cluster, metrics = FakeCluster(), FakeMetrics()
    return cluster, metrics, Backends(cluster=cluster, metrics=metrics, clock=frozen_clock)


@pytest.fixture(autouse=True)
def _no_first_frame_marker(monkeypatch):
    monkeypatch.delenv("PITBOARD_FIRST_FRAME_FILE", raising=False)
