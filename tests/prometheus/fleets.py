"""Generated fleets: a hand-made one for the figure tests, a scaled one for counts/bench."""

from __future__ import annotations

import random

from tests.prometheus.generators import (
    A100,
    EVIL,
    H100,
    KSERVE_BOUNDS_MS,
    VLLM_BOUNDS,
    Fleet,
)

W_LAT = [1, 3, 8, 12, 9, 4, 2, 1, 0.5]
OPENCOST_PRICES = {"gpu-node-a": 4.0, "gpu-node-b": 3.5}
TABLE_PRICES = {"A100": 2.2, "H100": 9.99}  # H100 nodes are priced by OpenCost instead


def _gpu(f: Fleet, rng: random.Random, ident: dict[str, str], util: tuple[float, float],
         extra: dict[str, str] | None = None) -> None:
    labels = {**ident, **(extra or {}), "job": "dcgm-exporter", "device": "nvidia0"}
    f.gauge("DCGM_FI_DEV_GPU_UTIL", labels, rng, *util)
    used = f.gauge("DCGM_FI_DEV_FB_USED", labels, rng, 1000, 70000)
    total = 81559.0 if ident.get("modelName") == H100 else 40960.0
    f.add("DCGM_FI_DEV_FB_FREE", labels, (total - v for _, v in used.points))
    f.gauge("DCGM_FI_DEV_POWER_USAGE", labels, rng, 80, 690)
    f.gauge("DCGM_FI_DEV_GPU_TEMP", labels, rng, 30, 80)
    f.add("DCGM_FI_DEV_XID_ERRORS", labels, (0.0 for _ in f.times))


