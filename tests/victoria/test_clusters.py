"""One VictoriaMetrics holding 20 clusters' series: pitboard's Prometheus backend with
``cluster_label="cluster"`` gives each cluster's services exactly that cluster's figures.

Every expected figure is computed here from the generated samples (the same model runs in
every cluster at a rate of its own, so a figure taken from another cluster, or summed over
several, cannot match).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from backends.domain.models import FleetSnapshot, ModelService, ServiceKind
from backends.prometheus.backend import PrometheusDiscovery, PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.generators import H100, Fleet, quantile_from_rates
from tests.victoria.loader import model_name, request_rate

pytestmark = pytest.mark.integration
W = 290  # rate window (not a multiple of the 15 s step)
CHOSEN = "c07"
E2E = "vllm:e2e_request_latency_seconds"


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-9, abs=1e-9)


def context_of(cluster: str) -> str:
    return f"arn:aws:eks:eu-west-1:123456789012:cluster/prod-{cluster}"


def rate_sum(f: Fleet, name: str, t: int, **labels: str) -> float:
    return sum(f.rate(s, t, W) for s in f.find(name, **labels))


def bucket_rates(f: Fleet, name: str, t: int, **labels: str) -> dict[float, float]:
    rates: dict[float, float] = defaultdict(float)
    for s in f.find(f"{name}_bucket", **labels):
        rates[float(s.labels["le"])] += f.rate(s, t, W)
    return rates


def expected_health(f: Fleet, t: int, model: str) -> dict[str, float]:
    """The figures of ``model`` computed from one cluster's samples."""
    lat = bucket_rates(f, E2E, t, model_name=model)
    kv = [f.value_at(s, t) for s in f.find("vllm:kv_cache_usage_perc", model_name=model)]
    return {
        "rps": rate_sum(f, f"{E2E}_count", t, model_name=model),
        "tokens_per_s": rate_sum(f, "vllm:generation_tokens_total", t, model_name=model),
        "queue_depth": sum(f.value_at(s, t)
                           for s in f.find("vllm:num_requests_waiting", model_name=model)),
        "kv_cache_percent": 100 * sum(kv) / len(kv),
        "p50_ms": quantile_from_rates(0.5, lat) * 1000,
        "p95_ms": quantile_from_rates(0.95, lat) * 1000,
        "p99_ms": quantile_from_rates(0.99, lat) * 1000,
    }


def services(vm_fleet) -> tuple[ModelService, ...]:
    """Each cluster's models as a kubeconfig would show them: same names, same namespace,
    one context per cluster (EKS-style context names, mapped to the label by config)."""
    spec = vm_fleet.spec
    return tuple(ModelService(name=model_name(k), namespace="serving",
                              cluster=context_of(spec.cluster(i)),
                              kind=ServiceKind.DEPLOYMENT)
                 for i in range(spec.clusters) for k in range(spec.models_of(i)))


def config(vm_fleet) -> PrometheusConfig:
    return PrometheusConfig(url=vm_fleet.url, cluster_label="cluster",
                            cluster_values={context_of(c): c for c in vm_fleet.spec.names})


@pytest.fixture(scope="module")
def read(vm_fleet):
    """(services, snapshot, backend) of one read of every cluster at the data's end."""
    svcs = services(vm_fleet)
    backend = PrometheusMetrics(config(vm_fleet))
    part = backend.read(svcs, W, vm_fleet.at)
    snap = FleetSnapshot(taken_at=vm_fleet.at, context="all", services=svcs, gpus=part.gpus,
                         health=part.health, service_health=part.service_health)
    yield svcs, snap, backend
    backend.close()


def test_the_chosen_clusters_models_get_exactly_that_clusters_figures(read, vm_fleet):
    svcs, snap, _ = read
    f, t = vm_fleet.fleets[CHOSEN], vm_fleet.t_end
    chosen = [s for s in svcs if s.cluster == context_of(CHOSEN)]
    assert [s.name for s in chosen] == ["llm-chat", "llm-code"]
    for k, svc in enumerate(chosen):
        h = snap.health_of(svc)
        want = expected_health(f, t, svc.name)
        assert h.rps == approx(want["rps"]) == approx(request_rate(7, k))
        assert h.tokens_per_s == approx(want["tokens_per_s"])
        assert h.queue_depth == approx(want["queue_depth"])
        assert h.kv_cache_percent == approx(want["kv_cache_percent"])
        assert (h.p50_ms, h.p95_ms, h.p99_ms) == (
            approx(want["p50_ms"]), approx(want["p95_ms"]), approx(want["p99_ms"]))
        assert h.namespace == "serving"
        assert h.error_ratio is None  # vLLM exports no failure counter: unknown, not 0


def test_every_cluster_keeps_its_own_figures(read, vm_fleet):
    svcs, snap, _ = read
    t = vm_fleet.t_end
    cluster_of = {context_of(c): c for c in vm_fleet.spec.names}
    seen: dict[str, set[float]] = defaultdict(set)
    for svc in svcs:
        h = snap.health_of(svc)
        want = expected_health(vm_fleet.fleets[cluster_of[svc.cluster]], t, svc.name)
        assert (h.rps, h.queue_depth, h.p95_ms) == (
            approx(want["rps"]), approx(want["queue_depth"]), approx(want["p95_ms"])), svc.key
        seen[svc.name].add(round(h.rps, 6))
    # a model's rate differs in every cluster: no two services were given the same series
    assert {name: len(rates) for name, rates in seen.items()} == {"llm-chat": 20,
                                                                  "llm-code": 20}


