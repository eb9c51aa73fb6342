"""LLM engines as they ship in 2026, each model served by one engine (a mixed fleet).

Every block names the upstream file whose names, labels, units and buckets it follows.
"""

from __future__ import annotations

import math
import random

from tests.prometheus.generators import Fleet

# vllm-project/vllm vllm/v1/metrics/loggers.py (PrometheusStatLogger, ~v0.12): labels
# model_name + engine (one series per data-parallel engine); request_success_total counts
# every finished request by finished_reason (stop, length, abort, error, repetition).
VLLM_E2E = (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480,
            960, 1920, 7680, math.inf)
VLLM_TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5,
             7.5, 10, 20, 40, 80, 160, 640, 2560, math.inf)
VLLM_ITL = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5,
            10, 20, 40, 80, math.inf)
VLLM_REASONS = {"stop": (8, 10), "length": (1, 2), "abort": (0.3, 0.5), "error": (0.1, 0.2),
                "repetition": (0.05, 0.1)}


def bell(bounds, peak: int, spread: float = 1.5) -> list[float]:
    """Observation weights per bucket, highest at ``peak`` (a few land in every bucket)."""
    return [math.exp(-((i - peak) / spread) ** 2) + 0.01 for i in range(len(bounds))]


def vllm_v1(f: Fleet, rng: random.Random) -> None:
    pod = "llama-v1-6c7d8e9f0-zzzzz"
    for engine in ("0", "1"):
        lab = {"model_name": "llama-v1", "engine": engine, "namespace": "llm", "pod": pod,
               "job": "vllm"}
        for reason, rate in VLLM_REASONS.items():
            f.counter("vllm:request_success_total", {**lab, "finished_reason": reason}, rng,
                      *rate)
        f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_E2E, rng,
                    bell(VLLM_E2E, 6 + int(engine)), 10)
        f.histogram("vllm:time_to_first_token_seconds", lab, VLLM_TTFT, rng,
                    bell(VLLM_TTFT, 8), 10)
        f.histogram("vllm:inter_token_latency_seconds", lab, VLLM_ITL, rng,
                    bell(VLLM_ITL, 2), 400)
        f.counter("vllm:generation_tokens_total", lab, rng, 400, 600)
        f.counter("vllm:prompt_tokens_total", lab, rng, 2000, 3000)
        f.gauge("vllm:num_requests_running", lab, rng, 5, 40)
        f.gauge("vllm:num_requests_waiting", lab, rng, 0, 9)
        f.gauge("vllm:kv_cache_usage_perc", lab, rng, 0.1, 0.95)


# sgl-project/sglang python/sglang/srt/metrics/collector.py @ 00ae9c15: tokenizer counters
# and histograms labelled model_name (buckets below: TTFT 0.1-400 s, e2e 0.1-2400 s, ITL
# 0.002-8 s); scheduler gauges labelled model_name, engine_type, tp_rank, pp_rank,
# moe_ep_rank, one series per rank carrying the same value; token_usage 0-1.
SGLANG_TTFT = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400,
               math.inf)
SGLANG_E2E = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600,
              1200, 1800, 2400, math.inf)
SGLANG_ITL = (0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040,
              0.060, 0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000,
              8.000, math.inf)
SGLANG_TP = 4


def sglang(f: Fleet, rng: random.Random) -> None:
    for pod in ("qwen-sg-5f6g7h8j9-aaaaa", "qwen-sg-5f6g7h8j9-bbbbb"):
        scrape = {"namespace": "llm", "pod": pod, "job": "sglang"}
        tok = {"model_name": "qwen-sg", **scrape}
        f.counter("sglang:num_requests_total", tok, rng, 6, 9)
        f.counter("sglang:num_aborted_requests_total", tok, rng, 0.2, 0.4)
        f.counter("sglang:prompt_tokens_total", tok, rng, 1500, 2500)
        f.counter("sglang:generation_tokens_total", tok, rng, 300, 500)
        f.histogram("sglang:e2e_request_latency_seconds", tok, SGLANG_E2E, rng,
                    bell(SGLANG_E2E, 7), 8)
        f.histogram("sglang:time_to_first_token_seconds", tok, SGLANG_TTFT, rng,
                    bell(SGLANG_TTFT, 4), 8)
        f.histogram("sglang:inter_token_latency_seconds", tok, SGLANG_ITL, rng,
                    bell(SGLANG_ITL, 6), 300)
        for name, lo, hi in (("sglang:num_queue_reqs", 0, 20), ("sglang:num_running_reqs", 10, 60),
                             ("sglang:token_usage", 0.1, 0.9)):
            value = [round(rng.uniform(lo, hi), 3) for _ in f.times]  # the same on every rank
            for rank in range(SGLANG_TP):
                f.add(name, {**tok, "engine_type": "unified", "tp_rank": str(rank),
                             "pp_rank": "0", "moe_ep_rank": "0"}, value)


