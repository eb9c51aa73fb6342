"""The "REPLAY <time> <speed>" banner: shown while the console renders a past instant.

It says the replayed instant (UTC), whether replay is playing (``▶ 10x``) or paused
(``‖ 10x paused``), that actions are off, and as much of the replay keys as fits; it
never calls a replayed instant live."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

_TAILS = (
    "  read-only · space pause/play · 1/2/3 speed 1x/10x/60x · . , step · ] [ next/prev "
    "event · esc/T: exit replay",
    "  read-only · space ⏯ · 1/2/3 speed · ./, step · ]/[ event · T: exit",
    "  read-only · ? keys · T: exit replay",
    "  read-only · ? keys · T: exit",
    "  read-only · T: exit",
    "",
)


def replay_text(at: datetime | None, width: int = 200, speed: int = 1,
                paused: bool = False) -> Text:
    """Banner text for ``at`` replayed at ``speed`` (empty when live), fitted to ``width``."""
    if at is None:
        return Text("")
    out = Text(no_wrap=True, overflow="ellipsis")
    when = at.astimezone(timezone.utc) if at.tzinfo is not None else at
    head = f" REPLAY {when:%Y-%m-%d %H:%M:%S} UTC "
    state = f" ‖ {speed}x paused " if paused else f" ▶ {speed}x "
    out.append(head)
    out.append(state, "reverse")
    used = len(head) + len(state)
    out.append(next((t for t in _TAILS if used + len(t) <= width), ""))
    return out


class ReplayBanner(Static):
    """First line under the header of every screen; invisible while live. Set with
    :meth:`show_replay` (or ``at``, ``speed``, ``paused``)."""

    DEFAULT_CSS = """
    ReplayBanner { height: 1; display: none; background: $warning;
                   color: $text; text-style: bold; }
    ReplayBanner.-on { display: block; }
    """

    at: reactive[datetime | None] = reactive(None, init=False)
    speed: reactive[int] = reactive(1, init=False)
    paused: reactive[bool] = reactive(False, init=False)

    def on_mount(self) -> None:
        navigator = getattr(self.app, "navigator", None)
        clock = getattr(getattr(navigator, "player", None), "clock", None)
        if clock is not None:
            self.set_reactive(ReplayBanner.speed, clock.speed)
            self.set_reactive(ReplayBanner.paused, clock.paused)
        self.at = getattr(navigator, "replay_at", None)
        self._show()

    def show_replay(self, at: datetime | None, speed: int, paused: bool) -> None:
        """Show ``at`` replayed at ``speed`` (``paused``); ``at`` None hides the banner."""
        self.set_reactive(ReplayBanner.speed, speed)
        self.set_reactive(ReplayBanner.paused, paused)
        self.set_reactive(ReplayBanner.at, at)
        self._show()

    def watch_at(self) -> None:
        self._show()

    def watch_speed(self) -> None:
        self._show()

    def watch_paused(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        self.set_class(self.at is not None, "-on")
        self.update(replay_text(self.at, self.size.width or 200, self.speed, self.paused))
