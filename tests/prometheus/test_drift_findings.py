"""Drift without a standard: the common gauge names are found, and when nothing matches the
read says which names it looked for and the config key that sets one."""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone

import pytest

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.generators import Fleet, time_grid

pytestmark = pytest.mark.integration
W = 290


def drift_fleet(times: list[int]) -> Fleet:
    """``ml_feature_drift_score`` (the *_feature_drift_score style: model, feature, method
    labels) and Evidently's monitoring service (evidentlyai/evidently
    evidently/model_monitoring/data_drift.py @ d1f71dea: ``evidently:data_drift:p_value``
    labelled feature, feature_type; the service's scrape job names the model)."""
    rng = random.Random(5)
    f = Fleet(times)
    f.gauge("ml_feature_drift_score", {"model": "churn", "feature": "tenure", "method": "psi",
                                       "job": "drift-exporter"}, rng, 0.25, 0.35)
    f.gauge("evidently:data_drift:p_value", {"feature": "amount", "feature_type": "num",
                                             "job": "fraud", "instance": "evidently:8085"},
            rng, 0.001, 0.03)
    return f


def quiet_fleet(times: list[int]) -> Fleet:
    f = Fleet(times)
    f.add("vllm:num_requests_waiting", {"model_name": "m", "namespace": "x"},
          (1.0 for _ in times))
    return f


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    times = time_grid(int(time.time()) - 900, 1200)
    fleets = {"drift": drift_fleet(times), "quiet": quiet_fleet(times)}
    started = {k: start_server(tmp_path_factory.mktemp(f"prom-{k}"), f)
               for k, f in fleets.items()}
    yield {k: (started[k], fleets[k]) for k in fleets}
    for server in started.values():
        server.stop()


def read(server, fleet, **cfg):
    backend = PrometheusMetrics(PrometheusConfig(url=server.url, **cfg))
    try:
        return backend.read([], W, datetime.fromtimestamp(fleet.t_end, timezone.utc))
    finally:
        backend.close()


def test_common_drift_names_are_found(servers):
    server, f = servers["drift"]
    part = read(server, f)
    assert part.drift_reason is None
    got = {(d.model, d.feature, d.method): d for d in part.drift}
    assert set(got) == {("churn", "tenure", "psi"), ("fraud", "amount", "1-p_value")}
    psi = got[("churn", "tenure", "psi")]
    assert psi.latest == f.value_at(f.find("ml_feature_drift_score")[0], f.t_end)
    assert psi.breached and psi.threshold == 0.2
    ev = got[("fraud", "amount", "1-p_value")]  # p < 0.05: drifted
    p_value = f.value_at(f.find("evidently:data_drift:p_value")[0], f.t_end)
    assert ev.latest == pytest.approx(1 - p_value) and ev.threshold == 0.95 and ev.breached


def test_no_drift_series_says_what_was_looked_for(servers):
    server, f = servers["quiet"]
    part = read(server, f)
    assert part.drift == ()
    reason = part.drift_reason
    assert "_feature_drift_score" in reason and "evidently:data_drift:p_value" in reason
    assert "[prometheus.profiles.drift]" in reason and "queries.drift" in reason
    off = read(server, f, profiles={"drift": {"enabled": False}})
    assert "drift is off" in off.drift_reason
    assert read(*servers["drift"]).drift  # where drift exists, no reason
