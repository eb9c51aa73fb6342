"""Bad metric input on the suite's real Prometheus: a figure is exact or "—" with the
reason, never a crash or a wrong number (fixtures: ``fleets_bad.py``)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets_bad import bad_fleet
from tests.prometheus.generators import quantile_from_rates, time_grid
from tests.prometheus.test_engines import W, buckets, rates, rel, values

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    fleet = bad_fleet(time_grid(int(time.time()) - 600, 1800))
    server = start_server(tmp_path_factory.mktemp("prom-bad"), fleet)
    yield server, fleet
    server.stop()


@pytest.fixture(scope="module")
def part(prom):
    server, fleet = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        yield backend.read([], W, datetime.fromtimestamp(fleet.t_end, timezone.utc))
    finally:
        backend.close()


def test_histogram_without_inf_bucket_gives_no_quantile_and_says_why(part, prom):
    _, f = prom
    h = part.health["nohist"]
    assert (h.p50_ms, h.p95_ms, h.p99_ms) == (None, None, None)
    assert h.reasons["p95_ms"] == "histogram has no +Inf bucket"
    assert h.reasons["p50_ms"] == h.reasons["p99_ms"] == "histogram has no +Inf bucket"
    assert h.rps == rel(sum(rates(f, "vllm:request_success_total", model_name="nohist")))
    assert "rps" not in h.reasons and (h.engine, h.profile) == ("vllm", "vllm")


def test_nan_and_inf_samples_give_none_with_the_reason(part, prom):
    _, f = prom
    h = part.health["nanllm"]
    assert h.queue_depth is None and h.kv_cache_percent is None
    assert h.reasons["queue_depth"] == "NaN or Inf in a series (vllm.queue)"
    assert h.reasons["kv_cache_percent"] == "NaN or Inf in a series (vllm.kv_cache)"
    assert h.running_requests == rel(sum(values(f, "vllm:num_requests_running",
                                                model_name="nanllm")))


def test_nan_in_one_version_is_not_summed_away(part):
    """Triton's figures are summed over versions here, not by Prometheus: version 2's
    NaN queue must not leave version 1's as the model's queue."""
    h = part.health["trbad"]
    assert h.queue_depth is None
    assert h.reasons["queue_depth"] == "NaN or Inf in a series (triton.queue)"
    assert h.rps is not None and h.error_ratio is not None


def test_counter_reset_inside_the_window(part, prom):
    """rate() counts a reset as a restart from 0: no negative or spiked figure. Expected:
    every increase between samples in the window, a drop counting as its new value."""
    _, f = prom
    h = part.health["resetting"]
    total = failed = 0.0
    for s in f.find("vllm:request_success_total", model_name="resetting"):
        pts = [(t, v) for t, v in s.points if f.t_end - W < t <= f.t_end]
        increase = sum(b if b < a else b - a for (_, a), (_, b) in zip(pts, pts[1:]))
        per_s = increase / (pts[-1][0] - pts[0][0])
        total += per_s
        if s.labels["finished_reason"] in ("abort", "error"):
            failed += per_s
    assert 0 < h.rps == rel(total)
    assert h.error_ratio == rel(failed / total)


def test_unexpected_labels_leave_the_figures_exact(part, prom):
    _, f = prom
    h = part.health["oddlab"]
    lat: dict[float, float] = {}
    for s in f.find("vllm:e2e_request_latency_seconds_bucket", model_name="oddlab"):
        if s.labels["le"] != "fast":  # not a bound: Prometheus' histogram_quantile skips it
            le = float(s.labels["le"])
            lat[le] = lat.get(le, 0.0) + f.rate(s, f.t_end, W)
    assert (h.p50_ms, h.p95_ms) == (rel(quantile_from_rates(0.5, lat) * 1000),
                                    rel(quantile_from_rates(0.95, lat) * 1000))
    assert h.rps == rel(sum(rates(f, "vllm:request_success_total", model_name="oddlab")))
    assert h.queue_depth == rel(sum(values(f, "vllm:num_requests_waiting",
                                           model_name="oddlab")))


def test_two_engines_claiming_one_model_show_no_figure(part):
    """vllm: and sglang: series for one model in one namespace: every figure "—", saying
    which engines; neither engine's part is shown as the whole."""
    h = part.health["dual"]
    said = "two engines (vllm, sglang) report this model"
    for name in ("rps", "error_ratio", "p95_ms", "tokens_per_s"):
        assert getattr(h, name) is None and h.reasons[name] == said
    assert h.error_ratio_1h is None and h.reasons["error_ratio_1h"] == said
    assert (h.engine, h.profile) == (None, None)


def test_engine_without_a_figure_says_so(part, prom):
    _, f = prom
    h = part.health["tgi-mistral"]
    assert h.ttft_p95_ms is None and h.reasons["ttft_p95_ms"] == "tgi does not expose TTFT"
    assert h.reasons["kv_cache_percent"] == "tgi does not expose KV cache"
    assert h.p95_ms is not None and "p95_ms" not in h.reasons
    assert h.rps == rel(sum(rates(f, "tgi_request_count")))
