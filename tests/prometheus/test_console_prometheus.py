"""The console on Prometheus alone (no kubeconfig): models discovered from metrics."""

from __future__ import annotations

import time

import pytest

from backends.domain.models import FleetSnapshot
from console.cli.main import main

pytestmark = pytest.mark.integration


def test_once_with_prometheus_only_discovers_models(main_prom, capsys):
    deadline = time.monotonic() + 25
    snap = None
    while time.monotonic() < deadline:
        rc = main(["--once", "--format", "json", "--prometheus", main_prom.url])
        out, err = capsys.readouterr()
        assert rc == 0, err
        snap = FleetSnapshot.model_validate_json(out)
        if any(s.name == "live-model" for s in snap.services) and snap.gpus:
            break
        time.sleep(0.2)
    assert snap is not None
    svc = next(s for s in snap.services if s.name == "live-model")
    assert (svc.cluster, svc.runtime) == ("prometheus", "vllm")
    assert any(g.uuid == "GPU-live-0" for g in snap.gpus)
    assert snap.sources["metrics"].ok
