"""The demo source alone, read as the console reads it (bench ``--soak-seconds``).

    python -m console.cli._bench_source GPUS MODELS REFRESH_S

Builds the simulated fleet at that scale on the real clock and, every ``REFRESH_S``
seconds, reads it the way the console's poller does (cluster, metrics scoped to the
fleet screen's page past ``GPU_ROWS_MAX`` GPUs, alerts). Its resident memory is what the
simulator holds inside a ``pitboard --demo`` process of the same scale; the soak
subtracts it (less this process's memory before the fleet was built) from the console
process's to tell the console's own share. Writes its RSS before building to the file
named by ``BENCH_SOURCE_BASE_FILE``, runs until killed.
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    gpus, models, refresh = int(argv[0]), int(argv[1]), float(argv[2])
    from console.config import load_settings
    from console.controllers.polling import FLEET_SCOPE, GPU_ROWS_MAX
    from console.controllers.state import RATE_WINDOW_S
    from console.wiring import build_demo

    settings = load_settings(refresh=refresh, demo={"enabled": True, "n_gpus": gpus,
                                                    "n_models": models})
    marker = os.environ.get("BENCH_SOURCE_BASE_FILE")
    if marker:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as fh:
            rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(str(rss / 1024.0))
    backends = build_demo(settings)
    scope = FLEET_SCOPE if gpus > GPU_ROWS_MAX else None
    while True:
        t = time.monotonic()
        cluster = backends.cluster.read()
        if backends.metrics is not None:
            at = backends.clock()
            backends.metrics.read(cluster.services, RATE_WINDOW_S, at, gpu_scope=scope) \
                if scope is not None else backends.metrics.read(cluster.services,
                                                                RATE_WINDOW_S, at)
        if backends.alerts is not None:
            backends.alerts.alerts()
        time.sleep(max(0.0, refresh - (time.monotonic() - t)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
