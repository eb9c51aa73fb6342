"""Status logic and small badge widgets (status, source freshness, read-only).

Colours come from theme variables only ($success, $warning, $error, ...), through CSS
classes; the Python side only picks a level.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from backends.domain.models import DriftSeries, HealthSample, ModelService, SourceStatus
from widgets.text import fmt_age, safe


def update_text(widget: Static, text: Text) -> None:
    """``widget.update(text)`` only when it changed; layout only when its size changed."""
    key = (text.plain, tuple(text.spans), text.style)
    old = getattr(widget, "_pb_last", None)
    if old == key:
        return
    same_size = old is not None and len(old[0]) == len(key[0]) and old[0].count("\n") == key[0].count("\n")
    widget._pb_last = key  # type: ignore[attr-defined]  # the text shown, kept on Textual's Static
    widget.update(text, layout=not same_size)


class Level(str, Enum):
    """Severity of a figure; maps to a CSS class / component class suffix."""

    OK = "ok"
    INFO = "info"
    WARN = "warn"
    BAD = "bad"
    UNKNOWN = "unknown"


ERROR_WARN = 0.01
ERROR_BAD = 0.05


def error_level(ratio: float | None) -> Level:
    """Error ratio (0..1) -> level: >= 5 % bad, >= 1 % warn."""
    if ratio is None:
        return Level.UNKNOWN
    if ratio >= ERROR_BAD:
        return Level.BAD
    if ratio >= ERROR_WARN:
        return Level.WARN
    return Level.OK


def drift_level(drift: DriftSeries | None) -> Level:
    """Latest drift relative to its threshold: over -> bad, >= 80 % -> warn."""
    if drift is None or drift.latest is None or drift.threshold <= 0:
        return Level.UNKNOWN
    ratio = drift.latest / drift.threshold
    if ratio > 1:
        return Level.BAD
    if ratio >= 0.8:
        return Level.WARN
    return Level.OK


def model_status(
    service: ModelService, health: HealthSample | None, drift: DriftSeries | None
) -> tuple[str, Level]:
    """One badge for a model: DOWN, ERRORS, DEGRADED, DRIFT, CANARY, PAUSED, ROLLING, OK or
    ? (unknown: no health figures)."""
    ready, desired = service.replicas_ready, service.replicas_desired
    if ready is not None and desired and ready == 0:
        return "DOWN", Level.BAD
    err = error_level(health.error_ratio if health else None)
    if err is Level.BAD:
        return "ERRORS", Level.BAD
    if ready is not None and desired is not None and ready < desired:
        return "DEGRADED", Level.WARN
    if drift_level(drift) is Level.BAD:
        return "DRIFT", Level.WARN
    if err is Level.WARN:
        return "ERRORS", Level.WARN
    if service.canary is not None:
        return "CANARY", Level.INFO
    if service.paused:
        return "PAUSED", Level.WARN
    if service.rollout_in_progress:
        return "ROLLING", Level.INFO
    if ready is None or health is None:
        return "?", Level.UNKNOWN
    return "OK", Level.OK


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


def source_label(status: SourceStatus, now: datetime) -> tuple[str, Level]:
    """``prometheus  3s`` when fresh, ``cluster  3s partial`` when part of it failed
    (the reason in the tooltip), ``prometheus stale 42s`` after a failure. The age is
    padded to 3 cells so a ticking age does not force a layout pass."""
    age = status.age(now)
    name = safe(status.name, 16)
    if status.ok:
        if status.last_success is None:
            return f"{name}   …", Level.UNKNOWN
        if status.error:  # answered, but part of it failed (one context of several)
            return f"{name} {fmt_age(age):>3} partial", Level.WARN
        return f"{name} {fmt_age(age):>3}", Level.OK
    if age is None:
        return f"{name} failed", Level.BAD
    return f"{name} stale {fmt_age(age):>3}", Level.BAD


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
