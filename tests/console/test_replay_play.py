"""Replay plays forward on the demo: the banner's time, speed and paused state, speed keys,
pause, step, next/previous event from the audit store and the alerts, the keys shown only
while replaying, read-only throughout, and the end at now (back to live)."""

from __future__ import annotations

from datetime import datetime, timedelta

from backends.audit.store import SqliteAudit
from console.app import make_app
from console.config import load_settings
from console.screens.modals.help import HelpScreen, help_rows
from console.screens.modals.replay import ReplayPrompt
from tests.console.conftest import FROZEN, wait_for, wait_loaded, workers_idle
from tests.console.test_views_replay import screen_text, spied
from widgets.replay_banner import ReplayBanner

START = FROZEN - timedelta(hours=1)
TICK_S = 60.0  # refresh=3600 s: a tick every 60 wall seconds (the upper bound)


class Wall:
    """A wall clock moved by hand (the player's ``wall``)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def banner(app) -> str:
    return str(app.screen.query_one(ReplayBanner).render())


async def shown(pilot, at) -> None:
    """Until the replayed instant ``at`` is on screen (loaded, banner set)."""
    app = pilot.app
    await wait_for(pilot, lambda: app.navigator.replay_at == at
                   and app.fleet_screen.snapshot.taken_at == at
                   and f"{at:%H:%M:%S} UTC" in banner(app))
    await workers_idle(pilot)


def store_with_events(tmp_path):
    """A real audit store holding a note 40 min ago and an incident opened 20 min ago."""
    now = [FROZEN - timedelta(minutes=40)]
    store = SqliteAudit(tmp_path / "audit.db", clock=lambda: now[0])
    store.add_note("p95 rising on llm-chat", "oncall")
    now[0] = FROZEN - timedelta(minutes=20)
    store.open_incident("llm-chat slow", "SEV2", "oncall")
    now[0] = FROZEN
    return store


async def test_replay_plays_pauses_steps_and_jumps(tmp_path):
    backends = spied()
    backends.audit = store_with_events(tmp_path)
    app = make_app(load_settings(refresh=3600), backends)
    wall = Wall()
    app.navigator.player.wall = wall
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        # live: the player's keys are not there at all
        assert app.check_action("replay_speed", (10,)) is False
        assert not {"1", "full_stop", "right_square_bracket"} & set(app.screen.active_bindings)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayPrompt))
        await pilot.press(*"-1h", "enter")
        await shown(pilot, START)
        assert "REPLAY 2026-11-21 13:00:00 UTC  ▶ 1x " in banner(app)
        assert "live" not in banner(app).lower()
        keys = app.screen.active_bindings
        assert {"1", "2", "3", "full_stop", "comma", "right_square_bracket",
                "left_square_bracket"} <= set(keys)
        footer_keys = {k for k, a in keys.items() if a.binding.show}
        assert {"1", "full_stop", "right_square_bracket"} <= footer_keys  # fits at 160
        assert app.screen.check_action("rollback", ()) is None  # read-only throughout

        # 10x: a tick 30 wall seconds later shows the instant 300 s on
        await pilot.press("2")
        await wait_for(pilot, lambda: "▶ 10x " in banner(app))
        wall.t += 30
        app.navigator.player.tick()
        await shown(pilot, START + timedelta(seconds=300))
        assert START + timedelta(seconds=300) in backends.metrics.reads
        assert any(at == START + timedelta(seconds=300) for _, _, at in backends.metrics.charts)

        # pause: the instant on screen stays, ticks do nothing, the banner says so
        await pilot.press("space")
        await wait_for(pilot, lambda: "‖ 10x paused" in banner(app))
        assert not app.paused  # space paused the replay, not the live polling
        wall.t += 600
        reads = len(backends.metrics.reads)
        app.navigator.player.tick()
        await workers_idle(pilot)
        assert len(backends.metrics.reads) == reads
        assert app.navigator.replay_at == START + timedelta(seconds=300)

        # step: one tick (60 s) x 10 forward, then back, paused
        await pilot.press("full_stop")
        await shown(pilot, START + timedelta(seconds=900))
        await pilot.press("comma")
        await shown(pilot, START + timedelta(seconds=300))
        assert "‖ 10x paused" in banner(app)

        # resume at 60x: the 600 s paused do not count
        await pilot.press("3", "space")
        await wait_for(pilot, lambda: "▶ 60x " in banner(app))
        wall.t += 5
        app.navigator.player.tick()
        await shown(pilot, START + timedelta(seconds=600))

        # next / previous event: the note, the incident, the alerts' firing times
        events = sorted({FROZEN - timedelta(minutes=40), FROZEN - timedelta(minutes=20)}
                        | {a.starts_at for a in app.state.snapshot(FROZEN).alerts
                           if a.starts_at is not None and a.starts_at <= FROZEN})
        await wait_for(pilot, lambda: app.navigator.player.events is not None)
        expected = next(t for t in events if t > START + timedelta(seconds=600))
        await pilot.press("right_square_bracket")
        await shown(pilot, expected)
        assert "▶ 60x " in banner(app)  # a jump keeps playing
        after = next(t for t in events if t > expected)
        await pilot.press("right_square_bracket")
        await shown(pilot, after)
        await pilot.press("left_square_bracket")
        await shown(pilot, expected)
        assert any("note · oncall: p95 rising on llm-chat" == e.label
                   for e in app.navigator.player.events)

        # the help lists the player's keys while replaying
        rows, enabled = help_rows(app.screen)
        described = {(k, d) for k, d, _ in rows}
        assert {("1/2/3", "Speed"), (".", "Step"), (",", "Step back"), ("]", "Next event"),
                ("[", "Prev event")} <= described
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Next event" in screen_text(app)
        await pilot.press("escape")

        # playing on reaches now: replay ends, back to live
        for later in [t for t in events if t > expected]:  # every later event in turn
            await pilot.press("right_square_bracket")
            await shown(pilot, later)
        wall.t += 3600
        app.navigator.player.tick()
        await wait_for(pilot, lambda: app.navigator.replay_at is None)
        await workers_idle(pilot)
        assert not app.fleet_screen.query_one(ReplayBanner).has_class("-on")
        assert app.fleet_screen.snapshot.taken_at == FROZEN
        assert app.check_action("replay_step", (1,)) is False
        assert app.navigator.player.clock is None


async def test_step_past_now_ends_replay_and_space_pauses_polling_again():
    app = make_app(load_settings(refresh=3600), spied())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        app.navigator.start_replay(FROZEN - timedelta(seconds=30))
        await shown(pilot, FROZEN - timedelta(seconds=30))
        text = banner(app)
        assert text.startswith(" REPLAY 2026-11-21 13:59:30 UTC  ▶ 1x ") and len(text) <= 80
        await pilot.press("full_stop")  # 60 s forward: past now -> live
        await wait_for(pilot, lambda: app.navigator.replay_at is None)
        await pilot.press("space")
        assert app.paused  # live again: space pauses the polling


async def test_playing_into_a_moving_now_ends_replay():
    """A live clock moves on between two readings: reaching it still ends replay."""
    backends = spied()
    ticks = [0]

    def moving() -> datetime:
        ticks[0] += 1
        return FROZEN + timedelta(milliseconds=ticks[0])

    backends.clock = moving
    app = make_app(load_settings(refresh=3600), backends)
    wall = Wall()
    app.navigator.player.wall = wall
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        app.navigator.start_replay(FROZEN - timedelta(seconds=30))
        await wait_for(pilot, lambda: app.navigator._replay_snapshot is not None)
        await pilot.press("3")
        wall.t += 5  # 300 replayed seconds: well past now
        app.navigator.player.tick()
        await wait_for(pilot, lambda: app.navigator.replay_at is None)
        assert app.navigator.player.clock is None
