"""The ``T`` prompt: pick an incident/alert start or type a UTC time to replay."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from backends.domain.models import Alert
from widgets.text import safe

_REL = re.compile(r"^-?\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)(?:\s*ago)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
            "%Y-%m-%d")


def parse_instant(text: str, now: datetime) -> datetime:
    """A past UTC instant from ``-90m``/``2h ago``, ``13:20`` (last occurrence, UTC) or an
    ISO date-time (``2026-11-21 13:20``, ``...Z``). Raises ValueError with the reason."""
    raw = text.strip()
    if not raw:
        raise ValueError("type a time: -90m, 2h ago, 13:20 or 2026-11-21 13:20 (UTC)")
    m = _REL.match(raw.lower())
    if m:
        at = now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    elif re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", raw):
        parts = [int(p) for p in raw.split(":")]
        if parts[0] > 23 or parts[1] > 59 or (len(parts) == 3 and parts[2] > 59):
            raise ValueError(f"not a time of day: {safe(raw, 40)}")
        at = now.replace(hour=parts[0], minute=parts[1], second=parts[2] if len(parts) == 3 else 0,
                         microsecond=0)
        if at > now:
            at -= timedelta(days=1)
    else:
        body = raw.removesuffix("Z").removesuffix("z")
        parsed = None
        try:
            parsed = datetime.fromisoformat(body)
        except ValueError:
            for fmt in _FORMATS:
                try:
                    parsed = datetime.strptime(body, fmt)
                    break
                except ValueError:
                    continue
        if parsed is None:
            raise ValueError(f"not a time: {safe(raw, 40)} (try -90m, 13:20, 2026-11-21 13:20)")
        at = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    if at > now:
        raise ValueError("that is in the future: replay shows the past")
    return at


def suggestions(alerts: Sequence[Alert], incidents: Sequence, now: datetime
                ) -> list[tuple[str, datetime]]:
    """(label, instant) choices: open incidents' starts, firing alerts' starts, presets."""
    out: list[tuple[str, datetime]] = []
    for inc in incidents:
        out.append((f"incident #{inc.id} {safe(inc.title, 40)} (opened)", inc.opened_at))
    started = [(a, a.starts_at) for a in alerts if a.starts_at is not None]
    for a, starts_at in sorted(started, key=lambda pair: pair[1]):
        who = f" · {safe(a.model, 24)}" if a.model else ""
        out.append((f"alert {safe(a.name, 30)}{who}", starts_at))
    for label, s in (("15 minutes ago", 900), ("1 hour ago", 3600), ("6 hours ago", 21600)):
        out.append((label, now - timedelta(seconds=s)))
    return out


class ReplayPrompt(ModalScreen[datetime | None]):
    """Choose the instant to replay; dismisses with it (None = cancelled)."""

    DEFAULT_CSS = """
    ReplayPrompt { align: center middle; }
    ReplayPrompt > Vertical { width: 90%; max-width: 80; height: auto; max-height: 90%;
        border: round $warning; background: $surface; padding: 0 1; }
    ReplayPrompt #replay-title { color: $text-accent; text-style: bold; }
    ReplayPrompt #replay-error { color: $error; height: auto; }
    ReplayPrompt OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="replay_cancel")]

    def __init__(self, now: datetime, choices: list[tuple[str, datetime]]) -> None:
        super().__init__()
        self.now = now
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Replay the console at… (UTC)"), id="replay-title")
            yield Input(placeholder="-90m · 2h ago · 13:20 · 2026-11-21 13:20", id="replay-at")
            yield Static(Text(""), id="replay-error")
            yield OptionList(*(Option(Text(f"{at:%m-%d %H:%M}  {label}"), id=str(i))
                               for i, (label, at) in enumerate(self.choices)), id="replay-choices")

    def on_mount(self) -> None:
        box = self.query_one("#replay-at", Input)
        box.cursor_blink = False
        box.focus()

    @on(Input.Submitted, "#replay-at")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip() and self.choices:
            self.query_one(OptionList).focus()
            return
        try:
            at = parse_instant(event.value, self.now)
        except ValueError as exc:
            self.query_one("#replay-error", Static).update(Text(str(exc)))
            return
        self.dismiss(at)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][1])
