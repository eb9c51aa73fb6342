"""Session history: what this console saw while live, for charts the backend cannot give.

Bounded ring buffers per GPU and per model (main thread only; fed from snapshots).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from backends.domain.models import FleetSnapshot
from widgets.gpu_plan import gpu_key

MAX_SAMPLES = 240
Row = tuple[datetime, tuple[float | None, ...]]


class SessionHistory:
    """Last ``MAX_SAMPLES`` refreshes of each GPU's and LLM model's figures."""

    def __init__(self, maxlen: int = MAX_SAMPLES) -> None:
        self.maxlen = maxlen
        self.gpus: dict[str, deque[Row]] = {}
        self.models: dict[str, deque[Row]] = {}
        self._last: datetime | None = None

    def record(self, snapshot: FleetSnapshot, gpus: bool = True, models: bool = True) -> None:
        """Append the snapshot's figures once per distinct instant (``gpus`` / ``models``
        False: not needed, the backend answers range queries for them)."""
        at = snapshot.taken_at
        if self._last is not None and at <= self._last:
            return
        self._last = at
        for g in snapshot.gpus if gpus else ():
            row = (at, (g.util_percent, g.memory_percent, g.temperature_c, g.power_watts))
            self.gpus.setdefault(gpu_key(g), deque(maxlen=self.maxlen)).append(row)
        for name, h in snapshot.health.items() if models else ():
            if h.ttft_p95_ms is None and h.tokens_per_s is None and h.kv_cache_percent is None:
                continue
            row = (at, (h.ttft_p95_ms, h.tokens_per_s, h.queue_depth, h.kv_cache_percent))
            self.models.setdefault(name, deque(maxlen=self.maxlen)).append(row)
