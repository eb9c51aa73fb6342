"""An incident as an on-call engineer meets it, on the suite's real Prometheus and the
project's test API server: a KServe canary at 7 % 5xx against 0.3 % on stable, the GPU it
runs on at 89 C with a new XID 79, an LLM whose p95 is ~6.4 s against an 800 ms SLO, and a
feature drifting past its threshold. The fleet screen must name the four problems.

Series shapes follow the exporters' own: Knative queue-proxy ``revision_request_count``
(knative/serving pkg/metrics, <= 1.18 names, as in ../shared/upstream/knative/NOTES),
dcgm-exporter's ``DCGM_FI_DEV_*`` with ``Hostname``/``pod``/``namespace`` (dcgm-exporter
etc/default-counters.csv), vLLM's ``vllm:e2e_request_latency_seconds`` histogram (vLLM
docs METRICS-TABLE), kube-state-metrics' ``kube_pod_labels``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backends.domain.health import assess
from backends.prometheus.calc import chart_step
from backends.domain.slo_config import SloConfig
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import PrometheusConfig
from console.app import make_app
from console.cli.main import build_parser, settings_from_args
from console.controllers.state import Backends
from console.wiring import build_backends
from tests.kube.conftest import ML_FLEET
from tests.kube.apiserver import ApiServer
from tests.prometheus.conftest import start_server
from tests.prometheus.fleets import (CANARY, CANARY_AGO_S, DRIFT_AGO_S, NS, STABLE, XID_AGO_S,
                                     incident_fleet)
from tests.prometheus.generators import time_grid

pytestmark = pytest.mark.integration

SLO = {"models": {"llama-chat": {"latency_ms": 800}}}


@pytest.fixture(scope="module")
def incident(tmp_path_factory):
    work = tmp_path_factory.mktemp("prom-incident")
    fleet = incident_fleet(time_grid(int(time.time()) - 120, 3600))
    prom = start_server(work, fleet)
    kube = ApiServer(Path(work) / "apiserver")
    kube.load_yaml(ML_FLEET)
    kube.start()
    yield prom, kube, datetime.fromtimestamp(fleet.t_end, timezone.utc)
    kube.stop()
    prom.stop()


def incident_backends(prom, kube, at: datetime) -> tuple[object, Backends]:
    args = build_parser().parse_args([
        "--kubeconfig", str(kube.kubeconfig), "--context", "test-admin", "--namespace", NS,
        "--prometheus", prom.url, "--read-only", "--refresh", "3600"])
    settings = settings_from_args(args).model_copy(update={"slo": SloConfig.model_validate(SLO)})
    backends = build_backends(settings)
    backends.clock = lambda: at  # the history ends at ``at``: the console lives then
    return settings, backends


def read_snapshot(settings, backends: Backends):
    from console.controllers.state import FleetState

    state = FleetState()
    cluster = backends.cluster.read()
    state.succeeded("cluster", cluster, backends.clock())
    part = backends.metrics.read(cluster.services, 300, backends.clock())
    state.succeeded("metrics", part, backends.clock())
    return state.snapshot(backends.clock())


def test_the_health_model_names_the_four_problems(incident):
    prom, kube, at = incident
    settings, backends = incident_backends(prom, kube, at)
    try:
        snap = read_snapshot(settings, backends)
        by_name = {s.name: assess(s, snap, settings.slo) for s in snap.services}
        bert = by_name["sentiment-bert"]
        assert bert.status == "CANARY!" and bert.level == "bad"
        assert bert.problems[0].text == "canary errors 7.0 % vs stable 0.3 %"
        xid = next(p for p in bert.problems if p.text.startswith("XID 79"))
        assert xid.since is not None and abs((at - xid.since).total_seconds() - XID_AGO_S) <= 75
        assert any("89 °C" in p.text for p in bert.problems)
        llama = by_name["llama-chat"]
        assert llama.status == "SLOW" and llama.reasons().startswith("p95 ")
        assert "> SLO 800 ms" in llama.reasons()
        p95_s = float(llama.reasons().split()[1])
        assert 5.0 <= p95_s <= 10.0
        ranker = by_name["ranker"]
        assert ranker.status == "DRIFT"
        drift = ranker.problems[0]
        assert drift.text.startswith("user_age drift psi 0.35 > 0.2")
    finally:
        backends.close()


async def test_the_fleet_screen_shows_the_incident_and_holds_still(incident):
    prom, kube, at = incident
    settings, backends = incident_backends(prom, kube, at)
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.state.health_status:
                break
        strip = app.fleet_screen.query_one("ProblemStrip")
        everything = [(line.model, line.level, line.text) for line in strip.lines]
        # severity order over the whole strip (the fixture's paused rollouts are warnings)
        ranks = [{"bad": 0, "warn": 1}[lvl] for _, lvl, _ in everything]
        assert ranks == sorted(ranks)
        # the incident's four problems come first (the paused rollouts, deliberate, after)
        assert {m for m, _, _ in everything[:4]} == {"sentiment-bert", "llama-chat", "ranker"}
        lines = [x for x in everything if x[0] in {"sentiment-bert", "llama-chat", "ranker"}]
        assert [m for m, _, _ in lines] == ["sentiment-bert", "llama-chat", "sentiment-bert",
                                            "ranker"]
        assert [lvl for _, lvl, _ in lines] == ["bad", "bad", "bad", "warn"]
        assert lines[0][2] == "canary errors 7.0 % vs stable 0.3 %"
        assert lines[1][2].startswith("p95 ") and lines[1][2].endswith("> SLO 800 ms")
        assert lines[2][2] == "XID 79 on GPU gpu-incident-1/0"
        assert lines[3][2] == "user_age drift psi 0.35 > 0.2"
        # since when, from history: the XID's first sample, the drift's crossing
        since = {line.text: line.since for line in strip.lines}
        assert abs((at - since[lines[2][2]]).total_seconds() - XID_AGO_S) <= 75
        assert abs((at - since[lines[3][2]]).total_seconds() - DRIFT_AGO_S) <= 75
        # the canary since it went bad, from its revisions' error % (read once)
        step = chart_step(3600)
        assert abs((since[lines[0][2]] - (at - timedelta(seconds=CANARY_AGO_S)))
                   .total_seconds()) <= step
        # the LLM has been slow since the history begins (its chart, read once)
        assert since[lines[1][2]] is not None
        assert (at - since[lines[1][2]]).total_seconds() >= 3000
        # the canary's own figures on its row, beside stable's
        table = app.fleet_screen.query_one("ModelTable")
        bert = next(s for s in app.state.cluster.services if s.name == "sentiment-bert")
        assert table.get_cell(bert.key, "err") == "7.0c/0.3s"
        assert table.get_cell(bert.key, "status") == "CANARY!"
        # stationary data: ten refreshes, no status changes
        before = {k: h.status for k, h in app.state.health_status.items()}
        for _ in range(10):
            count = app.poller.poll_counts["metrics"]
            app.poller.poll("metrics")
            for _ in range(200):
                await pilot.pause(0.02)
                if app.poller.poll_counts["metrics"] > count and not any(
                        w.group == "metrics" and not w.is_finished for w in app.workers):
                    break
            assert {k: h.status for k, h in app.state.health_status.items()} == before


async def _first_refresh(app, pilot) -> None:
    for _ in range(200):
        await pilot.pause(0.05)
        if app.state.health_status:
            return
    raise AssertionError("no health status after the first refresh")


async def _refresh(app, pilot) -> None:
    """One metrics refresh, and the chart read it may start (the selected model's chart
    is read by a worker of its own, which a busy machine can still be running when the
    metrics worker has ended: its queries must not be counted in the next refresh)."""
    count = app.poller.poll_counts["metrics"]
    app.poller.poll("metrics")
    calm = 0
    for _ in range(300):
        await pilot.pause(0.02)
        busy = any(w.group in ("metrics", "chart") and not w.is_finished for w in app.workers)
        calm = 0 if busy or app.poller.poll_counts["metrics"] <= count else calm + 1
        if calm >= 3:
            return
    raise AssertionError("the metrics refresh did not finish")


def _canary_line(app):
    strip = app.fleet_screen.query_one("ProblemStrip")
    return next(line for line in strip.lines if line.text.startswith("canary errors"))


async def test_steady_refreshes_ask_no_history(incident):
    """The canary's history is one read (2 range queries: requests and errors by revision)
    when its problem appears; a steady refresh sends exactly the read's own queries."""
    prom, kube, at = incident
    settings, backends = incident_backends(prom, kube, at)
    metrics = backends.metrics
    asked: list[str] = []
    real = metrics.revision_error_chart

    def counted(model, *args, **kwargs):  # the real read, counted
        asked.append(model)
        with metrics.client.tally() as own:  # its own queries (a chart read may run beside)
            out = real(model, *args, **kwargs)
        asked.append(f"{own.queries} queries")
        return out

    metrics.revision_error_chart = counted
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await _first_refresh(app, pilot)
        assert asked == ["sentiment-bert", "2 queries"]
        first = _canary_line(app).since
        per_refresh = []
        for _ in range(5):
            before = metrics.client.queries
            await _refresh(app, pilot)
            per_refresh.append((metrics.client.queries - before,
                                app.state.metrics.queries))
        # once steady, every refresh sends its read's queries and nothing else (no
        # history), and the count never grows (the first may still probe the profiles and
        # draw the selected model's chart)
        assert all(sent == read for sent, read in per_refresh[1:]), per_refresh
        counts = [sent for sent, _ in per_refresh]
        assert counts == sorted(counts, reverse=True) and len(set(counts[-3:])) == 1
        assert asked == ["sentiment-bert", "2 queries"]
        assert _canary_line(app).since == first


