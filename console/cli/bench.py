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
  ``first_frame.imports``: what each import on that path costs (``-X importtime`` in fresh
  processes, same bytecode; ``console.cli._bench_imports``): by owner, the part the bare
  app does not make, and pitboard's slowest modules. ``first_frame.real``: the same
  first frame of ``pitboard`` started against real sources in the same alternation --
  the suite's test API server, a real Prometheus and Alertmanager on 127.0.0.1
  (:mod:`console.cli._bench_real`; ``--skip-real`` leaves it out): the clients' imports,
  the settings, the first LIST and WATCH of every kind and the first queries; and
  ``first_frame.real.vpn``, the same with every API server answer 50 ms later.
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
- ``--soak-seconds N`` (alone): the console's RSS over N seconds in a process of its own
  (:func:`soak_process`: ``pitboard --demo`` at ``--gpus`` / ``--models`` in a
  pseudo-terminal, real clock, a refresh every 5 s), beside the demo source alone in
  another process; start, end, max and slope, the console's own share too.
- ``--memory-profile``: where the views' process keeps its memory after the soak
  (``console.cli._bench_memory``: tracemalloc by line and by owning pitboard code, the
  demo simulator apart; live objects by type).
Targets: first frame <= 1.4x bare (the goal stays 1.25x); <= 25 ms median and 50 ms p95
per refresh; RSS <= 250 MB after an hour (the ``targets`` of the JSON).
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
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

from textual.worker import WorkerState

from console.app import make_app
from console.cli import _bench_real
from console.cli._bench_imports import import_costs
from console.cli.argtypes import positive_seconds, whole_number
from console.config import load_settings
from console.controllers.state import RATE_WINDOW_S
from console.wiring import build_demo, frozen_clock, release_free_memory

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


def _drain(master: int) -> tuple[threading.Event, threading.Thread]:
    """Read (and drop) what an app writes to its pseudo-terminal until ``stop`` is set:
    the app blocks if nobody reads the terminal."""
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return stop, reader


def _end(procs: Sequence[subprocess.Popen], stop: threading.Event, *fds: int) -> None:
    """Stop ``procs`` (terminate, kill after 5 s), the terminal's reader, close ``fds``."""
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    stop.set()
    for fd in fds:
        os.close(fd)


def first_frame(cmd: Sequence[str], size: tuple[int, int] = (80, 24),
                timeout: float = 30.0, pycache: str | None = None) -> tuple[float, float | None]:
    """(seconds to the first frame, RSS MB then) of ``cmd`` run in a pseudo-terminal;
    ``pycache``: a bytecode cache directory (PYTHONPYCACHEPREFIX) for the run. No proxy
    for 127.0.0.1 (the real sources of ``first_frame.real`` listen there)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        marker = os.path.join(tmp, "frame")
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]),
               "LINES": str(size[1]), "PITBOARD_FIRST_FRAME_FILE": marker,
               "XDG_CONFIG_HOME": tmp, "XDG_DATA_HOME": tmp}
        env.pop("PITBOARD_CONFIG", None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        if pycache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
        stop, _ = _drain(master)
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
            _end([proc], stop, slave, master)


def compare_first_frame(runs: int, bytecode_cache: bool = True, real: bool = True) -> dict:
    """Alternate bare / pitboard runs; medians and the ratio.

    Both apps run from compiled bytecode, as installed packages do: with
    PYTHONDONTWRITEBYTECODE set (as in some sandboxes), pitboard's own modules would be
    compiled from source on every start while Textual's come precompiled from
    site-packages, so both then get the same temporary bytecode cache, filled by the
    warm-up runs (``bytecode_cache=False``: the environment as it is). ``real``: also
    ``pitboard`` against real sources (:mod:`console.cli._bench_real`), in the same
    alternation, with and without ``REAL_LATENCY_S`` added to the API server's answers."""
    with ExitStack() as stack:
        sources: _bench_real.RealSources | None = None
        why_not = _bench_real.missing() if real else "--skip-real"
        if why_not is None:
            sources = stack.enter_context(_bench_real.real_sources())
        out = _compare_first_frame(runs, bytecode_cache, sources)
    if sources is None:
        out["real"] = {"skipped": why_not}
    return out


REAL_LATENCY_S = 0.05
"""``first_frame.real.vpn``: every answer of the test API server this much later."""


