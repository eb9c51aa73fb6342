"""SLO error ratios (1h/6h) and replay charts (LLM extras, one GPU) from a real Prometheus,
against figures computed independently from the generated samples."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from console.controllers.series import gpu_series, llm_series
from tests.prometheus.generators import EVIL, quantile_from_rates

pytestmark = pytest.mark.integration
LATE = 233  # read 233 s (< the 5 min lookback) after the last sample: the 1h window starts inside the history
WINDOWS = (3600, 21600)


def rel(x: float) -> object:
    return pytest.approx(x, rel=1e-9, abs=1e-12)


def rate_sum(fleet, name: str, t: int, window: int, **labels) -> float:
    return sum(fleet.rate(s, t, window) for s in fleet.find(name, **labels))


@pytest.fixture(scope="module")
def slo_part(main_prom):
    at = main_prom.at + timedelta(seconds=LATE)
    backend = PrometheusMetrics(PrometheusConfig(url=main_prom.url))
    try:
        yield backend.read([], 1200, at)
    finally:
        backend.close()


def test_slo_error_ratios_equal_samples(slo_part, main_prom):
    f, t = main_prom.fleet, main_prom.t_end + LATE
    expected = {}
    for w in WINDOWS:
        fraud = (rate_sum(f, "revision_request_count", t, w, response_code_class="5xx")
                 / rate_sum(f, "revision_request_count", t, w))
        bad = rate_sum(f, "nv_inference_request_failure", t, w, model="resnet")
        resnet = bad / (rate_sum(f, "nv_inference_request_success", t, w, model="resnet") + bad)
        evil = (rate_sum(f, "http_request_duration_seconds_count", t, w, model=EVIL, code="500")
                / rate_sum(f, "http_request_duration_seconds_count", t, w, model=EVIL))
        expected[w] = {"fraud": fraud, "resnet": resnet, EVIL: evil}
    for model in ("fraud", "resnet", EVIL):
        h = slo_part.health[model]
        assert h.error_ratio_1h == rel(expected[3600][model])
        assert h.error_ratio_6h == rel(expected[21600][model])
        assert 0 < h.error_ratio_1h < 1
    # the 6h window holds the whole (1h) history, the 1h one only its last 56 minutes
    assert slo_part.health["fraud"].error_ratio_1h != slo_part.health["fraud"].error_ratio_6h
    # vLLM exports no failure counter: the ratio is unknown, never 0
    assert slo_part.health["llm-chat"].error_ratio_1h is None
    assert slo_part.health["llm-chat"].error_ratio_6h is None


def test_fleet_burn_column_from_prometheus(slo_part, main_prom):
    """The fleet table's burn cell for Prometheus figures, against the samples."""
    from backends.domain.models import FleetSnapshot, ModelService
    from backends.domain.slo import fleet_burn
    from backends.domain.slo_config import SloConfig
    from widgets.model_rows import COLUMNS, rows_from_snapshot

    f, t = main_prom.fleet, main_prom.t_end + LATE
    bad = rate_sum(f, "revision_request_count", t, 3600, response_code_class="5xx")
    burn = bad / rate_sum(f, "revision_request_count", t, 3600) / (1 - 0.999)
    services = tuple(ModelService(name=n, namespace="ns", cluster="c")
                     for n in ("fraud", "llm-chat"))
    snap = FleetSnapshot(taken_at=main_prom.at, context="c", services=services,
                         health=slo_part.health)
    col = [c for c, _, _ in COLUMNS].index("burn")
    cells = {r.name: r.cells[col][0]
             for r in rows_from_snapshot(snap, slo=fleet_burn(SloConfig()))}
    assert burn > 10  # 2.5-3 % of 5xx on the newest revision
    assert cells == {"fraud": f"{burn:.1f}x" if burn >= 9.995 else f"{burn:.2f}x",
                     "llm-chat": "—"}


@pytest.fixture(scope="module")
def charts(main_prom):
    cfg = PrometheusConfig(url=main_prom.url, min_rate_window_s=50)
    backend = PrometheusMetrics(cfg)
    calls: list[tuple[str, int]] = []
    range_all = backend.range_all

    def spy(plan, start, end, step):
        out = range_all(plan, start, end, step)
        calls.extend((k, len(v)) for (_, k), v in out.items())
        return out

    backend.range_all = spy
    try:
        cold = backend.gpu_chart("gpu-node-b", 0, 1800, main_prom.at)  # before any read
        backend.read([], 290, main_prom.at)
        calls.clear()
        yield {
            "llm": {s.name: s for s in backend.model_extra_chart("llm-chat", 1800, main_prom.at)},
            "old": {s.name: s for s in backend.model_extra_chart("llm-old", 1800, main_prom.at)},
            "gpu_b0": {s.name: s for s in backend.gpu_chart("gpu-node-b", 0, 1800, main_prom.at)},
            "gpu_a2": {s.name: s for s in backend.gpu_chart("gpu-node-a", 2, 1800, main_prom.at)},
            "cold": {s.name: s for s in cold},
            "calls": list(calls),
            "console_gpu": gpu_series(backend, _Gpu("gpu-node-c", 0), 1800, main_prom.at),
            "console_llm": llm_series(backend, "llm-chat", 1800, main_prom.at),
        }
    finally:
        backend.close()


