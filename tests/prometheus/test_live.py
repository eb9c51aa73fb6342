"""Live series scraped from a prometheus_client exporter; Prometheus-only discovery."""

from __future__ import annotations

import time

import pytest

from backends.domain.actions import ActionKind, ActionRequest
from backends.domain.errors import ActionRefused, BackendError
from backends.prometheus.backend import PrometheusDiscovery, PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import LIVE_GPU_UTIL

pytestmark = pytest.mark.integration


def poll(fn, deadline_s: float = 20.0):
    """Call ``fn`` until it returns something truthy (BackendError counts as not yet)."""
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        try:
            result = fn()
            if result:
                return result
        except BackendError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {deadline_s}s (last error: {last})")


def test_live_exporter_series_are_picked_up(main_prom, live_exporter):
    backend = PrometheusMetrics(PrometheusConfig(url=main_prom.url))
    try:
        def live_gpu():
            part = backend.read([], 60)
            return [g for g in part.gpus if g.uuid == "GPU-live-0"] and part
        part = poll(live_gpu)
        gpu = next(g for g in part.gpus if g.uuid == "GPU-live-0")
        assert (gpu.node, gpu.util_percent) == ("live-node", LIVE_GPU_UTIL)
        # the backfilled fleet ended 15 minutes ago: nothing of it is "current"
        assert {g.uuid for g in part.gpus} == {"GPU-live-0"}
        live_exporter.util.labels("0", "GPU-live-0", gpu.model_name, "live-node").set(77)
        poll(lambda: next(g for g in backend.read([], 60).gpus
                          if g.uuid == "GPU-live-0").util_percent == 77)
    finally:
        live_exporter.util.labels("0", "GPU-live-0", gpu.model_name, "live-node").set(
            LIVE_GPU_UTIL)
        backend.close()


def test_discovery_without_kubernetes(main_prom):
    cfg = PrometheusConfig(url=main_prom.url)
    metrics = PrometheusMetrics(cfg)
    disco = PrometheusDiscovery(cfg, metrics)
    try:
        part = poll(lambda: (p := disco.read()).services and p)
        svc = next(s for s in part.services if s.name == "live-model")
        assert (svc.namespace, svc.runtime, svc.cluster) == ("live", "vllm", "prometheus")
        health = metrics.read(part.services, 60).health
        assert health["live-model"].queue_depth == 3
        request = ActionRequest(kind=ActionKind.ROLLBACK, service_key=svc.key)
        with pytest.raises(ActionRefused, match="read-only"):
            disco.plan(request)
        with pytest.raises(ActionRefused, match="no cluster access"):
            disco.execute(request)
        assert disco.read_only
    finally:
        disco.close()
        metrics.close()


def test_a_probe_begun_ahead_that_failed_is_the_first_reads_error_once():
    """Prometheus down at start: the read raises what the probe ran into, without a
    second probe of its own (one wait for the unreachable server, not two); the next
    read probes again."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    backend = PrometheusMetrics(PrometheusConfig(url=url, retries=0))
    try:
        backend.warm()
        with pytest.raises(BackendError):
            backend.read([], 120)
        assert backend.client.queries == 1  # the probe made ahead, and no other
        with pytest.raises(BackendError):
            backend.read([], 120)
        assert backend.client.queries == 2  # this read probed afresh
    finally:
        backend.close()
