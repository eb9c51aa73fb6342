"""A real Prometheus (Debian's 2.42) on 127.0.0.1 with backfilled history + a live exporter."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from tests.conftest import ServerProcess, require_binary
from tests.prometheus.fleets import main_fleet
from tests.prometheus.generators import H100, Fleet, time_grid

LIVE_GPU_UTIL = 42.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backfill(fleet: Fleet, tsdb: Path, work: Path) -> None:
    """Write the fleet as OpenMetrics (one file per 2 h block) and turn it into TSDB blocks
    inside ``tsdb`` with ``promtool tsdb create-blocks-from openmetrics``."""
    promtool = require_binary("promtool")
    chunks = work / "openmetrics"
    chunks.mkdir(exist_ok=True)

    def one(src: Path) -> str | None:
        res = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "-q",
                              str(src), str(tsdb)], capture_output=True, text=True,
                             timeout=600)
        src.unlink()
        return None if res.returncode == 0 else res.stderr.strip()[-800:]

    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        errors = [e for e in pool.map(one, fleet.write_openmetrics_chunks(chunks)) if e]
    if errors:
        raise RuntimeError(f"promtool backfill failed: {errors[0]}")


class PromServer(ServerProcess):
    """One prometheus process; ``stop``/``start`` keep the same port and TSDB."""

    name = "prometheus"
    ready_path = "/-/ready"

    def __init__(self, work: Path, scrape_port: int | None = None):
        self.binary = require_binary("prometheus")
        self.work = work
        self.tsdb = work / "tsdb"
        self.tsdb.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        targets = f'["127.0.0.1:{scrape_port}"]' if scrape_port else "[]"
        (work / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: live\n    static_configs:\n"
            f"      - targets: {targets}\n", encoding="utf-8")

    def start(self, deadline_s: float = 30.0) -> None:
        log = open(self.work / "prometheus.log", "ab")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.work / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.tsdb}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--storage.tsdb.retention.time=3650d", "--log.level=warn"],
            stdout=log, stderr=log, cwd=self.work)
        log.close()
        self.wait_ready(deadline_s)


def start_server(work: Path, fleet: Fleet | None, scrape_port: int | None = None) -> PromServer:
    server = PromServer(work, scrape_port)
    if fleet is not None:
        backfill(fleet, server.tsdb, work)
    server.start()
    return server


class Live:
    """A prometheus_client exporter the server scrapes every second."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.util = Gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization",
                          ["gpu", "UUID", "modelName", "Hostname"], registry=self.registry)
        self.util.labels("0", "GPU-live-0", H100, "live-node").set(LIVE_GPU_UTIL)
        self.waiting = Gauge("vllm:num_requests_waiting", "waiting requests",
                             ["model_name", "namespace"], registry=self.registry)
        self.waiting.labels("live-model", "live").set(3)
        registry = self.registry

        class Handler(BaseHTTPRequestHandler):
            # Always the classic text format: prometheus_client's OpenMetrics output would
            # escape vLLM's ``vllm:`` names, which real vLLM exporters do not.
            def do_GET(self):  # noqa: N802
                body = generate_latest(registry)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def live_exporter() -> Iterator[Live]:
    live = Live()
    yield live
    live.close()


class MainProm:
    """The session server: main fleet history ending ``t_end`` + the live exporter."""

    def __init__(self, server: PromServer, fleet: Fleet):
        self.server = server
        self.url = server.url
        self.fleet = fleet
        self.t_end = fleet.t_end
        self.at = datetime.fromtimestamp(fleet.t_end, timezone.utc)


@pytest.fixture(scope="session")
def main_prom(tmp_path_factory, live_exporter) -> Iterator[MainProm]:
    work = tmp_path_factory.mktemp("prom-main")
    times = time_grid(int(time.time()) - 900, 3600)
    fleet = main_fleet(times)
    server = start_server(work, fleet, live_exporter.port)
    yield MainProm(server, fleet)
    server.stop()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch):
    """requests/httpx honour *_proxy variables: keep 127.0.0.1 traffic direct."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
