"""Metric profiles: PromQL templates for the exporters teams already run.

A profile is a set of named PromQL templates plus how to read their labels. The defaults
below cover dcgm-exporter, Triton's GPU metrics (fallback), vLLM, Triton, KServe/Knative
queue-proxy, a generic HTTP histogram, kube-state-metrics pod labels (GPU -> model join),
OpenCost and a drift gauge. A user overrides any query in the config::

    [prometheus.profiles.vllm.queries]
    requests = 'sum by ($by) (rate(vllm:e2e_request_latency_seconds_count{$match}[$window]))'

Placeholders (``string.Template`` syntax, so PromQL braces stay untouched):

``$window``  rate window, e.g. ``300s``
``$by``      serving grouping labels: model label, namespace labels, revision label (and
             ``[prometheus] cluster_label`` when set)
``$match``   label matchers selecting one model or one GPU (charts) or nothing (fleet
             reads); place it inside ``{...}`` (``foo{$match}`` and ``foo{a="b",$match}``
             are both valid)
``$step``    sub-query step over the rate window, e.g. ``30s``
``$drift_window`` / ``$drift_step``  the drift history read (``drift_history_s``, 1h)
``$today`` / ``$month``  seconds since UTC midnight / since the first of the month
``$past_days`` / ``$today_end``  the month's finished days (first of the month to
             midnight) / the offset that ends a subquery just before midnight
``$cluster_by``  ``, <cluster_label>`` when ``[prometheus] cluster_label`` is set, else
             nothing: GPU templates end their ``by (...)`` lists with it, so each GPU keeps
             the cluster it is in (``GpuDevice.cluster``)
``$xid_lookback`` / ``$xid_step``  how far back (and how finely) an XID's first
             appearance is looked for (``[prometheus] xid_lookback_s``)

Query keys by profile kind:

- ``gpu``: ``util`` (%), ``mem_used``/``mem_free``/``mem_total`` (MiB), ``power`` (W),
  ``temp`` (C), ``xid`` (the last XID code: dcgm-exporter keeps it for good, 0 = none),
  ``xid_since`` (unix time the per-GPU XID value last changed within ``$xid_lookback``,
  sampled every ``$xid_step``: the XID is current while that is within the window).
  One series per GPU; identity from ``UUID``/``gpu_uuid``, ``gpu``
  and the node labels (``Hostname`` or ``hostname``), pod from ``exported_pod``, ``pod``
  or the old ``pod_name`` (same for namespace/container).
- ``serving``: ``requests`` (req/s), ``errors`` (failed req/s), ``latency``, ``ttft`` and
  ``itl`` (inter-token latency) (bucket *rates* grouped by ``le`` and ``$by``; quantiles are
  computed from them for the model and for each revision), ``tokens`` (generated tokens/s),
  ``prompt_tokens`` (prompt tokens/s), ``queue`` (waiting requests), ``running`` (requests
  being served), ``kv_cache`` (percent; the highest of the series: the fullest replica),
  ``duration`` / ``queue_time`` (rates of cumulative request / queue time, in
  ``duration_to_ms`` units: mean ms per request), ``discover`` (one series per model, for
  Prometheus-only mode).
- ``pods``: ``pod_model``: one series per pod carrying the model in ``model_label``.
- ``cost``: ``gpu_price`` ($/h per GPU, by ``node``), ``total`` (all nodes' $/h),
  ``today`` ($ since UTC midnight) and ``past_days`` ($ of the month's days before today;
  month-to-date = ``past_days`` + ``today``); a user's older ``month`` template is read as
  month-to-date as it is.
- ``drift``: ``drift``: per model/feature/method score; a range vector (``[$drift_window:$drift_step]``)
  gives history points, an instant vector one point. The documented default reads any gauge
  named ``*_feature_drift_score{model="...", feature="...", method="psi"}`` (e.g.
  ``model_feature_drift_score``, ``ml_feature_drift_score``) and Evidently's
  ``evidently:data_drift:p_value`` as 1 - p; its threshold comes from
  ``PrometheusConfig.drift_thresholds`` (per method) or ``drift_threshold``. When nothing
  matches, the read says which names were looked for (``MetricsPart.drift_reason``).
"""

