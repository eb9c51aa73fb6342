"""Benchmark: refresh latency of PrometheusMetrics.read() against a real Prometheus.

    .venv/bin/python -m tests.bench_prometheus [--sizes 64,512,2000] [--hours 24] [--reads 10]

For each fleet size: generate the fleet (every default profile), backfill ``--hours`` of
history (10-minute resolution, the last 30 minutes at 15 s), start Debian's prometheus on
127.0.0.1, then time the first read (with the profile probe), steady reads and one chart.
Prints one JSON document. Not a pytest module (its name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import PromServer, backfill
from tests.prometheus.fleets import scaled_fleet

COARSE_S, FINE_S, FINE_SPAN_S = 600, 15, 1800


def grid(end: int, hours: float) -> list[int]:
    end -= end % COARSE_S
    coarse = range(end - int(hours * 3600), end - FINE_SPAN_S, COARSE_S)
    fine = range(end - FINE_SPAN_S, end + 1, FINE_S)
    return [*coarse, *fine]


def bench_size(n_gpus: int, hours: float, reads: int, work: Path) -> dict:
    started = time.perf_counter()
    fleet = scaled_fleet(n_gpus, grid(int(time.time()) - 120, hours))
    generated = time.perf_counter()
    server = None
    try:
        server = PromServer(work)
        backfill(fleet, server.tsdb, work)
        loaded = time.perf_counter()
        server.start()
        ready = time.perf_counter()
        at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
        backend = PrometheusMetrics(PrometheusConfig(url=server.url))
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            first = backend.read([], 300, at)
            first_s, first_cpu = time.perf_counter() - t0, time.process_time() - c0
            lat, cpu, queries = [], [], set()
            for _ in range(reads):
                t0, c0 = time.perf_counter(), time.process_time()
                part = backend.read([], 300, at)
                lat.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                queries.add(part.queries)
            model = next(iter(part.health))
            t0 = time.perf_counter()
            backend.chart(model, 3600, at)
            chart_s = time.perf_counter() - t0
        finally:
            backend.close()
    finally:
        if server is not None:
            server.stop()
    lat.sort()
    return {
        "gpus": len(part.gpus), "models": len(part.health), "series": len(fleet.series),
        "samples": sum(len(s.points) for s in fleet.series), "history_h": hours,
        "profiles": list(part.profiles),
        "queries_per_refresh": sorted(queries), "first_read_queries": first.queries,
        "first_read_ms": round(first_s * 1000, 1),
        "first_read_cpu_ms": round(first_cpu * 1000, 1),
        "read_ms_median": round(statistics.median(lat) * 1000, 1),
        "read_ms_p95": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1000, 1),
        "read_ms_max": round(lat[-1] * 1000, 1),
        # CPU spent in this process per refresh (parsing + building models): what a
        # worker thread costs the interpreter, i.e. the GIL share the UI thread competes with
        "read_cpu_ms_median": round(statistics.median(cpu) * 1000, 1),
        "chart_ms": round(chart_s * 1000, 1),
        "setup_s": {"generate": round(generated - started, 1),
                    "backfill": round(loaded - generated, 1),
                    "start": round(ready - loaded, 1)},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,512,2000")
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--reads", type=int, default=10)
    args = ap.parse_args(argv)
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        print("prometheus and promtool are needed: sudo apt-get install prometheus",
              file=sys.stderr)
        return 2
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"pitboard-bench-{size}-") as tmp:
            results.append(bench_size(size, args.hours, args.reads, Path(tmp)))
        print(f"{size} GPUs done", file=sys.stderr)
    print(json.dumps({"benchmark": "prometheus_read", "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
