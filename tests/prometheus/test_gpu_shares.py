"""MIG instances and time-sliced GPUs on a real Prometheus (fixtures: ``fleets_shares.py``):
each share its own line with its own figures and owner, the GPU's figures counted once."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from backends.domain.models import GpuScope, ModelService
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets_shares import MIG_UUID, TS_UUID, WHOLE_UUID, shares_fleet
from tests.prometheus.generators import time_grid

pytestmark = pytest.mark.integration
W = 290
SERVICES = [ModelService(name=n, namespace=ns, cluster="c") for n, ns in (
    ("tiny-embed", "nlp"), ("rerank", "search"), ("chat-small", "chat"),
    ("batch-scorer", "batch"))]


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    fleet = shares_fleet(time_grid(int(time.time()) - 900, 1800))
    server = start_server(tmp_path_factory.mktemp("prom-shares"), fleet)
    yield server, fleet
    server.stop()


def _read(prom, scope: GpuScope | None = None):
    server, fleet = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        return backend.read(SERVICES, W, datetime.fromtimestamp(fleet.t_end, timezone.utc),
                            gpu_scope=scope)
    finally:
        backend.close()


@pytest.fixture(scope="module")
def part(prom):
    return _read(prom)


def test_mig_instances_are_rows_of_their_own(part):
    gpus = {g.uuid: g for g in part.gpus}
    assert len(part.gpus) == 3  # the MIG GPU is one GPU, not four
    mig = gpus[MIG_UUID]
    # (profile, id, util %, used MiB, total MiB = used + free, pod, namespace, model), by
    # instance id; utilisation = GR_ENGINE_ACTIVE x 100 (no GPU_UTIL under MIG)
    want = [("3g.40gb", "2", 73.0, 30000.0, 40456.0, "rerank-6c7d8e9f0-klmno", "search", "rerank"),
            ("1g.10gb", "11", 42.0, 6100.0, 9969.0, "tiny-embed-5d8f7c9b4-abcde", "nlp",
             "tiny-embed"),
            ("1g.10gb", "13", 18.0, 2300.0, 9969.0, "tiny-embed-5d8f7c9b4-fghij", "nlp",
             "tiny-embed"),
            ("1g.10gb", "14", 0.0, 14.0, 9969.0, None, None, None)]
    got = [(s.mig_profile, s.instance, s.util_percent, s.memory_used_mib, s.memory_total_mib,
            s.pod, s.namespace, s.model) for s in mig.slices]
    assert [g[:2] + g[5:] for g in got] == [w[:2] + w[5:] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[2:5] == pytest.approx(w[2:5])
    assert mig.mig and [s.label for s in mig.slices][:2] == ["MIG 3g.40gb/2", "MIG 1g.10gb/11"]
    # the GPU keeps its own figures, once (each instance's series repeats them)
    assert (mig.temperature_c, mig.power_watts, mig.last_xid) == (61.0, 312.5, None)
    # no whole-GPU utilisation under MIG; its framebuffer is its instances' together
    assert mig.util_percent is None
    assert mig.memory_used_mib == pytest.approx(30000 + 6100 + 2300 + 14)
    assert mig.memory_total_mib == pytest.approx(40456 + 3 * 9969)
    assert mig.allocated and mig.models == ("rerank", "tiny-embed")
    whole = gpus[WHOLE_UUID]  # the node's other GPU: whole, GPU_UTIL as before
    assert (whole.util_percent, whole.slices, whole.pod) == (64.0, (), None)


def test_a_time_sliced_gpu_shows_each_pod(part):
    ts = {g.uuid: g for g in part.gpus}[TS_UUID]
    # the device's figures, copied onto every pod's series: counted once, never summed
    assert (ts.util_percent, ts.memory_used_mib, ts.memory_total_mib, ts.temperature_c) \
        == (81.0, 50000.0, 81559.0, 66.0)
    assert [(s.pod, s.namespace, s.model, s.util_percent, s.mig_profile) for s in ts.slices] == [
        ("batch-scorer-55d6f7c8b-ccccc", "batch", "batch-scorer", None, None),
        ("chat-small-7b9c6d5f4-aaaaa", "chat", "chat-small", None, None),
        ("chat-small-7b9c6d5f4-bbbbb", "chat", "chat-small", None, None)]
    assert not ts.mig and [s.label for s in ts.slices] == ["shared"] * 3
    assert ts.models == ("batch-scorer", "chat-small")


def test_each_model_counts_the_gpus_it_shares(part):
    summary = part.gpu_summary
    assert (summary.gpus, summary.allocated) == (3, 2)
    assert summary.by_model == {"rerank": 1, "tiny-embed": 1, "batch-scorer": 1,
                                "chat-small": 1}


def test_a_scoped_read_keeps_the_shares(prom):
    part = _read(prom, GpuScope(model="tiny-embed"))
    assert [g.uuid for g in part.gpus] == [MIG_UUID]
    assert [s.instance for s in part.gpus[0].slices] == ["2", "11", "13", "14"]
    assert [s.util_percent for s in part.gpus[0].slices] == pytest.approx([73, 42, 18, 0])
