"""Status logic and small badge widgets (status, source freshness, read-only).

Colours come from theme variables only ($success, $warning, $error, ...), through CSS
classes; the Python side only picks a level.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from backends.domain.models import SourceStatus
from widgets.levels import Level, source_label
from widgets.text import safe


def update_text(widget: Static, text: Text, layout: bool | None = None) -> None:
    """``widget.update(text)`` only when it changed; layout only when its size changed
    (``layout=False``: never, for a widget whose size does not follow its text)."""
    key = (text.plain, tuple(text.spans), text.style)
    old = getattr(widget, "_pb_last", None)
    if old == key:
        return
    same_size = old is not None and len(old[0]) == len(key[0]) and old[0].count("\n") == key[0].count("\n")
    widget._pb_last = key  # type: ignore[attr-defined]  # the text shown, kept on Textual's Static
    widget.update(text, layout=not same_size if layout is None else layout)


class StatusBadge(Static):
    """A coloured word such as ``OK`` or ``DRIFT``; set ``status`` = (label, level)."""

    DEFAULT_CSS = """
    StatusBadge { width: auto; padding: 0 1; }
    StatusBadge.-ok { background: $success-muted; color: $text; }
    StatusBadge.-info { background: $primary-muted; color: $text; }
    StatusBadge.-warn { background: $warning-muted; color: $text; }
    StatusBadge.-bad { background: $error; color: $text; }
    StatusBadge.-unknown { background: $panel; color: $text-muted; }
    """

    status: reactive[tuple[str, Level]] = reactive(("?", Level.UNKNOWN))

    def watch_status(self, status: tuple[str, Level]) -> None:
        label, level = status
        for lv in Level:
            self.set_class(lv is level, f"-{lv.value}")
        update_text(self, Text(safe(label)))


class ReadOnlyBadge(Static):
    """``RO`` shown while the console is read-only; hidden otherwise."""

    DEFAULT_CSS = """
    ReadOnlyBadge { width: auto; padding: 0 1; background: $warning; color: $text; display: none; }
    ReadOnlyBadge.-on { display: block; }
    """

    read_only: reactive[bool] = reactive(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("RO"), **kwargs)

    def watch_read_only(self, value: bool) -> None:
        self.set_class(value, "-on")
        self.tooltip = "read-only: no mutating action is available" if value else None


class SourceBadge(Static, can_focus=True):
    """Freshness of one data source; the error shows as tooltip (hover) and on focus."""

    DEFAULT_CSS = """
    SourceBadge { width: auto; padding: 0 1; color: $text-muted; }
    SourceBadge.-ok { color: $success; }
    SourceBadge.-warn { color: $warning; }
    SourceBadge.-bad { background: $error-muted; color: $text; }
    SourceBadge:focus { text-style: reverse; }
    """

    def __init__(self, source: str, **kwargs) -> None:
        super().__init__(Text(f"{safe(source, 16)} …"), **kwargs)
        self.source = source
        self.error: str | None = None

    def show(self, status: SourceStatus, now: datetime) -> None:
        """Render ``status`` as of ``now`` (the app's clock: frozen in tests)."""
        label, level = source_label(status, now)
        if level is not getattr(self, "_level", None):  # every refresh: skip what did not change
            self._level = level
            for lv in Level:
                self.set_class(lv is level, f"-{lv.value}")
        update_text(self, Text(label))
        if status.error != self.error or self.tooltip is None and status.error:
            self.error = status.error
            self.tooltip = Text(safe(status.error, 300)) if status.error else None

    def on_focus(self) -> None:
        if self.error:
            self.notify(safe(self.error, 300), title=safe(self.source), severity="warning",
                        markup=False)
