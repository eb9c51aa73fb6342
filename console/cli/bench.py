"""Benchmark: ``python -m console.cli.bench`` prints JSON.

- ``first_frame``: seconds from process start to the first complete frame of
  ``pitboard --demo`` in a pseudo-terminal -- models on screen and every source (cluster,
  metrics, alerts) answered -- next to the first frame of a bare Textual app (Header +
  Footer), same terminal size, measured alternately, median of N runs each, both from
  compiled bytecode (see :func:`compare_first_frame`). The apps write a marker file after
  that frame was drawn (``PITBOARD_FIRST_FRAME_FILE``). Beside them, the same fleet screen
  with no data source at all (``console.cli._bench_empty``): what the screen costs by itself,
  and the bare app importing pitboard's pydantic domain models and nothing else
  (``console.cli._bench_bare_models``): the floor of any first frame with data.
- ``refresh``: main-thread milliseconds per metrics refresh at 2,000 GPUs / 300 models:
  the app's own handler of the poller's message (state, snapshot, fleet screen, views and
  session history) and the repaint that follows. ``main_thread_cpu_ms`` = CPU time of the
  UI thread for both (minus an idle frame); ``apply_ms`` = the handler alone (wall);
  wall-clock totals include waiting for the next 60 fps tick and other processes. Each
  round gets a part read at a new instant (nothing repeats, so no cache is flattered).
  The message is made as the poller makes it, in a thread (display data computed there:
  ``display_data_ms_in_worker``, reported, not counted as UI-thread time). Rounds are 15 s
  of app time apart (the demo's scrape step, so every round brings new figures); the
  selected model's chart is re-fetched every 30 s and its redraw (plotext, ~25-60 ms) then
  lands in that round: ``..._metrics_only`` / ``..._with_chart_redraw`` split the rounds,
  and ``..._per_refresh_at_default_cadence`` weighs them as the console runs by default
  (a refresh every 5 s, a chart redraw every 30 s: one refresh in six). The target is
  judged on both the metrics-only median and that figure.
- ``rss_mb``: resident memory of pitboard at its first frame, and of this process after
  the 2,000-GPU run.
Targets: first frame <= 1.25x bare; <= 25 ms per refresh; RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone

from textual.worker import WorkerState

from console.app import make_app
from console.config import load_settings
from console.config_core import CoreSettings
from console.controllers.state import RATE_WINDOW_S
from console.screens.fleet import CHART_MAX_AGE_S
from console.wiring import build_demo, frozen_clock

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def first_frame(cmd: Sequence[str], size: tuple[int, int] = (80, 24),
                timeout: float = 30.0, pycache: str | None = None) -> tuple[float, float | None]:
    """(seconds to the first frame, RSS MB then) of ``cmd`` run in a pseudo-terminal;
    ``pycache``: a bytecode cache directory (PYTHONPYCACHEPREFIX) for the run."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        marker = os.path.join(tmp, "frame")
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]),
               "LINES": str(size[1]), "PITBOARD_FIRST_FRAME_FILE": marker,
               "XDG_CONFIG_HOME": tmp, "XDG_DATA_HOME": tmp}
        env.pop("PITBOARD_CONFIG", None)
        if pycache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
        stop = threading.Event()

        def drain() -> None:  # the app blocks if nobody reads the terminal
            while not stop.is_set():
                try:
                    if not os.read(master, 65536):
                        break
                except OSError:
                    break

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        t0 = time.time()
        proc = subprocess.Popen(list(cmd), stdin=slave, stdout=slave, stderr=slave, env=env,
                                start_new_session=True, close_fds=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if os.path.exists(marker):
                    with open(marker, encoding="utf-8") as fh:
                        text = fh.read().strip()
                    if text:
                        rss = _rss_mb(proc.pid)
                        return float(text) - t0, rss
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd} exited with {proc.returncode} before a frame")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{cmd}: no first frame within {timeout}s")
                time.sleep(0.002)
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            stop.set()
            os.close(slave)
            os.close(master)