def _compare_first_frame(runs: int, bytecode_cache: bool,
                         sources: _bench_real.RealSources | None) -> dict:
    py = sys.executable
    bare_cmd = [py, "-m", "console.cli._bench_bare"]
    app_cmd = [py, "-m", "console", "--demo"]
    empty_cmd = [py, "-m", "console.cli._bench_empty"]
    models_cmd = [py, "-m", "console.cli._bench_bare_models"]
    real_cmd = [py, "-m", "console", *sources.flags] if sources is not None else []
    with tempfile.TemporaryDirectory() as cache_dir:
        pycache = cache_dir if bytecode_cache and os.environ.get("PYTHONDONTWRITEBYTECODE") else None
        first_frame(bare_cmd, pycache=pycache)  # warm the file-system (and bytecode) caches
        first_frame(app_cmd, pycache=pycache)
        first_frame(empty_cmd, pycache=pycache)
        first_frame(models_cmd, pycache=pycache)
        if sources is not None:
            first_frame(real_cmd, pycache=pycache)
        bare, app, rss, empty, models, real, vpn = [], [], [], [], [], [], []
        for _ in range(runs):
            bare.append(first_frame(bare_cmd, pycache=pycache)[0])
            models.append(first_frame(models_cmd, pycache=pycache)[0])
            empty.append(first_frame(empty_cmd, pycache=pycache)[0])
            t, r = first_frame(app_cmd, pycache=pycache)
            app.append(t)
            if r is not None:
                rss.append(r)
            if sources is not None:
                real.append(first_frame(real_cmd, pycache=pycache)[0])
                sources.latency(REAL_LATENCY_S)
                vpn.append(first_frame(real_cmd, pycache=pycache)[0])
                sources.latency(0)
    b, a, e = statistics.median(bare), statistics.median(app), statistics.median(empty)
    m = statistics.median(models)
    out = {"bare_s": round(b, 4), "pitboard_s": round(a, 4), "ratio": round(a / b, 3),
           # the bare app importing the pydantic domain models, nothing more: the floor
           # of any first frame with data (console.cli._bench_bare_models)
           "bare_with_domain_models_s": round(m, 4), "ratio_bare_with_domain_models": round(m / b, 3),
           # the fleet screen with no data source at all (console.cli._bench_empty)
           "pitboard_no_data_s": round(e, 4), "ratio_no_data": round(e / b, 3),
           "runs": runs, "bare_all": [round(x, 4) for x in bare],
           "pitboard_all": [round(x, 4) for x in app],
           "bytecode": "temporary cache (PYTHONDONTWRITEBYTECODE was set)" if pycache
           else "as the environment has it",
           "rss_mb_first_frame": round(statistics.median(rss), 1) if rss else None,
           # what each import on the way costs (console.cli._bench_imports)
           "imports": import_costs(runs, pycache)}
    if real:
        r_, v = statistics.median(real), statistics.median(vpn)
        # pitboard against the suite's real sources (console.cli._bench_real): the test
        # API server, Prometheus and Alertmanager on 127.0.0.1 -- no network latency
        out["real"] = {"sources": "test API server (ml-fleet.yaml), Prometheus 2.42 (that "
                                  "fleet in an incident, last hour), Alertmanager, on "
                                  "127.0.0.1",
                       "pitboard_s": round(r_, 4), "ratio": round(r_ / b, 3),
                       "all": [round(x, 4) for x in real],
                       # the same, every answer of the API server 50 ms later (a VPN)
                       "vpn": {"api_server_latency_ms": round(REAL_LATENCY_S * 1000),
                               "pitboard_s": round(v, 4), "ratio": round(v / b, 3),
                               "all": [round(x, 4) for x in vpn]}}
    return out


async def workers_idle(pilot, timeout: float = 10.0) -> None:
    """Until no worker is pending or running (cancelled ones are fine)."""
    deadline = time.monotonic() + timeout
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        if time.monotonic() > deadline:
            raise AssertionError("workers still running after the deadline")
        await pilot.pause(0.01)


VIEWS = ("fleet", "gpus", "model", "drift", "cost", "releases", "alerts")
VIEW_TYPES = {"fleet": "FleetScreen", "gpus": "GpuScreen", "model": "ModelDetailScreen",
              "drift": "DriftScreen", "cost": "CostScreen", "releases": "ReleasesScreen",
              "alerts": "AlertsScreen"}


def _q(xs: list[float], p: float) -> float | None:
    """The ``p`` quantile (nearest rank) of ``xs``, rounded to 0.01."""
    return round(sorted(xs)[min(len(xs) - 1, int(p * len(xs)))], 2) if xs else None


