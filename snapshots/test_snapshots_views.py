"""SVG snapshots of the deep views at 80x24 and 160x48 (frozen clock, seed 7), and of a
replayed instant. Update with ``pytest snapshots --snapshot-update`` and read the SVGs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from backends.demo.fleet import FrozenClock
from console.app import make_app
from console.config import load_settings
from console.wiring import build_demo
from snapshots.settle import tables_settled

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (160, 48)]
SLO = {"default": {"availability": 0.995, "latency_ms": 250},
       "models": {"llm-chat": {"latency_ms": 6000}, "code-assist": {"latency_ms": 8000},
                  # the LLM engines' end-to-end p95 is seconds, an OCR pass about one
                  **{m: {"latency_ms": 8000} for m in ("chat-sglang", "summarize-tgi",
                                                       "assist-rayserve", "router-llmd",
                                                       "tiny-llm")},
                  "doc-ocr": {"latency_ms": 1500}}}


def demo_app():
    settings = load_settings(refresh=3600, slo=SLO, demo={"enabled": True})
    return make_app(settings, build_demo(settings, clock=FrozenClock(FROZEN)))


async def settle(pilot, condition=lambda: True) -> None:
    """Until ``condition()`` holds and no worker runs (with a deadline)."""
    from textual.worker import WorkerState

    deadline = time.monotonic() + 15
    while not condition() or any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                                 for w in pilot.app.workers):
        assert time.monotonic() < deadline, "view did not settle"
        await pilot.pause(0.02)
    await tables_settled(pilot)


def loaded(app) -> bool:
    return app.state.metrics is not None and all(s.last_success for s in app.state.status.values())


def opener(view: str, *keys: str, replay: bool = False):
    async def run_before(pilot):
        app = pilot.app
        await settle(pilot, lambda: loaded(app))
        if replay:
            app.navigator.start_replay(FROZEN - timedelta(hours=1))
            await settle(pilot, lambda: app.navigator._replay_snapshot is not None)
        if view == "model":  # the LLM with a canary: the detail's every panel
            llm = next(s.key for s in app.fleet_screen.snapshot.services if s.name == "llm-chat")
            app.navigator.open_view("model", key=llm)
        else:
            app.navigator.open_view(view)
        await settle(pilot, lambda: type(app.screen).__name__ != "FleetScreen")
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view,keys", [("gpus", ("enter",)), ("model", ()), ("drift", ()),
                                       ("cost", ()), ("releases", ()), ("alerts", ("down",))],
                         ids=["gpus", "model", "drift", "cost", "releases", "alerts"])
def test_view(snap_compare, view, keys, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=opener(view, *keys))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_model_detail_replayed(snap_compare, size):
    assert snap_compare(demo_app(), terminal_size=size,
                        run_before=opener("model", replay=True))


def _mig_node(*, model: bool):
    """The MIG node: ``:gpus`` filtered to it (each instance its own line under its GPU,
    the GPU beside it with an XID that cleared hours ago), or the model detail of a model
    served from two of its instances."""
    async def run_before(pilot):
        app = pilot.app
        await settle(pilot, lambda: loaded(app))
        if model:
            app.navigator.open_view("model", key="demo/ml-serving/Deployment/embed-mini")
        else:
            app.navigator.open_view("gpus")
        await settle(pilot, lambda: type(app.screen).__name__ != "FleetScreen")
        if not model:
            await pilot.press("slash", *"a100", "minus", *"mig", "enter")
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("model", [False, True], ids=["gpus", "model"])
def test_mig_node(snap_compare, model, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=_mig_node(model=model))


async def _replaying_at_10x(pilot):
    """The fleet screen replaying an hour ago at 10x, paused (a still frame)."""
    app = pilot.app
    await settle(pilot, lambda: loaded(app))
    app.navigator.start_replay(FROZEN - timedelta(hours=1))
    await settle(pilot, lambda: app.navigator._replay_snapshot is not None)
    await pilot.press("2", "space")
    await settle(pilot, lambda: app.navigator.player.paused)


def test_fleet_replaying_at_10x(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(160, 48), run_before=_replaying_at_10x)
