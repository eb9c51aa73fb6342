"""Bad metric input on the suite's real Prometheus: a figure is exact or "—" with the
reason, never a crash or a wrong number (fixtures: ``fleets_bad.py``)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.models import FleetSnapshot
from backends.prometheus.backend import PrometheusDiscovery, PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from console.app import make_app
from console.cli.main import build_parser, settings_from_args
from console.cli.report import render_json, take_snapshot
from console.screens.model_detail import ModelDetailScreen
from console.wiring import build_backends
from tests.console.conftest import wait_for, workers_idle
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets_bad import bad_fleet
from tests.prometheus.generators import quantile_from_rates, time_grid
from tests.prometheus.test_engines import W, buckets, rates, rel, values

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def prom(tmp_path_factory):
    # the history ends now: Prometheus-only discovery (the console tests) reads "now"
    fleet = bad_fleet(time_grid(int(time.time()) - 15, 1800))
    server = start_server(tmp_path_factory.mktemp("prom-bad"), fleet)
    yield server, fleet
    server.stop()


@pytest.fixture(scope="module")
def part(prom):
    server, fleet = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    try:
        yield backend.read([], W, datetime.fromtimestamp(fleet.t_end, timezone.utc))
    finally:
        backend.close()


def test_histogram_without_inf_bucket_gives_no_quantile_and_says_why(part, prom):
    _, f = prom
    h = part.health["nohist"]
    assert (h.p50_ms, h.p95_ms, h.p99_ms) == (None, None, None)
    assert h.reasons["p95_ms"] == "histogram has no +Inf bucket"
    assert h.reasons["p50_ms"] == h.reasons["p99_ms"] == "histogram has no +Inf bucket"
    assert h.rps == rel(sum(rates(f, "vllm:request_success_total", model_name="nohist")))
    assert "rps" not in h.reasons and (h.engine, h.profile) == ("vllm", "vllm")


def test_nan_and_inf_samples_give_none_with_the_reason(part, prom):
    _, f = prom
    h = part.health["nanllm"]
    assert h.queue_depth is None and h.kv_cache_percent is None
    assert h.reasons["queue_depth"] == "NaN or Inf in a series (vllm)"
    assert h.reasons["kv_cache_percent"] == "NaN or Inf in a series (vllm)"
    assert h.running_requests == rel(sum(values(f, "vllm:num_requests_running",
                                                model_name="nanllm")))


def test_nan_in_one_version_is_not_summed_away(part):
    """Triton's figures are summed over versions here, not by Prometheus: version 2's
    NaN queue must not leave version 1's as the model's queue."""
    h = part.health["trbad"]
    assert h.queue_depth is None
    assert h.reasons["queue_depth"] == "NaN or Inf in a series (triton)"
    assert h.rps is not None and h.error_ratio is not None


def test_counter_reset_inside_the_window(part, prom):
    """rate() counts a reset as a restart from 0: no negative or spiked figure. Expected:
    every increase between samples in the window, a drop counting as its new value."""
    _, f = prom
    h = part.health["resetting"]
    total = failed = 0.0
    for s in f.find("vllm:request_success_total", model_name="resetting"):
        pts = [(t, v) for t, v in s.points if f.t_end - W < t <= f.t_end]
        increase = sum(b if b < a else b - a for (_, a), (_, b) in zip(pts, pts[1:]))
        per_s = increase / (pts[-1][0] - pts[0][0])
        total += per_s
        if s.labels["finished_reason"] in ("abort", "error"):
            failed += per_s
    assert 0 < h.rps == rel(total)
    assert h.error_ratio == rel(failed / total)


def test_unexpected_labels_leave_the_figures_exact(part, prom):
    _, f = prom
    h = part.health["oddlab"]
    lat: dict[float, float] = {}
    for s in f.find("vllm:e2e_request_latency_seconds_bucket", model_name="oddlab"):
        if s.labels["le"] != "fast":  # not a bound: Prometheus' histogram_quantile skips it
            le = float(s.labels["le"])
            lat[le] = lat.get(le, 0.0) + f.rate(s, f.t_end, W)
    assert (h.p50_ms, h.p95_ms) == (rel(quantile_from_rates(0.5, lat) * 1000),
                                    rel(quantile_from_rates(0.95, lat) * 1000))
    assert h.rps == rel(sum(rates(f, "vllm:request_success_total", model_name="oddlab")))
    assert h.queue_depth == rel(sum(values(f, "vllm:num_requests_waiting",
                                           model_name="oddlab")))


def test_two_engines_claiming_one_model_show_no_figure(part):
    """vllm: and sglang: series for one model in one namespace: every figure "—", saying
    which engines; neither engine's part is shown as the whole."""
    h = part.health["dual"]
    said = "two engines (vllm, sglang) report this model"
    for name in ("rps", "error_ratio", "p95_ms", "tokens_per_s"):
        assert getattr(h, name) is None and h.reasons[name] == said
    assert h.error_ratio_1h is None and h.reasons["error_ratio_1h"] == said
    assert (h.engine, h.profile) == (None, None)


def test_two_engines_claiming_one_model_draw_no_chart(prom):
    server, f = prom
    backend = PrometheusMetrics(PrometheusConfig(url=server.url))
    end = datetime.fromtimestamp(f.t_end, timezone.utc)
    try:
        backend.read([], W, end)
        dual = backend.chart("dual", 1800, end) + backend.model_extra_chart("dual", 1800, end)
        alone = {s.name: s for s in backend.chart("nohist", 1800, end)}
    finally:
        backend.close()
    assert all(not s.points or all(p.value is None for p in s.points) for s in dual)
    assert any(p.value is not None for p in alone["rps"].points)