async def _views(n_gpus: int, n_models: int, rounds: int, soak: int,
                 size: tuple[int, int] = (160, 48), source: dict | None = None,
                 only: Sequence[str] = VIEWS, memory_profile: bool = False) -> dict:
    """Per view: main-thread CPU milliseconds of a metrics refresh with that view on top,
    each round a part read at a new instant (``step_s`` later: the demo's 15 s scrape
    step, 5 s -- the default refresh -- against VictoriaMetrics) the way the poller reads
    it (in a thread, scoped to what the view shows past GPU_ROWS_MAX GPUs, its display
    data made there too); :alerts also an alerts refresh. Then ``soak`` more refreshes on
    the fleet screen for the memory trend. ``source``: ``{"url", "start"}`` of a loaded
    VictoriaMetrics (Prometheus-only mode: models discovered from its series); None: the
    demo at ``n_gpus`` / ``n_models``."""
    from console.controllers.messages import SourceUpdated  # noqa: PLC0415 - bench only

    if memory_profile:  # where the memory goes (console.cli._bench_memory)
        from console.cli import _bench_memory  # noqa: PLC0415 - bench only

        _bench_memory.start()
    rss_start = _rss_mb(os.getpid())
    if source is None:
        settings = load_settings(refresh=3600, demo={"enabled": True, "n_gpus": n_gpus,
                                                     "n_models": n_models})
        clock = frozen_clock(FROZEN)
        backends = build_demo(settings, clock=clock)
        step_s = 15
    else:
        from console.wiring import build_backends  # noqa: PLC0415 - bench only

        settings = load_settings(refresh=3600, prometheus={
            "url": source["url"], "cluster_label": "cluster", "gpu_prices": {"H100": 4.0},
            "timeout_s": 120})
        clock = frozen_clock(source["start"])
        backends = build_backends(settings)
        backends.clock = clock
        step_s = 5
    cluster = backends.cluster.read()
    metrics, alerts = backends.metrics, backends.alerts
    assert metrics is not None, "a metrics source"
    if source is None:
        # the demo keeps its last full parts (every GPU's row) and scoped pages: read at
        # three earlier instants (the app's reads replace them, same sizes), so what it
        # holds -- and the allocator's high-water mark of making one more -- is the
        # source's, not the console's
        from console.controllers.polling import FLEET_SCOPE, GPU_ROWS_MAX  # noqa: PLC0415

        for back in (3, 2, 1):
            metrics.read(cluster.services, RATE_WINDOW_S, clock() - timedelta(
                seconds=back * step_s), gpu_scope=FLEET_SCOPE if n_gpus > GPU_ROWS_MAX
                else None)
    # what the source itself holds in this process (the demo's simulated fleet; next to
    # nothing for a remote store): measured before the app exists, left out of the
    # console-only figure below
    rss_source = _rss_mb(os.getpid())
    app = make_app(settings, backends)
    out: dict = {"views": {}}
    read_ms: list[float] = []
    prep_ms: list[float] = []

    def read(scope):
        app.poller.free_retired()  # as the poller's worker does before it reads
        clock.advance(step_s)
        at = clock()
        t = time.perf_counter()
        part = (metrics.read(cluster.services, RATE_WINDOW_S, at) if scope is None
                else metrics.read(cluster.services, RATE_WINDOW_S, at, gpu_scope=scope))
        read_ms.append((time.perf_counter() - t) * 1000)
        update, ms = _thread_cpu(app.poller.metrics_update, part, at)
        prep_ms.append(ms)
        release_free_memory()  # as the poller's worker does after its read
        return update, part

    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 300
        while app.state.metrics is None or app.fleet_screen.snapshot is None:
            assert time.monotonic() < deadline, "no data"
            await pilot.pause(0.05)
        await workers_idle(pilot, 120)
        app.paused = True  # only our parts from here on
        await pilot.pause()
        idle_cpu = await _idle_cpu(pilot)
        bytes_gpus: list[int] = []
        for view in [v for v in VIEWS if v in only]:
            if view == "model":
                app.navigator.open_view("model", key=app.fleet_screen.selected)
            elif view != "fleet":
                app.navigator.open_view(view)
            await _until(pilot, lambda v=view: type(app.screen).__name__ == VIEW_TYPES[v]
                         and app.screen.is_mounted)
            # the first part of this view's scope, then its range data, before timing
            update, _ = await asyncio.to_thread(read, app.poller.gpu_scope())
            app.poller.on_source_updated(update)
            await workers_idle(pilot, 120)
            await pilot.pause()
            cpu: list[float] = []
            for _ in range(rounds):
                update, part = await asyncio.to_thread(read, app.poller.gpu_scope())
                bytes_gpus.append(len(part.gpus))
                cpu.append(await _main_thread_ms(pilot, app.poller.on_source_updated, update,
                                                 idle_cpu))
            entry = {"median_ms": _q(cpu, 0.5), "p95_ms": _q(cpu, 0.95), "rounds": rounds,
                     "rounds_ms": [round(ms, 1) for ms in cpu],
                     "gpu_rows_read": len(part.gpus),
                     "gpu_scope": None if part.gpu_scope is None
                     else part.gpu_scope.model_dump(exclude_defaults=True)}
            if view == "alerts" and alerts is not None:
                acpu: list[float] = []
                aprep: list[float] = []

                def read_alerts() -> SourceUpdated:
                    # as the poller reads them: sorted and formatted in its thread
                    firing = alerts.alerts()
                    update, ms = _thread_cpu(app.poller.alerts_update, firing, clock())
                    aprep.append(ms)
                    return update
                for _ in range(rounds):
                    clock.advance(step_s)
                    update = await asyncio.to_thread(read_alerts)
                    acpu.append(await _main_thread_ms(
                        pilot, app.poller.on_source_updated, update, idle_cpu))
                entry["alerts_refresh"] = {"median_ms": _q(acpu, 0.5), "p95_ms": _q(acpu, 0.95),
                                           "alerts": len(app.state.alerts or ()),
                                           "prepared_in_worker_median_ms": _q(aprep, 0.5)}
            out["views"][view] = entry
            if view != "fleet":
                app.pop_screen()
                await _until(pilot, lambda: app.screen is app.fleet_screen)
                await workers_idle(pilot, 120)
        # memory: more refreshes on the fleet screen, RSS sampled along the way
        rss = [(0, _rss_mb(os.getpid()))]
        for i in range(1, soak + 1):
            update, _ = await asyncio.to_thread(read, app.poller.gpu_scope())
            app.poller.on_source_updated(update)
            await pilot.pause()
            if i % max(1, soak // 5) == 0 or i == soak:
                rss.append((i, _rss_mb(os.getpid())))
        if memory_profile:
            out["memory_profile"] = _bench_memory.report()
        summary = app.state.metrics.gpu_summary if app.state.metrics else None
        out["scale"] = {"gpus": summary.gpus if summary else None,
                        "models": len(cluster.services),
                        "clusters": len({s.cluster for s in cluster.services}),
                        "source": "demo (one context; the simulated fleet, in this process)"
                        if source is None else "VictoriaMetrics (Prometheus-only mode: "
                        "models discovered from its series, cluster_label = cluster)"}
        pauses = list(app.collector.pauses_ms)
        out["gc_full_passes"] = {  # made between refreshes, on an idle screen
            "count": len(pauses), "median_ms": _q(pauses, 0.5),
            "max_ms": round(max(pauses), 1) if pauses else None,
            "note": "the collector's full passes, run by the console once the screen is "
                    "idle after a refresh (console/controllers/collector.py): outside "
                    "the refresh figures above, each still a pause of the UI thread"}
        bytes_read = [p for p in (app.state.metrics,) if p is not None]
        if bytes_read and bytes_read[0].bytes_read is not None:
            out["last_refresh"] = {"queries": bytes_read[0].queries,
                                   "bytes": bytes_read[0].bytes_read}
    out["read_ms_in_worker_median"] = round(statistics.median(read_ms), 1)
    out["display_data_ms_in_worker_median"] = round(statistics.median(prep_ms), 1)
    out["rss"] = _rss_trend(rss, soak)
    if rss_start is not None and rss_source is not None:
        held = max(0.0, rss_source - rss_start)
        out["rss"]["source_in_process_mb"] = round(held, 1)
        out["rss"]["console_only_note"] = (
            "console-only = each figure minus source_in_process_mb (the source's memory "
            "measured after building it, reading the cluster and three metrics instants "
            "-- the demo's caches full -- and before the app; its later growth, if any, "
            "is still counted)")
        for name in ("after_views_mb", "hour_extrapolated_mb"):
            if out["rss"].get(name) is not None:
                out["rss"][name.replace("_mb", "_console_only_mb")] = round(
                    out["rss"][name] - held, 1)
    return out


def _rss_trend(samples: list[tuple[int, float | None]], soak: int) -> dict:
    """RSS after the views and along the soak; the hour extrapolated from the soak's slope
    (MB per refresh over its second half, times 720 refreshes: one every 5 s)."""
    points = [(i, r) for i, r in samples if r is not None]
    out: dict = {"after_views_mb": round(points[0][1], 1) if points else None,
                 "soak_refreshes": soak,
                 "samples_mb": [[i, round(r, 1)] for i, r in points]}
    if len(points) >= 3:
        half = points[len(points) // 2:]
        (i0, r0), (i1, r1) = half[0], half[-1]
        slope = (r1 - r0) / (i1 - i0) if i1 > i0 else 0.0
        out["slope_mb_per_refresh"] = round(slope, 4)
        out["hour_extrapolated_mb"] = round(points[-1][1] + max(0.0, slope) * max(
            0, 720 - points[-1][0]), 1)
        out["extrapolation"] = ("last sample + max(0, slope of the soak's second half) x "
                                "the refreshes left to 720 (an hour at the default 5 s)")
    return out


async def _idle_cpu(pilot) -> float:
    """Main-thread CPU seconds of a frame with nothing to do (subtracted from rounds)."""
    idle = []
    for _ in range(5):
        c0 = time.thread_time()
        await pilot.pause()
        idle.append(time.thread_time() - c0)
    return statistics.median(idle)


async def _main_thread_ms(pilot, handler, message, idle_cpu: float) -> float:
    """CPU milliseconds of the UI thread for ``handler(message)`` and the frame after."""
    c0 = time.thread_time()
    handler(message)
    await pilot.pause()
    return max(0.0, time.thread_time() - c0 - idle_cpu) * 1000


async def _until(pilot, condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("view not shown")
        await pilot.pause(0.01)


def victoria(clusters: int, models: int, gpus: int, history_s: int, reads: int,
             views: tuple[int, int] | None = None, only: Sequence[str] = VIEWS) -> dict:
    """Bytes, queries and seconds of one metrics refresh against a real VictoriaMetrics
    (Debian's ``victoria-metrics``) loaded by the suite's loader (``tests/victoria``: a
    source checkout, run in a child process so its memory is not this one's): scoped as
    the console reads past GPU_ROWS_MAX GPUs (the fleet screen's page) and, beside it,
    every GPU row by row; ``views`` = (rounds, soak): then every view's refresh and the
    console's memory with this store as its only source (the series run ``history_s``
    into the future too, so the bench's clock, 5 s a round, stays inside them)."""
    import shutil  # noqa: PLC0415 - bench only
    from pathlib import Path  # noqa: PLC0415

    binary = shutil.which("victoria-metrics")
    if binary is None:
        return {"skipped": "victoria-metrics is not installed (apt-get install victoria-metrics)"}
    import importlib  # noqa: PLC0415

    try:  # the loader and the server fixture live in the source tree's tests (not typed)
        vm_fixture = importlib.import_module("tests.victoria.conftest")
        loader = importlib.import_module("tests.victoria.loader")
    except ImportError as exc:
        return {"skipped": f"the suite's loader is not importable ({exc}): run from a checkout"}
    VmServer, ScaleSpec = vm_fixture.VmServer, loader.ScaleSpec
    model_name, series_count = loader.model_name, loader.series_count
    wait_searchable = loader.wait_searchable
    from backends.domain.models import ModelService, ServiceKind  # noqa: PLC0415
    from backends.prometheus.backend import PrometheusMetrics  # noqa: PLC0415
    from backends.prometheus.config import PrometheusConfig  # noqa: PLC0415
    from console.controllers.polling import FLEET_SCOPE  # noqa: PLC0415

    spec = ScaleSpec(clusters=clusters, models=models, gpus=gpus, history_s=history_s)
    out: dict = {"scale": {"clusters": clusters, "models": models, "gpus": gpus,
                           "history_s": history_s, "series": series_count(spec)}}
    with tempfile.TemporaryDirectory() as work:
        server = VmServer(Path(work))
        server.start()
        try:
            t0 = time.perf_counter()
            now = int(time.time()) - 30
            ahead = history_s if views else 0
            t_end = spec.times(now + ahead)[-1]
            code = ("import sys; from tests.victoria.loader import ScaleSpec, load; "
                    f"load(sys.argv[1], ScaleSpec(clusters={clusters}, models={models}, "
                    f"gpus={gpus}, history_s={history_s + ahead}), {t_end}, keep=False)")
            subprocess.run([sys.executable, "-c", code, server.url], check=True,
                           cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                               os.path.abspath(__file__)))))
            spec = ScaleSpec(clusters=clusters, models=models, gpus=gpus,
                             history_s=history_s + ahead)
            wait_searchable(server.url, series_count(spec), t_end, deadline_s=600)
            out["load_s"] = round(time.perf_counter() - t0, 1)
            at = datetime.fromtimestamp(t_end - ahead, timezone.utc)
            services = tuple(ModelService(name=model_name(k), namespace="serving",
                                          cluster=spec.cluster(i), kind=ServiceKind.DEPLOYMENT)
                             for i in range(spec.clusters) for k in range(spec.models_of(i)))
            cfg = PrometheusConfig(url=server.url, cluster_label="cluster",
                                   gpu_prices={"H100": 4.0}, timeout_s=120)
            for name, scope in (("scoped_fleet_page", FLEET_SCOPE), ("every_gpu", None)):
                backend = PrometheusMetrics(cfg)
                try:
                    backend.read(services, RATE_WINDOW_S, at, gpu_scope=scope)  # the probe
                    secs, parts = [], []
                    for _ in range(reads):
                        t = time.perf_counter()
                        parts.append(backend.read(services, RATE_WINDOW_S, at,
                                                  gpu_scope=scope))
                        secs.append(time.perf_counter() - t)
                finally:
                    backend.close()
                part = parts[-1]
                out[name] = {"queries_per_refresh": part.queries,
                             "bytes_per_refresh": part.bytes_read,
                             "gpu_rows": len(part.gpus),
                             "gpus_counted": part.gpu_summary.gpus if part.gpu_summary else None,
                             "read_s_median": round(statistics.median(secs), 3),
                             "warnings": list(backend.warnings)}
            if views is not None:
                # in a process of its own: this one holds what the reads above allocated
                # (every GPU's rows, three times: ~500 MB at 20,000 GPUs), which its RSS
                # would count as the console's
                out["console"] = _views_in_child(gpus, models, views[0], views[1],
                                                 {"url": server.url, "start": at}, only)
        finally:
            server.stop()
    return out


