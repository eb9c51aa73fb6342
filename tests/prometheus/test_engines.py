"""Each engine's figures on a real Prometheus equal those computed by hand from the
exposition its fixture wrote (fixtures: ``fleets_engines.py``)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timezone

import pytest

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets_engines import RAY_MODEL, engine_fleet
from tests.prometheus.generators import quantile_from_rates, time_grid

pytestmark = pytest.mark.integration
W = 290


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    fleet = engine_fleet(time_grid(int(time.time()) - 900, 1800))
    server = start_server(tmp_path_factory.mktemp("prom-engines"), fleet)
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


def rel(x: float) -> object:
    return pytest.approx(x, rel=1e-9, abs=1e-9)


def rates(fleet, name: str, **labels) -> list[float]:
    return [fleet.rate(s, fleet.t_end, W) for s in fleet.find(name, **labels)]


def values(fleet, name: str, **labels) -> list[float]:
    return [fleet.value_at(s, fleet.t_end) for s in fleet.find(name, **labels)]


def buckets(fleet, name: str, scale: float = 1.0, **labels) -> dict[float, float]:
    """Bucket rates summed over every other label (``le`` scaled to seconds)."""
    out: dict[float, float] = defaultdict(float)
    for s in fleet.find(f"{name}_bucket", **labels):
        out[float(s.labels["le"]) * scale] += fleet.rate(s, fleet.t_end, W)
    return out


def ms(q: float, rates_by_le: dict[float, float]) -> float:
    return quantile_from_rates(q, rates_by_le) * 1000


def test_vllm_v1_errors_from_finished_reason_and_engines_aggregated(part, prom):
    _, f = prom
    h = part.health["llama-v1"]
    every = rates(f, "vllm:request_success_total", model_name="llama-v1")
    assert len(every) == 10  # 2 engines x 5 finished reasons
    failed = rates(f, "vllm:request_success_total", finished_reason="abort") + rates(
        f, "vllm:request_success_total", finished_reason="error")
    assert h.rps == rel(sum(every))
    assert h.error_ratio == rel(sum(failed) / sum(every))
    lat = buckets(f, "vllm:e2e_request_latency_seconds", model_name="llama-v1")
    assert (h.p50_ms, h.p95_ms, h.p99_ms) == (rel(ms(0.5, lat)), rel(ms(0.95, lat)),
                                              rel(ms(0.99, lat)))
    assert h.ttft_p95_ms == rel(ms(0.95, buckets(f, "vllm:time_to_first_token_seconds")))
    assert h.itl_p95_ms == rel(ms(0.95, buckets(f, "vllm:inter_token_latency_seconds")))
    assert h.tokens_per_s == rel(sum(rates(f, "vllm:generation_tokens_total")))
    assert h.prompt_tokens_per_s == rel(sum(rates(f, "vllm:prompt_tokens_total")))
    assert h.queue_depth == rel(sum(values(f, "vllm:num_requests_waiting")))
    assert h.running_requests == rel(sum(values(f, "vllm:num_requests_running")))
    assert h.kv_cache_percent == rel(100 * max(values(f, "vllm:kv_cache_usage_perc")))
    assert h.error_ratio_1h is not None  # the SLO query reads the same counters


def test_vllm_error_chart(prom):
    server, f = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url, min_rate_window_s=50))
    end = datetime.fromtimestamp(f.t_end, timezone.utc)
    try:
        backend.read([], W, end)
        chart = {s.name: s for s in backend.chart("llama-v1", 1800, end)}
    finally:
        backend.close()
    last = chart["error %"].points[-1]
    every = [f.rate(s, f.t_end, 50) for s in f.find("vllm:request_success_total")]
    failed = [f.rate(s, f.t_end, 50) for s in f.find("vllm:request_success_total")
              if s.labels["finished_reason"] in ("abort", "error")]
    assert last.value == rel(100 * sum(failed) / sum(every))


def test_sglang_per_rank_gauges_count_once(part, prom):
    """SGLang repeats each scheduler gauge per tp_rank: the figure counts each value once
    (rank 0's, summed over the two replicas), never 4x."""
    from tests.prometheus.fleets_engines import SGLANG_TP

    _, f = prom
    h = part.health["qwen-sg"]
    assert h.rps == rel(sum(rates(f, "sglang:num_requests_total")))
    assert h.error_ratio == rel(sum(rates(f, "sglang:num_aborted_requests_total"))
                                / sum(rates(f, "sglang:num_requests_total")))
    assert h.p95_ms == rel(ms(0.95, buckets(f, "sglang:e2e_request_latency_seconds")))
    assert h.p50_ms == rel(ms(0.5, buckets(f, "sglang:e2e_request_latency_seconds")))
    assert h.ttft_p95_ms == rel(ms(0.95, buckets(f, "sglang:time_to_first_token_seconds")))
    assert h.itl_p95_ms == rel(ms(0.95, buckets(f, "sglang:inter_token_latency_seconds")))
    assert h.tokens_per_s == rel(sum(rates(f, "sglang:generation_tokens_total")))
    assert h.prompt_tokens_per_s == rel(sum(rates(f, "sglang:prompt_tokens_total")))
    queue = values(f, "sglang:num_queue_reqs", tp_rank="0")
    running = values(f, "sglang:num_running_reqs", tp_rank="0")
    assert len(queue) == 2 and len(values(f, "sglang:num_queue_reqs")) == 2 * SGLANG_TP
    assert h.queue_depth == rel(sum(queue))
    assert h.running_requests == rel(sum(running))
    assert h.kv_cache_percent == rel(100 * max(values(f, "sglang:token_usage")))
    assert "sglang" in part.profiles


def test_tgi_model_from_the_pod_and_counters_without_total(part, prom):
    _, f = prom
    h = part.health["tgi-mistral"]  # no model label: the pods' Deployment
    requests = sum(rates(f, "tgi_request_count"))
    assert h.rps == rel(requests)
    assert h.error_ratio == rel(sum(rates(f, "tgi_request_failure")) / requests)
    lat = buckets(f, "tgi_request_duration")
    assert (h.p50_ms, h.p95_ms, h.p99_ms) == (rel(ms(0.5, lat)), rel(ms(0.95, lat)),
                                              rel(ms(0.99, lat)))
    assert h.itl_p95_ms == rel(ms(0.95, buckets(f, "tgi_request_mean_time_per_token_duration")))
    assert h.tokens_per_s == rel(sum(rates(f, "tgi_request_generated_tokens_sum")))
    assert h.prompt_tokens_per_s == rel(sum(rates(f, "tgi_request_input_length_sum")))
    assert h.queue_depth == rel(sum(values(f, "tgi_queue_size")))
    assert h.running_requests == rel(sum(values(f, "tgi_batch_current_size")))
    assert h.ttft_p95_ms is None and h.kv_cache_percent is None  # TGI exports neither
    assert "tgi-mistral-7c8d9f6b5-aaaaa" not in part.health


def test_tgi_chart_without_a_model_label(prom):
    server, f = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url, min_rate_window_s=50))
    end = datetime.fromtimestamp(f.t_end, timezone.utc)
    try:
        backend.read([], W, end)
        chart = {s.name: s for s in backend.chart("tgi-mistral", 1800, end)}
    finally:
        backend.close()
    rps = chart["rps"].points[-1].value
    assert rps == rel(sum(f.rate(s, f.t_end, 50) for s in f.find("tgi_request_count")))
    assert chart["error %"].points[-1].value == rel(100 * sum(
        f.rate(s, f.t_end, 50) for s in f.find("tgi_request_failure")) / rps)


