"""Deep views, the time window and incident replay: ``app.navigator``.

- ``open_view(name)`` pushes ``:gpus`` ``:drift`` ``:cost`` ``:releases`` or a model's detail;
- ``fetch(screen, tag, fn)`` runs one blocking read in a thread worker and posts the result
  to ``screen`` as :class:`ViewData` (errors included, never raised into the app);
- ``T`` replays a past instant: metrics are read with ``at=``, every screen shows a
  "REPLAY <time> <speed>" banner and mutating actions are dimmed (``check_action``);
  replay then plays forward (``self.player``, console.controllers.replay_player): each
  tick shows every panel at the next replayed instant (:meth:`Navigator.load_replay`);
- per-context accent colour from ``[display]`` config (k9s-style skins via a theme).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message
from textual.screen import Screen

from backends.actions.catalog import is_mutating
from backends.domain.health import assess
from backends.domain.models import Alert, FleetSnapshot, Series
from backends.domain.slo_config import SloConfig
from console.controllers.history import SessionHistory
from console.controllers.contexts import ContextFilter
from console.controllers.messages import ChartUpdated, ViewData
from console.controllers.polling import describe, draw_safely
from console.controllers.replay_player import ReplayPlayer
from console.controllers.replay_state import cluster_at
from console.controllers.series import has_range
from console.controllers.state import RATE_WINDOW_S, WINDOW_SECONDS, merge_gpus
from console.controllers.base import Controller, in_thread
from console.config_core import built_section
from console.screens.base import ViewScreen
from console.screens.registry import make_view
from widgets.replay_banner import ReplayBanner

if TYPE_CHECKING:
    from console.app import PitboardApp

class ReplayLoaded(Message, bubble=False):
    """Metrics read at the replayed instant."""

    def __init__(self, at: datetime, part: object, error: str | None = None) -> None:
        super().__init__()
        self.at, self.part, self.error = at, part, error


class Navigator(Controller):
    """``app.navigator``: which views are open, the time window, replay, and the session
    history the views read."""

    replay_at: datetime | None = None

    @property
    def replay(self) -> bool:
        """True while replaying (every mutating action is then refused)."""
        return self.replay_at is not None

    def __init__(self, app: PitboardApp) -> None:
        super().__init__(app)
        self.history = SessionHistory()
        self.view_points: Counter[str] = Counter()
        self.last_fetch_s: dict[str, float] = {}
        self._serial = 0
        self._replay_snapshot: FleetSnapshot | None = None
        self._replay_pending: datetime | None = None  # the instant being read
        self._replay_error: str | None = None
        self.player = ReplayPlayer(app, self)  # plays replay forward
        self._accent_context: str | None = None
        self._base_theme: str | None = None
        self.context_filter = ContextFilter()  # :ctx narrowing (context None = all)

    # -- window ----------------------------------------------------------------------
    @property
    def window(self) -> str:
        fleet = getattr(self.app, "fleet_screen", None)
        return fleet.window if fleet is not None else self.app.settings.time_window

    def set_window(self, label: str) -> None:
        """Change the window of every chart and range query (all screens)."""
        self.app.fleet_screen.window = label
        for screen in self._view_screens():
            screen.window = label

    def window_s(self) -> int:
        return WINDOW_SECONDS[self.window]

    # -- snapshots ---------------------------------------------------------------------
    def view_at(self) -> datetime:
        """The instant the console renders: the replayed one, else now."""
        return self.replay_at or self.app.clock()

    def view_snapshot(self) -> FleetSnapshot:
        """The snapshot every screen shows (the replayed one while replaying)."""
        if self.replay_at is not None and self._replay_snapshot is not None:
            snap = self._replay_snapshot
        else:
            snap = self.app.state.snapshot(self.app.clock())
        return self.context_filter.apply(snap, self.app)

    def _view_screens(self) -> list[ViewScreen]:
        return [s for s in self.app.screen_stack if isinstance(s, ViewScreen)]

    def show_views(self, snapshot: FleetSnapshot) -> None:
        """Hand ``snapshot`` to the open views; record session history while live."""
        if self.replay_at is None:
            gpus, models = self._history_needed()
            if gpus or models:
                self.history.record(snapshot, gpus=gpus, models=models)
        self._apply_accent(snapshot.context)
        for screen in self._view_screens():
            if screen.is_mounted:
                screen.apply_snapshot(snapshot)

    def _history_needed(self) -> tuple[bool, bool]:
        """(GPU, model) session history is only read when the metrics backend can give
        neither range charts nor cheap past instants: at 2,000 GPUs recording it costs
        milliseconds per refresh and tens of MB over a session."""
        metrics = self.app.backends.metrics if self.app.backends is not None else None
        cached = getattr(self, "_history_for", None)
        if cached is None or cached[0] is not metrics:
            cached = self._history_for = (metrics, (not has_range(metrics, "gpu_chart"),
                                                    not has_range(metrics, "model_extra_chart")))
        return cached[1]

    def open_view(self, name: str, **kwargs) -> bool:
        """Push the view called ``name`` (``gpus``, ``drift``, ``cost``, ``releases``,
        ``model``); False when unknown. A view replaces another view (esc = fleet)."""
        screen = make_view(name, window=self.window, **kwargs)
        if screen is None:
            return False
        top = self.app.screen
        if name != "model" and top is not getattr(self.app, "fleet_screen", None) and isinstance(top, Screen):
            if isinstance(top, ViewScreen):
                self.app.switch_screen(screen)
                return True
        self.app.push_screen(screen)
        return True

    # -- workers -------------------------------------------------------------------------
    def fetch(self, screen, tag: str, fn: Callable[[], object]) -> int:
        """Run ``fn`` in a thread; post :class:`ViewData` to ``screen``. Returns the serial."""
        self._serial += 1
        serial = self._serial

        def run() -> None:
            t0 = time.perf_counter()
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - shown in the view, never exits
                screen.post_message(ViewData(tag, serial, None, describe(exc)))
                return
            pts = _count_points(result)
            self.last_fetch_s[tag] = time.perf_counter() - t0
            screen.post_message(ViewData(tag, serial, result, None, pts))

        self.app.run_worker(run, thread=True, group=f"view-{tag}", name=f"view-{tag}",
                        description=f"load {tag}", exit_on_error=False)
        return serial

    def load_chart(self, model: str, window: str, draw=None, service=None) -> None:
        """The fleet chart: live from the poller, replayed here with ``at=``."""
        if self.replay_at is None:
            self.app.poller.load_chart(model, window, draw, service)
            return
        at = self.replay_at
        metrics = self.app.backends.metrics if self.app.backends else None
        if metrics is None:
            return

        def run() -> None:
            try:
                series = metrics.chart(model, WINDOW_SECONDS[window], at, service=service)
            except Exception:  # noqa: BLE001 - the fleet chart keeps its last data
                return
            series = tuple(series)
            self.app.post_message(ChartUpdated(model, window, series, draw_safely(draw, series),
                                           service.key if service else None))

        self.app.run_worker(run, thread=True, group="replay-chart", exit_on_error=False)

    # -- replay ------------------------------------------------------------------------------
    def action_replay(self) -> None:
        """Jump the console to a past instant (or back to live when replaying)."""
        if self.replay_at is not None:
            self.stop_replay()
            return
        from console.screens.modals.replay import ReplayPrompt, suggestions  # noqa: PLC0415 - a modal

        snap = self.app.state.snapshot(self.app.clock())
        incidents = self._incidents()
        self.app.push_screen(ReplayPrompt(self.app.clock(), suggestions(snap.alerts, incidents,
                                                                 self.app.clock())),
                         callback=self._replay_chosen)

    def _incidents(self) -> list:
        current = self.app.actions.incident  # the open incident
        return [current] if current is not None else []

    def _replay_chosen(self, at: datetime | None) -> None:
        if at is not None:
            self.start_replay(at)

    def start_replay(self, at: datetime) -> None:
        """Render every screen at ``at`` from metrics history, then play forward;
        read-only until live again."""
        self.replay_at = at
        self._replay_snapshot = None
        self._replay_error = None
        self.player.start(at)
        self._banner(at)
        self._keys_changed()
        self.load_replay(at)

    def load_replay(self, at: datetime) -> None:
        """Read the metrics at ``at`` (thread); :meth:`on_replay_loaded` shows them."""
        self._replay_pending = at
        metrics = self.app.backends.metrics if self.app.backends else None
        cluster = self.app.state.cluster
        services = cluster.services if cluster else ()

        def run() -> None:
            try:
                part = metrics.read(services, RATE_WINDOW_S, at) if metrics else None
            except Exception as exc:  # noqa: BLE001
                self.app.post_message(ReplayLoaded(at, None, describe(exc)))
                return
            self.app.post_message(ReplayLoaded(at, part))

        self.app.run_worker(run, thread=True, group="replay", exclusive=True, exit_on_error=False)

    def on_replay_loaded(self, message: ReplayLoaded) -> None:
        if self.replay_at is None or message.at != self._replay_pending:
            return
        self.replay_at = message.at
        if message.error is not None and message.error != self._replay_error:
            self.app.notify(message.error, title="replay failed", severity="error", markup=False)
        self._replay_error = message.error
        cluster = self.app.state.cluster
        self._replay_snapshot = replay_snapshot(self.app.state.snapshot(self.app.clock()),
                                                message.at, message.part,
                                                cluster.gpus if cluster else (),
                                                self.app.settings.slo)
        self.app.show_state()
        self._banner(message.at)
        self._reload_fleet_chart()
        self.player.loaded()  # the next tick, once this instant is on screen

    def replay_status_changed(self) -> None:
        """Speed or pause changed: the banners say so."""
        self._banner(self.replay_at)

    def _reload_fleet_chart(self) -> None:
        """The fleet chart follows replay on and off (its own refresh is time-based)."""
        fleet = getattr(self.app, "fleet_screen", None)
        snap = getattr(fleet, "snapshot", None)
        if fleet is None or snap is None or fleet.selected is None:
            return
        svc = next((s for s in snap.services if s.key == fleet.selected), None)
        if svc is not None:
            self.load_chart(svc.name, fleet.window, service=svc)

    def stop_replay(self) -> None:
        """Back to live figures."""
        self.player.stop()
        self.replay_at = None
        self._replay_snapshot = None
        self._replay_pending = None
        self._banner(None)
        self._keys_changed()
        self.app.show_state()
        self._reload_fleet_chart()

    def _keys_changed(self) -> None:
        """Re-evaluate every screen's dimmed keys (replay turns actions off and on)."""
        self.app.actions._sync_keys()
        for screen in self.app.screen_stack:
            screen.refresh_bindings()

    def _banner(self, at: datetime | None) -> None:
        clock = self.player.clock
        speed, paused = (clock.speed, clock.paused) if clock is not None else (1, False)
        for screen in self.app.screen_stack:
            for banner in screen.query(ReplayBanner):
                banner.show_replay(at, speed, paused)

    def replay_blocks(self, action: str) -> bool:
        """True when ``action`` mutates and the console is replaying (dim it)."""
        return self.replay_at is not None and is_mutating(action)

    # -- accent ----------------------------------------------------------------------------
    def _apply_accent(self, context: str) -> None:
        if not getattr(self.app, "started", True):
            return  # after the first frame (``after_first_frame`` applies it)
        if not context or context == self._accent_context:
            return
        self._accent_context = context
        display = getattr(self.app.settings, "display", None)
        # quick settings' unbuilt [actions] is the default (no context protected): not
        # built here, in the callback that runs with the first frame
        actions = built_section(self.app.settings, "actions")
        if display is None:
            return
        protected = bool(actions is not None and actions.is_protected(context))
        colour = display.accent_for(context, protected)
        if self._base_theme is None:
            self._base_theme = self.app.theme
        base = self.app.get_theme(self._base_theme)
        if colour is None or base is None:
            if self.app.theme != self._base_theme:
                self.app.theme = self._base_theme
            return
        skin = replace(base, name=f"{base.name}-ctx-{abs(hash(context)) % 10**8}",
                       accent=colour, primary=colour)
        self.app.register_theme(skin)
        self.app.theme = skin.name