# huggingface/text-generation-inference router/src/server.rs @ db931fcf (35 duration
# buckets 0.0001 * 1.5^k, k = 1..35, i.e. 0.00015 .. 145.6 s; token-count buckets linear up
# to the max tokens) and docs/source/reference/metrics.md; the DataDog capture
# hugging_face_tgi/tests/fixtures/payload.txt: counters without _total, no model label,
# tgi_request_failure{err}. The pod labels come from the scrape (Deployment tgi-mistral).
TGI_DURATION = tuple(0.0001 * 1.5 ** k for k in range(1, 36)) + (math.inf,)
TGI_TOKENS = tuple(20.48 * k for k in range(1, 101)) + (math.inf,)


def tgi(f: Fleet, rng: random.Random) -> None:
    for pod in ("tgi-mistral-7c8d9f6b5-aaaaa", "tgi-mistral-7c8d9f6b5-bbbbb"):
        lab = {"namespace": "llm", "pod": pod, "container": "tgi", "job": "tgi",
               "instance": f"{pod}:80"}
        f.counter("tgi_request_count", lab, rng, 4, 6)
        f.counter("tgi_request_success", lab, rng, 3.6, 5.4)
        f.counter("tgi_request_failure", {**lab, "err": "validation"}, rng, 0.1, 0.2)
        f.counter("tgi_request_failure", {**lab, "err": "overloaded"}, rng, 0.05, 0.1)
        f.histogram("tgi_request_duration", lab, TGI_DURATION, rng, bell(TGI_DURATION, 27, 2), 5)
        f.histogram("tgi_request_mean_time_per_token_duration", lab, TGI_DURATION, rng,
                    bell(TGI_DURATION, 16, 2), 5)
        f.histogram("tgi_request_generated_tokens", lab, TGI_TOKENS, rng,
                    bell(TGI_TOKENS, 12, 6), 5)
        f.histogram("tgi_request_input_length", lab, TGI_TOKENS, rng, bell(TGI_TOKENS, 30, 8), 5)
        f.gauge("tgi_queue_size", lab, rng, 0, 6)
        f.gauge("tgi_batch_current_size", lab, rng, 1, 32)


# Knative queue-proxy over OpenTelemetry: knative/serving pkg/queue/request_metric.go
# @ knative-v1.21.0 (kn.serving.invocation.duration, s; kn.serving.queue.depth) and
# @ knative-v1.19.0 (kn.queueproxy.app.duration, kn.queueproxy.depth); bucket bounds of
# knative/pkg observability (0.005-10 s); http.response.status_code on the series, the
# revision only in target_info (knative/docs serving-metrics.md @ de125bfa); Prometheus
# names with dots as underscores and the unit suffix.
KN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
              math.inf)
# (service, namespace, revision, pod ip, 1.21+ names?, 5xx per second)
KN_PODS = (
    ("sentiment", "nlp", "sentiment-00001", "10.4.0.11", True, (0.4, 0.6)),
    ("sentiment", "nlp", "sentiment-00002", "10.4.0.12", True, (1.5, 2.0)),
    ("translate-predictor", "nlp", "translate-predictor-00003", "10.4.0.13", False, (0.1, 0.2)),
)


def knative(f: Fleet, rng: random.Random) -> None:
    for service, ns, revision, ip, new, fail in KN_PODS:
        pod = f"{revision}-deployment-6b7c8d9f5-{ip[-2:]}xyz"
        scrape = {"job": f"{ns}/{revision}", "instance": f"{ip}:9091", "namespace": ns,
                  "pod": pod}
        f.add("target_info", {**scrape, "k8s_namespace_name": ns, "k8s_pod_name": pod,
                              "kn_service_name": service, "kn_configuration_name": service,
                              "kn_revision_name": revision, "service_name": revision,
                              "service_instance_id": pod, "service_version": "1.21.0"
                              if new else "1.19.4", "container_name": "queue-proxy"},
              (1.0 for _ in f.times))
        name = "kn_serving_invocation_duration_seconds" if new \
            else "kn_queueproxy_app_duration_seconds"
        scope = {"otel_scope_name": "knative.dev/serving/pkg/queue", "otel_scope_version": ""}
        for code, rate in (("200", 20), ("503", sum(fail) / 2)):
            f.histogram(name, {**scrape, **scope, "http_response_status_code": code},
                        KN_BUCKETS, rng, bell(KN_BUCKETS, 6 if code == "200" else 11), rate)
        f.gauge("kn_serving_queue_depth" if new else "kn_queueproxy_depth",
                {**scrape, **scope}, rng, 0, 8)


