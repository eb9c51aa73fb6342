"""The pitboard App: wires settings, backends, controllers and screens. No fetching, no
rendering, no mixins: the work is done by the controllers it owns.

- ``poller`` (console.controllers.polling): reads each source in a thread, keeps ``state``;
- ``navigator`` (console.controllers.navigation): views, time window, replay, history;
- ``actions`` (console.controllers.actions): the audit store, the runner, guarded actions;
- ``records`` (console.controllers.records): approvals, notes, incidents, export.

Messages from their thread workers arrive here and are handed to their controller (one
line each below): Textual delivers a message to a node's ``on_*`` method only.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from console.controllers.actions import ActionController
from console.controllers.collector import Collector
from console.controllers.navigation import Navigator
from console.controllers.polling import Poller
from console.controllers.records import RecordsController
from console.controllers.replay_player import REPLAY_ACTIONS, REPLAY_BINDINGS
from console.controllers.state import Backends, FleetState, system_clock
from console.screens.commands import FleetCommands
from console.screens.fleet import FleetScreen

if TYPE_CHECKING:  # Settings, or the same values as QuickSettings (console.config_core)
    from console.config_core import AppSettings
    from console.wiring import BackendsInAdvance


STARTUP_GC_LIMIT_S = 30.0
"""Seconds after mount when the cyclic collector is on again even without a first frame."""


def _to(controller: str, handler: str) -> Callable[[PitboardApp, Any], None]:
    """An ``on_*`` handler of the app that hands the message to ``app.<controller>``."""

    path = controller.split(".")  # "navigator.player": an object a controller owns

    def hand_over(app: PitboardApp, message: Any) -> None:
        if not app.is_running:  # shutting down: the screens are being taken apart, and a
            return  # worker's late message has nothing left to show on (run_test's exit)
        owner: Any = app
        for name in path:
            owner = getattr(owner, name)
        getattr(owner, handler)(message)

    hand_over.__name__ = handler
    return hand_over


class PitboardApp(App):
    """Terminal operations console for production ML."""

    TITLE = "pitboard"
    # The fleet screen's layout, read with the app's own styles at start: the same file as
    # FleetScreen.CSS_PATH, which, read when the screen is pushed, would re-parse them all.
    CSS_PATH = "screens/fleet.tcss"
    COMMANDS = App.COMMANDS | {FleetCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave pitboard"),
        Binding("question_mark", "help", "Help", id="help", tooltip="List the keys"),
        Binding("space", "toggle_pause", "Pause", id="pause",
                tooltip="Pause / resume the refresh of every source (replaying: pause / "
                        "resume the replay)"),
        Binding("T", "replay", "Replay", id="replay",
                tooltip="Replay a past instant from metrics history (again: back to live)"),
        *REPLAY_BINDINGS,
    ]

    paused: reactive[bool] = reactive(False, init=False)
    fleet_screen: FleetScreen

    def __init__(self, settings: AppSettings, backends: Backends | None = None,
                 backends_in_advance: BackendsInAdvance | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.backends = backends
        # being built since the command line read the settings (console.wiring)
        self.backends_in_advance = backends_in_advance
        self.state = FleetState()
        self.read_only = settings.read_only
        self.started = False  # the after-first-frame work ran (see after_first_frame)
        # a key or a mouse button came from the person (the fleet screen's cursor follows
        # its top row until then, at most until the first complete frame)
        self.user_acted = False
        self.poller = Poller(self)
        self.actions = ActionController(self)
        self.records = RecordsController(self)
        self.navigator = Navigator(self)
        self.collector = Collector(self)
        if settings.theme:
            self.theme = settings.theme

    # -- messages from the controllers' thread workers ---------------------------------
    on_backends_ready = _to("poller", "on_backends_ready")
    on_source_updated = _to("poller", "on_source_updated")
    on_chart_updated = _to("poller", "on_chart_updated")
    on_worker_state_changed = _to("poller", "on_worker_state_changed")
    on_replay_loaded = _to("navigator", "on_replay_loaded")
    on_replay_events_loaded = _to("navigator.player", "on_replay_events_loaded")
    on_audit_opened = _to("actions", "on_audit_opened")
    on_plan_ready = _to("actions", "on_plan_ready")
    on_action_progressed = _to("actions", "on_action_progressed")
    on_action_finished = _to("actions", "on_action_finished")
    on_audit_written = _to("records", "on_audit_written")

    async def on_event(self, event: events.Event) -> None:
        """Keys typed ahead (a fast typist, a paste, tmux: several keys in one read) are
        each forwarded, on arrival, to the widget focused then; when an earlier one opens a
        prompt or a dialog, the later ones would reach the old widget and press the
        screen's one-key actions (``:audit`` typed at once: ``i``, an incident). A key
        that comes back unhandled from a widget that has lost the focus since is posted
        again, to go where the focus is now, if that is on the same screen (a prompt);
        if a dialog or another screen came in between, it is dropped: a key typed before
        a guarded action's dialog appeared never answers it."""
        if isinstance(event, (events.Key, events.MouseDown)) and not event.is_forwarded:
            self.user_acted = True
        if isinstance(event, events.Key):
            if not event.is_forwarded:
                setattr(event, "pitboard_to", self.focused)  # where it is forwarded
            else:
                to = getattr(event, "pitboard_to", None)
                if to is not None and to is not self.focused:
                    event.stop()
                    now = self.focused
                    if now is not None and now.is_attached and to.is_attached \
                            and now.screen is to.screen:
                        self.post_message(events.Key(event.key, event.character))
                    return
        await super().on_event(event)

    def require_backends(self) -> Backends:
        """The backends, for the work that starts only once they are there (each poll, the
        audit store and the actions and records it enables): never None there; a clear
        error if that order is ever broken."""
        if self.backends is None:
            raise RuntimeError("pitboard: the backends are not connected yet")
        return self.backends

    def clock(self) -> datetime:
        """Now, from the backends' clock (frozen in tests and snapshots)."""
        return self.backends.clock() if self.backends is not None else system_clock()

    def get_default_screen(self) -> FleetScreen:
        """The fleet screen is the app's first screen (no blank screen composed first)."""
        self.fleet_screen = FleetScreen(window=self.settings.time_window)
        return self.fleet_screen

    def on_mount(self) -> None:
        # start-up turned the collector off until after the first frame: on at the latest
        # after this, should a source never answer
        self.set_timer(STARTUP_GC_LIMIT_S, gc.enable)
        if self.backends is None:
            # Build the backends in a thread while the screen composes; polling starts
            # once both are there (Poller.on_backends_ready / fleet_mounted)
            self.state.expect(("cluster",))
            self.poller.connect()

    def fleet_mounted(self) -> None:
        """The fleet screen is composed: poll, if the backends are there."""
        if self.backends is not None and not self.poller.polling_started:
            self.poller.start_polling()

    def show_state(self) -> None:
        """Hand the latest (or the replayed) snapshot to the fleet screen and the views."""
        snapshot = self.navigator.view_snapshot()
        self.fleet_screen.apply_snapshot(snapshot)
        self.navigator.show_views(snapshot)
        self.collector.refreshed()
        if not self.started and self.backends is not None and self.state.answered():
            self.started = True
            self.call_after_refresh(self.after_first_frame)

    def after_first_frame(self) -> None:
        """Every source answered once and that frame is out: now the work the first frame
        does not need -- settle the actor and read-only state, open the audit store
        (sqlite-utils), apply the context's accent colour."""
        self.actions.actions_ready()
        self.navigator._apply_accent(self.state.context)
        # Start-up objects (modules, styles, widgets, the first snapshot) live as long as
        # the app: kept out of the collector's full passes, which otherwise stall a
        # refresh now and then (~150 ms at 2,000 GPUs) scanning them again; the full
        # passes from now on run between refreshes (console.controllers.collector). The
        # collector, off since start-up (console/__main__.py), is on from now.
        self.collector.start()

    def watch_paused(self, paused: bool) -> None:
        if not paused:
            self.poller.resume_pending()
        if hasattr(self, "fleet_screen") and self.fleet_screen.is_mounted:
            self.fleet_screen.show_header()

    def action_toggle_pause(self) -> None:
        """Pause or resume polling (skipped polls run on resume); while replaying, pause
        or resume the replay instead."""
        if self.navigator.replay:
            self.navigator.player.toggle_pause()
            return
        self.paused = not self.paused

    def action_replay(self) -> None:
        """Jump to a past instant (or back to live when replaying)."""
        self.navigator.action_replay()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The replay player's keys exist only while replaying (hidden when live)."""
        if action in REPLAY_ACTIONS:
            return self.navigator.replay
        return super().check_action(action, parameters)

    def action_replay_speed(self, speed: int) -> None:
        """Replay at ``speed`` x (1, 10, 60)."""
        self.navigator.player.set_speed(speed)

    def action_replay_step(self, direction: int) -> None:
        """Replay one step forward (1) or back (-1), paused."""
        self.navigator.player.step(direction)

    def action_replay_event(self, direction: int) -> None:
        """Replay from the next (1) or previous (-1) event: alert, action, note."""
        self.navigator.player.jump(direction)

    def action_help(self) -> None:
        """Open the help screen listing the current screen's and the app's keys."""
        from console.screens.modals.help import HelpScreen  # noqa: PLC0415 - a screen not for frame 1

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen))  # its live keys, the app's included

    def on_unmount(self) -> None:
        self.collector.stop()
        if self.backends is not None:
            self.backends.close()


def make_app(settings: AppSettings, backends: Backends | None = None,
             backends_in_advance: BackendsInAdvance | None = None) -> PitboardApp:
    """The one app factory, shared by the CLI and the tests (backends injectable; or being
    built already, :class:`console.wiring.BackendsInAdvance`)."""
    return PitboardApp(settings, backends, backends_in_advance)