def test_knative_otel_revision_from_target_info_and_seconds(part, prom):
    """Knative 1.19+ queue-proxy: the revision is only on target_info (joined by job and
    instance); latency in seconds (1.21+ names for sentiment, 1.19-1.20 for translate)."""
    _, f = prom

    def of(revisions: list[str]) -> tuple[float, float, dict[float, float]]:
        jobs = {f"nlp/{r}" for r in revisions}
        count = [s for s in f.series if s.labels.get("job") in jobs
                 and s.name.endswith("duration_seconds_count")]
        total = sum(f.rate(s, f.t_end, W) for s in count)
        bad = sum(f.rate(s, f.t_end, W) for s in count
                  if s.labels["http_response_status_code"].startswith("5"))
        lat: dict[float, float] = defaultdict(float)
        for s in f.series:
            if s.labels.get("job") in jobs and s.name.endswith("duration_seconds_bucket"):
                lat[float(s.labels["le"])] += f.rate(s, f.t_end, W)
        return total, bad, lat

    revs = {r.revision: r for r in part.revision_health["sentiment"]}
    assert set(revs) == {"sentiment-00001", "sentiment-00002"}
    for rev, sample in revs.items():
        total, bad, lat = of([rev])
        assert sample.rps == rel(total) and sample.error_ratio == rel(bad / total)
        assert sample.p95_ms == rel(ms(0.95, lat))
    total, bad, lat = of(["sentiment-00001", "sentiment-00002"])
    whole = part.health["sentiment"]
    assert (whole.rps, whole.error_ratio) == (rel(total), rel(bad / total))
    assert (whole.p50_ms, whole.p99_ms) == (rel(ms(0.5, lat)), rel(ms(0.99, lat)))
    assert whole.queue_depth == rel(sum(values(f, "kn_serving_queue_depth")))
    older = part.health["translate"]  # KServe predictor, 1.19-1.20 names
    total, bad, lat = of(["translate-predictor-00003"])
    assert (older.rps, older.error_ratio, older.p95_ms) == (
        rel(total), rel(bad / total), rel(ms(0.95, lat)))
    assert older.queue_depth == rel(sum(values(f, "kn_queueproxy_depth")))


