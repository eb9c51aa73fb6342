"""Benchmark of the deep views at fleet scale (not collected by pytest).

``.venv/bin/python -m tests.bench_views [--gpus 2000] [--models 300]`` prints JSON: per view,
the time to open it with the snapshot's data on screen (``open_s``) and until its range
data (charts) arrived and were drawn (``open_with_range_data_s``); one plain refresh
(snapshot in, frame out, main thread: ``refresh_apply_ms`` wall and ``..._cpu_ms``); a
refresh whose range data are re-fetched; and the range-query points fetched (only what is
on screen).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime, timezone

from backends.demo.fleet import FrozenClock
from console.app import make_app
from console.config import load_settings
from console.wiring import build_demo

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
VIEWS = ("gpus", "model", "drift", "cost", "releases")


async def settle(pilot, condition=lambda: True, timeout: float = 120.0) -> None:
    from textual.worker import WorkerState

    deadline = time.monotonic() + timeout
    while not condition() or any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                                 for w in pilot.app.workers):
        if time.monotonic() > deadline:
            raise TimeoutError("did not settle")
        await pilot.pause(0.005)
    await pilot.pause()


async def frame(pilot) -> None:
    """Until every widget handled its messages and the screen was painted (no idle wait:
    ``pilot.pause()`` would also wait for worker threads, up to a second)."""
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


async def shown(pilot, view_type: str, timeout: float = 60.0) -> None:
    """Until the view is mounted with its snapshot, then one painted frame."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while not (type(app.screen).__name__ == view_type and app.screen.is_mounted
               and getattr(app.screen, "snapshot", None) is not None):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{view_type} not shown")
        await pilot.pause(0.002)
    await frame(pilot)


VIEW_TYPES = {"gpus": "GpuScreen", "model": "ModelDetailScreen", "drift": "DriftScreen",
              "cost": "CostScreen", "releases": "ReleasesScreen"}


async def run(n_gpus: int, n_models: int, size: tuple[int, int]) -> dict:
    clock = FrozenClock(FROZEN)
    settings = load_settings(refresh=3600, demo={"enabled": True, "n_gpus": n_gpus,
                                                 "n_models": n_models})
    backends = build_demo(settings, clock=clock)
    app = make_app(settings, backends)
    out: dict = {"gpus": n_gpus, "models": n_models, "terminal": f"{size[0]}x{size[1]}",
                 "views": {}}
    async with app.run_test(size=size) as pilot:
        await settle(pilot, lambda: app.state.metrics is not None)
        out["fleet_gpus_seen"] = len(app.state.snapshot(app.clock()).gpus)
        for view in VIEWS:
            before = sum(app.navigator.view_points.values())
            t0 = time.perf_counter()
            if view == "model":
                app.navigator.open_view("model", key=app.fleet_screen.selected)
            else:
                app.navigator.open_view(view)
            await shown(pilot, VIEW_TYPES[view])
            open_s = time.perf_counter() - t0
            if view == "gpus":
                await pilot.press("enter")  # the per-GPU chart is part of the view
            await settle(pilot)
            open_range_s = time.perf_counter() - t0
            opened_points = sum(app.navigator.view_points.values()) - before
            # a plain refresh (new metrics part, range data still fresh): render cost only,
            # i.e. the main thread from the snapshot in to the frame out
            clock.advance(15)
            part = backends.metrics.read(app.state.cluster.services, 300, clock())
            app.state.succeeded("metrics", part, clock())
            c0, t0 = time.thread_time(), time.perf_counter()
            app.screen.apply_snapshot(app.navigator.view_snapshot())
            await frame(pilot)
            apply_ms = (time.perf_counter() - t0) * 1000
            apply_cpu_ms = (time.thread_time() - c0) * 1000
            await settle(pilot)
            # a refresh past the range-data max age: the charts on screen are re-fetched
            clock.advance(31)
            part = backends.metrics.read(app.state.cluster.services, 300, clock())
            app.state.succeeded("metrics", part, clock())
            before = sum(app.navigator.view_points.values())
            t0 = time.perf_counter()
            app.screen.apply_snapshot(app.navigator.view_snapshot())
            await settle(pilot)
            refresh_s = time.perf_counter() - t0
            out["views"][view] = {
                "open_s": round(open_s, 3), "open_with_range_data_s": round(open_range_s, 3),
                "refresh_apply_ms": round(apply_ms, 1),
                "refresh_apply_main_thread_cpu_ms": round(apply_cpu_ms, 1),
                "refresh_with_range_data_s": round(refresh_s, 3),
                "points_on_open": opened_points,
                "points_per_refresh": sum(app.navigator.view_points.values()) - before,
            }
            app.pop_screen()
            await settle(pilot)
        out["points_by_tag"] = dict(app.navigator.view_points)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench_views")
    p.add_argument("--gpus", type=int, default=2000)
    p.add_argument("--models", type=int, default=300)
    p.add_argument("--size", default="160x48")
    args = p.parse_args(argv)
    w, h = (int(x) for x in args.size.split("x"))
    result = asyncio.run(run(args.gpus, args.models, (w, h)))
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
