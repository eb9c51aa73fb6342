"""A scoped read (``gpu_scope``) gives the same fleet figures as reading every GPU -- the
server's ``count``/``sum`` against the rows counted here -- and exactly the page the scope
asks for, on the suite's fleets: three label dialects, time-sliced GPUs, DCGM blanks, XIDs,
OpenCost prices by node next to the config's price table, kube-state-metrics pod labels."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from backends.domain.gpus import page
from backends.domain.models import GpuScope
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets_cost import cost_fleet
from tests.prometheus.fleets_gpu import gpu_fleet
from tests.prometheus.generators import time_grid

pytestmark = pytest.mark.integration
W = 290
PRICES = {"H100": 4.0, "A100": 2.5}


@pytest.fixture(scope="module", params=["main", "cost", "gpu"])
def fleet(request, tmp_path_factory, main_prom):
    if request.param == "main":
        yield main_prom.url, main_prom.t_end
        return
    make = {"cost": cost_fleet, "gpu": gpu_fleet}[request.param]
    f = make(time_grid(int(time.time()) - 900, 3600))
    server = start_server(tmp_path_factory.mktemp(f"prom-scope-{request.param}"), f)
    yield server.url, f.t_end
    server.stop()


def reads(fleet, *scopes):
    url, t_end = fleet
    backend = PrometheusMetrics(PrometheusConfig(url=url, gpu_prices=PRICES))
    at = datetime.fromtimestamp(t_end, timezone.utc)
    try:
        return [backend.read([], W, at, gpu_scope=s) for s in (None, *scopes)]
    finally:
        backend.close()


def _num(x: float | None) -> float:
    return -1.0 if x is None else x


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-9)


def test_the_server_counts_what_the_rows_count(fleet):
    full, scoped = reads(fleet, GpuScope(limit=3))
    assert full.gpu_scope is None and scoped.gpu_scope == GpuScope(limit=3)
    want, got = full.gpu_summary, scoped.gpu_summary
    assert want is not None and got is not None
    assert (got.server_side, want.server_side) == (True, False)
    assert want.gpus > 3 and len(scoped.gpus) == 3
    fields = ("gpus", "nodes", "allocated", "hot", "xid_current", "idle_allocated",
              "by_cluster", "by_model")
    assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
    assert got.util_avg_percent == approx(want.util_avg_percent)
    a, b = full.cost, scoped.cost
    for f in ("hourly", "idle_hourly", "unallocated_hourly", "total_hourly", "today",
              "month_to_date"):
        assert getattr(b, f) == approx(getattr(a, f)), f
    assert (b.idle_gpus, b.unallocated_gpus, b.source) == (a.idle_gpus, a.unallocated_gpus,
                                                           a.source)
    assert b.by_model.keys() == a.by_model.keys()
    for model, hourly in a.by_model.items():
        assert b.by_model[model] == approx(hourly), model


SCOPES = [GpuScope(limit=4), GpuScope(sort="temp", limit=2), GpuScope(sort="power", limit=3),
          GpuScope(sort="memory", limit=3), GpuScope(sort="idle", limit=2),
          GpuScope(state="free", limit=50), GpuScope(state="idle", limit=50),
          GpuScope(state="hot", limit=50), GpuScope(state="xid", limit=50),
          GpuScope(text="gpu-node-b", limit=50), GpuScope(text="H100 node", limit=50)]


def test_each_page_is_the_scopes_gpus_with_their_own_figures(fleet):
    full, *parts = reads(fleet, *SCOPES)
    rows = full.gpus
    for scope, part in zip(SCOPES, parts, strict=True):
        want = page(rows, scope, 10.0)
        # ties in the sort figure may pick either GPU: compare the figures, then the rows
        if scope.sort in ("temp", "power", "memory", "util") and not scope.state:
            key = {"temp": "temperature_c", "power": "power_watts",
                   "memory": "memory_used_mib", "util": "util_percent"}[scope.sort]
            assert sorted(_num(getattr(g, key)) for g in part.gpus) == sorted(
                _num(getattr(g, key)) for g in want), scope
            continue
        assert part.gpus == want, scope
        if scope.state or scope.text:
            assert part.gpu_summary.matching == len(want), scope


def test_the_page_holds_exactly_the_rows_of_the_full_read(fleet):
    full, part = reads(fleet, GpuScope(limit=100))
    assert part.gpus == full.gpus  # a page as large as the fleet: every row, same figures