def test_knative_otel_chart_selects_the_service_on_target_info(prom):
    server, f = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url, min_rate_window_s=50))
    end = datetime.fromtimestamp(f.t_end, timezone.utc)
    try:
        backend.read([], W, end)
        chart = {s.name: s for s in backend.chart("sentiment", 1800, end)}
    finally:
        backend.close()
    count = [s for s in f.series if s.name == "kn_serving_invocation_duration_seconds_count"]
    assert chart["rps"].points[-1].value == rel(sum(f.rate(s, f.t_end, 50) for s in count))


def test_inference_gateway_dual_emitted_names_count_once(part, prom):
    """llm-d writes llm_d_epp_* and the deprecated inference_objective_* twins with the
    same values: the figures are one generation's, never their sum."""
    _, f = prom
    h = part.health["granite"]
    requests = sum(rates(f, "llm_d_epp_request_total"))
    assert requests == rel(sum(rates(f, "inference_objective_request_total")))  # twins
    assert h.rps == rel(requests)
    assert h.error_ratio == rel(sum(rates(f, "llm_d_epp_request_error_total")) / requests)
    lat = buckets(f, "llm_d_epp_request_duration_seconds")
    assert (h.p50_ms, h.p95_ms, h.p99_ms) == (rel(ms(0.5, lat)), rel(ms(0.95, lat)),
                                              rel(ms(0.99, lat)))
    assert h.ttft_p95_ms == rel(ms(0.95, buckets(f, "llm_d_epp_request_ttft_seconds")))
    assert h.tokens_per_s == rel(sum(rates(f, "llm_d_epp_request_output_tokens_sum")))
    assert h.running_requests == rel(sum(values(f, "llm_d_epp_request_running")))
    old = part.health["phi-gw"]  # a v1.0 picker: inference_model_* only
    requests = sum(rates(f, "inference_model_request_total"))
    assert old.rps == rel(requests)
    assert old.error_ratio == rel(sum(rates(f, "inference_model_request_error_total"))
                                  / requests)
    assert old.p95_ms == rel(ms(0.95, buckets(f, "inference_model_request_duration_seconds")))
    assert old.running_requests == rel(sum(values(f, "inference_model_running_requests")))
    assert old.ttft_p95_ms is None