async def test_once_and_notes_carry_the_strips_since(incident, monkeypatch, capsys):
    import json

    from backends.audit.chain import iso_utc
    from console.cli import main as cli
    from console.presenters.records import note_figures

    prom, kube, at = incident
    settings, backends = incident_backends(prom, kube, at)
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await _first_refresh(app, pilot)
        since = _canary_line(app).since
        bert = next(s for s in app.state.cluster.services if s.name == "sentiment-bert")
        figures = note_figures(app.actions._snapshot(), bert.key)
    assert abs((since - (at - timedelta(seconds=CANARY_AGO_S))).total_seconds()) \
        <= chart_step(3600)
    canary = next(p for p in figures["model"]["problems"] if p["signal"] == "canary")
    assert canary["text"] == "canary errors 7.0 % vs stable 0.3 %"
    assert canary["since"] == iso_utc(since)

    def at_incident(s):  # --once's own backends, living when the history ends
        built = build_backends(s)
        built.clock = lambda: at
        return built

    monkeypatch.setattr(cli, "build_backends", at_incident)
    assert cli.run_once(settings, "json") == 0
    snap = json.loads(capsys.readouterr().out)
    problems = snap["status"][bert.key]["problems"]
    once = next(p for p in problems if p["text"].startswith("canary errors"))
    assert datetime.fromisoformat(once["since"].replace("Z", "+00:00")) == since
    assert cli.run_once(settings, "text") == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if "sentiment-bert:" in x and "CANARY!" in x)
    assert f"canary errors 7.0 % vs stable 0.3 % since {since:%H:%M}" in line


