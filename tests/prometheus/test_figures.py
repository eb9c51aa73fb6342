"""Figures from a real Prometheus equal those computed independently from the samples."""

from __future__ import annotations

from collections import defaultdict

import pytest

from backends.domain.models import ModelService
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.fleets import OPENCOST_PRICES, TABLE_PRICES
from tests.prometheus.generators import EVIL, quantile_from_rates

pytestmark = pytest.mark.integration
W = 290  # not a multiple of the 15 s sample step: no sample sits on the window's edge


@pytest.fixture(scope="module")
def part(main_prom):
    backend = PrometheusMetrics(PrometheusConfig(url=main_prom.url, gpu_prices=TABLE_PRICES))
    yield backend.read([], W, main_prom.at)
    backend.close()


def rel(x: float) -> object:
    return pytest.approx(x, rel=1e-9, abs=1e-9)


def bucket_rates(fleet, name: str, t: int, **labels) -> dict[float, float]:
    rates: dict[float, float] = defaultdict(float)
    for s in fleet.find(f"{name}_bucket", **labels):
        rates[float(s.labels["le"])] += fleet.rate(s, t, W)
    return rates


def rate_sum(fleet, name: str, t: int, **labels) -> float:
    return sum(fleet.rate(s, t, W) for s in fleet.find(name, **labels))


def test_every_profile_is_detected(part):
    assert set(part.profiles) == {"dcgm", "vllm", "triton", "kserve", "http", "kube_pods",
                                  "opencost", "drift"}
    assert part.queries > 0


def test_gpu_fields_and_util_per_node(part, main_prom):
    f, t = main_prom.fleet, main_prom.t_end
    gpus = {g.uuid: g for g in part.gpus}
    assert len(gpus) == 12
    per_node: dict[str, list[float]] = defaultdict(list)
    for s in f.find("DCGM_FI_DEV_GPU_UTIL"):
        g = gpus[s.labels["UUID"]]
        node = s.labels.get("Hostname") or s.labels["hostname"]  # both spellings
        assert (g.node, g.index, g.model_name) == (node, int(s.labels["gpu"]),
                                                    s.labels["modelName"])
        assert g.util_percent == f.value_at(s, t)
        per_node[node].append(f.value_at(s, t))
        used = f.value_at(f.find("DCGM_FI_DEV_FB_USED", UUID=g.uuid)[0], t)
        free = f.value_at(f.find("DCGM_FI_DEV_FB_FREE", UUID=g.uuid)[0], t)
        assert g.memory_used_mib == used and g.memory_total_mib == rel(used + free)
        assert g.power_watts == f.value_at(f.find("DCGM_FI_DEV_POWER_USAGE", UUID=g.uuid)[0], t)
        assert g.temperature_c == f.value_at(f.find("DCGM_FI_DEV_GPU_TEMP", UUID=g.uuid)[0], t)
        assert g.last_xid is None and not g.xid_current  # 0 = no XID
    got: dict[str, list[float]] = defaultdict(list)
    for g in part.gpus:
        got[g.node].append(g.util_percent)
    for node, values in per_node.items():
        assert sum(got[node]) / len(got[node]) == rel(sum(values) / len(values))


def test_gpus_join_models_through_pod_labels(part):
    got = {g.uuid: (g.pod, g.namespace, g.model) for g in part.gpus}
    assert got["GPU-a-0"] == ("llm-chat-6d5f7b8c9-abcde", "serving", "llm-chat")  # pod_name
    assert got["GPU-a-2"][2] == "fraud"              # KServe pod prefix -> isvc name
    assert got["GPU-a-3"] == (None, None, None)      # unallocated
    assert got["GPU-b-1"] == ("triton-server-5c4b-qq", "vision", "resnet")  # kube_pod_labels
    assert got["GPU-b-2"][2] == "llm-old"
    assert got["GPU-c-0"] == ("evil-app-1", "lab", EVIL)  # exported_pod, literal markup
    assert got["GPU-c-1"] == (None, None, None)      # the dcgm-exporter pod is no workload


