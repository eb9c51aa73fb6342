"""nvitop-like meters: smooth block bars for utilisation, memory, temperature and power.

Pure string helpers (no widget): the caller picks the style from :func:`level_for`.
A missing value renders as dots, never as an empty (zero) bar.
"""

from __future__ import annotations

from backends.domain.models import GpuDevice
from widgets.levels import MEMORY_THRESHOLDS, UTIL_THRESHOLDS, Level, load_level, temp_level
from widgets.series_chart import finite

EIGHTHS = " ▏▎▍▌▋▊▉█"
TEMP_SCALE_C = 100.0
"""Temperature bars are drawn on a 0..100 C scale."""

#: Board power limits (W) by GPU model substring; unknown models use the fleet's maximum.
TDP_W = (("H200", 700.0), ("H100", 700.0), ("B200", 1000.0), ("A100", 400.0),
         ("L40S", 350.0), ("L40", 300.0), ("A10", 150.0), ("L4", 72.0), ("T4", 70.0),
         ("V100", 300.0))


def meter(percent: float | None, width: int) -> str:
    """A ``width``-cell bar with 1/8-cell resolution; dots when the value is missing."""
    if width <= 0:
        return ""
    p = finite(percent)
    if p is None:
        return "·" * width
    eighths = round(max(0.0, min(100.0, p)) / 100.0 * width * 8)
    full, part = divmod(eighths, 8)
    out = "█" * full + (EIGHTHS[part] if part else "")
    return out + " " * (width - len(out))


def tdp_for(model_name: str | None) -> float | None:
    """Board power limit of a GPU model, when known."""
    if not model_name:
        return None
    upper = model_name.upper()
    for key, watts in TDP_W:
        if key in upper:
            return watts
    return None


def power_limits(gpus: list[GpuDevice] | tuple[GpuDevice, ...]) -> dict[str | None, float]:
    """Power scale per GPU model: the known TDP, or the highest power seen for that model."""
    seen: dict[str | None, float] = {}
    for g in gpus:
        p = finite(g.power_watts)
        if p is not None and p > seen.get(g.model_name, 0.0):
            seen[g.model_name] = p
    out = {}
    for name, peak in seen.items():
        tdp = tdp_for(name)
        out[name] = max(tdp or 0.0, peak)
    return out


def power_percent(g: GpuDevice, limits: dict[str | None, float]) -> float | None:
    """Power as a percentage of its model's limit (None when unknown)."""
    p = finite(g.power_watts)
    limit = limits.get(g.model_name) or tdp_for(g.model_name)
    if p is None or not limit:
        return None
    return 100.0 * p / limit


def temp_percent(g: GpuDevice) -> float | None:
    t = finite(g.temperature_c)
    return None if t is None else 100.0 * t / TEMP_SCALE_C


def level_for(kind: str, value: float | None) -> Level:
    """nvitop's light/moderate/heavy levels per figure (temperature in C, others in %)."""
    if kind == "util":
        return load_level(value, UTIL_THRESHOLDS)
    if kind == "memory":
        return load_level(value, MEMORY_THRESHOLDS)
    if kind == "temp":
        return temp_level(value)
    if kind == "power":
        return load_level(value, (50.0, 90.0))
    return Level.UNKNOWN
