"""Replay that plays forward: ``app.navigator.player``.

The rules of the replayed clock (speeds, pause, step, jump, end) are pure, in
:mod:`console.controllers.replay_clock`; this object applies them to the app: a timer
ticks about once a refresh interval, each tick asks the navigator to show every panel at
the new replayed instant, and the next tick is armed only once that instant is on screen
(ticks never overlap, as polls do not). When the replayed instant reaches now, replay
ends and the console is live again (with a notice).

Keys (the app's bindings, shown only while replaying): ``space`` pause / resume, ``1`` ``2``
``3`` play at 1x, 10x, 60x, ``.`` / ``,`` step forward / back, ``]`` / ``[`` next / previous
event (alert, action, note).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer

from console.controllers.base import Controller, in_thread
from console.controllers.replay_clock import (
    SPEEDS, ReplayClock, ReplayEvent, next_event, previous_event, replay_events)

if TYPE_CHECKING:
    from console.app import PitboardApp
    from console.controllers.navigation import Navigator

TICK_MIN_S, TICK_MAX_S = 1.0, 60.0
"""Wall seconds between ticks: the refresh interval, within these bounds (a replayed
refresh costs the same queries as a live one)."""
EVENTS_BACK = timedelta(days=30)
"""How far before the replayed instant the audit store's events are read (``[``)."""

REPLAY_BINDINGS = [
    Binding("1", "replay_speed(1)", "Speed", id="replay_1x", key_display="1/2/3",
            tooltip="Replay at 1x (2: 10x, 3: 60x)"),
    Binding("2", "replay_speed(10)", "Speed 10x", id="replay_10x", key_display="2",
            show=False, tooltip="Replay at 10x"),
    Binding("3", "replay_speed(60)", "Speed 60x", id="replay_60x", key_display="3",
            show=False, tooltip="Replay at 60x"),
    Binding("full_stop", "replay_step(1)", "Step", id="replay_step", key_display=".",
            tooltip="One refresh interval of replayed time (x speed) forward, then paused"),
    Binding("comma", "replay_step(-1)", "Step back", id="replay_step_back", key_display=",",
            show=False, tooltip="One refresh interval of replayed time (x speed) back, paused"),
    Binding("right_square_bracket", "replay_event(1)", "Next event", id="replay_next_event",
            key_display="]", tooltip="Replay from the next alert, action or note"),
    Binding("left_square_bracket", "replay_event(-1)", "Prev event", id="replay_prev_event",
            key_display="[", show=False,
            tooltip="Replay from the previous alert, action or note"),
]
"""The replay player's keys (the app's; shown only while replaying, see
``PitboardApp.check_action``). ``space`` (the app's pause) pauses the replay."""
REPLAY_ACTIONS = frozenset({"replay_speed", "replay_step", "replay_event"})


class ReplayEventsLoaded(Message, bubble=False):
    """The events replay can jump to, read for the replay that started at ``at``."""

    def __init__(self, at: datetime, events: tuple[ReplayEvent, ...]) -> None:
        super().__init__()
        self.at, self.events = at, events