def test_mixed_fleet_query_count(prom):
    """vLLM, SGLang, TGI, Triton, Knative and the inference gateway side by side: one probe,
    then per refresh one query per template of each detected profile plus one SLO query
    per serving profile, whatever the number of models (67 here, 8 profiles)."""
    server, f = prom
    cfg = PrometheusConfig(url=server.url)
    backend = PrometheusMetrics(cfg)
    at = datetime.fromtimestamp(f.t_end, timezone.utc)
    try:
        first = backend.read([], W, at)
        steady = backend.read([], W, at)
    finally:
        backend.close()
    assert set(steady.profiles) == {"vllm", "ray_vllm", "sglang", "tgi", "triton", "knative",
                                    "gaie", "ray_serve"}
    expected = sum(len([k for k in cfg.profiles[n].queries if k != "discover"]) + 1
                   for n in steady.profiles)
    assert first.queries == steady.queries + 1 and steady.queries == expected == 67
    assert set(steady.health) == {"llama-v1", "qwen-sg", "tgi-mistral", "bert-tr", "sentiment",
                                  "translate", "granite", "phi-gw", RAY_MODEL, "fraud-rs"}


def test_each_model_says_which_engine_and_profile(part):
    got = {name: (h.engine, h.profile) for name, h in part.health.items()}
    assert got == {"llama-v1": ("vllm", "vllm"), "qwen-sg": ("sglang", "sglang"),
                   "tgi-mistral": ("tgi", "tgi"), "bert-tr": ("triton", "triton"),
                   "sentiment": ("knative", "knative"), "translate": ("knative", "knative"),
                   "granite": ("llm-d", "gaie"), "phi-gw": ("llm-d", "gaie"),
                   RAY_MODEL: ("ray-serve", "ray_vllm"), "fraud-rs": ("ray-serve", "ray_serve")}
    assert all(r.profile == "knative" for r in part.revision_health["sentiment"])


def test_ray_serve_reexported_vllm(part, prom):
    """Ray Serve's ray_vllm: names with Ray's labels: the vLLM figures, replicas summed."""
    _, f = prom
    h = part.health[RAY_MODEL]
    every = rates(f, "ray_vllm:request_success_total")
    assert h.rps == rel(sum(every))
    assert h.error_ratio == rel(
        sum(rates(f, "ray_vllm:request_success_total", finished_reason="abort")) / sum(every))
    assert h.p95_ms == rel(ms(0.95, buckets(f, "ray_vllm:e2e_request_latency_seconds")))
    assert h.itl_p95_ms == rel(ms(0.95, buckets(f, "ray_vllm:time_per_output_token_seconds")))
    assert h.tokens_per_s == rel(sum(rates(f, "ray_vllm:generation_tokens_total")))
    assert h.queue_depth == rel(sum(values(f, "ray_vllm:num_requests_waiting")))
    assert h.running_requests == rel(sum(values(f, "ray_vllm:num_requests_running")))
    assert h.kv_cache_percent == rel(100 * max(values(f, "ray_vllm:gpu_cache_usage_perc")))


def test_ray_serve_own_deployment_metrics(part, prom):
    """Ray Serve's own counters and millisecond histogram, by application: replicas summed,
    the error counter present on one replica only (the other has counted none)."""
    _, f = prom
    h = part.health["fraud-rs"]
    requests = sum(rates(f, "ray_serve_deployment_request_counter_total"))
    assert h.rps == rel(requests)
    assert h.error_ratio == rel(sum(rates(f, "ray_serve_deployment_error_counter_total"))
                                / requests)
    lat = buckets(f, "ray_serve_deployment_processing_latency_ms", scale=0.001)
    assert h.p50_ms == rel(ms(0.5, lat)) and h.p95_ms == rel(ms(0.95, lat))
    assert h.p99_ms == rel(ms(0.99, lat))
    assert h.queue_depth == rel(sum(values(f, "ray_serve_deployment_queued_queries")))
    assert h.running_requests == rel(sum(values(f, "ray_serve_replica_processing_queries")))
    assert h.ttft_p95_ms is None and h.kv_cache_percent is None  # not a Ray Serve figure