def _views_in_child(gpus: int, models: int, rounds: int, soak: int, source: dict,
                    only: Sequence[str] = VIEWS) -> dict:
    """:func:`_views` against ``source`` in a new interpreter; its JSON."""
    args = json.dumps([gpus, models, rounds, soak, source["url"], source["start"].isoformat(),
                       list(only)])
    code = ("import asyncio, json, sys; from datetime import datetime; "
            "from console.cli.bench import _views; "
            "g, m, r, s, url, start, only = json.loads(sys.argv[1]); "
            "out = asyncio.run(_views(g, m, r, s, source={'url': url, "
            "'start': datetime.fromisoformat(start)}, only=only)); "
            "print(json.dumps(out))")
    done = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                              os.path.abspath(__file__)))))
    if done.returncode != 0:
        raise RuntimeError(f"the views' process failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process"] = "its own (a new interpreter: the RSS figures are the console's)"
    return out


def _linear_slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y) points; None for fewer than two x values."""
    if len({x for x, _ in points}) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def _series_summary(samples: list[tuple[float, float]]) -> dict:
    """Start, end, max and the slope (least squares, MB per hour: whole run and its second
    half) of (seconds, MB) samples."""
    if not samples:
        return {"samples": 0}
    half = samples[len(samples) // 2:]
    slope, slope_half = _linear_slope(samples), _linear_slope(half)
    return {"start_mb": round(samples[0][1], 1), "end_mb": round(samples[-1][1], 1),
            "max_mb": round(max(r for _, r in samples), 1), "samples": len(samples),
            "slope_mb_per_hour": None if slope is None else round(slope * 3600, 1),
            "slope_second_half_mb_per_hour": None if slope_half is None
            else round(slope_half * 3600, 1)}


def soak_process(seconds: float, gpus: int, models: int, refresh: float = 5.0,
                 interval: float = 5.0, size: tuple[int, int] = (160, 48),
                 first_frame_timeout: float = 1800.0) -> dict:
    """The console's memory over ``seconds`` in a process of its own: ``pitboard --demo``
    at ``gpus`` / ``models``, on the real clock, refreshing every ``refresh`` seconds in a
    pseudo-terminal; its RSS sampled every ``interval`` seconds from its first frame.
    The simulated fleet lives in that process too: beside it, a process with the demo
    source alone, read as the poller reads it (``console.cli._bench_source``), gives the
    simulator's share (its RSS less its RSS before the fleet was built), subtracted for
    ``console_only``."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    stop, _ = _drain(master)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        marker, base = os.path.join(tmp, "frame"), os.path.join(tmp, "source-base")
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]),
               "LINES": str(size[1]), "PITBOARD_FIRST_FRAME_FILE": marker,
               "XDG_CONFIG_HOME": tmp, "XDG_DATA_HOME": tmp,
               "PITBOARD_DEMO__N_GPUS": str(gpus), "PITBOARD_DEMO__N_MODELS": str(models),
               "BENCH_SOURCE_BASE_FILE": base}
        env.pop("PITBOARD_CONFIG", None)
        try:
            console = subprocess.Popen(
                [sys.executable, "-m", "console", "--demo", "--refresh", str(refresh)],
                stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                close_fds=True)
            procs.append(console)
            source = subprocess.Popen(
                [sys.executable, "-m", "console.cli._bench_source", str(gpus), str(models),
                 str(refresh)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, env=env, start_new_session=True)
            procs.append(source)
            t0 = time.monotonic()
            while not (os.path.exists(marker) and os.path.getsize(marker)):
                for proc in procs:
                    if proc.poll() is not None:
                        raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
                if time.monotonic() - t0 > first_frame_timeout:
                    raise TimeoutError(f"no first frame within {first_frame_timeout:g} s")
                time.sleep(0.05)
            start_s = round(time.monotonic() - t0, 1)
            ours: list[tuple[float, float]] = []
            theirs: list[tuple[float, float]] = []
            t1 = time.monotonic()
            while True:
                t = time.monotonic() - t1
                for proc, into in ((console, ours), (source, theirs)):
                    if proc.poll() is not None:
                        raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} "
                                           f"after {t:.0f} s")
                    rss = _rss_mb(proc.pid)
                    if rss is not None:
                        into.append((t, rss))
                if t >= seconds:
                    break
                time.sleep(min(interval, max(0.0, seconds - t)))
            with open(base, encoding="utf-8") as fh:
                source_base = float(fh.read().strip())
        finally:
            _end(procs, stop, slave, master)
    share = [(t, r - source_base) for t, r in theirs]
    by_time = dict(share)
    console_only = [(t, r - by_time[t]) for t, r in ours if t in by_time]
    return {"seconds": seconds, "refresh_s": refresh, "scale": {"gpus": gpus, "models": models},
            "first_frame_s": start_s,
            "process": "pitboard --demo in a pseudo-terminal (console and simulator)",
            "rss": _series_summary(ours),
            "source_alone": {**_series_summary(theirs), "before_fleet_built_mb": round(
                source_base, 1)},
            "console_only": _series_summary(console_only),
            "console_only_note": "the console process's RSS minus, at the same instant, the "
                                 "simulator's share: the source-alone process's RSS less its "
                                 "RSS before the fleet was built"}


