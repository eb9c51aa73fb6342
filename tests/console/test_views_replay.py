"""The time window and incident replay: range queries follow ``t``; ``T`` reads metrics
with ``at=``, shows the banner and dims every mutating action until back to live."""

from __future__ import annotations

import html
from datetime import timedelta

from backends.domain.sources import MetricsBackend
from backends.domain.models import AuditEntry
from console.app import make_app
from console.config import load_settings
from console.screens.gpus import GpuScreen
from console.screens.model_detail import ModelDetailScreen
from console.screens.modals.replay import ReplayPrompt, parse_instant
from tests.console.conftest import FROZEN, demo_backends, wait_for, wait_loaded, workers_idle
from widgets.replay_banner import ReplayBanner


class Spy(MetricsBackend):
    """Delegates to the demo metrics and records every ``at`` and window asked."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.reads: list = []
        self.charts: list = []

    def read(self, services, window_s, at=None, *, gpu_scope=None):
        self.reads.append(at)
        return self.inner.read(services, window_s, at, gpu_scope=gpu_scope)

    def chart(self, model, window_s, at=None, *, service=None):
        self.charts.append((model, window_s, at))
        return self.inner.chart(model, window_s, at)


class FakeAudit:
    """Just enough of an AuditBackend for the views (entries)."""

    def __init__(self) -> None:
        self.calls = 0

    def entries(self, *, since=None, target=None, limit=None):
        self.calls += 1
        key = "demo/ml-serving/Deployment/llm-chat"
        return [AuditEntry(seq=i + 1, at=FROZEN - timedelta(minutes=30 - i), actor="oncall",
                           kind=k, action=a, target=key, reason="[b]why[/b]", outcome="ok",
                           prev_hash="0", hash=str(i))
                for i, (k, a) in enumerate((("outcome", "rollback"), ("approval", "approve")))
                if target in (None, key)]

    def current_incident(self):
        return None


def spied():
    backends = demo_backends()
    backends.metrics = Spy(backends.metrics)
    return backends


def screen_text(app) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def test_parse_instant():
    assert parse_instant("-90m", FROZEN) == FROZEN - timedelta(minutes=90)
    assert parse_instant("2h ago", FROZEN) == FROZEN - timedelta(hours=2)
    assert parse_instant("13:20", FROZEN) == FROZEN.replace(hour=13, minute=20)
    assert parse_instant("15:00", FROZEN) == FROZEN.replace(hour=15) - timedelta(days=1)
    assert parse_instant("2026-11-21 09:05Z", FROZEN) == FROZEN.replace(hour=9, minute=5)
    for bad in ("", "soon", "25:00", "2099-01-01", "[red]x[/]"):
        try:
            parse_instant(bad, FROZEN)
        except ValueError as exc:
            assert str(exc)
        else:
            raise AssertionError(f"accepted {bad!r}")


async def test_window_drives_range_queries():
    backends = spied()
    app = make_app(load_settings(refresh=3600), backends)
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_loaded(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        await workers_idle(pilot)
        assert ("llm-chat", 3600, FROZEN) in backends.metrics.charts
        await pilot.press("t")
        assert app.navigator.window == "6h" and app.fleet_screen.window == "6h"
        await wait_for(pilot, lambda: ("llm-chat", 6 * 3600, FROZEN) in backends.metrics.charts)
        await workers_idle(pilot)
        # 6h charts: the SLO burn source at 1h, the 6h view (which doubles as the burn
        # source: no second query) and the fleet chart underneath
        assert backends.metrics.charts.count(("llm-chat", 6 * 3600, FROZEN)) == 3
        assert "⏱ 6h" in screen_text(app)


async def test_replay_reads_history_and_disables_actions():
    backends = spied()
    app = make_app(load_settings(refresh=3600), backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        fleet = app.fleet_screen
        assert not app.navigator.replay
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayPrompt))
        await pilot.press(*"-1h", "enter")
        past = FROZEN - timedelta(hours=1)
        await wait_for(pilot, lambda: app.navigator._replay_snapshot is not None)
        await workers_idle(pilot)
        await pilot.pause()
        assert app.navigator.replay_at == past and past in backends.metrics.reads
        assert fleet.snapshot.taken_at == past
        assert any(at == past for _, _, at in backends.metrics.charts)  # fleet chart too
        assert fleet.query_one(ReplayBanner).has_class("-on")
        assert "REPLAY 20" in screen_text(app) and "13:00:00 UTC" in screen_text(app)
        for action in ("rollback", "promote", "approve", "note", "incident"):
            assert fleet.check_action(action, ()) is None, action
        assert app.actions.action_unavailable("rollback", None) == "replaying history: actions are off"
        # the views render the replayed instant too
        await pilot.press("colon", *"gpus", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, GpuScreen))
        view = app.screen
        assert view.snapshot.taken_at == past
        assert view.query_one(ReplayBanner).has_class("-on")
        assert view.check_action("rollback", ()) is None
        assert view.check_action("cycle_window", ()) is True
        await pilot.press("escape")  # esc = back to live first
        await wait_for(pilot, lambda: app.navigator.replay_at is None)
        assert app.screen is view and not view.query_one(ReplayBanner).has_class("-on")
        assert view.snapshot.taken_at == FROZEN
        assert fleet.check_action("rollback", ()) is not None or app.actions.runner is None


async def test_replay_toggle_with_T_and_bad_time():
    app = make_app(load_settings(refresh=3600), spied())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayPrompt))
        await pilot.press(*"tomorrow", "enter")
        assert isinstance(app.screen, ReplayPrompt)
        assert "not a time" in screen_text(app)
        await pilot.press("escape")
        assert app.navigator.replay_at is None and app.screen is app.fleet_screen
        app.navigator.start_replay(FROZEN - timedelta(minutes=20))
        await wait_for(pilot, lambda: app.navigator._replay_snapshot is not None)
        await pilot.press("T")
        assert app.navigator.replay_at is None


async def test_replay_assesses_each_model_at_the_replayed_instant():
    """Statuses and the strip in replay come from the replayed figures: never the live
    status carried over, never a problem dated after the replayed instant."""
    from backends.domain.health import assess
    from console.presenters.problems import worst_problems

    app = make_app(load_settings(refresh=3600), spied())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: bool(app.state.health_status))
        past = FROZEN - timedelta(hours=1)
        app.navigator.start_replay(past)
        await wait_for(pilot, lambda: app.navigator._replay_snapshot is not None)
        await workers_idle(pilot)
        snap = app.navigator._replay_snapshot
        assert snap.taken_at == past and snap.status
        for s in snap.services:
            fresh = assess(s, snap.model_copy(update={"status": {}}), app.settings.slo)
            got = snap.status[s.key]
            assert (got.status, got.level) == (fresh.status, fresh.level), s.name
            assert all(p.since is None or p.since <= past for p in got.problems), s.name
        lines = worst_problems(snap)
        assert lines and all(line.since is None or line.since <= past for line in lines)
        strip = app.fleet_screen.query_one("ProblemStrip")
        assert [(x.model, x.text) for x in strip.lines] == [(x.model, x.text) for x in lines]