from __future__ import annotations

from string import Template
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProfileKind = Literal["gpu", "serving", "pods", "cost", "drift"]


class MetricProfile(BaseModel):
    """One exporter's PromQL templates and label conventions."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: ProfileKind
    enabled: bool | None = Field(
        None, description="None = when the start-up probe finds data; True/False = force"
    )
    probe: list[str] = Field(default_factory=list, description="series selectors to probe")
    fallback_for: str | None = Field(None, description="only used when that profile is idle")
    runtime: str | None = Field(None, description="ModelService.runtime for discovered models")
    queries: dict[str, str] = Field(default_factory=dict)
    model_label: str | None = None
    revision_label: str | None = None
    namespace_labels: list[str] = Field(
        default_factory=lambda: ["namespace", "exported_namespace", "namespace_name"]
    )
    model_regex: str | None = Field(
        None, description="regex with a 'model' group applied to the model label value"
    )
    latency_to_ms: float = Field(1000.0, description="factor from bucket 'le' units to ms")
    duration_to_ms: float = Field(
        0.001, description="factor from the duration/queue_time counters' units to ms (us)")
    ignore_pods: str | None = Field(
        None, description="regex of pod names that are the exporter itself, not a workload"
    )
    errors_need_series: bool = Field(
        False, description="a model without an 'errors' series has no error count "
                           "(unknown), not zero failures: the errors query gives a 0 series "
                           "wherever the engine counts them (vLLM before request_success)")
    family: str | None = Field(
        None, description="serving profiles: the engine family whose processes emit these "
                          "series (vllm, sglang, tgi); profiles of two families reporting "
                          "one model are two engines (its figures are '—', saying so). "
                          "Profiles of one family, or of none (Triton's server, queue-"
                          "proxies, gateways, HTTP middleware: layers in front of an "
                          "engine), see the same requests and complete each other")
    feature_label: str = "feature"
    method_label: str = "method"
    identity_labels: list[str] = Field(
        default_factory=list,
        description="gpu profiles: the labels naming one GPU, as its templates group by "
                    "them (UUID first); set = fleet figures are aggregated by the server "
                    "and only a page of GPUs is read row by row (GpuScope)")


_VLLM_NAMES = (
    "vllm:e2e_request_latency_seconds_count|vllm:num_requests_running|"
    "vllm:num_requests_waiting|vllm:generation_tokens_total"
)


_SGLANG_NAMES = (
    "sglang:num_requests_total|sglang:e2e_request_latency_seconds_count|"
    "sglang:num_running_reqs|sglang:generation_tokens_total"
)
# a gauge repeated once per tensor/pipeline/expert-parallel rank counts once per replica
_PER_RANK = "max without (tp_rank, pp_rank, moe_ep_rank)"
# TGI series carry no model label: the model is the pod's workload, its name without the
# ReplicaSet hash and pod suffix (Deployment) or the ordinal (StatefulSet)
_TGI_POD = "(.+?)(?:-[a-z0-9]{6,10}-[a-z0-9]{5}|-[0-9]+)?"


def _tgi(expr: str) -> str:
    return f'label_replace({expr}, "tgi_model", "$$1", "pod", "{_TGI_POD}")'


# Knative 1.21+ name first, then the 1.19-1.20 one (never both: `or` keeps the first)
_KN_DURATIONS = ("kn_serving_invocation_duration_seconds", "kn_queueproxy_app_duration_seconds")
_KN_NAMES = "|".join(f"{n}_count" for n in _KN_DURATIONS)
_KN_JOIN = ("* on (job, instance) group_left (kn_service_name, kn_configuration_name, "
            "kn_revision_name, k8s_namespace_name) target_info{$match}")


def _kn(template: str) -> str:
    return " or ".join(template.format(name=n, join=_KN_JOIN) for n in _KN_DURATIONS)


# the endpoint picker's three generations of names, newest first
_GAIE_PREFIXES = ("llm_d_epp_", "inference_objective_", "inference_model_")


def _gaie_names(suffix: str, epp_suffix: str | None = None) -> str:
    return "|".join(f"{p}{epp_suffix or suffix}" if p == "llm_d_epp_" else f"{p}{suffix}"
                    for p in _GAIE_PREFIXES)


def _gaie(template: str, suffix: str, epp_suffix: str | None = None) -> str:
    return " or ".join(template.format(name)
                       for name in _gaie_names(suffix, epp_suffix).split("|"))


_DRIFT_SCORES = '{__name__=~".+_feature_drift_score"}'
_EVIDENTLY_P = "evidently:data_drift:p_value"
_EVIDENTLY = ('label_replace(label_replace(1 - ' + _EVIDENTLY_P + '{model=""}, "model", "$$1", '
              '"job", "(.+)") or 1 - ' + _EVIDENTLY_P + '{model!=""}, "method", "1-p_value", '
              '"", "")')
# $/h being spent: every node's when OpenCost exports node_total_hourly_cost, else its GPUs'
_SPEND = ("(sum(avg by (node) (node_total_hourly_cost)) or sum(avg by (node) "
          "(node_gpu_hourly_cost) * on (node) max by (node) (node_gpu_count)))")


def default_profiles() -> dict[str, MetricProfile]:
    """The built-in profiles (a fresh copy each call)."""
    raw: dict[str, dict] = {
        "dcgm": {
            "kind": "gpu",
            "probe": ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                      "DCGM_FI_DEV_FB_USED"],
            "model_label": "pitboard_io_model",
            "ignore_pods": r"^(nvidia-)?dcgm-exporter",
            "identity_labels": ["UUID", "gpu", "Hostname", "hostname"],
            "queries": {
                # every series as exported: pod labels (one series per pod when
                # time-sliced) and MIG instances (GPU_I_PROFILE/GPU_I_ID: GPU_UTIL is not
                # reported under MIG, GR_ENGINE_ACTIVE is, per instance) stay apart;
                # framebuffer is per instance too (dcgm-exporter's
                # internal/pkg/rendermetrics/render_metrics.go, kubernetes.go)
                "util": "DCGM_FI_DEV_GPU_UTIL{$match}"
                        " or (DCGM_FI_PROF_GR_ENGINE_ACTIVE{$match} * 100)",
                # averaged over the window: idle is judged on this, not on one sample
                "util_avg": "max by (UUID, gpu, Hostname, hostname$cluster_by) (avg_over_time("
                            "DCGM_FI_DEV_GPU_UTIL{$match}[$window])) or max by (UUID, gpu, "
                            "Hostname, hostname$cluster_by) (avg_over_time("
                            "DCGM_FI_PROF_GR_ENGINE_ACTIVE{$match}[$window])) * 100",
                "mem_used": "max by (UUID, gpu, Hostname, hostname, GPU_I_PROFILE, GPU_I_ID$cluster_by) (DCGM_FI_DEV_FB_USED{$match})",
                "mem_free": "max by (UUID, gpu, Hostname, hostname, GPU_I_PROFILE, GPU_I_ID$cluster_by) (DCGM_FI_DEV_FB_FREE{$match})",
                "power": "max by (UUID, gpu, Hostname, hostname$cluster_by) (DCGM_FI_DEV_POWER_USAGE{$match})",
                "temp": "max by (UUID, gpu, Hostname, hostname$cluster_by) (DCGM_FI_DEV_GPU_TEMP{$match})",
                # the last XID ever seen (sticky; 0 = none) ...
                "xid": "max by (UUID, gpu, Hostname, hostname$cluster_by) (DCGM_FI_DEV_XID_ERRORS{$match})",
                # ... and when the per-GPU value last changed (a new XID, maybe as a new
                # series with another err_code label): a subquery step time, or nothing
                # when it did not change within the look-back
                "xid_since": "max by (UUID, gpu, Hostname, hostname$cluster_by) (max_over_time(timestamp("
                             "max by (UUID, gpu, Hostname, hostname$cluster_by) (DCGM_FI_DEV_XID_ERRORS"
                             "{$match}) != max by (UUID, gpu, Hostname, hostname$cluster_by) ("
                             "DCGM_FI_DEV_XID_ERRORS{$match} offset $xid_step)"
                             ")[$xid_lookback:$xid_step]))",
            },
        },
        "triton_gpu": {
            "kind": "gpu",
            "fallback_for": "dcgm",
            "probe": ["nv_gpu_utilization"],
            "identity_labels": ["gpu_uuid", "instance"],
            "queries": {
                "util": "max by (gpu_uuid, instance$cluster_by) (nv_gpu_utilization{$match}) * 100",
                "util_avg": "max by (gpu_uuid, instance$cluster_by) (avg_over_time("
                            "nv_gpu_utilization{$match}[$window])) * 100",
                "mem_used": "max by (gpu_uuid, instance$cluster_by) (nv_gpu_memory_used_bytes{$match})"
                            " / 1048576",
                "mem_total": "max by (gpu_uuid, instance$cluster_by) (nv_gpu_memory_total_bytes{$match})"
                             " / 1048576",
                "power": "max by (gpu_uuid, instance$cluster_by) (nv_gpu_power_usage{$match})",
            },
        },
        "vllm": {
            "kind": "serving",
            "runtime": "vllm",
            "family": "vllm",
            "model_label": "model_name",
            "probe": [f'{{__name__=~"{_VLLM_NAMES}"}}'],
            # vLLM counts every finished request in request_success_total, aborts and
            # errors too (finished_reason); older vLLM: requests from the latency histogram
            "errors_need_series": True,
            "queries": {
                "requests": "sum by ($by) (rate(vllm:request_success_total{$match}[$window]))"
                            " or sum by ($by) (rate(vllm:e2e_request_latency_seconds_count"
                            "{$match}[$window]))",
                "errors": "sum by ($by) (rate(vllm:request_success_total"
                          "{finished_reason=~\"abort|error\",$match}[$window])) or 0 * sum by"
                          " ($by) (rate(vllm:request_success_total{$match}[$window]))",
                "latency": "sum by (le, $by) (rate(vllm:e2e_request_latency_seconds_bucket"
                           "{$match}[$window]))",
                "ttft": "sum by (le, $by) (rate(vllm:time_to_first_token_seconds_bucket"
                        "{$match}[$window]))",
                "tokens": "sum by ($by) (rate(vllm:generation_tokens_total{$match}[$window]))",
                "prompt_tokens": "sum by ($by) (rate(vllm:prompt_tokens_total"
                                 "{$match}[$window]))",
                # inter-token latency; vLLM called it time per output token before
                "itl": "sum by (le, $by) (rate(vllm:inter_token_latency_seconds_bucket"
                       "{$match}[$window])) or sum by (le, $by) (rate("
                       "vllm:time_per_output_token_seconds_bucket{$match}[$window]))",
                "queue": "sum by ($by) (vllm:num_requests_waiting{$match})",
                "running": "sum by ($by) (vllm:num_requests_running{$match})",
                # the fullest replica's: the one that saturates (0-1 in vLLM, not %)
                "kv_cache": "(max by ($by) (vllm:kv_cache_usage_perc{$match})"
                            " or max by ($by) (vllm:gpu_cache_usage_perc{$match})) * 100",
                "discover": f'group by ($by) ({{__name__=~"{_VLLM_NAMES}"}})',
            },
        },
        # SGLang: sgl-project/sglang python/sglang/srt/metrics/collector.py
        # @ 00ae9c1590d2d0bb6c0bfff39e312c34ae3dd538 (TokenizerMetricsCollector: counters
        # and histograms by model_name; SchedulerMetricsCollector: gauges repeated per
        # tp_rank / pp_rank / moe_ep_rank, so the same value once per rank: max over ranks
        # inside each replica, then summed over replicas and dp_rank) and
        # docs/references/production_metrics.md @ 40ef116f011cf1599811af1089ddf00971092bcf
        # (older time_per_output_token name). token_usage is 0-1.
        "sglang": {
            "kind": "serving",
            "runtime": "sglang",
            "family": "sglang",
            "model_label": "model_name",
            "errors_need_series": True,
            "probe": [f'{{__name__=~"{_SGLANG_NAMES}"}}'],
            "queries": {
                "requests": "sum by ($by) (rate(sglang:num_requests_total{$match}[$window]))"
                            " or sum by ($by) (rate(sglang:e2e_request_latency_seconds_count"
                            "{$match}[$window]))",
                "errors": "sum by ($by) (rate(sglang:num_aborted_requests_total"
                          "{$match}[$window])) or 0 * sum by ($by) (rate("
                          "sglang:num_requests_total{$match}[$window]))",
                "latency": "sum by (le, $by) (rate(sglang:e2e_request_latency_seconds_bucket"
                           "{$match}[$window]))",
                "ttft": "sum by (le, $by) (rate(sglang:time_to_first_token_seconds_bucket"
                        "{$match}[$window]))",
                "itl": "sum by (le, $by) (rate(sglang:inter_token_latency_seconds_bucket"
                       "{$match}[$window])) or sum by (le, $by) (rate("
                       "sglang:time_per_output_token_seconds_bucket{$match}[$window]))",
                "tokens": "sum by ($by) (rate(sglang:generation_tokens_total{$match}[$window]))",
                "prompt_tokens": "sum by ($by) (rate(sglang:prompt_tokens_total"
                                 "{$match}[$window]))",
                "queue": f"sum by ($by) ({_PER_RANK} (sglang:num_queue_reqs{{$match}}))",
                "running": f"sum by ($by) ({_PER_RANK} (sglang:num_running_reqs{{$match}}))",
                "kv_cache": "max by ($by) (sglang:token_usage{$match}) * 100",
                "discover": f'group by ($by) ({{__name__=~"{_SGLANG_NAMES}"}})',
            },
        },
        # TGI: huggingface/text-generation-inference docs/source/reference/metrics.md and
        # router/src/server.rs @ db931fcf42da018a3657580c64bf2720f167f9ab: no model label (the
        # model is the pod's Deployment/StatefulSet, read from the pod name), counters
        # without _total, failures tgi_request_failure{err} (a series only once one failed:
        # none = no failure), durations in seconds (geometric buckets 0.00015-145.6 s), no
        # TTFT and no KV cache figure. No $match: a chart filters TGI series client-side.
        "tgi": {
            "kind": "serving",
            "runtime": "tgi",
            "family": "tgi",
            "model_label": "tgi_model",
            "probe": ["tgi_request_count", "tgi_queue_size"],
            "queries": {
                "requests": f"sum by ($by) ({_tgi('rate(tgi_request_count[$window])')})",
                "errors": f"sum by ($by) ({_tgi('rate(tgi_request_failure[$window])')})",
                "latency": "sum by (le, $by) ("
                           f"{_tgi('rate(tgi_request_duration_bucket[$window])')})",
                "itl": "sum by (le, $by) ("
                       f"{_tgi('rate(tgi_request_mean_time_per_token_duration_bucket[$window])')})",
                "tokens": "sum by ($by) ("
                          f"{_tgi('rate(tgi_request_generated_tokens_sum[$window])')})",
                "prompt_tokens": "sum by ($by) ("
                                 f"{_tgi('rate(tgi_request_input_length_sum[$window])')})",
                "queue": f"sum by ($by) ({_tgi('tgi_queue_size')})",
                "running": f"sum by ($by) ({_tgi('tgi_batch_current_size')})",
                "discover": f"group by ($by) ({_tgi('tgi_request_count')})",
            },
        },
        "triton": {
            "kind": "serving",
            "runtime": "triton",
            "model_label": "model",
            "revision_label": "version",
            "probe": ["nv_inference_request_success", "nv_inference_count"],
            "queries": {
                # Triton exports both counters per model/version, so `+` matches 1:1.
                "requests": "sum by ($by) (rate(nv_inference_request_success{$match}[$window]))"
                            " + sum by ($by) (rate(nv_inference_request_failure"
                            "{$match}[$window]))",
                "errors": "sum by ($by) (rate(nv_inference_request_failure{$match}[$window]))",
                "queue": "sum by ($by) (nv_inference_pending_request_count{$match})",
                # cumulative microseconds: per request = their rate / the request rate
                "duration": "sum by ($by) (rate(nv_inference_request_duration_us"
                            "{$match}[$window]))",
                "queue_time": "sum by ($by) (rate(nv_inference_queue_duration_us"
                              "{$match}[$window]))",
                "discover": "group by ($by) (nv_inference_request_success)",
            },
        },
        "kserve": {
            "kind": "serving",
            "runtime": "kserve",
            "model_label": "service_name",
            "revision_label": "revision_name",
            "model_regex": r"^(?P<model>.+?)-predictor(?:-default)?$",
            "latency_to_ms": 1.0,
            "probe": ["revision_request_count"],
            "queries": {
                "requests": "sum by ($by) (rate(revision_request_count{$match}[$window]))",
                "errors": "sum by ($by) (rate(revision_request_count"
                          "{response_code_class=\"5xx\",$match}[$window]))",
                "latency": "sum by (le, $by) (rate(revision_request_latencies_bucket"
                           "{$match}[$window]))",
                "discover": "group by ($by) (revision_request_count)",
            },
        },
        # Knative queue-proxy 1.19+ (OpenTelemetry): knative/serving
        # pkg/queue/request_metric.go @ knative-v1.19.0 (kn.queueproxy.app.duration,
        # kn.queueproxy.depth) and @ knative-v1.21.0 (kn.serving.invocation.duration,
        # kn.serving.queue.depth), knative/docs docs/versioned/serving/observability/
        # metrics/serving-metrics.md @ de125bfad88b6f8f5ff037866a5436d64051898f: seconds
        # (buckets 0.005-10 s), status in http_response_status_code, and the service and
        # revision only on target_info (resource attributes), joined by job and instance.
        "knative": {
            "kind": "serving",
            "runtime": "knative",
            "model_label": "kn_service_name",
            "revision_label": "kn_revision_name",
            "namespace_labels": ["namespace", "exported_namespace", "k8s_namespace_name"],
            "model_regex": r"^(?P<model>.+?)-predictor(?:-default)?$",
            "probe": [f'{{__name__=~"{_KN_NAMES}"}}'],
            "queries": {
                "requests": _kn("sum by ($by) (rate({name}_count[$window]) {join})"),
                "errors": _kn("sum by ($by) (rate({name}_count"
                              "{{http_response_status_code=~\"5..\"}}[$window]) {join})"),
                "latency": _kn("sum by (le, $by) (rate({name}_bucket[$window]) {join})"),
                "queue": f"sum by ($by) (kn_serving_queue_depth {_KN_JOIN}) or "
                         f"sum by ($by) (kn_queueproxy_depth {_KN_JOIN})",
                "discover": f'group by ($by) ({{__name__=~"{_KN_NAMES}"}} {_KN_JOIN})',
            },
        },
        # Gateway API Inference Extension / llm-d endpoint picker: kubernetes-sigs/
        # gateway-api-inference-extension site-src/guides/metrics-and-observability.md
        # @ ffea26329a16922bb3b2cf37a383417c511227d5 (v1.0.0: inference_model_*) and
        # @ 91ad0da44f64d41642d55e220d239648eef06196 (inference_objective_*), llm-d/
        # llm-d-router docs/metrics.md @ ebab687927f5331c1b39defcb579a07951bce56c
        # (llm_d_epp_*, the older prefixes still dual-emitted): each figure reads the newest
        # name a model has (`or`), never the sum of two generations. Labels model_name,
        # target_model_name; seconds. Pool gauges (label name = the pool) are not a model's.
        "gaie": {
            "kind": "serving",
            "runtime": "llm-d",
            "model_label": "model_name",
            "probe": [f'{{__name__=~"{_gaie_names("request_total")}"}}'],
            "queries": {
                "requests": _gaie("sum by ($by) (rate({}{{$match}}[$window]))",
                                  "request_total"),
                "errors": _gaie("sum by ($by) (rate({}{{$match}}[$window]))",
                                "request_error_total"),
                "latency": _gaie("sum by (le, $by) (rate({}{{$match}}[$window]))",
                                 "request_duration_seconds_bucket"),
                "ttft": "sum by (le, $by) (rate(llm_d_epp_request_ttft_seconds_bucket"
                        "{$match}[$window]))",
                "tokens": _gaie("sum by ($by) (rate({}{{$match}}[$window]))",
                                "output_tokens_sum", "request_output_tokens_sum"),
                "prompt_tokens": _gaie("sum by ($by) (rate({}{{$match}}[$window]))",
                                       "input_tokens_sum", "request_input_tokens_sum"),
                "running": _gaie("sum by ($by) ({}{{$match}})", "running_requests",
                                 "request_running"),
                "discover": f'group by ($by) ({{__name__=~"{_gaie_names("request_total")}"}})',
            },
        },
        # Ray Serve's own deployment metrics (any model served by Ray Serve, LLM or not):
        # ray-project/ray python/ray/serve/_private/replica.py and metrics_utils (Ray >=
        # 2.9; the names Ray's own Serve Grafana dashboard queries, dashboard/modules/
        # metrics/dashboards/serve_deployment_dashboard_panels.py): counters with _total,
        # labels application, deployment, replica, route; processing latency a histogram in
        # milliseconds (DEFAULT_LATENCY_BUCKET_MS); an error counter that appears with the
        # first error (none yet = none counted). The model is the Serve application.
        "ray_serve": {
            "kind": "serving",
            "runtime": "ray-serve",
            "model_label": "application",
            "latency_to_ms": 1.0,
            "probe": ["ray_serve_deployment_request_counter_total"],
            "queries": {
                "requests": "sum by ($by) (rate(ray_serve_deployment_request_counter_total"
                            "{$match}[$window]))",
                "errors": "sum by ($by) (rate(ray_serve_deployment_error_counter_total"
                          "{$match}[$window]))",
                "latency": "sum by (le, $by) (rate("
                           "ray_serve_deployment_processing_latency_ms_bucket"
                           "{$match}[$window]))",
                "queue": "sum by ($by) (ray_serve_deployment_queued_queries{$match})",
                "running": "sum by ($by) (ray_serve_replica_processing_queries{$match})",
                "discover": "group by ($by) (ray_serve_deployment_request_counter_total)",
            },
        },
        "http": {
            "kind": "serving",
            "runtime": "http",
            "model_label": "model",
            "probe": ['http_request_duration_seconds_count{model!=""}'],
            "queries": {
                "requests": "sum by ($by) (rate(http_request_duration_seconds_count"
                            "{model!=\"\",$match}[$window]))",
                "errors": "sum by ($by) (rate(http_request_duration_seconds_count"
                          "{model!=\"\",code=~\"5..\",$match}[$window]))"
                          " or sum by ($by) (rate(http_request_duration_seconds_count"
                          "{model!=\"\",status=~\"5..|5xx\",$match}[$window]))",
                "latency": "sum by (le, $by) (rate(http_request_duration_seconds_bucket"
                           "{model!=\"\",$match}[$window]))",
                "discover": 'group by ($by) (http_request_duration_seconds_count{model!=""})',
            },
        },
        "kube_pods": {
            "kind": "pods",
            "model_label": "label_pitboard_io_model",
            "probe": ['kube_pod_labels{label_pitboard_io_model!=""}'],
            "queries": {
                "pod_model": "max by (namespace, pod, label_pitboard_io_model) "
                             "(kube_pod_labels{label_pitboard_io_model!=\"\"})",
            },
        },
        "opencost": {
            "kind": "cost",
            "probe": ["node_gpu_hourly_cost"],
            "queries": {
                "gpu_price": "avg by (node) (node_gpu_hourly_cost)",
                "total": "sum(avg by (node) (node_total_hourly_cost))",
                # today at 5-minute steps after midnight; the month's finished days at
                # 1-hour steps up to midnight: month-to-date = their sum (>= today)
                "today": f"sum_over_time({_SPEND}[$today:5m]) / 12",
                "past_days": f"sum_over_time({_SPEND}[$past_days:1h] offset $today_end)",
            },
        },
        # Drift has no standard: any *_feature_drift_score gauge (model_feature_drift_score,
        # ml_feature_drift_score, ...) by model / feature / method, and Evidently's
        # monitoring service (evidentlyai/evidently evidently/model_monitoring/data_drift.py
        # @ d1f71dea3fe7835a30102d0baaa8baf1b0532a5a: evidently:data_drift:p_value{feature,
        # feature_type}, no model label: the scrape job's name, unless a model label is
        # there) read as 1 - p (method "1-p_value", high = drift, like the others).
        "drift": {
            "kind": "drift",
            "model_label": "model",
            "probe": [_DRIFT_SCORES, "evidently:data_drift:p_value"],
            "queries": {
                "drift": f"(max by (model, feature, method) ({_DRIFT_SCORES}) or "
                         f"max by (model, feature, method) ({_EVIDENTLY}))"
                         "[$drift_window:$drift_step]",
            },
        },
    }
    out: dict[str, MetricProfile] = {}
    for name, body in raw.items():
        out[name] = MetricProfile.model_validate(body)
        if name == "vllm":  # then vLLM as Ray Serve re-exports it
            out.update(_ray_profiles(body))
    return out


def _ray_profiles(vllm: dict) -> dict[str, MetricProfile]:
    """vLLM's names as Ray Serve LLM re-exports them, with Ray's labels beside model_name
    (WorkerId, ReplicaId, NodeAddress, ...): ``ray_vllm:`` (Ray 2.32, the DataDog capture
    vllm/tests/fixtures/ray_vllm_metrics.txt @ 5b8d70d4) and ``ray_vllm_`` (newer Ray
    dashboards). One profile per prefix: a Ray version emits one of them."""
    out = {}
    for name, prefix in (("ray_vllm", "ray_vllm:"), ("ray_vllm_", "ray_vllm_")):
        body = {**vllm, "runtime": "ray-serve",
                "probe": [q.replace("vllm:", prefix) for q in vllm["probe"]],
                "queries": {k: q.replace("vllm:", prefix) for k, q in vllm["queries"].items()}}
        out[name] = MetricProfile.model_validate(body)
    return out


def merge_profiles(user: dict | None) -> dict[str, MetricProfile]:
    """Defaults with the user's partial overrides applied (query by query).

    ``user`` maps profile names to partial profile dicts (or ``MetricProfile``s). A known
    profile keeps every default it does not override; a new name defines a new profile
    (``kind`` required)."""
    merged = {name: p.model_dump() for name, p in default_profiles().items()}
    for name, body in (user or {}).items():
        if isinstance(body, MetricProfile):
            body = body.model_dump(exclude_unset=True)
        if not isinstance(body, dict):
            raise ValueError(f"profile {name!r} must be a table, got {type(body).__name__}")
        base = merged.get(name, {})
        new = {**base, **body}
        if "queries" in body and name in merged:
            new["queries"] = {**base.get("queries", {}), **(body["queries"] or {})}
        merged[name] = new
    return {name: MetricProfile.model_validate(body) for name, body in merged.items()}


def render(template: str, profile: MetricProfile, *, cluster_label: str | None = None,
           **values: str) -> str:
    """Fill a template's ``$window``/``$by``/``$match``/... placeholders; a serving
    profile's ``$by`` also groups by ``cluster_label`` when given, and ``$cluster_by`` is
    ``, <cluster_label>`` then (nothing otherwise)."""
    by = [profile.model_label] if profile.model_label else []
    by += list(profile.namespace_labels) if profile.kind == "serving" else []
    if profile.revision_label:
        by.append(profile.revision_label)
    if cluster_label and profile.kind == "serving":
        by.append(cluster_label)
    mapping = {"by": ", ".join(dict.fromkeys(by)), "match": "",
               "cluster_by": f", {cluster_label}" if cluster_label else "", **values}
    return Template(template).safe_substitute(mapping)
