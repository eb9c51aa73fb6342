"""Many clusters' series in one VictoriaMetrics, loaded through ``/api/v1/import/prometheus``.

Each cluster is a :class:`tests.prometheus.generators.Fleet` (the suite's own generators),
every series carrying ``cluster="cNN"``. Series follow their exporters:

- GPUs: dcgm-exporter's default-counters.csv (``DCGM_FI_DEV_GPU_UTIL`` %, ``_FB_USED`` /
  ``_FB_FREE`` MiB, ``_POWER_USAGE`` W, ``_GPU_TEMP`` C, ``_XID_ERRORS``; labels ``gpu``,
  ``UUID``, ``modelName``, ``Hostname``, ``pod``/``namespace``/``container``), written by
  ``tests.prometheus.fleets._gpu``.
- Serving: vLLM's METRICS-TABLE (V1): ``vllm:e2e_request_latency_seconds`` histogram with its
  buckets (0.3 ... 60 s, +Inf), ``vllm:generation_tokens_total`` counter,
  ``vllm:num_requests_waiting`` gauge, ``vllm:kv_cache_usage_perc`` gauge (0-1, not %);
  labels ``model_name`` and ``engine``, plus the scrape's ``namespace``/``pod``.
- kube-state-metrics ``kube_pod_labels`` (``label_pitboard_io_model``) joins pods to models.

Counters and histogram buckets grow by the same amount every step, so every engine's
``rate()`` (VictoriaMetrics' own included, which differs from Prometheus' extrapolation)
gives exactly the generated rate, and the tests compute the figures by hand.

Lines are the Prometheus text format with millisecond timestamps
(``name{labels} value 1700000000000``), which VictoriaMetrics 1.79 stores at those times.
The loader streams one cluster at a time, so ``ScaleSpec(clusters=20, models=3000,
gpus=20000)`` loads a benchmark's fleet without holding it all in memory.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx

from tests.prometheus.fleets import _gpu
from tests.prometheus.generators import H100, STEP_S, Fleet, _esc, _num, time_grid

# vLLM V1 e2e latency buckets (METRICS-TABLE), cut at 60 s; non-cumulative weights
E2E_BOUNDS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
              60.0, math.inf)
E2E_WEIGHTS = (2, 4, 9, 12, 10, 6, 4, 3, 2, 1, 1, 1, 0, 0, 0, 1)
NAMED_MODELS = ("llm-chat", "llm-code", "llm-embed")


@dataclass(frozen=True)
class ScaleSpec:
    """How big a multi-cluster fleet is: ``models`` and ``gpus`` in total, spread evenly
    over ``clusters`` (every cluster serves its models under the same names: model ``k``
    of each cluster is ``model_name(k)``)."""

    clusters: int = 20
    models: int = 40
    gpus: int = 80
    history_s: int = 3600
    step_s: int = STEP_S

    def times(self, t_end: int) -> list[int]:
        """The sample times: ``history_s`` ending at ``t_end`` every ``step_s``."""
        return time_grid(t_end, self.history_s, self.step_s)

    def cluster(self, index: int) -> str:
        return f"c{index:02d}"

    @property
    def names(self) -> list[str]:
        return [self.cluster(i) for i in range(self.clusters)]

    def models_of(self, index: int) -> int:
        return self.models // self.clusters + (index < self.models % self.clusters)

    def gpus_of(self, index: int, model: int) -> int:
        """GPUs of model ``model`` in cluster ``index`` (a cluster's GPUs spread evenly)."""
        n_gpus = self.gpus // self.clusters + (index < self.gpus % self.clusters)
        n_models = self.models_of(index)
        return n_gpus // n_models + (model < n_gpus % n_models)


def model_name(k: int) -> str:
    return NAMED_MODELS[k] if k < len(NAMED_MODELS) else f"model-{k:04d}"


def request_rate(cluster: int, model: int) -> float:
    """Requests/s of model ``model`` in cluster ``cluster``: for one model, every cluster
    has its own rate, so a figure read from the wrong cluster cannot pass for the right."""
    return 2.0 + cluster + 0.5 * model


def pod_of(cluster: int, model: int) -> str:
    return f"{model_name(model)}-{cluster:02d}{model:04d}f9c-x{cluster % 7}k{model % 9}"


def gpu_uuid(cluster: int, model: int, gpu: int) -> str:
    return f"GPU-{cluster:02d}{model:04d}{gpu:02d}-0000-4000-8000-{cluster:06d}{gpu:06d}"


def cluster_fleet(spec: ScaleSpec, index: int, times: list[int]) -> Fleet:
    """One cluster: its GPUs (dcgm-exporter), its vLLM models, their pods' model labels."""
    rng = random.Random(1000 + index)
    f = Fleet(times)
    ns = "serving"
    for k in range(spec.models_of(index)):
        model, pod = model_name(k), pod_of(index, k)
        node = f"gpu-{index:02d}-{k:04d}"  # one node per model here: names unique per store
        for g in range(spec.gpus_of(index, k)):
            ident = {"gpu": str(g), "UUID": gpu_uuid(index, k, g), "modelName": H100,
                     "Hostname": node}
            _gpu(f, rng, ident, (5, 95), {"pod": pod, "namespace": ns, "container": "vllm"})
        lab = {"model_name": model, "engine": "0", "namespace": ns, "pod": pod, "job": "vllm"}
        constant_histogram(f, "vllm:e2e_request_latency_seconds", lab, E2E_BOUNDS,
                           E2E_WEIGHTS, request_rate(index, k))
        tokens = 40 * request_rate(index, k)
        f.counter("vllm:generation_tokens_total", lab, rng, tokens, tokens)
        f.gauge("vllm:num_requests_waiting", lab, rng, 0, 12)
        f.gauge("vllm:kv_cache_usage_perc", lab, rng, 0.1, 0.9)
        f.add("kube_pod_labels", {"namespace": ns, "pod": pod, "job": "kube-state-metrics",
                                  "label_pitboard_io_model": model}, (1.0 for _ in times))
    return f


def constant_histogram(f: Fleet, name: str, labels: dict[str, str], bounds: Iterable[float],
                       weights: Iterable[float], rate: float) -> None:
    """Cumulative ``_bucket``/``_count``/``_sum`` series growing by the same counts every
    step: ``rate`` observations per second spread over the buckets by ``weights``. Each
    bucket starts large (no reset) and in proportion to its share (cumulative in ``le``)."""
    bounds, weights = list(bounds), list(weights)
    total_w = sum(weights)
    steps = f.steps()
    cum_w = 0.0
    for b, w in zip(bounds, weights, strict=True):
        cum_w += w
        le = "+Inf" if math.isinf(b) else repr(float(b))
        per_step = round(rate * STEP_S * cum_w / total_w, 3)
        f.add(f"{name}_bucket", {**labels, "le": le},
              _grow(round(1e6 * cum_w / total_w, 3), per_step, steps))
    total = round(rate * STEP_S, 3)
    f.add(f"{name}_count", labels, _grow(1e6, total, steps))
    f.add(f"{name}_sum", labels, _grow(5e5, round(total * 1.7, 3), steps))


def _grow(base: float, per_step: float, steps: list[int]) -> list[float]:
    """``base`` plus ``per_step`` for every ``STEP_S`` elapsed, at each timestamp."""
    out, value = [], base
    for dt in steps:
        value = round(value + per_step * dt / STEP_S, 3)
        out.append(value)
    return out


def exposition(f: Fleet, extra: dict[str, str]) -> Iterator[str]:
    """Prometheus text lines with millisecond timestamps, ``extra`` labels on each."""
    for s in f.series:
        labels = {**s.labels, **extra}
        head = s.name + "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in sorted(labels.items()))
        head += "} "
        for ts, v in s.points:
            yield f"{head}{_num(v)} {ts * 1000}\n"


def import_lines(url: str, lines: Iterable[str], batch_bytes: int = 8 << 20,
                 client: httpx.Client | None = None) -> int:
    """POST ``lines`` to ``/api/v1/import/prometheus`` in batches; returns lines sent."""
    own = client is None
    client = client or httpx.Client(timeout=120, trust_env=False)
    sent, buf, size = 0, [], 0
    try:
        for line in lines:
            buf.append(line)
            size += len(line)
            if size >= batch_bytes:
                _post(client, url, buf)
                sent, buf, size = sent + len(buf), [], 0
        if buf:
            _post(client, url, buf)
            sent += len(buf)
    finally:
        if own:
            client.close()
    return sent


def _post(client: httpx.Client, url: str, buf: list[str]) -> None:
    r = client.post(f"{url}/api/v1/import/prometheus", content="".join(buf).encode())
    if r.status_code not in (200, 204):
        raise RuntimeError(f"import failed: HTTP {r.status_code}: {r.text[:300]}")


def load(url: str, spec: ScaleSpec, t_end: int, keep: bool = True) -> dict[str, Fleet]:
    """Generate and import every cluster (``spec.times(t_end)``), one at a time; the fleets
    by cluster name when ``keep`` (a benchmark at scale passes False: nothing stays in
    memory)."""
    times = spec.times(t_end)
    fleets: dict[str, Fleet] = {}
    with httpx.Client(timeout=300, trust_env=False) as client:
        for i in range(spec.clusters):
            f = cluster_fleet(spec, i, times)
            import_lines(url, exposition(f, {"cluster": spec.cluster(i)}), client=client)
            if keep:
                fleets[spec.cluster(i)] = f
    return fleets


def series_count(spec: ScaleSpec) -> int:
    """How many series :func:`load` writes for ``spec`` (without generating them)."""
    per_gpu = 6  # util, fb used, fb free, power, temp, xid
    per_model = len(E2E_BOUNDS) + 2 + 3 + 1  # buckets, count, sum; 3 more; pod labels
    return per_gpu * spec.gpus + per_model * spec.models


def wait_searchable(url: str, expected_series: int, at: int, deadline_s: float = 60.0
                    ) -> None:
    """Flush VictoriaMetrics' buffers and wait until all ``expected_series`` answer at
    ``at`` (imported rows become searchable only after a flush)."""
    end = time.monotonic() + deadline_s
    last = None
    with httpx.Client(timeout=30, trust_env=False) as client:
        while True:
            client.get(f"{url}/internal/force_flush")
            r = client.get(f"{url}/api/v1/query", params={
                "query": 'count({__name__=~".+"})', "time": str(at)})
            result = r.json()["data"]["result"] if r.status_code == 200 else None
            last = float(result[0]["value"][1]) if result else r.text[:200]
            if last == expected_series:
                return
            if time.monotonic() >= end:
                raise RuntimeError(f"VictoriaMetrics holds {last} series at {at}, "
                                   f"expected {expected_series}")
            time.sleep(0.2)