def compare_first_frame(runs: int, bytecode_cache: bool = True) -> dict:
    """Alternate bare / pitboard runs; medians and the ratio.

    Both apps run from compiled bytecode, as installed packages do: with
    PYTHONDONTWRITEBYTECODE set (as in some sandboxes), pitboard's own modules would be
    compiled from source on every start while Textual's come precompiled from
    site-packages, so both then get the same temporary bytecode cache, filled by the
    warm-up runs (``bytecode_cache=False``: the environment as it is)."""
    py = sys.executable
    bare_cmd = [py, "-m", "console.cli._bench_bare"]
    app_cmd = [py, "-m", "console", "--demo"]
    empty_cmd = [py, "-m", "console.cli._bench_empty"]
    models_cmd = [py, "-m", "console.cli._bench_bare_models"]
    with tempfile.TemporaryDirectory() as cache_dir:
        pycache = cache_dir if bytecode_cache and os.environ.get("PYTHONDONTWRITEBYTECODE") else None
        first_frame(bare_cmd, pycache=pycache)  # warm the file-system (and bytecode) caches
        first_frame(app_cmd, pycache=pycache)
        first_frame(empty_cmd, pycache=pycache)
        first_frame(models_cmd, pycache=pycache)
        bare, app, rss, empty, models = [], [], [], [], []
        for _ in range(runs):
            bare.append(first_frame(bare_cmd, pycache=pycache)[0])
            models.append(first_frame(models_cmd, pycache=pycache)[0])
            empty.append(first_frame(empty_cmd, pycache=pycache)[0])
            t, r = first_frame(app_cmd, pycache=pycache)
            app.append(t)
            if r is not None:
                rss.append(r)
    b, a, e = statistics.median(bare), statistics.median(app), statistics.median(empty)
    m = statistics.median(models)
    return {"bare_s": round(b, 4), "pitboard_s": round(a, 4), "ratio": round(a / b, 3),
            # the bare app importing the pydantic domain models, nothing more: the floor
            # of any first frame with data (console.cli._bench_bare_models)
            "bare_with_domain_models_s": round(m, 4), "ratio_bare_with_domain_models": round(m / b, 3),
            # the fleet screen with no data source at all (console.cli._bench_empty)
            "pitboard_no_data_s": round(e, 4), "ratio_no_data": round(e / b, 3),
            "runs": runs, "bare_all": [round(x, 4) for x in bare],
            "pitboard_all": [round(x, 4) for x in app],
            "bytecode": "temporary cache (PYTHONDONTWRITEBYTECODE was set)" if pycache
            else "as the environment has it",
            "rss_mb_first_frame": round(statistics.median(rss), 1) if rss else None}


async def workers_idle(pilot, timeout: float = 10.0) -> None:
    """Until no worker is pending or running (cancelled ones are fine)."""
    deadline = time.monotonic() + timeout
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        if time.monotonic() > deadline:
            raise AssertionError("workers still running after the deadline")
        await pilot.pause(0.01)


