"""Command palette provider: context-aware entries (models on screen, windows, panels)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from console.controllers.action_keys import palette_entries
from console.controllers.state import WINDOWS
from console.screens import registry
from widgets.model_table import ModelTable
from widgets.text import safe

if TYPE_CHECKING:
    from console.app import PitboardApp


class FleetCommands(Provider):
    """Select a model, change the window, jump to a panel, pause/resume, filter, help."""

    if TYPE_CHECKING:  # the pitboard app (Textual types it App[object]); see console.screens.typed
        @property
        def app(self) -> PitboardApp: ...

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        fleet = getattr(app, "fleet_screen", None)
        out: list[tuple[str, Callable[[], object], str]] = []
        if fleet is None:
            return out
        paused = getattr(app, "paused", False)
        player = getattr(getattr(app, "navigator", None), "player", None)
        if player is not None and player.clock is not None:  # replaying: space is the player's
            out.append(("Resume replay" if player.paused else "Pause replay",
                        app.action_toggle_pause, "space"))
        else:
            out.append(("Resume refresh" if paused else "Pause refresh",
                        app.action_toggle_pause, "space"))
        out.append(("Filter models", fleet.action_filter, "/"))
        out.append(("Show keys (help)", app.action_help, "?"))
        out.extend(palette_entries(app))
        for label, _ in WINDOWS:
            if label != fleet.window:
                setter = getattr(getattr(app, "navigator", None), "set_window", None) or partial(setattr, fleet, "window")
                out.append((f"Time window {label}", partial(setter, label), "t"))
        for view in registry.VIEWS:
            if view.opens == "panel":
                out.append((f"Jump to {view.name}", partial(fleet.jump_to, view.name),
                            f":{view.name}"))
        if hasattr(app, "navigator"):
            for view in registry.listed("palette"):
                out.append((f"Open {view.name} view", partial(app.navigator.open_view,
                                                              view.name),
                            f":{view.name} · {view.help}"))
            out.append(("Back to live" if getattr(getattr(app, "navigator", None), "replay_at", None) else
                        "Replay a past instant", app.navigator.action_replay, "T"))
        snap = fleet.snapshot
        if snap is not None:
            for svc in snap.services:
                out.append((f"Model {safe(svc.name, 60)}", partial(self._select, svc.key),
                            f"{safe(svc.namespace, 30)} · {svc.kind.value}"))
        return out

    def _select(self, key: str) -> None:
        fleet = self.app.fleet_screen
        table = fleet.query_one("#models", ModelTable)
        table.filter_text = ""
        try:
            table.move_cursor(row=table.get_row_index(key))
        except Exception:  # noqa: BLE001 - model vanished meanwhile
            return
        fleet.selected = key
        table.focus()

    async def discover(self) -> Hits:
        for label, callback, help_text in self._entries()[:12]:
            yield DiscoveryHit(Content(label), callback, text=label, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, callback, help_text in self._entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(escape(label)), callback, text=label,
                          help=escape(help_text))