# The endpoint picker of the Gateway API Inference Extension / llm-d: llm-d/llm-d-router
# docs/metrics.md @ ebab6879 (llm_d_epp_request_*, labels model_name, target_model_name,
# fairness_id, priority; error_code on errors; the deprecated inference_objective_* twins
# still written beside them), kubernetes-sigs/gateway-api-inference-extension
# site-src/guides/metrics-and-observability.md @ ffea2632 (v1.0.0: inference_model_*),
# request duration buckets of pkg/epp/metrics/metrics.go (v1.0.0), seconds.
EPP_DURATION = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8,
                10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800,
                2700, 3600, math.inf)


def _epp_histogram(f: Fleet, names: tuple[str, ...], labels: dict[str, str],
                   rng: random.Random, weights: list[float], rate: float) -> None:
    """The same observations under each of ``names`` (dual emission)."""
    first = len(f.series)
    f.histogram(names[0], labels, EPP_DURATION, rng, weights, rate)
    for twin in names[1:]:
        for s in f.series[first:first + len(EPP_DURATION) + 2]:
            f.add(twin + s.name[len(names[0]):], s.labels, (v for _, v in s.points))


def gaie(f: Fleet, rng: random.Random) -> None:
    # llm-d router: llm_d_epp_* and inference_objective_* side by side, same values
    scrape = {"namespace": "llm-d", "pod": "granite-epp-6f7d8c9b5-epp01", "job": "epp"}
    lab = {**scrape, "model_name": "granite", "target_model_name": "granite-3-8b"}
    epp = {**lab, "fairness_id": "default", "priority": "0"}
    for new, old in (("llm_d_epp_request_total", "inference_objective_request_total"),
                     ("llm_d_epp_request_error_total", "inference_objective_request_error_total")):
        extra = {"error_code": "503"} if "error" in new else {}
        twin = f.counter(new, {**epp, **extra}, rng, *((0.4, 0.8) if extra else (12, 16)))
        f.add(old, {**lab, **extra}, (v for _, v in twin.points))
    _epp_histogram(f, ("llm_d_epp_request_duration_seconds",
                       "inference_objective_request_duration_seconds"), epp, rng,
                   bell(EPP_DURATION, 9, 2), 14)
    f.histogram("llm_d_epp_request_ttft_seconds", {**epp, "streaming": "true"}, EPP_DURATION,
                rng, bell(EPP_DURATION, 4, 2), 14)
    _epp_histogram(f, ("llm_d_epp_request_output_tokens", "inference_objective_output_tokens"),
                   epp, rng, bell(EPP_DURATION, 20, 3), 14)
    running = f.gauge("llm_d_epp_request_running", epp, rng, 3, 30)
    f.add("inference_objective_running_requests", lab, (v for _, v in running.points))
    # an inference extension v1.0 picker: inference_model_* only
    old = {"namespace": "gw", "pod": "phi-epp-5d6c7b8a9-epp02", "job": "epp",
           "model_name": "phi-gw", "target_model_name": "phi-4"}
    f.counter("inference_model_request_total", old, rng, 5, 7)
    f.counter("inference_model_request_error_total", old, rng, 0.05, 0.1)
    f.histogram("inference_model_request_duration_seconds", old, EPP_DURATION, rng,
                bell(EPP_DURATION, 7, 2), 6)
    f.gauge("inference_model_running_requests", old, rng, 1, 9)


