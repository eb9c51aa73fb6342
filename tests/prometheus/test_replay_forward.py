"""Replay played forward on the suite's real Prometheus (backfilled with promtool) and the
project's test API server: at every replayed instant the figures the console shows (the
fleet table's RPS and p95 cells of ``llm-chat``, every GPU's utilisation) equal those of an
instant query sent by this test to Prometheus at the same time; reaching now, replay ends
and the console is live again."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from console.app import make_app
from console.cli.main import build_parser, settings_from_args
from console.wiring import build_backends
from tests.kube.apiserver import ApiServer
from widgets.replay_banner import ReplayBanner

pytestmark = pytest.mark.integration
TICK_S = 5.0  # --refresh 5: a tick every 5 wall seconds; at 60x, 5 replayed minutes


# The model the main fleet's vLLM series belong to (tests/prometheus/fleets.py: model_name
# llm-chat, namespace serving), deployed 30 days ago so that it existed at every replayed
# instant (replay hides a service whose every revision is newer than the instant).
LLM_CHAT = [
    {"apiVersion": "fixture.pitboard.test/v1", "kind": "Clock", "offset": "-30d"},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "serving"}},
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "llm-chat", "namespace": "serving",
                  "labels": {"pitboard.io/model": "llm-chat",
                             "app.kubernetes.io/name": "llm-chat"}},
     "spec": {"replicas": 2,
              "selector": {"matchLabels": {"app.kubernetes.io/name": "llm-chat"}},
              "template": {"metadata": {"labels": {"pitboard.io/model": "llm-chat",
                                                   "app.kubernetes.io/name": "llm-chat"}},
                           "spec": {"containers": [{"name": "vllm",
                                                    "image": "vllm/vllm-openai:v0.6.0"}]}}}},
]


@pytest.fixture
def kube(tmp_path):
    server = ApiServer(Path(tmp_path) / "apiserver")
    server.load(LLM_CHAT)
    server.start()
    yield server
    server.stop()


class Wall:
    """The player's wall clock, moved by hand (no sleeping)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def instant(url: str, query: str, at: datetime) -> list[dict]:
    """An instant query at ``at``, straight to Prometheus's HTTP API."""
    resp = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": at.timestamp()},
                     timeout=10)
    resp.raise_for_status()
    body = resp.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def one(url: str, query: str, at: datetime) -> float:
    (sample,) = instant(url, query, at)
    return float(sample["value"][1])


def expected_at(url: str, at: datetime) -> dict:
    sel = '{model_name="llm-chat"}'
    return {
        "rps": one(url, f"sum(rate(vllm:e2e_request_latency_seconds_count{sel}[5m]))", at),
        "p95_ms": 1000 * one(url, "histogram_quantile(0.95, sum by (le) (rate("
                                  f"vllm:e2e_request_latency_seconds_bucket{sel}[5m])))", at),
        "util": {s["metric"]["UUID"]: float(s["value"][1])
                 for s in instant(url, "DCGM_FI_DEV_GPU_UTIL", at)},
    }


async def until(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await pilot.pause(0.05)
    await pilot.pause()


def banner(app) -> str:
    return str(app.screen.query_one(ReplayBanner).render())


async def test_replay_forward_equals_instant_queries(main_prom, kube):
    args = build_parser().parse_args([
        "--kubeconfig", str(kube.kubeconfig), "--context", "test-admin",
        "--namespace", "serving", "--prometheus", main_prom.url, "--read-only",
        "--refresh", str(TICK_S)])
    settings = settings_from_args(args)
    backends = build_backends(settings)
    now = main_prom.at  # the history ends here: the console lives then
    backends.clock = lambda: now
    app = make_app(settings, backends)
    wall = Wall()
    app.navigator.player.wall = wall
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.fleet_screen.query_one("ModelTable")
        await until(pilot, lambda: app.state.metrics is not None and any(
            s.name == "llm-chat" for s in app.fleet_screen.snapshot.services)
            if app.fleet_screen.snapshot else False)
        app.paused = True  # the live polls stay out of the way (replay does not poll)
        start = now - timedelta(minutes=20)
        app.navigator.start_replay(start)
        await pilot.press("3")  # 60x
        seen: list[datetime] = []
        figures: list[float] = []
        at = start
        while True:
            await until(pilot, lambda: app.navigator.replay_at == at
                        and app.fleet_screen.snapshot.taken_at == at
                        and f"{at:%H:%M:%S} UTC" in banner(app))
            assert "▶ 60x " in banner(app)
            snap = app.fleet_screen.snapshot
            want = expected_at(main_prom.url, at)
            svc = next(s for s in snap.services if s.name == "llm-chat")
            health = snap.health["llm-chat"]
            assert health.at == at
            assert health.rps == pytest.approx(want["rps"], rel=1e-9)
            assert health.p95_ms == pytest.approx(want["p95_ms"], rel=1e-9)
            assert table.get_cell(svc.key, "rps") == f"{want['rps']:,.1f}"
            assert table.get_cell(svc.key, "p95") == f"{want['p95_ms']:,.0f}"
            shown = {g.uuid: g.util_percent for g in snap.gpus if g.uuid in want["util"]}
            assert len(shown) == 12 and shown == want["util"]
            seen.append(at)
            figures.append(want["rps"])
            wall.t += TICK_S  # one tick later: 5 replayed minutes at 60x
            app.navigator.player.tick()
            if at + timedelta(minutes=5) >= now:
                break
            at = at + timedelta(minutes=5)
        assert seen == [start + timedelta(minutes=m) for m in (0, 5, 10, 15)]
        assert len(set(figures)) == len(figures)  # the figures moved with the replayed time
        # the next tick reaches now: replay is over, the console live again
        await until(pilot, lambda: app.navigator.replay_at is None)
        assert not app.fleet_screen.query_one(ReplayBanner).has_class("-on")
        assert app.navigator.player.clock is None
    backends.close()
