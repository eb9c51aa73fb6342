"""Deterministic building blocks of the demo fleet: clocks, seeded noise, diurnal load.

Nothing here keeps global random state. A value is a pure function of
``(seed, entity, time bucket)``: :func:`entity_key` hashes the seed and an entity's name
once, :func:`noise` mixes that key with a time bucket, so results never depend on the
order in which the console asks for them.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

#: Prometheus-like scrape interval: instant values are constant within a bucket.
BUCKET_S = 15
_M64 = (1 << 64) - 1


class FrozenClock:
    """A clock for tests and snapshots: ``clock()`` returns the same instant until
    :meth:`advance` (or :meth:`set`) moves it. Thread-safe."""

    def __init__(self, at: datetime):
        self._lock = threading.Lock()
        self._at = _aware(at)

    def __call__(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` and return the new instant."""
        with self._lock:
            self._at = self._at + timedelta(seconds=seconds)
            return self._at

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (timezone-aware, or naive meaning UTC)."""
        with self._lock:
            self._at = _aware(at)

    def __repr__(self) -> str:
        return f"FrozenClock({self():%Y-%m-%dT%H:%M:%SZ})"


def real_clock() -> datetime:
    """The default clock: the real UTC now."""
    return datetime.now(timezone.utc)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        return at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc)


def entity_key(seed: int, *parts: object) -> int:
    """A stable 64-bit key for one entity (independent of PYTHONHASHSEED)."""
    raw = repr((seed, *parts)).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little")


def mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def noise(key: int, bucket: int) -> int:
    """64 random-looking bits for ``(entity key, time bucket)``; see :func:`lane`."""
    return mix64(key ^ ((bucket * 0xD1B54A32D192ED03) & _M64))


def lane(bits: int, i: int) -> float:
    """The i-th (0..3) uniform value in [0, 1) packed in 64 noise bits."""
    return ((bits >> (16 * i)) & 0xFFFF) / 65536.0


def unit(seed: int, *parts: object) -> float:
    """A static uniform value in [0, 1) for ``(seed, *parts)`` (build-time only)."""
    return entity_key(seed, *parts) / 2.0**64


def bucket_of(ts: float) -> int:
    """The scrape bucket holding POSIX time ``ts``."""
    return int(ts // BUCKET_S)


def diurnal(ts: float, peak_hour: float) -> float:
    """Traffic multiplier in [0.3, 1.0] for POSIX time ``ts``: a cosine over the UTC day
    peaking at ``peak_hour`` and bottoming out twelve hours later."""
    hour = (ts % 86400) / 3600.0
    x = math.cos(2.0 * math.pi * (hour - peak_hour) / 24.0)
    return 0.3 + 0.35 * (1.0 + x)


def day_start(ts: float) -> float:
    """POSIX time of the UTC midnight at or before ``ts``."""
    return ts - (ts % 86400)


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


@dataclass(frozen=True, slots=True)
class GpuType:
    """A GPU model as dcgm-exporter names it, with its price in the demo price table."""

    key: str
    model_name: str
    memory_mib: float
    tdp_w: float
    idle_w: float
    price_per_hour: float


GPU_TYPES: dict[str, GpuType] = {
    "h100": GpuType("h100", "NVIDIA H100 80GB HBM3", 81559.0, 700.0, 70.0, 4.10),
    "a100": GpuType("a100", "NVIDIA A100-SXM4-80GB", 81920.0, 400.0, 55.0, 2.90),
    "l4": GpuType("l4", "NVIDIA L4", 23034.0, 72.0, 16.0, 0.80),
}

#: Below this utilisation an allocated GPU counts as idle (and its cost as waste).
IDLE_UTIL_PERCENT = 10.0
