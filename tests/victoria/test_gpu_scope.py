"""Bytes and queries of one refresh against a global store: 2 clusters / 40 GPUs against
20 clusters / 2,000 GPUs (50x), both with the same two models per cluster. A scoped read
(``gpu_scope``: a page of GPUs, every GPU aggregated on the server) sends the same number of
queries and reads about the same bytes whatever the GPU count; reading every GPU row by row
reads ~50x more. Then the scoped figures of the 20-cluster store against the rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from backends.domain.gpus import page, summarize
from backends.domain.models import GpuScope, ModelService, ServiceKind
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from backends.prometheus.gpu_scope import SUMMARY_PARTS
from tests.victoria.conftest import VmServer
from tests.victoria.loader import ScaleSpec, load, model_name, series_count, wait_searchable

pytestmark = pytest.mark.integration
SMALL = ScaleSpec(clusters=2, models=4, gpus=40, history_s=900)
LARGE = ScaleSpec(clusters=20, models=40, gpus=2000, history_s=900)
PAGE = GpuScope(limit=50)
W = 290


def context_of(cluster: str) -> str:
    return f"prod-{cluster}"


class Store:
    def __init__(self, spec: ScaleSpec, url: str, t_end: int):
        self.spec, self.url = spec, url
        self.at = datetime.fromtimestamp(t_end, timezone.utc)
        self.services = tuple(
            ModelService(name=model_name(k), namespace="serving",
                         cluster=context_of(spec.cluster(i)), kind=ServiceKind.DEPLOYMENT)
            for i in range(spec.clusters) for k in range(spec.models_of(i)))

    def read(self, scope: GpuScope | None, warm: bool = True, **profiles):
        """One refresh's read; ``warm``: after a first read (the bytes and queries of a
        steady refresh, without the first read's probes)."""
        cfg = PrometheusConfig(url=self.url, cluster_label="cluster",
                               cluster_values={context_of(c): c for c in self.spec.names},
                               gpu_prices={"H100": 4.0}, profiles=profiles or None)
        backend = PrometheusMetrics(cfg)
        try:
            if warm:
                backend.read(self.services, W, self.at, gpu_scope=scope)  # probe, warm caches
            return backend.read(self.services, W, self.at, gpu_scope=scope)
        finally:
            backend.close()


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Iterator[dict[str, Store]]:
    servers, out = [], {}
    try:
        for name, spec in (("small", SMALL), ("large", LARGE)):
            server = VmServer(tmp_path_factory.mktemp(f"victoria-{name}"))
            server.start()
            servers.append(server)
            t_end = spec.times(int(time.time()) - 30)[-1]
            load(server.url, spec, t_end, keep=False)
            wait_searchable(server.url, series_count(spec), t_end)
            out[name] = Store(spec, server.url, t_end)
        yield out
    finally:
        for server in servers:
            server.stop()


def test_a_scoped_refresh_reads_the_page_not_the_fleet(stores):
    small, large = stores["small"], stores["large"]
    s_scoped, l_scoped = small.read(PAGE), large.read(PAGE)
    s_full, l_full = small.read(None), large.read(None)
    assert (len(s_full.gpus), len(l_full.gpus)) == (40, 2000)
    assert (len(s_scoped.gpus), len(l_scoped.gpus)) == (40, 50)
    assert (s_scoped.gpu_summary.gpus, l_scoped.gpu_summary.gpus) == (40, 2000)
    # the same queries whatever the size: serving, pods, the GPU profile's own, summary, page
    assert s_scoped.queries == l_scoped.queries == s_full.queries + SUMMARY_PARTS + 1
    assert l_full.queries == s_full.queries
    # bytes: GPU rows read one by one grow with the GPUs ...
    assert l_full.bytes_read > 20 * s_full.bytes_read
    # ... a scoped read's do not: the large store's page (50 GPUs) holds more rows than the
    # small store's whole fleet (40), and its serving figures are 10x (20 clusters x 2
    # models): that is all that grows
    gpu_only = {"vllm": {"enabled": False}}
    s_gpu, l_gpu = small.read(PAGE, **gpu_only), large.read(PAGE, **gpu_only)
    assert l_gpu.bytes_read < 2 * s_gpu.bytes_read, (s_gpu.bytes_read, l_gpu.bytes_read)
    assert l_scoped.bytes_read < l_full.bytes_read / 5


def test_the_large_stores_scoped_figures_are_those_of_its_rows(stores):
    large = stores["large"]
    full = large.read(None, warm=False)  # figures, not bytes: one read each
    scopes = [PAGE, GpuScope(node="gpu-03-0001", limit=100), GpuScope(model="llm-code", limit=1000),
              GpuScope(text="GPU-1100", limit=1000)]
    rows = full.gpus
    for scope in scopes:
        part = large.read(scope, warm=False)
        want, got = full.gpu_summary, part.gpu_summary
        for f in ("gpus", "nodes", "allocated", "by_cluster", "by_model"):
            assert getattr(got, f) == getattr(want, f), (scope, f)
        assert part.cost.hourly == pytest.approx(full.cost.hourly)
        assert part.cost.by_model == pytest.approx(full.cost.by_model)
        if scope is PAGE:
            assert sorted(g.util_percent for g in part.gpus) == sorted(
                g.util_percent for g in page(rows, scope, 10.0))
        else:
            assert part.gpus == page(rows, scope, 10.0), scope
            assert got.matching == len(part.gpus) > 0, scope


@pytest.mark.parametrize("scope", [GpuScope(cluster=context_of("c07"), limit=500),
                                   GpuScope(cluster=context_of("c07"), limit=20),
                                   GpuScope(cluster=context_of("c13"), limit=50, sort="idle"),
                                   GpuScope(cluster=context_of("c13"), limit=50, text="gpu-13")])
def test_a_read_within_one_cluster_is_that_clusters(stores, scope):
    """``:ctx`` over a global store: the page, the summary and the cost of the read are
    the chosen cluster's, as counted from every row of the store read one by one."""
    large = stores["large"]
    full = large.read(None, warm=False)
    mine = tuple(g for g in full.gpus if g.cluster == scope.cluster)
    assert 0 < len(mine) < len(full.gpus)
    part = large.read(scope, warm=False)
    got, want = part.gpu_summary, summarize(mine, 10.0, scope)
    for f in ("gpus", "nodes", "allocated", "idle_allocated", "by_cluster", "by_model",
              "matching"):
        assert getattr(got, f) == getattr(want, f), f
    assert got.by_cluster == {scope.cluster: len(mine)}
    assert got.util_avg_percent == pytest.approx(want.util_avg_percent)
    assert part.gpus == page(mine, scope, 10.0)
    assert part.gpus and {g.cluster for g in part.gpus} == {scope.cluster}
    # the cost: that cluster's GPUs, each priced (H100 at $4/h here)
    assert part.cost.hourly == pytest.approx(sum(g.hourly_cost or 0 for g in mine))
    assert part.cost.hourly < full.cost.hourly
    # the same number of queries as a read of every cluster's page
    assert part.queries == large.read(PAGE, warm=False).queries
