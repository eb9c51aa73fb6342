"""A real VictoriaMetrics (Debian's 1.79) on 127.0.0.1 holding 20 clusters' series.

One store for many clusters, as a global Thanos/Mimir/VictoriaMetrics is run: every series
carries ``cluster="c00"`` ... ``"c19"``. The series are the suite's generators'
(``tests/victoria/loader.py`` says which upstream files their names, labels and units follow:
dcgm-exporter's default-counters.csv, vLLM's METRICS-TABLE), imported with millisecond
timestamps for an hour of history ending just now (Prometheus-only discovery reads "now").
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, require_binary
from tests.prometheus.conftest import _no_proxy_env, free_port  # noqa: F401
from tests.prometheus.generators import Fleet
from tests.victoria.loader import ScaleSpec, load, series_count, wait_searchable

SUITE_SCALE = ScaleSpec(clusters=20, models=40, gpus=80)  # 2 models and 4 GPUs a cluster


class VmServer(ServerProcess):
    """One ``victoria-metrics`` process (single node) with its storage in ``work``."""

    name = "victoria-metrics"
    ready_path = "/health"

    def __init__(self, work: Path):
        self.binary = require_binary("victoria-metrics")
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, deadline_s: float = 30.0) -> None:
        log = open(self.work / "victoria-metrics.log", "ab")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [self.binary, f"-storageDataPath={self.work / 'data'}",
             f"-httpListenAddr=127.0.0.1:{self.port}",
             "-search.latencyOffset=1s",  # else the newest 30 s are hidden from queries
             "-retentionPeriod=100y", "-loggerLevel=WARN"],
            stdout=log, stderr=log, cwd=self.work)
        log.close()
        self.wait_ready(deadline_s)


class VmFleet:
    """The loaded store: its URL, the scale, each cluster's fleet, the last sample time."""

    def __init__(self, server: VmServer, spec: ScaleSpec, fleets: dict[str, Fleet],
                 t_end: int):
        self.server = server
        self.url = server.url
        self.spec = spec
        self.fleets = fleets
        self.t_end = t_end
        self.at = datetime.fromtimestamp(t_end, timezone.utc)


@pytest.fixture(scope="session")
def vm_fleet(tmp_path_factory) -> Iterator[VmFleet]:
    server = VmServer(tmp_path_factory.mktemp("victoria"))
    server.start()
    try:
        t_end = SUITE_SCALE.times(int(time.time()) - 30)[-1]  # just now: discovery reads now
        fleets = load(server.url, SUITE_SCALE, t_end)
        wait_searchable(server.url, series_count(SUITE_SCALE), t_end)
        yield VmFleet(server, SUITE_SCALE, fleets, t_end)
    finally:
        server.stop()