def test_each_clusters_gpus_carry_their_own_samples(read, vm_fleet):
    _, snap, _ = read
    t = vm_fleet.t_end
    gpus = {g.uuid: g for g in snap.gpus}
    assert len(gpus) == vm_fleet.spec.gpus == 80
    for cluster, f in vm_fleet.fleets.items():
        utils = []
        for s in f.find("DCGM_FI_DEV_GPU_UTIL"):
            g = gpus[s.labels["UUID"]]
            utils.append(g.util_percent)
            assert g.util_percent == f.value_at(s, t)
            assert (g.node, g.index, g.model_name) == (s.labels["Hostname"],
                                                        int(s.labels["gpu"]), H100)
            used = f.value_at(f.find("DCGM_FI_DEV_FB_USED", UUID=g.uuid)[0], t)
            free = f.value_at(f.find("DCGM_FI_DEV_FB_FREE", UUID=g.uuid)[0], t)
            assert g.memory_used_mib == used and g.memory_total_mib == approx(used + free)
            assert (g.pod, g.namespace) == (s.labels["pod"], "serving")
            assert g.model == g.pod.rsplit("-", 2)[0]  # llm-chat / llm-code via pod labels
        if cluster == CHOSEN:
            mine = [g.util_percent for g in snap.gpus if g.uuid.startswith("GPU-07")]
            assert len(mine) == 4
            assert sum(mine) / 4 == approx(sum(f.value_at(s, t) for s in f.find(
                "DCGM_FI_DEV_GPU_UTIL")) / 4)


def test_gpus_carry_the_context_of_their_cluster_label(read, vm_fleet):
    _, snap, _ = read
    owners = {g.uuid[4:6]: g.cluster for g in snap.gpus}
    assert owners == {f"{i:02d}": context_of(f"c{i:02d}") for i in range(20)}


def test_a_clusters_chart_holds_only_that_clusters_series(read, vm_fleet):
    svcs, _, backend = read
    t = vm_fleet.t_end
    for cluster in (CHOSEN, "c12"):
        svc = next(s for s in svcs
                   if s.cluster == context_of(cluster) and s.name == "llm-chat")
        series = {s.name: s for s in backend.chart("llm-chat", 1800, vm_fleet.at,
                                                   service=svc)}
        rps = [p.value for p in series["rps"].points]
        assert len(rps) == 121 and series["rps"].points[-1].at.timestamp() == t
        want = rate_sum(vm_fleet.fleets[cluster], f"{E2E}_count", t, model_name="llm-chat")
        assert rps == [approx(want)] * 121  # the rate is constant: every point is it
        lat = bucket_rates(vm_fleet.fleets[cluster], E2E, t, model_name="llm-chat")
        assert series["p95 ms"].points[-1].value == approx(
            quantile_from_rates(0.95, lat) * 1000)
    every = {s.name: s for s in backend.chart("llm-chat", 1800, vm_fleet.at)}
    assert every["rps"].points[-1].value == approx(sum(
        rate_sum(f, f"{E2E}_count", t, model_name="llm-chat")
        for f in vm_fleet.fleets.values()))


def test_prometheus_only_discovery_finds_each_clusters_models(vm_fleet):
    """No Kubernetes: the models are found in the store's series, one row per cluster
    (``cluster`` = the label's value), each with that cluster's figures."""
    cfg = PrometheusConfig(url=vm_fleet.url, cluster_label="cluster")
    metrics = PrometheusMetrics(cfg)
    try:
        found = PrometheusDiscovery(cfg, metrics).read().services
        part = metrics.read(found, W, vm_fleet.at)
    finally:
        metrics.close()
    assert [(s.cluster, s.namespace, s.name) for s in found] == [
        (c, "serving", m) for c in vm_fleet.spec.names for m in ("llm-chat", "llm-code")]
    snap = FleetSnapshot(taken_at=vm_fleet.at, context=cfg.context_name, services=found,
                         health=part.health, service_health=part.service_health)
    for svc in found:
        want = rate_sum(vm_fleet.fleets[svc.cluster], f"{E2E}_count", vm_fleet.t_end,
                        model_name=svc.name)
        assert snap.health_of(svc).rps == approx(want), svc.key


@pytest.mark.parametrize("scoped", [False, True])
def test_each_service_gets_its_own_clusters_cost(vm_fleet, scoped):
    """The same model name serves in every cluster: each service's $/h is its own
    cluster's GPUs' (``CostBurn.by_service``), the name's (``by_model``) their sum -- read
    row by row, and counted by the server for a page (past GPU_ROWS_MAX)."""
    from backends.domain.gpus import cost_shares
    from backends.domain.models import GpuScope

    svcs = services(vm_fleet)
    cfg = config(vm_fleet).model_copy(update={"gpu_prices": {"H100": 4.0}})
    backend = PrometheusMetrics(cfg)
    try:
        rows = backend.read(svcs, W, vm_fleet.at)
        part = backend.read(svcs, W, vm_fleet.at, gpu_scope=GpuScope(limit=10)) \
            if scoped else rows
    finally:
        backend.close()
    want: dict[tuple[str | None, str], float] = defaultdict(float)
    for g in rows.gpus:
        for model, share in cost_shares(g):
            if model:
                want[(g.cluster, model)] += 4.0 * share
    assert len(want) == len(svcs)  # every service holds GPUs, in its own cluster
    got = part.cost.by_service
    assert set(got) == {s.key for s in svcs}
    for svc in svcs:
        assert got[svc.key] == approx(want[(svc.cluster, svc.name)]), svc.key
    for name in {s.name for s in svcs}:
        assert part.cost.by_model[name] == approx(
            sum(v for (_c, m), v in want.items() if m == name))
