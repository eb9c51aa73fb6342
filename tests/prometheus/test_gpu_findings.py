"""dcgm-exporter as it ships, on a real Prometheus: XIDs that clear, blank sentinels,
label dialects that change mid-window (fixtures: ``fleets_gpu.py``)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets_gpu import XID_NEW_AGO, XID_OLD_AGO, gpu_fleet
from tests.prometheus.generators import time_grid

pytestmark = pytest.mark.integration
W = 290


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    fleet = gpu_fleet(time_grid(int(time.time()) - 900, 3600))
    server = start_server(tmp_path_factory.mktemp("prom-gpu"), fleet)
    yield server, fleet
    server.stop()


@pytest.fixture(scope="module")
def gpus(prom):
    server, fleet = prom
    # an XID is current while it appeared within xid_current_s (1 h by default): 10 min here
    backend = PrometheusMetrics(PrometheusConfig(url=server.url, xid_current_s=600))
    try:
        part = backend.read([], W, datetime.fromtimestamp(fleet.t_end, timezone.utc))
    finally:
        backend.close()
    return {g.uuid: g for g in part.gpus}


def test_xid_is_red_only_while_new_within_the_window(gpus, prom):
    from backends.prometheus.calc import xid_step

    _, fleet = prom
    end, step = fleet.t_end, xid_step(PrometheusConfig().xid_lookback_s)
    healthy = gpus["GPU-x-0"]  # dcgm-exporter reports 0 for "no XID": no XID anywhere
    assert (healthy.last_xid, healthy.xid_at, healthy.xid_current) == (None, None, False)
    new = gpus["GPU-x-1"]      # arrived 2 min ago as a new series (err_code label)
    assert (new.last_xid, new.xid_current) == (79, True)
    # seen at the first look-back step (every `step` s) at or after it appeared
    assert end - XID_NEW_AGO <= new.xid_at.timestamp() < end - XID_NEW_AGO + step
    old = gpus["GPU-x-2"]      # 30 min ago: the last code and when, but not red
    assert (old.last_xid, old.xid_current) == (48, False)
    assert end - XID_OLD_AGO <= old.xid_at.timestamp() < end - XID_OLD_AGO + step
    ancient = gpus["GPU-x-3"]  # since before the history: when unknown, not red
    assert (ancient.last_xid, ancient.xid_at, ancient.xid_current) == (13, None, False)
    # the default hour takes the 30-minute-old XID in
    server, _ = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        wide = {g.uuid: g for g in backend.read(
            [], W, datetime.fromtimestamp(end, timezone.utc)).gpus}
    finally:
        backend.close()
    assert wide["GPU-x-2"].xid_current and not wide["GPU-x-3"].xid_current


def test_a_healthy_fleet_shows_no_xid(main_prom):
    """The main fleet reports DCGM_FI_DEV_XID_ERRORS 0 on all 12 GPUs ("24 XID" footer)."""
    backend = PrometheusMetrics(PrometheusConfig(url=main_prom.url))
    try:
        part = backend.read([], W, main_prom.at)
    finally:
        backend.close()
    assert len(part.gpus) == 12
    assert [g for g in part.gpus if g.last_xid is not None or g.xid_current] == []


def test_dcgm_blanks_and_nan_are_no_value(gpus, prom):
    """go-dcgm's blank / not-supported sentinels (INT64, INT32, FP64) and NaN/Inf: "—"."""
    blank, odd = gpus["GPU-s-0"], gpus["GPU-s-1"]
    for g in (blank, odd):
        assert g.util_percent is None and g.memory_used_mib is None
        assert g.memory_percent is None and g.temperature_c is None and g.power_watts is None
    assert blank.memory_total_mib is None and odd.memory_total_mib is None  # used is blank
    assert (blank.last_xid, blank.xid_current) == (None, False)  # an INT64 blank XID
    assert odd.model_name and odd.node == "blank-node"  # the GPU is still listed
    server, fleet = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
        backend.read([], W, at)
        series = {s.name: s for s in backend.gpu_chart("blank-node", 0, 600, at)}
    finally:
        backend.close()
    for name in ("util %", "mem %", "temp C", "power W"):
        assert series[name].points and all(p.value is None for p in series[name].points)


def test_every_dcgm_sentinel_is_no_value():
    from backends.prometheus.calc import dcgm_value

    blanks = [float(9223372036854775792 + i) for i in range(4)]
    blanks += [float(2147483632 + i) for i in range(4)]
    blanks += [140737488355328.0 + i for i in range(4)]
    blanks += [float("nan"), float("inf"), float("-inf")]
    assert [dcgm_value(v) for v in blanks] == [None] * len(blanks)
    for real in (0.0, 79.0, 2147483631.0, 2147483636.0, 81559.0, 140737488355327.0):
        assert dcgm_value(real) == real


def test_hostname_spellings_and_series_whose_labels_change(gpus, prom):
    """``Hostname`` (dcgm-exporter <= 4.5.3-4.8.2) and ``hostname`` (after #655) are both
    the node; a GPU whose series gained pod labels (or whose exporter renamed Hostname)
    15 minutes ago is one GPU, and one full line on each of its charts."""
    assert gpus["GPU-h-0"].node == "new-node" and gpus["GPU-h-0"].util_percent == 33.0
    lab, renamed = gpus["GPU-l-0"], gpus["GPU-r-0"]
    assert (lab.node, lab.index, lab.pod, lab.namespace) == (
        "lab-node", 0, "llm-lab-7f9c8d6b5-qwert", "lab")
    assert (renamed.node, renamed.index, renamed.util_percent) == ("lab-node", 1, 22.0)
    server, fleet = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        at = datetime.fromtimestamp(fleet.t_end, timezone.utc)
        backend.read([], W, at)
        charts = {i: {s.name: s for s in backend.gpu_chart("lab-node", i, 1800, at)}
                  for i in (0, 1)}
    finally:
        backend.close()
    for i, util, mem in ((0, 77.0, 100 * 30000 / 81559), (1, 22.0, 100 * 8000 / 81559)):
        series = charts[i]
        assert len(series["util %"].points) == 121  # 1800 s at 15 s, both ends
        assert {p.value for p in series["util %"].points} == {util}
        assert {round(p.value, 9) for p in series["mem %"].points} == {round(mem, 9)}
        assert all(p.value is not None for s in series.values() for p in s.points)
