"""The number of queries per refresh does not grow with the fleet (10 -> 2,000 GPUs)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets import scaled_fleet
from tests.prometheus.generators import time_grid

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fleets(tmp_path_factory):
    times = time_grid(int(time.time()) - 900, 150)
    sizes = (10, 2000)
    built = {n: scaled_fleet(n, times) for n in sizes}
    with ThreadPoolExecutor(2) as pool:
        servers = dict(zip(sizes, pool.map(
            lambda n: start_server(tmp_path_factory.mktemp(f"prom-{n}"), built[n]), sizes),
            strict=True))
    yield {n: (servers[n], built[n]) for n in sizes}
    for server in servers.values():
        server.stop()


def test_queries_per_refresh_constant(fleets):
    counts, sizes = {}, {}
    for n, (server, fleet) in fleets.items():
        at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
        backend = PrometheusMetrics(PrometheusConfig(url=server.url))
        try:
            first = backend.read([], 120, at)     # includes the start-up probe
            steady = backend.read([], 120, at)
        finally:
            backend.close()
        assert first.queries == steady.queries + 1  # the probe is one query
        counts[n] = steady.queries
        sizes[n] = (len(steady.gpus), len(steady.health), steady.profiles)
    assert sizes[10][0] == 10 and sizes[2000][0] == 2000
    assert sizes[2000][1] > 100 * sizes[10][1] / 10  # many more models ...
    assert sizes[10][2] == sizes[2000][2]            # ... same profiles ...
    assert counts[10] == counts[2000]                # ... same number of queries
    # one per template of each active profile + one SLO (1h/6h error ratio) query per
    # serving profile, whatever the fleet size
    profiles = PrometheusConfig(url="http://127.0.0.1:1").profiles
    active = [profiles[n] for n in sizes[10][2]]
    expected = sum(len([k for k in p.queries if k != "discover"]) for p in active)
    expected += sum(1 for p in active if p.kind == "serving")
    assert counts[10] == expected
    assert counts[10] <= 40  # a bound, not a target: XID history and vLLM running added 2


def test_gpus_join_models_at_scale(fleets):
    server, fleet = fleets[2000]
    at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        part = backend.read([], 120, at)
    finally:
        backend.close()
    assert all(g.model == g.pod.rsplit("-", 2)[0] for g in part.gpus)
    assert part.cost.hourly == pytest.approx(4.0 * 2000)


def test_a_chart_read_at_the_same_time_is_not_counted_in_the_refresh(fleets):
    """The console reads the selected model's chart in a worker of its own, on the same
    client: a refresh's ``queries`` and ``bytes_read`` must stay that read's own."""
    import threading

    server, fleet = fleets[10]
    at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        backend.read([], 120, at)  # the start-up probe
        alone = backend.read([], 120, at)
        model = next(iter(alone.health.values())).model
        real, charts = backend.client.query, []

        def query(promql, at=None):  # the first query of the read waits for a whole chart
            if not charts:
                charts.append(None)
                before = backend.client.queries
                worker = threading.Thread(target=lambda: charts.append(
                    (backend.chart(model, 600, at), backend.client.queries - before)))
                worker.start()
                worker.join()
            return real(promql, at)

        backend.client.query = query
        together = backend.read([], 120, at)
    finally:
        backend.close()
    chart, chart_queries = charts[1]
    assert chart_queries >= 3 and any(s.points for s in chart)  # it really read meanwhile
    assert together.queries == alone.queries
    assert together.bytes_read == pytest.approx(alone.bytes_read, rel=0.05)
    assert backend.client.queries >= 2 * alone.queries + chart_queries


def test_tallies_nest(fleets):
    """A tally open around a read counts what the read counts (its query threads too)."""
    server, fleet = fleets[10]
    at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        with backend.client.tally() as outer:
            part = backend.read([], 120, at)
            with backend.client.tally() as inner:
                backend.client.query("up", at)
    finally:
        backend.close()
    assert part.queries >= 10 and part.bytes_read > 0
    assert inner.queries == 1 and outer.queries == part.queries + 1
    assert outer.bytes_read == part.bytes_read + inner.bytes_read
