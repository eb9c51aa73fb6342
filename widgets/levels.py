"""Levels of the figures on screen (ok, info, warn, bad, unknown) and the thresholds that
pick them. Pure: no Textual import, so presenters and any thread may use them; the widgets
map a level to a CSS class / component class, whose colour comes from the theme."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from backends.domain.models import DriftSeries, HealthSample, ModelService, SourceStatus
from widgets.text import fmt_age, safe


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


# nvitop's thresholds: (light, heavy) boundaries in percent.
UTIL_THRESHOLDS = (10.0, 75.0)
MEMORY_THRESHOLDS = (10.0, 80.0)
TEMP_WARN_C = 70.0
TEMP_HOT_C = 80.0


def load_level(value: float | None, thresholds: tuple[float, float]) -> Level:
    """light -> OK, moderate -> WARN, heavy -> BAD (nvitop's green/yellow/red)."""
    if value is None:
        return Level.UNKNOWN
    low, high = thresholds
    if value >= high:
        return Level.BAD
    if value >= low:
        return Level.WARN
    return Level.OK


def temp_level(value: float | None) -> Level:
    """Temperature: hot (bad) at >= 80 C, warm (warn) at >= 70 C."""
    if value is None:
        return Level.UNKNOWN
    if value >= TEMP_HOT_C:
        return Level.BAD
    if value >= TEMP_WARN_C:
        return Level.WARN
    return Level.OK


def bar(percent: float | None, width: int) -> str:
    """A ``width``-cell bar; blank dots when the value is missing."""
    if width <= 0:
        return ""
    if percent is None:
        return "·" * width
    filled = round(max(0.0, min(100.0, percent)) / 100.0 * width)
    return "█" * filled + "░" * (width - filled)
