"""A real Alertmanager (Debian's 0.25) fed by a real Prometheus through alerting rules.

The stack, started once per session on 127.0.0.1 with temporary storage:

  exporter (prometheus_client, values set by the tests)
    -> Prometheus 2.42 (scrape 1 s, rules evaluated every 1 s, ``alerting:`` -> Alertmanager)
    -> Alertmanager 0.25 (single node: empty ``--cluster.listen-address``)

Prometheus is the suite's own :class:`tests.prometheus.conftest.PromServer` with a config
that adds ``rule_files`` and ``alerting``. Tests give each alert labels of their own (a model
or GPU no other test uses), so they never wait on one another's alerts.

Names follow their exporters: the GPU rule reads dcgm-exporter's ``DCGM_FI_DEV_GPU_TEMP``
(C) with its ``gpu``/``UUID``/``modelName``/``Hostname`` labels (dcgm-exporter
default-counters.csv); the model rule reads a recording-rule style error ratio (0-1) per
``model``/``namespace``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import Gauge

from tests.conftest import ServerProcess, require_binary
from tests.prometheus.conftest import Live, PromServer, _no_proxy_env, free_port  # noqa: F401

ERROR_RATIO = "model:request_error_ratio:rate5m"
ERROR_THRESHOLD = 0.05
TEMP_THRESHOLD_C = 85
RUNBOOK_ERRORS = "https://runbooks.example.com/model-error-rate"
RUNBOOK_GPU = "https://runbooks.example.com/gpu-temperature"

RULES = f"""\
groups:
  - name: pitboard-test
    interval: 1s
    rules:
      - alert: ModelErrorRateHigh
        expr: {ERROR_RATIO} > {ERROR_THRESHOLD}
        labels:
          severity: critical
        annotations:
          summary: >-
            {{{{ $labels.model }}}} in {{{{ $labels.namespace }}}} fails
            {{{{ $value | humanizePercentage }}}} of requests
          runbook_url: {RUNBOOK_ERRORS}
      - alert: GpuTemperatureHigh
        expr: DCGM_FI_DEV_GPU_TEMP > {TEMP_THRESHOLD_C}
        labels:
          severity: warning
        annotations:
          summary: "GPU {{{{ $labels.UUID }}}} on {{{{ $labels.Hostname }}}} at {{{{ $value }}}} C"
          runbook_url: {RUNBOOK_GPU}
"""

AM_CONFIG = """\
route:
  receiver: blackhole
  group_by: [alertname, model, UUID]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""


class AlertmanagerServer(ServerProcess):
    """One ``prometheus-alertmanager`` process, single node, temp storage."""

    name = "alertmanager"
    ready_path = "/-/ready"

    def __init__(self, work: Path):
        self.binary = require_binary("prometheus-alertmanager")
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        (work / "alertmanager.yml").write_text(AM_CONFIG, encoding="utf-8")
        (work / "data").mkdir(exist_ok=True)

    def start(self, deadline_s: float = 30.0) -> None:
        log = open(self.work / "alertmanager.log", "ab")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.work / 'alertmanager.yml'}",
             f"--storage.path={self.work / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=log, stderr=log, cwd=self.work)
        log.close()
        self.wait_ready(deadline_s)


class AlertExporter(Live):
    """The suite's live exporter plus the two gauges the rules read."""

    def __init__(self) -> None:
        super().__init__()
        self.error_ratio = Gauge(ERROR_RATIO, "failed / all requests over 5m (0-1)",
                                 ["model", "namespace"], registry=self.registry)
        self.gpu_temp = Gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).",
                              ["gpu", "UUID", "modelName", "Hostname"],
                              registry=self.registry)


def rule_prometheus(work: Path, scrape_port: int, alertmanager_port: int) -> PromServer:
    """A :class:`PromServer` whose config evaluates ``RULES`` every second and sends the
    alerts to the Alertmanager on ``alertmanager_port``."""
    server = PromServer(work, scrape_port)
    rules = work / "rules.yml"
    rules.write_text(RULES, encoding="utf-8")
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {rules}\n"
        "alerting:\n  alertmanagers:\n    - static_configs:\n"
        f"        - targets: ['127.0.0.1:{alertmanager_port}']\n"
        "scrape_configs:\n  - job_name: live\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{scrape_port}']\n", encoding="utf-8")
    return server


class AlertStack:
    def __init__(self, alertmanager: AlertmanagerServer, prometheus: PromServer,
                 exporter: AlertExporter):
        self.alertmanager = alertmanager
        self.url = alertmanager.url
        self.prometheus = prometheus
        self.exporter = exporter


@pytest.fixture(scope="session")
def alert_stack(tmp_path_factory) -> Iterator[AlertStack]:
    exporter = AlertExporter()
    am = AlertmanagerServer(tmp_path_factory.mktemp("alertmanager"))
    prom: PromServer | None = None
    try:
        am.start()
        prom = rule_prometheus(tmp_path_factory.mktemp("prom-rules"), exporter.port, am.port)
        prom.start()
        yield AlertStack(am, prom, exporter)
    finally:
        if prom is not None:
            prom.stop()
        am.stop()
        exporter.close()