async def test_a_failed_history_read_leaves_first_seen(incident):
    from backends.domain.errors import BackendError
    from console.cli.report import take_snapshot

    prom, kube, at = incident
    settings, backends = incident_backends(prom, kube, at)

    def refused(*_args, **_kwargs):
        raise BackendError("query_range refused: 503", source="prometheus")

    backends.metrics.revision_error_chart = refused
    snap = take_snapshot(backends, settings.slo, history=True)
    bert = next(s for s in snap.services if s.name == "sentiment-bert")
    canary = next(p for p in snap.status[bert.key].problems if p.signal == "canary")
    assert canary.since is None  # --once: not known
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await _first_refresh(app, pilot)
        assert _canary_line(app).since == at  # the console: first seen now
        assert app.state.health_status[bert.key].status == "CANARY!"


def test_prometheus_only_reads_each_revisions_error_ratio(incident):
    """Without Kubernetes no traffic split is known (no canary problem to date), but the
    per-revision read works on the discovered services all the same."""
    from backends.domain.health import canary_since
    from backends.domain.models import Problem

    prom, _kube, at = incident
    args = build_parser().parse_args(["--prometheus", prom.url, "--refresh", "3600"])
    settings = settings_from_args(args).model_copy(update={"slo": SloConfig.model_validate(SLO)})
    backends = build_backends(settings)
    backends.clock = lambda: at
    try:
        snap = read_snapshot(settings, backends)
        bert = next(s for s in snap.services if s.name == "sentiment-bert")
        series = backends.metrics.revision_error_chart(bert.name, 3600, at, service=bert)
        by_name = {s.name: s for s in series}
        assert set(by_name) == {CANARY, STABLE}
        assert 6.5 <= by_name[CANARY].points[-1].value <= 7.5
        assert by_name[CANARY].points[0].value <= 0.5 and by_name[STABLE].points[-1].value <= 0.5
        problem = Problem(signal="canary", level="bad", text="canary errors 7.0 % vs stable "
                          "0.3 %", value=0.07, threshold=0.003, target=CANARY)
        since = canary_since(problem, series, CANARY, STABLE)
        assert since is not None
        assert abs((since - (at - timedelta(seconds=CANARY_AGO_S))).total_seconds()) \
            <= chart_step(3600)
        assert all(p.signal != "canary" for p in assess(bert, snap, settings.slo).problems)
    finally:
        backends.close()


def test_warm_probes_ahead_and_the_first_read_takes_that_probe(incident):
    """warm() (the console's start): the profiles' probe is sent before any read; the first
    read takes it -- one query fewer than a cold first read, the same profiles. Reads at
    the server's now (the history ends two minutes before it)."""
    prom = incident[0]
    cold = PrometheusMetrics(PrometheusConfig(url=prom.url))
    warm = PrometheusMetrics(PrometheusConfig(url=prom.url))
    try:
        cold_part = cold.read([], 300)
        warm.warm()
        warm.warm()  # begins nothing more
        deadline = time.monotonic() + 20
        while not (warm.client.queries == 1 and warm.active_profiles):  # no read yet
            assert time.monotonic() < deadline, "the probe was not sent ahead"
            time.sleep(0.02)
        part = warm.read([], 300)
        assert part.profiles == cold_part.profiles and part.profiles
        assert part.queries == cold_part.queries - 1
    finally:
        cold.close()
        warm.close()