def main_fleet(times: list[int], seed: int = 7) -> Fleet:
    """3 nodes x 4 GPUs in three label dialects, vLLM (new+old names), Triton, KServe, a
    generic HTTP service whose model name is hostile markup, OpenCost, kube pod labels,
    drift gauges."""
    rng = random.Random(seed)
    f = Fleet(times)
    # node a: Hostname + old pod label names
    for i in range(4):
        ident = {"gpu": str(i), "UUID": f"GPU-a-{i}", "modelName": H100, "Hostname": "gpu-node-a"}
        pod = {0: "llm-chat-6d5f7b8c9-abcde", 1: "llm-chat-6d5f7b8c9-abcde",
               2: "fraud-predictor-00002-deployment-7f8d9c-xyz12"}.get(i)
        ns = {0: "serving", 1: "serving", 2: "risk"}.get(i)
        extra = {"pod_name": pod, "pod_namespace": ns, "container_name": "main"} if pod else {}
        _gpu(f, rng, ident, (30, 95) if pod else (0, 3), extra)
    # node b: the renamed lower-case `hostname` + current pod labels
    pods_b = {0: ("resnet-0", "vision"), 1: ("triton-server-5c4b-qq", "vision"),
              2: ("llm-old-7777-aaaaa", "serving"), 3: ("llm-old-7777-aaaaa", "serving")}
    for i in range(4):
        ident = {"gpu": str(i), "UUID": f"GPU-b-{i}", "modelName": H100, "hostname": "gpu-node-b"}
        pod, ns = pods_b[i]
        util = (1, 5) if pod.startswith("llm-old") else (40, 90)
        _gpu(f, rng, ident, util, {"pod": pod, "namespace": ns, "container": "srv"})
    # node c: scraped without honor_labels: pod = the exporter, workload in exported_*
    for i in range(4):
        ident = {"gpu": str(i), "UUID": f"GPU-c-{i}", "modelName": A100, "Hostname": "gpu-node-c"}
        extra = {"pod": "dcgm-exporter-x7k2p", "namespace": "gpu-operator"}
        if i == 0:
            extra |= {"exported_pod": "evil-app-1", "exported_namespace": "lab"}
        _gpu(f, rng, ident, (50, 60) if i == 0 else (0, 2), extra)
    for pod, ns, model in (("resnet-0", "vision", "resnet"),
                           ("triton-server-5c4b-qq", "vision", "resnet"),
                           ("evil-app-1", "lab", EVIL)):
        f.add("kube_pod_labels", {"namespace": ns, "pod": pod, "job": "kube-state-metrics",
                                  "label_pitboard_io_model": model}, (1.0 for _ in times))
    # vLLM, current names, two replicas
    for pod in ("llm-chat-6d5f7b8c9-abcde", "llm-chat-6d5f7b8c9-fghij"):
        lab = {"model_name": "llm-chat", "namespace": "serving", "pod": pod, "job": "vllm"}
        f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_BOUNDS, rng, W_LAT, 20)
        f.histogram("vllm:time_to_first_token_seconds", lab, VLLM_BOUNDS, rng,
                    [9, 12, 6, 2, 1, 0.5, 0.2, 0.1, 0.05], 20)
        f.counter("vllm:generation_tokens_total", lab, rng, 800, 1200)
        f.counter("vllm:prompt_tokens_total", lab, rng, 3000, 5000)
        f.histogram("vllm:inter_token_latency_seconds", lab, VLLM_BOUNDS, rng,
                    [20, 9, 3, 1, 0.5, 0.2, 0.1, 0.05, 0.01], 900)
        f.gauge("vllm:num_requests_waiting", lab, rng, 0, 12)
        f.gauge("vllm:num_requests_running", lab, rng, 1, 30)
        f.gauge("vllm:kv_cache_usage_perc", lab, rng, 0.2, 0.9)
    # vLLM, older names
    lab = {"model_name": "llm-old", "namespace": "serving", "pod": "llm-old-7777-aaaaa"}
    f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_BOUNDS, rng, W_LAT[::-1], 3)
    f.counter("vllm:generation_tokens_total", lab, rng, 100, 200)
    f.histogram("vllm:time_per_output_token_seconds", lab, VLLM_BOUNDS, rng,
                [5, 9, 6, 2, 1, 0.5, 0.2, 0.1, 0.05], 150)  # inter-token latency, old name
    f.gauge("vllm:num_requests_waiting", lab, rng, 0, 3)
    f.gauge("vllm:gpu_cache_usage_perc", lab, rng, 0.1, 0.3)
    # Triton, two model versions
    for version, fail in (("1", (0.1, 0.3)), ("2", (1.0, 2.0))):
        lab = {"model": "resnet", "version": version, "namespace": "vision", "pod": "resnet-0"}
        f.counter("nv_inference_request_success", lab, rng, 40, 60)
        f.counter("nv_inference_request_failure", lab, rng, *fail)
        f.counter("nv_inference_count", lab, rng, 40, 60)
        f.counter("nv_inference_request_duration_us", lab, rng, 4e5, 6e5)
        f.counter("nv_inference_queue_duration_us", lab, rng, 2e4, 6e4)
        f.gauge("nv_inference_pending_request_count", lab, rng, 0, 5)
    # KServe / Knative queue-proxy, two revisions
    for rev, fail in (("fraud-predictor-00001", 0.5), ("fraud-predictor-00002", 2.5)):
        base = {"namespace_name": "risk", "service_name": "fraud-predictor",
                "configuration_name": "fraud-predictor", "revision_name": rev}
        f.counter("revision_request_count", {**base, "response_code_class": "2xx",
                                             "response_code": "200"}, rng, 30, 50)
        f.counter("revision_request_count", {**base, "response_code_class": "5xx",
                                             "response_code": "503"}, rng, fail, fail * 1.2)
        f.histogram("revision_request_latencies", base, KSERVE_BOUNDS_MS, rng, W_LAT, 40)
    # generic HTTP histogram; the model name is hostile markup
    for code, rate in (("200", 10), ("500", 1)):
        lab = {"model": EVIL, "namespace": "lab", "code": code, "handler": "/predict"}
        f.histogram("http_request_duration_seconds", lab, VLLM_BOUNDS, rng, W_LAT, rate)
    # OpenCost (nodes a and b only: node c falls back to the price table)
    for node, price in OPENCOST_PRICES.items():
        f.add("node_gpu_hourly_cost", {"node": node, "instance_type": "p5.48xlarge"},
              (price for _ in times))
        f.add("node_gpu_count", {"node": node}, (4.0 for _ in times))
    # drift
    for model, feature, method, rng_ in (("llm-chat", "prompt_length", "psi", (0.05, 0.15)),
                                         ("fraud", "amount", "ks", (0.15, 0.3)),
                                         (EVIL, 'f"1\\', "psi", (0.3, 0.4))):
        f.gauge("model_feature_drift_score",
                {"model": model, "feature": feature, "method": method}, rng, *rng_)
    return f


