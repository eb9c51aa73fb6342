"""Same-named models in several namespaces and contexts, read from a real Prometheus:
each service gets its own figures (namespace, and the cluster label when configured),
never another's; the promote gates judge a canary on its own error rate."""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone

import pytest

from backends.domain.actions import CheckStatus
from backends.actions.config import PromoteGates
from backends.actions.gates import ERRORS, evaluate_promote_gates
from backends.domain.models import FleetSnapshot, ModelService, ServiceKind, TrafficTarget
from backends.prometheus.backend import PrometheusDiscovery, PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.generators import Fleet, time_grid

pytestmark = pytest.mark.integration
W = 290
# (namespace, cluster label value, canary errors per 100 requests) of model "fraud"
SERIES = (("risk", "eu", 0.5), ("risk", "us", 9.0), ("risk-dev", "eu", 30.0))


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    rng = random.Random(5)
    # ends just now: model discovery (Prometheus-only mode) reads at the current time
    fleet = Fleet(time_grid(int(time.time()) - 30, 1800))
    for ns, cluster, canary_err in SERIES:
        for rev, err in (("fraud-00001", 0.5), ("fraud-00002", canary_err)):
            base = {"namespace_name": ns, "service_name": "fraud",
                    "configuration_name": "fraud", "revision_name": rev, "cluster": cluster}
            fleet.counter("revision_request_count", {**base, "response_code_class": "2xx",
                                                     "response_code": "200"},
                          rng, 100 - err, 100 - err)
            if err:
                fleet.counter("revision_request_count", {**base, "response_code_class": "5xx",
                                                         "response_code": "503"}, rng, err, err)
    server = start_server(tmp_path_factory.mktemp("prom-contexts"), fleet)
    yield server.url, datetime.fromtimestamp(fleet.t_end, timezone.utc)
    server.stop()


def _services(contexts=("prod-eu", "prod-us")) -> tuple[ModelService, ...]:
    traffic = (TrafficTarget(revision="fraud-00001", percent=90, role="stable"),
               TrafficTarget(revision="fraud-00002", percent=10, role="canary"))
    return (ModelService(name="fraud", namespace="risk", cluster=contexts[0],
                         kind=ServiceKind.INFERENCE_SERVICE, traffic=traffic),
            ModelService(name="fraud", namespace="risk", cluster=contexts[1],
                         kind=ServiceKind.INFERENCE_SERVICE, traffic=traffic),
            ModelService(name="fraud", namespace="risk-dev", cluster=contexts[0],
                         kind=ServiceKind.INFERENCE_SERVICE, traffic=traffic))


def _snapshot(url: str, at: datetime, **config) -> FleetSnapshot:
    services = _services()
    backend = PrometheusMetrics(PrometheusConfig(url=url, **config))
    try:
        part = backend.read(services, W, at)
    finally:
        backend.close()
    return FleetSnapshot(taken_at=at, context="prod-eu,prod-us", services=services,
                         health=part.health,
                         revision_health=part.revision_health,
                         service_health=part.service_health,
                         service_revision_health=part.service_revision_health)


def _canary_error_pct(snap: FleetSnapshot, svc: ModelService) -> float | None:
    sample = next((h for h in snap.revision_health_of(svc) if h.revision == "fraud-00002"),
                  None)
    return None if sample is None or sample.error_ratio is None else sample.error_ratio * 100


def test_without_a_cluster_label_only_the_namespace_tells_services_apart(prom):
    snap = _snapshot(*prom)
    eu, us, dev = snap.services
    assert snap.health_of(eu) is None and snap.health_of(us) is None  # same ns, 2 contexts
    assert _canary_error_pct(snap, dev) == pytest.approx(30.0, rel=1e-6)
    gates = evaluate_promote_gates(snap, eu.key, PromoteGates())
    errors = next(c for c in gates if c.name == ERRORS)
    assert errors.status == CheckStatus.FAILED and "cannot be told apart" in errors.reason


