"""Bad input as real exporters send it: a histogram without its ``+Inf`` bucket, NaN and
+Inf samples, a counter reset inside the rate window, unexpected labels, and one model
name claimed by two engines. Each block names the upstream file whose names, labels and
units it follows; what is bad is said beside it.
"""

from __future__ import annotations

import math
import random

from tests.prometheus.fleets_engines import VLLM_E2E, VLLM_REASONS, bell, tgi
from tests.prometheus.generators import Fleet

NS = "bad"
RESET_AGO_S = 120  # the counter reset of "resetting", inside the 290 s window


def _vllm_requests(f: Fleet, rng: random.Random, lab: dict[str, str]) -> None:
    # vllm-project/vllm vllm/v1/metrics/loggers.py: request_success_total by finished_reason
    for reason, rate in VLLM_REASONS.items():
        f.counter("vllm:request_success_total", {**lab, "finished_reason": reason}, rng, *rate)


def no_inf_bucket(f: Fleet, rng: random.Random) -> None:
    """vLLM's e2e histogram with its ``+Inf`` bucket lost (a relabel rule dropping
    ``le="+Inf"``, or a hand-rolled exporter): no quantile can be told."""
    lab = {"model_name": "nohist", "namespace": NS, "pod": "nohist-5d6f7a8b9-aaaaa",
           "job": "vllm"}
    _vllm_requests(f, rng, lab)
    f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_E2E, rng, bell(VLLM_E2E, 6), 10)
    f.series = [s for s in f.series if not (s.name == "vllm:e2e_request_latency_seconds_bucket"
                                            and s.labels.get("le") == "+Inf")]


def nan_and_inf(f: Fleet, rng: random.Random) -> None:
    """vLLM gauges where one replica reports NaN (waiting) and +Inf (KV cache usage)."""
    for i, pod in enumerate(("nanllm-5d6f7a8b9-aaaaa", "nanllm-5d6f7a8b9-bbbbb")):
        lab = {"model_name": "nanllm", "namespace": NS, "pod": pod, "job": "vllm"}
        _vllm_requests(f, rng, lab)
        f.gauge("vllm:num_requests_running", lab, rng, 5, 20)
        if i:
            f.add("vllm:num_requests_waiting", lab, (math.nan for _ in f.times))
            f.add("vllm:kv_cache_usage_perc", lab, (math.inf for _ in f.times))
        else:
            f.gauge("vllm:num_requests_waiting", lab, rng, 1, 5)
            f.gauge("vllm:kv_cache_usage_perc", lab, rng, 0.2, 0.6)


def triton_nan_version(f: Fleet, rng: random.Random) -> None:
    """Triton (triton-inference-server/server docs/user_guide/metrics.md: labels model,
    version) serving two versions of one model; version 2's pending count is NaN. The
    figure is summed over versions client-side: a part of the sum is not the sum."""
    for version in ("1", "2"):
        lab = {"model": "trbad", "version": version, "namespace": NS,
               "pod": "triton-bad-6a7b8c9d0-tttt1", "job": "triton"}
        f.counter("nv_inference_request_success", lab, rng, 10, 20)
        f.counter("nv_inference_request_failure", {**lab, "reason": "BACKEND"}, rng, 0.1, 0.2)
        f.counter("nv_inference_count", lab, rng, 10, 20)
        if version == "2":
            f.add("nv_inference_pending_request_count", lab, (math.nan for _ in f.times))
        else:
            f.gauge("nv_inference_pending_request_count", lab, rng, 1, 4)


def counter_reset(f: Fleet, rng: random.Random) -> None:
    """vLLM whose container restarted RESET_AGO_S ago (same pod, so the same series): every
    counter starts again from 0."""
    lab = {"model_name": "resetting", "namespace": NS, "pod": "resetting-5d6f7a8b9-aaaaa",
           "job": "vllm"}
    restart = f.t_end - RESET_AGO_S
    for reason, (lo, hi) in VLLM_REASONS.items():
        value, out = 1e6, []
        for t, dt in zip(f.times, f.steps(), strict=True):
            value = 0.0 if t == restart else value + round(rng.uniform(lo, hi) * dt, 3)
            out.append(value)
        f.add("vllm:request_success_total", {**lab, "finished_reason": reason}, out)


def odd_labels(f: Fleet, rng: random.Random) -> None:
    """vLLM series with labels pitboard does not expect: a LoRA adapter label on some, a
    bucket whose ``le`` is not a number, ``le`` spelled "1" by one replica and "1.0" by the
    other, and a gauge with an extra ``le`` label."""
    for i, pod in enumerate(("oddlab-5d6f7a8b9-aaaaa", "oddlab-5d6f7a8b9-bbbbb")):
        lab = {"model_name": "oddlab", "namespace": NS, "pod": pod, "job": "vllm"}
        _vllm_requests(f, rng, {**lab, "lora_name": "sql-adapter"} if i else lab)
        f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_E2E, rng,
                    bell(VLLM_E2E, 6), 10)
        if i:  # this replica writes le="1" where the other writes le="1.0"
            for s in f.series:
                if s.labels.get("pod") == pod and s.labels.get("le") == "1.0":
                    s.labels["le"] = "1"
        f.add("vllm:e2e_request_latency_seconds_bucket", {**lab, "le": "fast"},
              (float(t) for t in f.times))
        f.gauge("vllm:num_requests_waiting", {**lab, "le": "0.5"}, rng, 1, 5)


def two_engines(f: Fleet, rng: random.Random) -> None:
    """One model name in one namespace served by vLLM and by SGLang (sgl-project/sglang
    python/sglang/srt/metrics/collector.py: sglang:num_requests_total by model_name)."""
    lab = {"model_name": "dual", "namespace": NS, "job": "vllm", "pod": "dual-vllm-5d6f-aaaaa"}
    _vllm_requests(f, rng, lab)
    f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_E2E, rng, bell(VLLM_E2E, 6), 10)
    sg = {"model_name": "dual", "namespace": NS, "job": "sglang", "pod": "dual-sglang-7a8b-bbbbb"}
    f.counter("sglang:num_requests_total", sg, rng, 6, 9)
    f.counter("sglang:generation_tokens_total", sg, rng, 300, 500)


def bad_fleet(times: list[int], seed: int = 41) -> Fleet:
    rng = random.Random(seed)
    f = Fleet(times)
    no_inf_bucket(f, rng)
    nan_and_inf(f, rng)
    triton_nan_version(f, rng)
    counter_reset(f, rng)
    odd_labels(f, rng)
    two_engines(f, rng)
    tgi(f, rng)  # an engine without TTFT or KV cache figures
    return f
