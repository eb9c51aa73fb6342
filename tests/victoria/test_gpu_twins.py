"""Two clusters behind one VictoriaMetrics whose GPU nodes have the same name: each GPU
keeps its cluster (``GpuDevice.cluster``, the context) and ``gpu_chart`` charts the one
asked for -- by UUID, or by node and index in a given cluster -- never its twin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from backends.domain.models import ModelService, ServiceKind
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.generators import H100, Fleet, time_grid
from tests.victoria.conftest import VmServer
from tests.victoria.loader import exposition, import_lines, wait_searchable

pytestmark = pytest.mark.integration
NODE = "gpu-shared-01"  # the same node name (and GPU index 0) in both clusters
TWINS = {"east": ("GPU-east-0", 20.0, 61.0, 300.0), "west": ("GPU-west-0", 80.0, 44.0, 650.0)}
CONTEXTS = {"east": "prod-east", "west": "prod-west"}  # context -> cluster label by config


def twin_fleet(times: list[int], cluster: str) -> Fleet:
    uuid, util, temp, power = TWINS[cluster]
    f = Fleet(times)
    labels = {"gpu": "0", "UUID": uuid, "modelName": H100, "Hostname": NODE,
              "job": "dcgm-exporter", "device": "nvidia0"}
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", util), ("DCGM_FI_DEV_FB_USED", 1000.0),
                        ("DCGM_FI_DEV_FB_FREE", 3000.0), ("DCGM_FI_DEV_POWER_USAGE", power),
                        ("DCGM_FI_DEV_GPU_TEMP", temp), ("DCGM_FI_DEV_XID_ERRORS", 0.0)):
        f.add(name, labels, (value for _ in times))
    return f


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Iterator[tuple[PrometheusConfig, int]]:
    server = VmServer(tmp_path_factory.mktemp("victoria-twins"))
    server.start()
    try:
        times = time_grid(int(time.time()) - 30, 1200)
        for cluster in TWINS:
            import_lines(server.url, exposition(twin_fleet(times, cluster),
                                                {"cluster": cluster}))
        wait_searchable(server.url, 6 * len(TWINS), times[-1])
        cfg = PrometheusConfig(url=server.url, cluster_label="cluster",
                               cluster_values={CONTEXTS[c]: c for c in TWINS})
        yield cfg, times[-1]
    finally:
        server.stop()


def services() -> tuple[ModelService, ...]:
    return tuple(ModelService(name="llm", namespace="serving", cluster=ctx,
                              kind=ServiceKind.DEPLOYMENT) for ctx in CONTEXTS.values())


def last(series, name: str) -> float | None:
    return {s.name: s for s in series}[name].points[-1].value


def test_twin_gpus_keep_their_cluster_and_their_figures(twins):
    cfg, t_end = twins
    at = datetime.fromtimestamp(t_end, timezone.utc)
    backend = PrometheusMetrics(cfg)
    try:
        gpus = backend.read(services(), 300, at).gpus
        assert sorted((g.cluster, g.node, g.index, g.uuid, g.util_percent) for g in gpus) == [
            ("prod-east", NODE, 0, "GPU-east-0", 20.0), ("prod-west", NODE, 0, "GPU-west-0", 80.0)]
        for cluster, (uuid, util, temp, power) in TWINS.items():
            gpu = next(g for g in gpus if g.uuid == uuid)
            by_uuid = backend.gpu_chart(NODE, 0, 900, at, uuid=uuid)
            by_cluster = backend.gpu_chart(NODE, 0, 900, at, cluster=gpu.cluster)
            for series in (by_uuid, by_cluster):
                assert (last(series, "util %"), last(series, "temp C"),
                        last(series, "power W")) == (util, temp, power), cluster
    finally:
        backend.close()


def test_before_any_read_the_cluster_still_selects_the_gpu(twins):
    """No read yet (no UUID index): node and index narrowed by the cluster label."""
    cfg, t_end = twins
    at = datetime.fromtimestamp(t_end, timezone.utc)
    for cluster, (_uuid, util, temp, _power) in TWINS.items():
        backend = PrometheusMetrics(cfg)
        try:
            series = backend.gpu_chart(NODE, 0, 900, at, cluster=CONTEXTS[cluster])
            assert (last(series, "util %"), last(series, "temp C")) == (util, temp), cluster
        finally:
            backend.close()