async def _refresh(n_gpus: int, n_models: int, rounds: int) -> dict:
    settings = load_settings(refresh=3600, demo={"enabled": True, "n_gpus": n_gpus,
                                                 "n_models": n_models})
    clock = frozen_clock(FROZEN)
    backends = build_demo(settings, clock=clock)
    cluster = backends.cluster.read()
    metrics = backends.metrics
    assert metrics is not None, "the demo has a metrics source"
    read_s: list[float] = []

    def next_part():
        """A part read at a new instant each round: nothing repeats, no cache is flattered
        (read in a thread, as the poller does, outside the timed part)."""
        clock.advance(15)
        t = time.perf_counter()
        part = metrics.read(cluster.services, RATE_WINDOW_S, clock())
        read_s.append(time.perf_counter() - t)
        return part, clock()
    app = make_app(settings, backends)
    apply_ms, total_ms, cpu_ms, prep_ms, redrawn = [], [], [], [], []
    async with app.run_test(size=(160, 48)) as pilot:
        deadline = time.monotonic() + 60
        while app.state.metrics is None or app.fleet_screen.snapshot is None:
            assert time.monotonic() < deadline, "no data"
            await pilot.pause(0.05)
        await workers_idle(pilot)
        app.paused = True  # only our snapshots from here on
        await pilot.pause()
        idle = []
        for _ in range(5):  # main-thread CPU of a refresh-less frame: subtracted below
            c0 = time.thread_time()
            await pilot.pause()
            idle.append(time.thread_time() - c0)
        idle_cpu = statistics.median(idle)
        for i in range(rounds):
            # what the metrics poller does in its thread: read a part, make the message
            part, at = await asyncio.to_thread(next_part)
            update, worker_ms = await asyncio.to_thread(_thread_cpu, app.poller.metrics_update, part, at)
            prep_ms.append(worker_ms)
            chart = getattr(app.fleet_screen._chart, "_data", None)
            c0 = time.thread_time()
            t0 = time.perf_counter()
            app.poller.on_source_updated(update)  # the app's handler: state, fleet screen, views
            t2 = time.perf_counter()
            await pilot.pause()
            t3 = time.perf_counter()
            cpu_ms.append(max(0.0, time.thread_time() - c0 - idle_cpu) * 1000)
            apply_ms.append((t2 - t0) * 1000)
            total_ms.append((t3 - t0) * 1000)
            # the selected model's chart (range query, re-fetched every 30 s of app time,
            # i.e. every other round here) was redrawn in this round
            redrawn.append(getattr(app.fleet_screen._chart, "_data", None) is not chart)
        gpus = len(app.state.snapshot(clock()).gpus)
        assert app.state.cluster is not None, "no data"
        models = len(app.state.cluster.services)
    q = lambda xs, p: round(sorted(xs)[min(len(xs) - 1, int(p * len(xs)))], 2) if xs else None  # noqa: E731
    plain = [ms for ms, chart in zip(cpu_ms, redrawn) if not chart]
    charted = [ms for ms, chart in zip(cpu_ms, redrawn) if chart]
    # at the default cadence (a refresh every 5 s, the chart re-fetched every 30 s) one
    # refresh in six also redraws the chart
    per = CHART_MAX_AGE_S / CoreSettings.model_fields["refresh"].default
    cadence = (round(((per - 1) * statistics.median(plain) + statistics.median(charted)) / per, 2)
               if plain and charted else None)
    return {"gpus": gpus, "models": models, "rounds": rounds,
            "apply_ms_median": q(apply_ms, 0.5), "apply_ms_p95": q(apply_ms, 0.95),
            "main_thread_cpu_ms_median": q(cpu_ms, 0.5), "main_thread_cpu_ms_p95": q(cpu_ms, 0.95),
            "main_thread_cpu_ms_median_metrics_only": q(plain, 0.5),
            "main_thread_cpu_ms_median_with_chart_redraw": q(charted, 0.5),
            "rounds_with_chart_redraw": len(charted),
            "main_thread_cpu_ms_per_refresh_at_default_cadence": cadence,
            "apply_plus_repaint_ms_median": q(total_ms, 0.5),
            "apply_plus_repaint_ms_p95": q(total_ms, 0.95),
            "display_data_ms_in_worker_median": q(prep_ms, 0.5),
            "demo_metrics_read_ms_in_worker": round(statistics.median(read_s) * 1000, 1)}


def _thread_cpu(fn, *args):
    """(fn(*args), CPU milliseconds of the calling thread for it)."""
    c0 = time.thread_time()
    result = fn(*args)
    return result, (time.thread_time() - c0) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    p = argparse.ArgumentParser(prog="python -m console.cli.bench")
    p.add_argument("--runs", type=int, default=5, help="first-frame runs per app")
    p.add_argument("--rounds", type=int, default=30, help="refresh rounds")
    p.add_argument("--gpus", type=int, default=2000)
    p.add_argument("--models", type=int, default=300)
    p.add_argument("--skip-first-frame", action="store_true")
    p.add_argument("--no-bytecode-cache", action="store_true",
                   help="first frame: do not give both apps a bytecode cache when "
                        "PYTHONDONTWRITEBYTECODE is set")
    p.add_argument("--skip-refresh", action="store_true")
    args = p.parse_args(argv)
    out: dict = {"python": sys.version.split()[0]}
    if not args.skip_first_frame:
        out["first_frame"] = compare_first_frame(args.runs, not args.no_bytecode_cache)
    if not args.skip_refresh:
        out["refresh"] = asyncio.run(_refresh(args.gpus, args.models, args.rounds))
    out["rss_mb_bench_process_max"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    out["targets"] = {"first_frame_ratio_max": 1.25, "refresh_ms_max": 25, "rss_mb_max": 150}
    ff = out.get("first_frame", {})
    out["meets_targets"] = {
        "first_frame": ff.get("ratio") is not None and ff["ratio"] <= 1.25 if ff else None,
        # a metrics refresh; the chart redraw (every 30 s, per selected model) is reported
        # beside it, not hidden: see main_thread_cpu_ms_median_with_chart_redraw
        "refresh": max(out["refresh"]["main_thread_cpu_ms_median_metrics_only"] or 1e9,
                       out["refresh"]["main_thread_cpu_ms_per_refresh_at_default_cadence"]
                       or 1e9) <= 25 if "refresh" in out else None,
        "rss": (ff.get("rss_mb_first_frame") or 0) <= 150 and out["rss_mb_bench_process_max"] <= 150,
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