class ReplayPlayer(Controller):
    """Plays replay forward. ``wall`` (``time.monotonic`` by default) is the wall clock
    the ticks measure; tests replace it."""

    def __init__(self, app: PitboardApp, navigator: Navigator) -> None:
        super().__init__(app)
        self.navigator = navigator
        self.clock: ReplayClock | None = None
        self.events: tuple[ReplayEvent, ...] | None = None  # None: still being read
        self.wall: Callable[[], float] = time.monotonic
        self.speed = SPEEDS[0]  # the speed the next replay starts at (the last one chosen)
        self._timer: Timer | None = None
        self._started_at: datetime | None = None

    # -- state, for the banner -------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.clock is not None and self.clock.paused

    def tick_s(self) -> float:
        return min(max(float(self.app.settings.refresh), TICK_MIN_S), TICK_MAX_S)

    # -- start / stop ----------------------------------------------------------------------
    def start(self, at: datetime) -> None:
        """Replay from ``at``, playing at the last speed chosen; read the events."""
        self._cancel_timer()
        self.clock = ReplayClock(at, self.wall(), speed=self.speed, tick_s=self.tick_s())
        self.events = None
        self._started_at = at
        backends = self.app.backends
        alerts = self.app.state.snapshot(self.app.clock()).alerts
        self._read_events(at, backends.audit if backends is not None else None, alerts)

    def stop(self) -> None:
        """Replay is over (back to live): no more ticks."""
        self._cancel_timer()
        self.clock = None
        self.events = None
        self._started_at = None

    @in_thread(group="replay-events", exclusive=True)
    def _read_events(self, at: datetime, audit, alerts) -> None:
        entries, texts = [], {}
        if audit is not None:
            try:
                entries = audit.entries(since=at - EVENTS_BACK)
                notes = getattr(audit, "notes", None)
                texts = {n.id: n.text for n in notes()} if notes is not None else {}
            except Exception:  # noqa: BLE001 - no audit events: the alerts' still count
                entries, texts = [], {}
        self.app.post_message(ReplayEventsLoaded(at, replay_events(entries, alerts, texts)))

    def on_replay_events_loaded(self, message: ReplayEventsLoaded) -> None:
        if message.at == self._started_at and self.clock is not None:
            self.events = message.events

    # -- ticks -----------------------------------------------------------------------------
    def loaded(self) -> None:
        """The replayed instant is on screen: arm the next tick (when playing)."""
        self._cancel_timer()
        if self.clock is not None and not self.clock.paused:
            self._timer = self.app.set_timer(self.clock.tick_s, self.tick)

    def tick(self) -> None:
        """Advance the replayed clock by the wall time since the last tick x speed and show
        that instant (or end replay at now)."""
        self._timer = None
        if self.clock is None or self.clock.paused:
            return
        now = self.app.clock()
        self._show(self.clock.tick(self.wall(), now), now)

    def _show(self, clock: ReplayClock, now: datetime) -> None:
        """Show ``clock.at``, or end replay when it reached ``now`` (the same ``now`` the
        clock was clamped to: a live clock moves on meanwhile)."""
        self.clock = clock
        if clock.ended(now):
            self.app.notify("replay reached now: back to live figures (actions on again "
                            "where allowed)", title="replay over", markup=False)
            self.navigator.stop_replay()
            return
        self._cancel_timer()
        self.navigator.load_replay(clock.at)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # -- keys ------------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        """``space``: pause (the instant on screen stays) or resume."""
        if self.clock is None:
            return
        self.clock = self.clock.toggle_pause(self.wall())
        self.navigator.replay_status_changed()
        if self.clock.paused:
            self._cancel_timer()
        else:
            self.loaded()

    def set_speed(self, speed: int) -> None:
        """``1`` ``2`` ``3``: play at 1x, 10x, 60x (from the next tick on)."""
        if self.clock is None:
            return
        self.speed = speed
        self.clock = self.clock.with_speed(speed)
        self.navigator.replay_status_changed()

    def step(self, direction: int) -> None:
        """``.`` / ``,``: one tick of replayed time forward / back, then paused."""
        if self.clock is None:
            return
        now = self.app.clock()
        self._show(self.clock.step(direction, self.wall(), now), now)
        self.navigator.replay_status_changed()

    def jump(self, direction: int) -> None:
        """``]`` / ``[``: to the next / previous event (alert, action, note)."""
        if self.clock is None:
            return
        if self.events is None:
            self.app.notify("replay: still reading the events", markup=False)
            return
        at = self.clock.at
        event = next_event(self.events, at) if direction > 0 else previous_event(self.events, at)
        if event is None:
            where = "after" if direction > 0 else "before"
            self.app.notify(f"replay: no event {where} {at:%Y-%m-%d %H:%M:%S} UTC",
                            markup=False)
            return
        self.app.notify(f"{event.at:%Y-%m-%d %H:%M:%S} UTC  {event.label}",
                        title="replay: event", markup=False)
        now = self.app.clock()
        self._show(self.clock.seek(event.at, self.wall(), now), now)