def scaled_fleet(n_gpus: int, times: list[int], seed: int = 11) -> Fleet:
    """``n_gpus`` GPUs on 8-GPU nodes, one model per node (vLLM / Triton / KServe in turn),
    OpenCost per node, kube pod labels, two drift features per model."""
    rng = random.Random(seed)
    f = Fleet(times)
    per_node = min(8, max(1, n_gpus // 3))  # at least 3 nodes: every runtime present
    n_nodes = -(-n_gpus // per_node)
    for n in range(n_nodes):
        node, model = f"node-{n:04d}", f"model-{n:04d}"
        pod = f"{model}-5d8f-{n:05d}"
        for i in range(min(per_node, n_gpus - per_node * n)):
            ident = {"gpu": str(i), "UUID": f"GPU-{n}-{i}", "modelName": H100,
                     "Hostname": node, "pod": pod, "namespace": "ml"}
            _gpu(f, rng, ident, (5, 95))
        f.add("kube_pod_labels", {"namespace": "ml", "pod": pod,
                                  "label_pitboard_io_model": model}, (1.0 for _ in times))
        f.add("node_gpu_hourly_cost", {"node": node}, (4.0 for _ in times))
        f.add("node_gpu_count", {"node": node}, (float(per_node) for _ in times))
        kind = n % 3
        if kind == 0:
            lab = {"model_name": model, "namespace": "ml", "pod": pod}
            f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_BOUNDS, rng, W_LAT, 5)
            f.counter("vllm:generation_tokens_total", lab, rng, 100, 200)
            f.gauge("vllm:num_requests_waiting", lab, rng, 0, 5)
            f.gauge("vllm:kv_cache_usage_perc", lab, rng, 0.1, 0.9)
        elif kind == 1:
            lab = {"model": model, "version": "1", "namespace": "ml", "pod": pod}
            f.counter("nv_inference_request_success", lab, rng, 10, 20)
            f.counter("nv_inference_request_failure", lab, rng, 0.1, 0.2)
            f.gauge("nv_inference_pending_request_count", lab, rng, 0, 5)
        else:
            base = {"namespace_name": "ml", "service_name": f"{model}-predictor",
                    "revision_name": f"{model}-predictor-00001"}
            f.counter("revision_request_count", {**base, "response_code_class": "2xx"},
                      rng, 10, 20)
            f.histogram("revision_request_latencies", base, KSERVE_BOUNDS_MS, rng, W_LAT, 10)
        for feature in ("a", "b"):
            f.gauge("model_feature_drift_score",
                    {"model": model, "feature": feature, "method": "psi"}, rng, 0, 0.3)
    return f


# -- the test API server's fleet (tests/kube/fixtures/ml-fleet.yaml) in an incident -------
NS = "ml-serving"
CANARY, STABLE = "sentiment-bert-predictor-00003", "sentiment-bert-predictor-00002"
POD = "sentiment-bert-predictor-00003-deployment-5d8f9-kx2lq"
XID_AGO_S = 600
CANARY_AGO_S = 1500  # the canary went bad 25 minutes before the history ends
DRIFT_AGO_S = 1200


def incident_fleet(times: list[int]) -> Fleet:
    """The test API server's ml-fleet.yaml (tests/kube/fixtures) in an incident: its KServe
    canary gone bad (Knative's revision_request_count / _latencies), the canary's GPU hot
    with an XID 79 (dcgm-exporter), the vLLM model slow (vllm:e2e_request_latency_seconds),
    a feature drifting; the history ends at ``times[-1]``."""
    rng = random.Random(79)
    f = Fleet(times)
    t_end = times[-1]
    # KServe canary: 0.3 % 5xx on both revisions until CANARY_AGO_S before the end, then
    # 7 % on the canary (the samples from then on count at the new rates)
    went_bad = t_end - CANARY_AGO_S
    for rev, rps, err in ((CANARY, 10.0, 0.07), (STABLE, 90.0, 0.003)):
        base = {"namespace_name": NS, "service_name": "sentiment-bert-predictor",
                "configuration_name": "sentiment-bert-predictor", "revision_name": rev}
        ratio = [err if t >= went_bad else 0.003 for t in times]
        f.add("revision_request_count", {**base, "response_code_class": "2xx",
                                         "response_code": "200"},
              _cumulative(f, [rps * (1 - r) for r in ratio]))
        f.add("revision_request_count", {**base, "response_code_class": "5xx",
                                         "response_code": "503"},
              _cumulative(f, [rps * r for r in ratio]))
        f.histogram("revision_request_latencies", base, KSERVE_BOUNDS_MS, rng, W_LAT, rps)
    # its GPU: hot, and an XID 79 that appeared ten minutes ago
    gpu = {"gpu": "0", "UUID": "GPU-incident-0", "modelName": H100, "Hostname": "gpu-incident-1",
           "pod": POD, "namespace": NS, "container": "kserve-container", "job": "dcgm-exporter"}
    f.gauge("DCGM_FI_DEV_GPU_UTIL", gpu, rng, 90, 99)
    f.add("DCGM_FI_DEV_FB_USED", gpu, (60000.0 for _ in times))
    f.add("DCGM_FI_DEV_FB_FREE", gpu, (21559.0 for _ in times))
    f.add("DCGM_FI_DEV_GPU_TEMP", gpu, (89.0 for _ in times))
    f.add("DCGM_FI_DEV_POWER_USAGE", gpu, (650.0 for _ in times))
    f.add("DCGM_FI_DEV_XID_ERRORS", gpu, (79.0 if t > t_end - XID_AGO_S else 0.0 for t in times))
    f.add("kube_pod_labels", {"namespace": NS, "pod": POD, "job": "kube-state-metrics",
                              "label_pitboard_io_model": "sentiment-bert"}, (1.0 for _ in times))
    # the LLM: p95 ~6.4 s (most requests between 5 and 10 s)
    for pod in ("llama-chat-7c9d8f6b5-a1b2c", "llama-chat-7c9d8f6b5-d3e4f"):
        lab = {"model_name": "llama-chat", "namespace": NS, "pod": pod, "job": "vllm"}
        f.histogram("vllm:e2e_request_latency_seconds", lab, VLLM_BOUNDS, rng,
                    [0, 0, 0, 0, 0.5, 2, 4, 10, 0.2], 5)
    # a feature drifting past its threshold (0.2) twenty minutes ago
    f.add("model_feature_drift_score", {"model": "ranker", "feature": "user_age", "method": "psi"},
          (0.35 if t > t_end - DRIFT_AGO_S else 0.08 for t in times))
    return f


def _cumulative(f: Fleet, rates: list[float], base: float = 1e6) -> list[float]:
    """A counter growing at ``rates[i]`` per second over the step ending at time ``i``."""
    out, value = [], base
    for dt, rate in zip(f.steps(), rates, strict=True):
        value += round(rate * dt, 3)
        out.append(value)
    return out
