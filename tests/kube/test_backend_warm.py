"""KubernetesCluster.warm(): discovery and the caches' first LIST begun before any read
(the console's start: console.wiring.build_backends(warm=True)), taken by the first read --
the same requests, once, and the same error, once."""

from __future__ import annotations

import pytest

from backends.domain.errors import BackendError, NotFoundError
from backends.kube.backend import KubernetesFleet

from .helpers import NS, cluster, config, eventually, lists

pytestmark = pytest.mark.integration


def _discoveries(server) -> list:
    return [r for r in list(server.requests) if r.method == "GET" and r.path == "/apis"]


def test_warm_lists_every_kind_before_any_read_and_the_read_sends_nothing_again(apiserver):
    cold = cluster(apiserver)
    try:
        cold_part = cold.read()
        kinds_listed = len(lists(apiserver))
    finally:
        cold.close()
    apiserver.requests.clear()
    c = cluster(apiserver)
    try:
        c.warm()
        c.warm()  # a second call begins nothing more
        eventually(lambda: len(lists(apiserver)) == kinds_listed)  # no read yet
        part = c.read()
        assert len(_discoveries(apiserver)) == 1
        assert len(lists(apiserver)) == kinds_listed  # the read listed nothing again
        assert {s.key for s in part.services} == {s.key for s in cold_part.services}
    finally:
        c.close()


def test_the_first_read_raises_the_warm_starts_error_once_then_tries_afresh(apiserver):
    apiserver.inject("GET", r"^/apis$", 503, times=1)
    c = cluster(apiserver)
    try:
        c.warm()
        with pytest.raises(BackendError):  # what the start begun ahead ran into
            c.read()
        assert len(_discoveries(apiserver)) == 1  # the read did not ask again itself
        assert c.read().services  # the next read starts afresh: the server is fine now
        assert len(_discoveries(apiserver)) == 2
    finally:
        c.close()


def test_an_unknown_namespace_is_named_by_the_first_read_after_a_warm_start(apiserver):
    c = cluster(apiserver, namespaces=("no-such-ns",))
    try:
        c.warm()
        with pytest.raises(NotFoundError, match="namespace 'no-such-ns' does not exist"):
            c.read()
    finally:
        c.close()


def test_a_cluster_closed_while_its_warm_start_waits_starts_no_watch(apiserver):
    apiserver.inject("GET", r"^/apis$", None, times=1, delay_s=0.5)  # a slow discovery
    c = cluster(apiserver)
    c.warm()
    c.close()
    with pytest.raises(BackendError, match="closed"):
        c.read()
    assert not lists(apiserver) and not any(r.is_watch for r in list(apiserver.requests))


def test_a_fleet_warms_its_contexts_in_its_pool_each_listed_before_any_read(apiserver):
    fleet = KubernetesFleet(config(apiserver), ["test-admin", "test-viewer"], [NS],
                            actor="tester@example")
    try:
        fleet.warm()
        eventually(lambda: len(_discoveries(apiserver)) == 2)  # both, before any read
        eventually(lambda: all(c.snapshot("deployments") is not None
                               for c in fleet.clusters.values()))  # listed, no read yet
        part = fleet.read()
        assert {s.cluster for s in part.services} == {"test-admin", "test-viewer"}
        assert len(_discoveries(apiserver)) == 2
    finally:
        fleet.close()


def test_the_console_builds_the_cluster_first_warm_and_closes_it_if_a_later_source_fails(
        apiserver, monkeypatch):
    """console.wiring.build_backends(warm=True): the cluster is built and its start begun
    before Prometheus' client is built (its wait then overlaps that import); a source that
    then fails to build closes the cluster (no watch left running)."""
    import backends.kube.backend as kube_backend
    import backends.prometheus.backend as prom_backend
    from console import wiring
    from console.config import load_settings

    made: list = []
    real_make = kube_backend.make_cluster_backend

    def make_cluster(*args, **kw):
        made.append(real_make(*args, **kw))
        return made[-1]

    class Refused:
        def __init__(self, _config):
            assert made and made[0]._ahead is not None  # noqa: SLF001 - built, begun
            raise BackendError("prometheus refused", source="metrics")

    monkeypatch.setattr(kube_backend, "make_cluster_backend", make_cluster)
    monkeypatch.setattr(prom_backend, "PrometheusMetrics", Refused)
    apiserver.inject("GET", r"^/apis$", None, times=1, delay_s=0.3)  # still starting then
    settings = load_settings(kubernetes={"kubeconfig": str(apiserver.kubeconfig),
                                         "contexts": ["test-admin"]},
                             prometheus={"url": "http://127.0.0.1:9"})
    with pytest.raises(BackendError, match="prometheus refused"):
        wiring.build_backends(settings, warm=True)
    assert made[0]._closed  # noqa: SLF001
    with pytest.raises(BackendError, match="closed"):
        made[0].read()  # its start, begun ahead, ended there
