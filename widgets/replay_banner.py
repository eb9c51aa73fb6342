"""The "REPLAY <time>" banner: shown while the console renders a past instant."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


def replay_text(at: datetime | None, width: int = 200) -> Text:
    """Banner text for ``at`` (empty when live)."""
    if at is None:
        return Text("")
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f" REPLAY {at:%Y-%m-%d %H:%M:%S} UTC ")
    if width >= 60:
        out.append(" read-only · history from metrics · esc/T: back to live")
    else:
        out.append(" read-only · T: live")
    return out


class ReplayBanner(Static):
    """First line under the header of every screen; invisible while live. Set ``at``."""

    DEFAULT_CSS = """
    ReplayBanner { height: 1; display: none; background: $warning;
                   color: $text; text-style: bold; }
    ReplayBanner.-on { display: block; }
    """

    at: reactive[datetime | None] = reactive(None, init=False)

    def on_mount(self) -> None:
        self.at = getattr(getattr(self.app, "navigator", None), "replay_at", None)
        self._show()

    def watch_at(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        self.set_class(self.at is not None, "-on")
        self.update(replay_text(self.at, self.size.width or 200))
