"""When the cyclic garbage collector makes its full passes: between refreshes, not in one.

Python's collector runs its full pass (every tracked object) at whatever allocation tips
it over, and a refresh allocates a new snapshot: at 20,000 GPUs / 3,000 models that pass
took ~80-240 ms in the middle of one refresh in five (the fleet refresh's p95). After the
first frame the start-up objects are frozen out of it (``gc.freeze``), the automatic full
pass is turned off, and :class:`Collector` makes it itself once the screen has been idle
for ``IDLE_S`` after a refresh, at most every ``EVERY_S`` (and every ``LATEST_S`` whatever
happens, so cyclic garbage never waits longer). What a pass leaves is frozen too, so the
next pass looks only at what was made since; every ``DEEP_EVERY_S`` a pass looks at
everything again (cycles that died after being frozen). The young generations still
collect as usual (a few ms). Each pass's duration is kept (``pauses_ms``) for
``pitboard bench``.
"""

from __future__ import annotations

import gc
import time
from collections import deque

from textual.timer import Timer

from console.controllers.base import Controller

IDLE_S = 1.0
EVERY_S = 30.0
LATEST_S = 120.0
DEEP_EVERY_S = 600.0
_NEVER = 2**30  # a full pass only when asked


class Collector(Controller):
    """Owns the collector's full passes once the console is up (:meth:`start`)."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.started = False
        self.pauses_ms: deque[float] = deque(maxlen=64)
        self._saved: tuple[int, int, int] | None = None
        self._last = self._deep = time.monotonic()
        self._timer: Timer | None = None

    def start(self) -> None:
        """After the first frame: freeze what start-up made, take over the full passes."""
        if self.started:
            return
        self.started = True
        gc.freeze()
        self._saved = gc.get_threshold()
        young, middle, _full = self._saved
        gc.set_threshold(young, middle, _NEVER)
        gc.enable()
        self._last = self._deep = time.monotonic()
        self.app.set_interval(LATEST_S, self.collect, name="gc-latest")

    def refreshed(self) -> None:
        """A refresh was shown: a full pass, if one is due, once the screen is idle."""
        if not self.started or time.monotonic() - self._last < EVERY_S:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(IDLE_S, self.collect, name="gc-idle")

    def collect(self) -> None:
        """One full pass now (timed) over what was made since the last one; every
        ``DEEP_EVERY_S`` over everything (what a pass leaves is frozen out of the next:
        at 20,000 GPUs a pass over the whole heap takes ~0.3-1 s, over the last 30 s of
        allocations a few ms; the deep pass frees cycles that died after being frozen)."""
        self._timer = None
        now = time.monotonic()
        t0 = time.perf_counter()
        if now - self._deep >= DEEP_EVERY_S:
            gc.unfreeze()
            self._deep = now
        gc.collect()
        gc.freeze()
        self.pauses_ms.append((time.perf_counter() - t0) * 1000)
        self._last = time.monotonic()

    def stop(self) -> None:
        """The app is leaving: the collector as it was (tests run many apps in one
        process)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
            gc.unfreeze()