def _count_points(result: object) -> int:
    """Points of every ``Series`` inside ``result`` (tuples, lists, dicts)."""
    if isinstance(result, Series):
        return len(result.points)
    if isinstance(result, (tuple, list)):
        return sum(_count_points(x) for x in result if isinstance(x, (Series, tuple, list, dict)))
    if isinstance(result, dict):
        return sum(_count_points(v) for v in result.values())
    return 0


def replay_snapshot(live: FleetSnapshot, at: datetime, part, cluster_gpus=(),
                    slo: SloConfig | None = None) -> FleetSnapshot:
    """The cluster as its release history says it stood at ``at`` (console.controllers.replay_state),
    with metrics read at ``at`` and the alerts already firing then. Each model's status is
    assessed on those figures (never the live one carried over), and no problem is dated
    after ``at``."""
    alerts: tuple[Alert, ...] = tuple(a for a in live.alerts
                                      if a.starts_at is not None and a.starts_at <= at)
    services, revisions = cluster_at(live.services, live.revisions, at)
    update = {"taken_at": at, "alerts": alerts, "services": services, "revisions": revisions}
    if part is not None:
        update.update(gpus=merge_gpus(tuple(cluster_gpus), part.gpus), health=part.health, revision_health=part.revision_health,
                      service_health=part.service_health,
                      service_revision_health=part.service_revision_health,
                      drift=part.drift, cost=part.cost)
    snap = live.model_copy(update=update | {"status": {}})
    objectives = slo if isinstance(slo, SloConfig) else SloConfig()
    status = {}
    for s in services:
        health = assess(s, snap, objectives)
        if any(p.since is not None and p.since > at for p in health.problems):
            health = health.model_copy(update={"problems": tuple(
                p.model_copy(update={"since": None}) if p.since is not None and p.since > at
                else p for p in health.problems)})
        status[s.key] = health
    return snap.model_copy(update={"status": status})
