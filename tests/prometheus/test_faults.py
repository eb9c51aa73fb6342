"""Down, slow or garbage-answering Prometheus: a short BackendError, never a crash."""

from __future__ import annotations

import time

import pytest

from backends.domain.errors import BackendError, ForbiddenError
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import LIVE_GPU_UTIL, start_server
from tests.prometheus.proxy import FaultProxy

pytestmark = pytest.mark.integration
W = 290


@pytest.fixture(scope="module")
def proxy(main_prom):
    p = FaultProxy(main_prom.url)
    yield p
    p.close()


def backend_for(url: str, **extra) -> PrometheusMetrics:
    cfg = dict(url=url, timeout_s=0.5, retries=1, backoff_s=0.01, backoff_max_s=0.02)
    return PrometheusMetrics(PrometheusConfig(**(cfg | extra)))


@pytest.mark.parametrize(("mode", "reason"), [
    ("500", "HTTP 500"),
    ("html", "HTML page, not JSON"),
    ("slow", "timeout"),
    ("truncated", "invalid or truncated JSON"),
])
def test_garbage_answers_give_a_short_reason(proxy, main_prom, mode, reason):
    proxy.set("pass")
    backend = backend_for(proxy.url)
    try:
        backend.read([], W, main_prom.at)  # profiles probed through the proxy
        proxy.set(mode)
        started = time.monotonic()
        with pytest.raises(BackendError) as err:
            backend.read([], W, main_prom.at)
        assert err.value.source == "prometheus"
        assert reason in str(err.value) and len(str(err.value)) < 200
        assert time.monotonic() - started < 2  # one timeout, not one per query: fail fast
        with pytest.raises(BackendError):
            backend.chart("llm-chat", 600, main_prom.at)
        proxy.set("pass")
        assert backend.read([], W, main_prom.at).gpus  # recovers by itself
    finally:
        proxy.release.set()
        proxy.set("pass")
        backend.close()
        proxy.release.clear()


def test_retry_with_backoff_then_success(proxy, main_prom):
    proxy.set("pass")
    backend = backend_for(proxy.url, retries=2, max_concurrency=1)
    try:
        backend.read([], W, main_prom.at)
        proxy.set("flaky:2")
        before = len(proxy.requests)
        part = backend.read([], W, main_prom.at)
        assert part.gpus
        assert len(proxy.requests) - before == part.queries + 2  # two retried answers
    finally:
        proxy.set("pass")
        backend.close()


def test_nan_and_inf_become_none(proxy, main_prom):
    proxy.set("nan")
    backend = backend_for(proxy.url, profiles={"dcgm": {"enabled": True},
                                               "vllm": {"enabled": True}})
    try:
        part = backend.read([], W, main_prom.at)
    finally:
        proxy.set("pass")
        backend.close()
    gpus = {g.uuid: g for g in part.gpus}
    assert gpus["GPU-nan"].util_percent is None and gpus["GPU-inf"].util_percent is None
    assert gpus["GPU-nan"].power_watts is None
    assert part.health["m"].rps is None and part.health["m"].p95_ms is None


def test_rejected_query_keeps_the_rest(proxy, main_prom):
    cfg = PrometheusConfig(url=main_prom.url, profiles={
        "vllm": {"queries": {"queue": "sum by ($by) (vllm:num_requests_waiting{"}}})
    backend = PrometheusMetrics(cfg)
    try:
        part = backend.read([], W, main_prom.at)
    finally:
        backend.close()
    assert part.health["llm-chat"].queue_depth is None
    assert part.health["llm-chat"].reasons["queue_depth"] == (
        "query rejected or failed (vllm: see the warnings)")
    assert part.health["llm-chat"].p95_ms is not None
    assert any(w.startswith("vllm.queue: query rejected") for w in backend.warnings)


def test_auth_headers_and_secrets(proxy, main_prom, tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n", encoding="utf-8")
    proxy.set("pass")
    backend = backend_for(proxy.url, bearer_token_file=str(token),
                          headers={"X-Scope-OrgID": "tenant-1"})
    try:
        before = len(proxy.requests)
        backend.read([], W, main_prom.at)
        sent = proxy.requests[before:]
    finally:
        backend.close()
    assert sent and all(h["authorization"] == "Bearer s3cret-token" for h in sent)
    assert all(h["x-scope-orgid"] == "tenant-1" for h in sent)
    monkeypatch.setenv("PB_PROM_PW", "pw")
    basic = backend_for(proxy.url, basic_auth_user="ops", basic_auth_password_env="PB_PROM_PW")
    try:
        before = len(proxy.requests)
        basic.read([], W, main_prom.at)
        assert proxy.requests[-1]["authorization"] == "Basic b3BzOnB3"
    finally:
        basic.close()
    missing = backend_for(proxy.url, bearer_token_env="PB_NOT_SET")
    with pytest.raises(BackendError, match="PB_NOT_SET is not set"):
        missing.read([], W)


@pytest.mark.parametrize(("mode", "kind", "reason"), [
    ("deny", ForbiddenError, "refused access (HTTP 401)"),
    ("reject", BackendError, "parse error"),
])
def test_refusals_are_reported(proxy, mode, kind, reason):
    backend = backend_for(proxy.url)
    proxy.set(mode)
    try:
        with pytest.raises(kind, match=reason.replace("(", r"\(").replace(")", r"\)")):
            backend.read([], W)
    finally:
        proxy.set("pass")
        backend.close()


def test_server_stopped_mid_test_then_restarted(tmp_path, live_exporter):
    server = start_server(tmp_path, None, live_exporter.port)
    backend = backend_for(server.url)
    try:
        _wait_live(backend)
        server.stop()
        with pytest.raises(BackendError, match="cannot connect") as err:
            backend.read([], W)
        assert err.value.source == "prometheus"
        server.start()
        part = _wait_live(backend)
        assert "dcgm" in part.profiles
    finally:
        backend.close()
        server.stop()


def _wait_live(backend, deadline_s: float = 20.0):
    end = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < end:
        try:
            part = backend.read([], W)
            live = [g for g in part.gpus if g.uuid == "GPU-live-0"]
            if live and live[0].util_percent == LIVE_GPU_UTIL:
                return part
        except BackendError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"live series not seen in {deadline_s}s (last error: {last})")