def test_vllm_health_equals_samples(part, main_prom):
    f, t = main_prom.fleet, main_prom.t_end
    h = part.health["llm-chat"]
    lat = bucket_rates(f, "vllm:e2e_request_latency_seconds", t, model_name="llm-chat")
    assert h.p50_ms == rel(quantile_from_rates(0.5, lat) * 1000)
    assert h.p95_ms == rel(quantile_from_rates(0.95, lat) * 1000)
    assert h.p99_ms == rel(quantile_from_rates(0.99, lat) * 1000)
    ttft = bucket_rates(f, "vllm:time_to_first_token_seconds", t, model_name="llm-chat")
    assert h.ttft_p95_ms == rel(quantile_from_rates(0.95, ttft) * 1000)
    assert h.rps == rel(rate_sum(f, "vllm:e2e_request_latency_seconds_count", t,
                                 model_name="llm-chat"))
    assert h.tokens_per_s == rel(rate_sum(f, "vllm:generation_tokens_total", t,
                                          model_name="llm-chat"))
    waiting = [f.value_at(s, t) for s in f.find("vllm:num_requests_waiting",
                                                   model_name="llm-chat")]
    assert h.queue_depth == rel(sum(waiting))
    kv = [f.value_at(s, t) for s in f.find("vllm:kv_cache_usage_perc", model_name="llm-chat")]
    assert len(kv) == 2 and h.kv_cache_percent == rel(100 * max(kv))  # the fullest replica
    running = [f.value_at(s, t) for s in f.find("vllm:num_requests_running",
                                                   model_name="llm-chat")]
    assert h.running_requests == rel(sum(running))
    assert h.error_ratio is None  # vLLM exports no failure counter: unknown, not 0
    itl = bucket_rates(f, "vllm:inter_token_latency_seconds", t, model_name="llm-chat")
    assert h.itl_p95_ms == rel(quantile_from_rates(0.95, itl) * 1000)
    assert h.prompt_tokens_per_s == rel(rate_sum(f, "vllm:prompt_tokens_total", t,
                                                 model_name="llm-chat"))
    old = part.health["llm-old"]  # older metric names
    kv_old = f.find("vllm:gpu_cache_usage_perc", model_name="llm-old")[0]
    assert old.kv_cache_percent == rel(100 * f.value_at(kv_old, t))
    tpot = bucket_rates(f, "vllm:time_per_output_token_seconds", t, model_name="llm-old")
    assert old.itl_p95_ms == rel(quantile_from_rates(0.95, tpot) * 1000)
    assert old.prompt_tokens_per_s is None  # not exported: unknown, not 0
    assert old.running_requests is None     # likewise


def test_error_ratio_and_p95_per_revision(part, main_prom):
    f, t = main_prom.fleet, main_prom.t_end
    revs = {r.revision: r for r in part.revision_health["fraud"]}
    assert set(revs) == {"fraud-predictor-00001", "fraud-predictor-00002"}
    for rev, sample in revs.items():
        ok = rate_sum(f, "revision_request_count", t, revision_name=rev,
                      response_code_class="2xx")
        bad = rate_sum(f, "revision_request_count", t, revision_name=rev,
                       response_code_class="5xx")
        assert sample.error_ratio == rel(bad / (ok + bad))
        lat = bucket_rates(f, "revision_request_latencies", t, revision_name=rev)
        assert sample.p95_ms == rel(quantile_from_rates(0.95, lat))  # buckets already in ms
    total_bad = rate_sum(f, "revision_request_count", t, response_code_class="5xx")
    assert part.health["fraud"].error_ratio == rel(
        total_bad / rate_sum(f, "revision_request_count", t))
    tri = {r.revision: r for r in part.revision_health["resnet"]}
    for version in ("1", "2"):
        ok = rate_sum(f, "nv_inference_request_success", t, version=version)
        bad = rate_sum(f, "nv_inference_request_failure", t, version=version)
        assert tri[version].rps == rel(ok + bad)
        assert tri[version].error_ratio == rel(bad / (ok + bad))
        # mean ms per request from the cumulative microsecond counters
        spent = rate_sum(f, "nv_inference_request_duration_us", t, version=version)
        queued = rate_sum(f, "nv_inference_queue_duration_us", t, version=version)
        assert tri[version].avg_latency_ms == rel(spent / (ok + bad) / 1000)
        assert tri[version].queue_ms == rel(queued / (ok + bad) / 1000)
    whole = part.health["resnet"]
    requests = rate_sum(f, "nv_inference_request_success", t) + rate_sum(
        f, "nv_inference_request_failure", t)
    assert whole.avg_latency_ms == rel(
        rate_sum(f, "nv_inference_request_duration_us", t) / requests / 1000)
    assert part.health["llm-chat"].avg_latency_ms is None  # no duration counter: unknown