class _Gpu:
    def __init__(self, node: str, index: int):
        self.node, self.index = node, index
        self.uuid = self.cluster = None  # known by node and index only


def test_llm_extra_series_equal_samples(charts, main_prom):
    f = main_prom.fleet
    s = charts["llm"]
    assert list(s) == ["TTFT p95 ms", "tokens/s", "queue", "KV cache %"]
    assert len(s["queue"].points) == 121  # 1800 s at a 15 s step, both ends
    assert s["queue"].points[-1].at.timestamp() == main_prom.t_end
    for i in (-1, -40, 5):
        t = int(s["queue"].points[i].at.timestamp())
        rates: dict[float, float] = {}
        for b in f.find("vllm:time_to_first_token_seconds_bucket", model_name="llm-chat"):
            le = float(b.labels["le"])
            rates[le] = rates.get(le, 0.0) + f.rate(b, t, 50)
        assert s["TTFT p95 ms"].points[i].value == rel(quantile_from_rates(0.95, rates) * 1000)
        assert s["tokens/s"].points[i].value == rel(
            rate_sum(f, "vllm:generation_tokens_total", t, 50, model_name="llm-chat"))
        waiting = [f.value_at(x, t) for x in f.find("vllm:num_requests_waiting",
                                                       model_name="llm-chat")]
        assert s["queue"].points[i].value == rel(sum(waiting))
        kv = [f.value_at(x, t) for x in f.find("vllm:kv_cache_usage_perc", model_name="llm-chat")]
        assert s["KV cache %"].points[i].value == rel(100 * max(kv))  # the fullest replica
    old = charts["old"]  # older vLLM names: KV cache from gpu_cache_usage_perc, no TTFT
    kv_old = f.find("vllm:gpu_cache_usage_perc", model_name="llm-old")[0]
    assert old["KV cache %"].points[-1].value == rel(100 * f.value_at(kv_old, main_prom.t_end))
    assert all(p.value is None for p in old["TTFT p95 ms"].points)


def _check_gpu(series, fleet, uuid: str) -> None:
    assert list(series) == ["util %", "mem %", "temp C", "power W"]
    assert len(series["util %"].points) == 121
    util = fleet.find("DCGM_FI_DEV_GPU_UTIL", UUID=uuid)[0]
    used = fleet.find("DCGM_FI_DEV_FB_USED", UUID=uuid)[0]
    free = fleet.find("DCGM_FI_DEV_FB_FREE", UUID=uuid)[0]
    temp = fleet.find("DCGM_FI_DEV_GPU_TEMP", UUID=uuid)[0]
    power = fleet.find("DCGM_FI_DEV_POWER_USAGE", UUID=uuid)[0]
    for i in range(121):
        t = int(series["util %"].points[i].at.timestamp())
        assert series["util %"].points[i].value == fleet.value_at(util, t)
        u, fr = fleet.value_at(used, t), fleet.value_at(free, t)
        assert series["mem %"].points[i].value == rel(100 * u / (u + fr))
        assert series["temp C"].points[i].value == fleet.value_at(temp, t)
        assert series["power W"].points[i].value == fleet.value_at(power, t)


def test_gpu_chart_equals_samples(charts, main_prom):
    _check_gpu(charts["gpu_b0"], main_prom.fleet, "GPU-b-0")   # lower-case `hostname`
    _check_gpu(charts["gpu_a2"], main_prom.fleet, "GPU-a-2")   # `Hostname`, old pod labels
    _check_gpu(charts["cold"], main_prom.fleet, "GPU-b-0")     # by node + index, no read yet


def test_charts_fetch_only_what_is_on_screen(charts):
    gpu_calls = [(k, n) for k, n in charts["calls"]
                 if k in ("util", "mem_used", "mem_free", "power", "temp")]
    assert gpu_calls and all(n == 1 for _, n in gpu_calls)  # one GPU's series, not 12
    assert all(n <= 2 * 9 for k, n in charts["calls"] if k == "ttft")  # one model's buckets


def test_console_uses_the_backend_hooks(charts, main_prom):
    gpu = {s.name: s for s in charts["console_gpu"]}
    _check_gpu(gpu, main_prom.fleet, "GPU-c-0")  # scraped without honor_labels
    llm = {s.name: s for s in charts["console_llm"]}
    assert llm["tokens/s"].points == charts["llm"]["tokens/s"].points


def test_replay_reads_a_past_instant(main_prom):
    """A past ``at`` (replay): the window ends there, not now."""
    backend = PrometheusMetrics(PrometheusConfig(url=main_prom.url))
    past = main_prom.at - timedelta(seconds=1200)
    try:
        backend.read([], 290, past)
        s = {x.name: x for x in backend.gpu_chart("gpu-node-a", 0, 900, past)}
    finally:
        backend.close()
    last = s["util %"].points[-1]
    assert last.at == past.astimezone(timezone.utc)
    util = main_prom.fleet.find("DCGM_FI_DEV_GPU_UTIL", UUID="GPU-a-0")[0]
    assert last.value == main_prom.fleet.value_at(util, int(past.timestamp()))
    assert datetime.now(timezone.utc) > past