# triton-inference-server/server docs/user_guide/metrics.md @ e1db8a60: labels model,
# version; failures by reason (REJECTED, CANCELED, BACKEND, OTHER); latencies as cumulative
# microsecond counters.
def triton(f: Fleet, rng: random.Random) -> None:
    lab = {"model": "bert-tr", "version": "3", "namespace": "nlp", "pod": "triton-6a7b8c9d0-tttt1",
           "job": "triton"}
    f.counter("nv_inference_request_success", lab, rng, 30, 40)
    for reason, rate in (("REJECTED", (0.5, 1.0)), ("BACKEND", (0.1, 0.3))):
        f.counter("nv_inference_request_failure", {**lab, "reason": reason}, rng, *rate)
    f.counter("nv_inference_count", lab, rng, 30, 40)
    f.counter("nv_inference_request_duration_us", lab, rng, 3e5, 5e5)
    f.counter("nv_inference_queue_duration_us", lab, rng, 1e4, 3e4)
    f.gauge("nv_inference_pending_request_count", lab, rng, 0, 4)


# Ray Serve LLM re-exporting vLLM (V0-era names) as ray_vllm:<name> with Ray's labels:
# the DataDog capture vllm/tests/fixtures/ray_vllm_metrics.txt @ 5b8d70d4 (Ray 2.32:
# Component, NodeAddress, SessionName, Version, WorkerId beside model_name); two replicas.
RAY_MODEL = "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8"
VLLM_V0_E2E = (1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, math.inf)


def ray_vllm(f: Fleet, rng: random.Random) -> None:
    for worker, node in (("6ad5887a3c1c6cef", "10.112.217.4"),
                         ("9be2c1d07f4a3b21", "10.112.217.9")):
        lab = {"Component": "core_worker", "NodeAddress": node,
               "SessionName": "session_2024-12-11_21-36-21_063134_1", "Version": "2.32.0",
               "WorkerId": worker, "model_name": RAY_MODEL, "namespace": "ray"}
        for reason, rate in (("stop", (3, 4)), ("length", (0.5, 1)), ("abort", (0.1, 0.2))):
            f.counter("ray_vllm:request_success_total", {**lab, "finished_reason": reason},
                      rng, *rate)
        f.histogram("ray_vllm:e2e_request_latency_seconds", lab, VLLM_V0_E2E, rng,
                    bell(VLLM_V0_E2E, 3), 4)
        f.histogram("ray_vllm:time_per_output_token_seconds", lab, VLLM_ITL, rng,
                    bell(VLLM_ITL, 3), 200)
        f.counter("ray_vllm:generation_tokens_total", lab, rng, 150, 250)
        f.gauge("ray_vllm:num_requests_running", lab, rng, 2, 20)
        f.gauge("ray_vllm:num_requests_waiting", lab, rng, 0, 5)
        f.gauge("ray_vllm:gpu_cache_usage_perc", lab, rng, 0.2, 0.8)


# Ray Serve's own metrics for a non-LLM application (ray-project/ray python/ray/serve/
# _private/replica.py, constants.DEFAULT_LATENCY_BUCKET_MS; labels as Ray's Serve
# dashboard queries them): two replicas of one deployment, errors on one of them only.
RAY_SERVE_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, math.inf)


def ray_serve(f: Fleet, rng: random.Random) -> None:
    for replica in ("FraudModel#aXbYcZ", "FraudModel#dEfGhI"):
        lab = {"application": "fraud-rs", "deployment": "FraudModel", "replica": replica,
               "route": "/fraud", "namespace": "ray", "job": "ray-head",
               "Component": "core_worker", "WorkerId": replica[-6:]}
        f.counter("ray_serve_deployment_request_counter_total", lab, rng, 40, 60)
        if replica.endswith("aXbYcZ"):
            f.counter("ray_serve_deployment_error_counter_total", lab, rng, 0.4, 0.8)
        f.histogram("ray_serve_deployment_processing_latency_ms", lab, RAY_SERVE_MS, rng,
                    bell(RAY_SERVE_MS, 4), 50)
        f.gauge("ray_serve_replica_processing_queries", lab, rng, 1, 8)
    f.gauge("ray_serve_deployment_queued_queries",
            {"application": "fraud-rs", "deployment": "FraudModel", "namespace": "ray",
             "job": "ray-head"}, rng, 0, 5)


def engine_fleet(times: list[int], seed: int = 23) -> Fleet:
    rng = random.Random(seed)
    f = Fleet(times)
    vllm_v1(f, rng)
    sglang(f, rng)
    tgi(f, rng)
    knative(f, rng)
    gaie(f, rng)
    triton(f, rng)
    ray_vllm(f, rng)
    ray_serve(f, rng)
    return f