def test_the_cluster_label_gives_each_context_its_own_figures(prom):
    snap = _snapshot(*prom, cluster_label="cluster",
                     cluster_values={"prod-eu": "eu", "prod-us": "us"})
    eu, us, dev = snap.services
    assert [_canary_error_pct(snap, s) for s in (eu, us, dev)] == [
        pytest.approx(0.5, rel=1e-6), pytest.approx(9.0, rel=1e-6), pytest.approx(30.0, rel=1e-6)]
    assert snap.health_of(eu).rps == pytest.approx(200.0, rel=1e-6)  # 2 revisions x 100/s
    verdicts = {s.key: next(c for c in evaluate_promote_gates(snap, s.key, PromoteGates())
                            if c.name == ERRORS).status for s in (eu, us)}
    assert verdicts == {eu.key: CheckStatus.PASSED, us.key: CheckStatus.FAILED}


def test_prometheus_only_mode_finds_each_clusters_models_with_the_cluster_label(prom):
    """No Kubernetes: models are discovered from the series; with ``cluster_label`` each
    cluster's are their own rows (``cluster`` = the label's value), each with its figures."""
    url, at = prom
    found = {}
    for label in (None, "cluster"):
        cfg = PrometheusConfig(url=url, cluster_label=label)
        metrics = PrometheusMetrics(cfg)
        try:
            services = PrometheusDiscovery(cfg, metrics).read().services
            part = metrics.read(services, W, at)
        finally:
            metrics.close()
        snap = FleetSnapshot(taken_at=at, context=cfg.context_name, services=services,
                             health=part.health, service_health=part.service_health)
        found[label] = {(s.cluster, s.namespace): round(snap.health_of(s).error_ratio * 100, 3)
                        for s in services}
    # without the label the two clusters' "risk" series are one model (both summed):
    # 200 + 200 requests/s, (0.5 + 0.5) + (0.5 + 9) errors/s
    assert found[None] == {("prometheus", "risk"): round(10.5 / 400 * 100, 3),
                           ("prometheus", "risk-dev"): round(30.5 / 200 * 100, 3)}
    assert found["cluster"] == {("eu", "risk"): 0.5, ("us", "risk"): round(9.5 / 200 * 100, 3),
                                ("eu", "risk-dev"): round(30.5 / 200 * 100, 3)}


def _chart_error_pct(backend: PrometheusMetrics, at: datetime,
                     service: ModelService | None) -> float | None:
    """The last error % of model fraud's chart (``service``'s series, or all of them)."""
    series = {s.name: s for s in backend.chart("fraud", 1800, at, service=service)}
    points = [p.value for p in series["error %"].points if p.value is not None]
    return round(points[-1], 3) if points else None


@pytest.mark.parametrize("label", [None, "cluster"])
def test_a_services_chart_holds_its_own_series(prom, label):
    """The chart of one service: its namespace's series when the name is shared, its
    cluster's with the cluster label, none when neither tells it apart (as its figures)."""
    url, at = prom
    eu, us, dev = _services()
    cfg = PrometheusConfig(url=url, cluster_label=label,
                           cluster_values={"prod-eu": "eu", "prod-us": "us"})
    backend = PrometheusMetrics(cfg)
    try:
        backend.read((eu, us, dev), W, at)
        charted = {s.key: _chart_error_pct(backend, at, s) for s in (eu, us, dev)}
        everything = _chart_error_pct(backend, at, None)
    finally:
        backend.close()
    # all series: (0.5 + 0.5) + (0.5 + 9) + (0.5 + 30) errors/s over 600 requests/s
    assert everything == round(41.0 / 600 * 100, 3)
    if label is None:  # eu and us share name and namespace: no series are theirs
        assert charted == {eu.key: None, us.key: None, dev.key: round(30.5 / 200 * 100, 3)}
    else:
        assert charted == {eu.key: 0.5, us.key: round(9.5 / 200 * 100, 3),
                           dev.key: round(30.5 / 200 * 100, 3)}