def _thread_cpu(fn, *args):
    """(fn(*args), CPU milliseconds of the calling thread for it)."""
    c0 = time.thread_time()
    result = fn(*args)
    return result, (time.thread_time() - c0) * 1000


TARGETS = {"view_refresh_median_ms": 25, "view_refresh_p95_ms": 50, "rss_mb": 250,
           "first_frame_ratio": 1.4}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print JSON. ``pitboard bench`` passes no arguments: then
    ``PITBOARD_BENCH_ARGS`` (e.g. ``--quick``) is read as the command line."""
    p = argparse.ArgumentParser(prog="python -m console.cli.bench")
    p.add_argument("--quick", action="store_true",
                   help="a fast run: 2 first-frame runs, 5 rounds per view, a 20-refresh "
                        "soak, VictoriaMetrics at 2,000 GPUs / 300 models")
    p.add_argument("--runs", type=whole_number(1, 1000), default=None,
                   help="first-frame runs per app (5)")
    p.add_argument("--rounds", type=whole_number(1, 10000), default=None,
                   help="refresh rounds per view (15)")
    p.add_argument("--soak", type=whole_number(0, 100000), default=None,
                   help="refreshes of the memory soak (60)")
    p.add_argument("--gpus", type=whole_number(1, 20000), default=20000)  # the demo's own bounds
    p.add_argument("--models", type=whole_number(1, 5000), default=3000)
    p.add_argument("--clusters", type=whole_number(1, 1000), default=20,
                   help="VictoriaMetrics clusters")
    p.add_argument("--views", default=",".join(VIEWS),
                   help=f"comma-separated views to time (default all: {','.join(VIEWS)})")
    p.add_argument("--memory-profile", action="store_true",
                   help="views: trace allocations (tracemalloc; several times slower) and "
                        "print where the live memory is after the soak, and objects by type")
    p.add_argument("--soak-seconds", type=positive_seconds, default=None, metavar="N",
                   help="the console's memory over N seconds in a process of its own "
                        "(pitboard --demo at --gpus/--models, real clock, a refresh every "
                        "5 s); then only this runs")
    p.add_argument("--skip-first-frame", action="store_true")
    p.add_argument("--skip-views", action="store_true")
    p.add_argument("--skip-victoria", action="store_true")
    p.add_argument("--skip-real", action="store_true",
                   help="first frame: not against the real sources (test API server, "
                        "Prometheus, Alertmanager)")
    p.add_argument("--no-bytecode-cache", action="store_true",
                   help="first frame: do not give both apps a bytecode cache when "
                        "PYTHONDONTWRITEBYTECODE is set")
    if argv is not None and not argv and os.environ.get("PITBOARD_BENCH_ARGS"):
        argv = os.environ["PITBOARD_BENCH_ARGS"].split()
    args = p.parse_args(argv)
    only = [v.strip() for v in args.views.split(",") if v.strip()]
    unknown = [v for v in only if v not in VIEWS]
    if unknown:
        p.error(f"unknown view(s) {', '.join(unknown)}; choose from {', '.join(VIEWS)}")
    quick = args.quick
    runs = args.runs or (2 if quick else 5)
    rounds = args.rounds or (5 if quick else 15)
    soak = args.soak if args.soak is not None else (20 if quick else 60)
    out: dict = {"python": sys.version.split()[0], "quick": quick,
                 "machine": f"{os.cpu_count()} cores (shared: figures are noisy)"}
    if args.soak_seconds is not None:
        out["soak_process"] = soak_process(args.soak_seconds, args.gpus, args.models)
        soak_rss = out["soak_process"]["console_only"].get("max_mb")
        out["targets"] = TARGETS
        out["meets_targets"] = {"soak_console_only_rss": soak_rss is not None
                                and soak_rss <= TARGETS["rss_mb"]}
        print(json.dumps(out, indent=2))
        return 0
    if not args.skip_views:
        views = asyncio.run(_views(args.gpus, args.models, rounds, soak, only=only,
                                   memory_profile=args.memory_profile))
        out["scale"] = views.pop("scale")
        out.update(views)
    if not args.skip_victoria:
        vm_gpus, vm_models = (2000, 300) if quick else (args.gpus, args.models)
        out["victoria"] = victoria(args.clusters, vm_models, vm_gpus,
                                   600 if quick else 900, 2 if quick else 3,
                                   views=(rounds, soak), only=only)
    if not args.skip_first_frame:
        out["first_frame"] = compare_first_frame(runs, not args.no_bytecode_cache,
                                                  real=not args.skip_real)
    out["rss_mb_bench_process_max"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    out["targets"] = TARGETS
    out["meets_targets"] = _judge(out)
    print(json.dumps(out, indent=2))
    return 0


def _judge(out: dict) -> dict:
    verdict: dict = {}
    runs = [("demo", out)]
    console = out.get("victoria", {}).get("console")
    if console:
        runs.append(("victoria", console))
    for label, run in runs:
        for view, entry in run.get("views", {}).items():
            worst = [entry]
            if "alerts_refresh" in entry:
                worst.append(entry["alerts_refresh"])
            verdict[f"{label}_view_{view}"] = all(
                (e["median_ms"] or 0) <= TARGETS["view_refresh_median_ms"]
                and (e["p95_ms"] or 0) <= TARGETS["view_refresh_p95_ms"] for e in worst)
        rss = run.get("rss", {})
        hour = rss.get("hour_extrapolated_console_only_mb", rss.get(
            "hour_extrapolated_mb", rss.get("after_views_mb")))
        if hour is not None:
            verdict[f"{label}_rss_hour"] = hour <= TARGETS["rss_mb"]
    ff = out.get("first_frame")
    if ff:
        verdict["first_frame"] = ff["ratio"] <= TARGETS["first_frame_ratio"]
    return verdict


if __name__ == "__main__":
    sys.exit(main())
