"""One-line header: context, namespace, time window, pause state, per-source freshness, RO."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from backends.domain.models import SourceStatus
from widgets.badges import ReadOnlyBadge, SourceBadge, update_text
from widgets.text import safe


class FleetHeader(Horizontal):
    """Data in via :meth:`show`; every string is rendered literally."""

    DEFAULT_CSS = """
    FleetHeader { height: 1; dock: top; background: $panel; color: $text; }
    FleetHeader > Static { width: auto; padding: 0 1 0 0; }
    FleetHeader > #hdr-title { color: $accent; text-style: bold; padding: 0 1; }
    FleetHeader > #hdr-where { width: 1fr; min-width: 8; }
    FleetHeader > #hdr-paused { background: $warning; color: $text; padding: 0 1; display: none; }
    FleetHeader > #hdr-paused.-on { display: block; }
    FleetHeader > #hdr-window { color: $text-muted; }
    FleetHeader > #hdr-sources { width: auto; height: 1; }
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._parts: tuple | None = None
        self._badges: dict[str, SourceBadge] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text("pitboard"), id="hdr-title")
        yield Static(Text("…"), id="hdr-where")
        yield Static(Text(""), id="hdr-window")
        yield Static(Text("PAUSED"), id="hdr-paused")
        yield Horizontal(id="hdr-sources")
        yield ReadOnlyBadge(id="hdr-ro")

    def show(
        self,
        *,
        context: str | None,
        namespace: str | None,
        window: str,
        paused: bool,
        read_only: bool,
        sources: Mapping[str, SourceStatus],
        now: datetime,
        in_flight: str = "",
    ) -> None:
        """Render the header as of ``now``; ``in_flight``: the actions under way and on
        what (``rollback llm-chat · promote reranker``), shown after the place."""
        parts = self._parts
        if parts is None:  # looked up once: this runs on every refresh and every second
            parts = self._parts = (
                self.query_one("#hdr-where", Static), self.query_one("#hdr-window", Static),
                self.query_one("#hdr-paused", Static), self.query_one(ReadOnlyBadge),
                self.query_one("#hdr-sources", Horizontal))
        where_box, window_box, paused_box, ro_badge, box = parts
        where = Text(no_wrap=True, overflow="ellipsis")
        where.append(safe(context or "…", 40))
        where.append(" / ", "dim")
        where.append(safe(namespace or "all namespaces", 40))
        if in_flight:
            where.append("  ⟳ ", "bold")
            where.append(safe(in_flight, 120), "bold")
        update_text(where_box, where)
        update_text(window_box, Text(f"⏱ {window}"))
        paused_box.set_class(paused, "-on")
        ro_badge.read_only = read_only
        existing = self._badges
        if not box.is_attached:  # the app exits while its first screen mounts (a source
            return  # that failed at once, for good): no badge to add to a closing screen
        for name, status in sources.items():
            badge = existing.get(name)
            if badge is None:
                badge = SourceBadge(name, id=f"src-{len(existing)}")
                existing[name] = badge
                box.mount(badge)
            badge.show(status, now)