def test_cost_per_hour(part, main_prom):
    a, b = OPENCOST_PRICES["gpu-node-a"], OPENCOST_PRICES["gpu-node-b"]
    cost = part.cost
    assert cost.hourly == rel(4 * a + 4 * b + 4 * TABLE_PRICES["A100"])  # node c: table
    assert cost.source == "opencost + price table"
    assert cost.by_model["llm-chat"] == rel(2 * a)
    assert cost.by_model["resnet"] == rel(2 * b)
    assert cost.idle_hourly == rel(2 * b)  # llm-old's two GPUs sit below 10 %
    # GPU-a-3 and node c's three GPUs beside the exporter's pod hold no workload
    assert cost.unallocated_hourly == rel(a + 3 * TABLE_PRICES["A100"])
    assert cost.total_hourly is None and cost.spend_basis == "GPUs"  # no node totals here
    # OpenCost history covers the last hour of backfill at a constant price: today's
    # 5-minute steps since UTC midnight, none in the first five minutes after it
    since_midnight = main_prom.t_end % 86400
    assert cost.today is not None and (cost.today > 0) == (since_midnight >= 300)


def test_drift_latest_and_threshold(part, main_prom):
    f, t = main_prom.fleet, main_prom.t_end
    drift = {(d.model, d.feature): d for d in part.drift}
    for s in f.find("model_feature_drift_score"):
        d = drift[(s.labels["model"], s.labels["feature"])]
        assert d.latest == f.value_at(s, t)
        assert d.method == s.labels["method"]
        assert len(d.points) > 1  # history from the sub-query
        # points are made without validation: they equal validated ones
        assert type(d).model_validate(d.model_dump()) == d
    assert drift[("fraud", "amount")].threshold == 0.1  # ks
    assert drift[("fraud", "amount")].breached
    assert not drift[("llm-chat", "prompt_length")].breached
    assert (EVIL, 'f"1\\') in drift


def test_hostile_label_values_come_back_literally(part):
    h = part.health[EVIL]
    assert h.model == EVIL and "\x1b[2J" in h.model and "[bold red]" in h.model
    assert h.error_ratio is not None and 0 < h.error_ratio < 1


def test_cluster_services_are_joined_by_name_and_label(main_prom):
    svc = ModelService(name="chat", namespace="serving", cluster="c",
                       labels={"pitboard.io/model": "llm-chat"})
    backend = PrometheusMetrics(PrometheusConfig(url=main_prom.url))
    try:
        part = backend.read([svc], W, main_prom.at)
    finally:
        backend.close()
    assert "chat" in part.health and "llm-chat" not in part.health
    assert {g.model for g in part.gpus if g.pod and g.pod.startswith("llm-chat")} == {"chat"}
    assert "chat" in part.cost.by_model
    # without a price table node c's A100s have no price: $/h counts the priced GPUs only
    assert part.cost.source == "opencost"


def test_user_override_of_one_query(main_prom):
    cfg = PrometheusConfig(url=main_prom.url, profiles={
        "vllm": {"queries": {"queue": "sum by ($by) (vllm:num_requests_running{$match})"}}})
    backend = PrometheusMetrics(cfg)
    try:
        part = backend.read([], W, main_prom.at)
    finally:
        backend.close()
    f, t = main_prom.fleet, main_prom.t_end
    running = [f.value_at(s, t) for s in f.find("vllm:num_requests_running",
                                                   model_name="llm-chat")]
    assert part.health["llm-chat"].queue_depth == rel(sum(running))
    assert part.health["llm-chat"].p95_ms is not None  # the other defaults are kept


def test_chart_series(main_prom):
    cfg = PrometheusConfig(url=main_prom.url, min_rate_window_s=50)
    backend = PrometheusMetrics(cfg)
    try:
        backend.read([], W, main_prom.at)
        series = {s.name: s for s in backend.chart("llm-chat", 1800, main_prom.at)}
        evil = {s.name: s for s in backend.chart(EVIL, 1800, main_prom.at)}
    finally:
        backend.close()
    assert list(series) == ["rps", "error %", "p50 ms", "p95 ms", "p99 ms"]
    assert len(series["rps"].points) == 121  # 1800 s at a 15 s step, both ends
    f, t = main_prom.fleet, main_prom.t_end
    last = series["rps"].points[-1]
    assert last.at.timestamp() == t
    expected = sum(f.rate(s, t, 50) for s in f.find("vllm:e2e_request_latency_seconds_count",
                                                   model_name="llm-chat"))
    assert last.value == rel(expected)
    assert all(p.value is None for p in series["error %"].points)
    assert evil["error %"].points[-1].value is not None