def test_engine_without_a_figure_says_so(part, prom):
    _, f = prom
    h = part.health["tgi-mistral"]
    assert h.ttft_p95_ms is None and h.reasons["ttft_p95_ms"] == "tgi does not expose TTFT"
    assert h.reasons["kv_cache_percent"] == "tgi does not expose KV cache"
    assert h.p95_ms is not None and "p95_ms" not in h.reasons
    assert h.rps == rel(sum(rates(f, "tgi_request_count")))


# -- the console, Prometheus only (no kubeconfig: models discovered from the metrics) ------
def prometheus_only(url: str, at: datetime, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    args = build_parser().parse_args(["--prometheus", url, "--refresh", "3600"])
    settings = settings_from_args(args)
    backends = build_backends(settings)
    assert isinstance(backends.cluster, PrometheusDiscovery)
    backends.clock = lambda: at  # the figures at the history's end
    return settings, backends


def test_once_json_says_engine_profile_and_reasons(prom, tmp_path, monkeypatch):
    server, f = prom
    at = datetime.fromtimestamp(f.t_end, timezone.utc)
    _, backends = prometheus_only(server.url, at, tmp_path, monkeypatch)
    try:
        out = render_json(take_snapshot(backends))
    finally:
        backends.close()
    snap = FleetSnapshot.model_validate_json(out)
    keys = {s.name: s.key for s in snap.services}
    raw = json.loads(out)
    assert raw["reasons"][keys["nohist"]]["p95_ms"] == "histogram has no +Inf bucket"
    assert raw["reasons"][keys["tgi-mistral"]]["ttft_p95_ms"] == "tgi does not expose TTFT"
    assert raw["reasons"][keys["dual"]]["rps"] == "two engines (vllm, sglang) report this model"
    assert "rps" not in raw["reasons"][keys["nohist"]]
    nohist = raw["health"]["nohist"]
    assert (nohist["engine"], nohist["profile"]) == ("vllm", "vllm")
    assert (raw["health"]["trbad"]["engine"], raw["health"]["trbad"]["profile"]) == (
        "triton", "triton")


async def test_model_detail_says_why_each_figure_is_missing(prom, tmp_path, monkeypatch):
    server, f = prom
    at = datetime.fromtimestamp(f.t_end, timezone.utc)
    settings, backends = prometheus_only(server.url, at, tmp_path, monkeypatch)
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.state.metrics is not None
                       and app.state.cluster is not None, timeout=30)
        services = {s.name: s for s in app.state.cluster.services}
        table = app.fleet_screen.query_one("ModelTable")
        assert table.get_cell(services["nohist"].key, "p95") == "—"  # the row stays compact
        assert table.get_cell(services["dual"].key, "status") == "?"  # not "OK"
        for name, said in (
                ("nohist", ("engine vllm · profile vllm",
                            "p50, p95, p99 —: histogram has no +Inf bucket")),
                ("tgi-mistral", ("engine tgi · profile tgi", "TTFT p95 —: tgi does not expose "
                                 "TTFT", "KV cache —: tgi does not expose KV cache")),
                ("dual", ("rps, errors, p50, p95, p99, TTFT p95, ITL p95, tokens/s, prompt "
                          "tok/s, queue, KV cache —: two engines (vllm, sglang) report this "
                          "model",)),
                ("nanllm", ("queue, KV cache —: NaN or Inf in a series (vllm)",))):
            app.navigator.open_view("model", key=services[name].key)
            await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
            await workers_idle(pilot, timeout=30)
            await pilot.pause()
            screen = app.screen
            why = str(screen.query_one("#md-why").render())
            for text in said:
                assert text in why, (name, why)
            assert screen.query_one("#md-tiles").tooltip == why
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_replay_without_a_cluster_claims_no_traffic(prom, tmp_path, monkeypatch):
    """Prometheus only: the revisions seen in the metrics (Triton versions 1 and 2) say
    nothing of who took the traffic then; replay shows it "—" with the reason, never
    the highest revision live at 100 %."""
    server, f = prom
    at = datetime.fromtimestamp(f.t_end, timezone.utc)
    settings, backends = prometheus_only(server.url, at, tmp_path, monkeypatch)
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.state.metrics is not None
                       and app.state.cluster is not None, timeout=30)
        svc = next(s for s in app.state.cluster.services if s.name == "trbad")
        assert [r.number for r in app.state.cluster.revisions[svc.key]] == [2, 1]
        app.fleet_screen.selected = svc.key
        app.navigator.start_replay(at - timedelta(minutes=10))
        await wait_for(pilot, lambda: app.navigator._replay_snapshot is not None, timeout=30)
        await workers_idle(pilot, timeout=30)
        await pilot.pause()
        table = app.fleet_screen.query_one("ModelTable")
        assert table.get_cell(svc.key, "traffic") == "—"
        history = app.fleet_screen.query_one("ReleaseHistory")
        assert str(history.border_subtitle).startswith(
            "— no cluster source: traffic not measured")
        assert [str(history.get_cell_at((i, 0))).strip() for i in range(history.row_count)] \
            == ["2", "1"]  # no revision marked live (▶)
        (shown,) = [s for s in app.navigator.view_snapshot().services if s.key == svc.key]
        assert shown.traffic == () and shown.traffic_note is not None
