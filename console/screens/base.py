"""Base of the deep views: header, replay banner, title line, window/replay/back keys.

A view receives snapshots (``apply_snapshot``, attributes down) and asks the App for range
data with :meth:`ViewScreen.request` (a thread worker); answers arrive as ``ViewData``
messages and go to :meth:`ViewScreen.receive`. Stale answers (an older request for the
same tag) are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import ScreenResume
from textual.reactive import reactive
from textual.widgets import Input, Static

from backends.domain.models import FleetSnapshot
from console.screens.footer_fit import FooterFitMixin
from console.screens.breakpoints import preset_breakpoints, skip_first_restyle
from console.screens import registry
from console.screens.typed import PitboardScreen
from console.screens.visibility import covered
from console.controllers.state import next_window
from console.controllers.messages import ViewData
from widgets.badges import update_text
from widgets.fleet_header import FleetHeader
from widgets.footer import KeyFooter
from widgets.render.compositor import render_dirty_only
from widgets.replay_banner import ReplayBanner
from widgets.text import safe


RANGE_MAX_AGE_S = 30.0
"""Range data on screen is re-fetched when older than this (by the app's clock)."""


class ViewScreen(FooterFitMixin, PitboardScreen):
    """Common frame of the deep views. Subclasses implement ``compose_body`` and ``show``."""

    # Keys kept in the footer when it is narrow, most important first (all are in ``?``).
    FOOTER_PRIORITY: tuple[str, ...] = ("escape", "question_mark", "q", "colon", "enter", "t",
                                        "slash", "s", "T", "space",
                                        "1", "full_stop", "right_square_bracket")  # replay's

    DEFAULT_CSS = """
    ViewScreen { layout: vertical; }
    ViewScreen #view-title { height: 1; padding: 0 1; background: $boost; color: $text-accent;
                             text-style: bold; }
    ViewScreen .panel { border: round $primary-muted; border-title-color: $text-accent;
                        border-subtitle-color: $text-muted; }
    ViewScreen .panel:focus, ViewScreen .panel:focus-within { border: round $primary; }
    ViewScreen .muted { color: $text-muted; }
    ViewScreen .prompt { dock: bottom; display: none; border: none; height: 1; padding: 0 1;
                         margin-bottom: 1; background: $boost; }
    ViewScreen .prompt.-on { display: block; }
    ViewScreen.-narrow .panel { border: none; border-top: solid $primary-muted; }
    ViewScreen.-narrow .panel:focus, ViewScreen.-narrow .panel:focus-within {
        border: none; border-top: solid $primary; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("escape", "back", "Back", id="view_back", tooltip="Back (or back to live)"),
        Binding("t", "cycle_window", "Window", id="view_window", tooltip="15m → 1h → 6h → 24h → 7d"),
        Binding("T", "app.replay", "Replay", id="view_replay",
                tooltip="Jump to a past instant (again: back to live)"),
        Binding("colon", "jump", "Jump", id="view_jump",
                tooltip=registry.jump_help("views")),
        Binding("tab", "app.focus_next", "Next panel", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous panel", show=False),
    ]
    VIEW_TITLE = "view"

    window: reactive[str] = reactive("1h", init=False)

    def __init__(self, window: str = "1h", **kwargs) -> None:
        super().__init__(**kwargs)
        render_dirty_only(self)  # a refresh renders only its dirty lines
        preset_breakpoints(self)
        self.set_reactive(ViewScreen.window, window)
        self.snapshot: FleetSnapshot | None = None
        self._serials: dict[str, int] = {}
        self._asked: dict[str, tuple[object, datetime]] = {}
        self._stale = False  # a snapshot arrived while another view covered this one

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield ReplayBanner(id="replay-banner")
        yield Static(Text(self.VIEW_TITLE), id="view-title")
        yield from self.compose_body()
        yield Input(placeholder=registry.jump_help("views"), suggester=registry.SUGGEST, id="jump",
                    classes="prompt")
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - abstract
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#jump", Input).cursor_blink = False
        self.apply_snapshot(self.app.navigator.view_snapshot())

    def on_screen_resume(self, event: ScreenResume) -> None:
        skip_first_restyle(self, event)
        if self._stale and self.snapshot is not None:
            self.apply_snapshot(self.snapshot)  # the latest state, kept while covered

    # -- data in ----------------------------------------------------------------------------
    def apply_snapshot(self, snapshot: FleetSnapshot) -> None:
        """Show ``snapshot`` (main thread); under another view only kept, and applied
        once when this one is on top again (see console.screens.visibility)."""
        self.snapshot = snapshot
        if covered(self):
            self._stale = True
            return
        self._stale = False
        with self.app.batch_update():
            self.show_header()
            self.show(snapshot)

    def show(self, snapshot: FleetSnapshot) -> None:  # pragma: no cover - abstract
        """Render ``snapshot`` into the view's widgets."""

    def show_header(self) -> None:
        header = next(iter(self.query(FleetHeader)), None)
        if header is None:  # the screen is being taken apart (a tick while the app exits)
            return
        app, snap = self.app, self.snapshot
        header.show(
            context=snap.context if snap else None, namespace=snap.namespace if snap else None,
            window=self.window, paused=app.paused, read_only=app.read_only,
            sources=app.state.status, now=app.clock())

    def set_title(self, *parts: str) -> None:
        """The title line: view name and details (each part shown literally)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.VIEW_TITLE)
        for part in parts:
            text.append(" · ")
            text.append(part)
        # one line (height 1, the screen's width): no re-layout, whatever its length
        update_text(self.query_one("#view-title", Static), text, layout=False)

    def request(self, tag: str, fn: Callable[[], object]) -> None:
        """Fetch ``fn()`` in a thread; its answer goes to :meth:`receive`."""
        self._serials[tag] = self.app.navigator.fetch(self, tag, fn)

    def due(self, tag: str, key: object) -> bool:
        """True (and remembered) when ``tag``'s range data for ``key`` should be fetched:
        never asked, asked for another key, or older than RANGE_MAX_AGE_S."""
        now = self.app.navigator.view_at()
        last = self._asked.get(tag)
        if last is not None and last[0] == key and (now - last[1]).total_seconds() < RANGE_MAX_AGE_S:
            return False
        self._asked[tag] = (key, now)
        return True

    def forget(self, *tags: str) -> None:
        """Force the next :meth:`due` of ``tags`` (after a window change, say)."""
        for tag in tags or tuple(self._asked):
            self._asked.pop(tag, None)

    @on(ViewData)
    def _view_data(self, message: ViewData) -> None:
        if self._serials.get(message.tag) != message.serial:
            return
        self.app.navigator.view_points[message.tag] += message.points
        self.receive(message.tag, message.result, message.error)

    def receive(self, tag: str, result: object, error: str | None) -> None:
        """Handle the answer of ``request(tag, ...)`` (``error`` set when it failed)."""

    def watch_window(self) -> None:
        if self.is_mounted:
            self.show_header()
            self.on_window()

    def on_window(self) -> None:
        """The window changed: re-request range data."""

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Mutating actions are dimmed while replaying."""
        return None if self.app.navigator.replay_blocks(action) else True

    def action_back(self) -> None:
        """Close the prompt, else leave replay, else go back."""
        for prompt in self.query(".prompt.-on").results(Input):
            prompt.remove_class("-on")
            return
        if self.app.navigator.replay_at is not None:
            self.app.navigator.stop_replay()
            return
        self.app.pop_screen()

    def action_cycle_window(self) -> None:
        """Next time window (every screen follows)."""
        self.app.navigator.set_window(next_window(self.window))

    def action_jump(self) -> None:
        """Show the ``:`` jump prompt."""
        prompt = self.query_one("#jump", Input)
        prompt.value = ""
        prompt.add_class("-on")
        self.set_focus(prompt)  # at once: the keys typed after it go to the prompt

    @on(Input.Submitted, "#jump")
    def _jump_done(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("-on")
        self.jump_to(event.value)

    def jump_to(self, target: str) -> None:
        """Open the view named ``target``; other names go to the fleet screen's panels."""
        name = target.strip().lstrip(":").strip()  # (a context's name keeps its case)
        view = registry.find(name)
        if view is not None and view.opens == "view":
            self.app.navigator.open_view(view.name)
            return
        app = self.app
        while app.screen is not app.fleet_screen and len(app.screen_stack) > 1:
            app.pop_screen()
        if name and name.lower() not in ("models", "fleet"):
            app.fleet_screen.jump_to(name)
        elif name:
            app.fleet_screen.jump_to("models")

    def notify_error(self, what: str, error: str) -> None:
        self.notify(safe(error, 300), title=f"{what} failed", severity="warning", markup=False)
