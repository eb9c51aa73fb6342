"""Where the bench process's memory goes (``python -m console.cli.bench --memory-profile``).

``tracemalloc`` traces every allocation from before the source is built; after the views
and the soak, the live blocks are grouped (1) by the line that allocated them, (2) by the
first frame inside pitboard's own packages that led to them (what pitboard code owns the
memory, e.g. a pydantic instance made by ``backends/demo/metrics.py``), and (3) by owner
package: the demo simulator (``backends/demo``) apart from the console. ``gc`` counts the
live objects by type. Bench only: tracing slows everything down by several times.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections import Counter

FRAMES = 12
"""Frames kept per allocation: deep enough to reach pitboard's code through pydantic,
Textual and Rich."""

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OWN = tuple(os.path.join(_ROOT, p) + os.sep for p in ("backends", "console", "widgets"))
_BENCH = os.path.join(_ROOT, "console", "cli") + os.sep


def start() -> None:
    """Trace allocations from now on (restarting a trace already running)."""
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    tracemalloc.start(FRAMES)


def _short(filename: str) -> str:
    if filename.startswith(_ROOT + os.sep):
        return filename[len(_ROOT) + 1:]
    marker = os.sep + "site-packages" + os.sep
    at = filename.find(marker)
    return filename[at + len(marker):] if at >= 0 else filename


def _owner(trace: tracemalloc.Trace) -> str | None:
    """``file:line`` of the newest frame in pitboard's packages (the bench excluded)."""
    for frame in trace.traceback:  # most recent call first
        name = frame.filename
        if name.startswith(_OWN) and not name.startswith(_BENCH):
            return f"{_short(name)}:{frame.lineno}"
    return None


def _package(owner: str | None) -> str:
    if owner is None:
        return "other (imports, the framework's own state, the bench)"
    path = owner.rsplit(":", 1)[0]
    if path.startswith("backends/demo/"):
        return "demo simulator (backends/demo)"
    return "/".join(path.split("/")[:2])


def report(top: int = 25) -> dict:
    """Live memory now, grouped three ways, and the live objects by type; stops tracing."""
    gc.collect()
    snap = tracemalloc.take_snapshot()
    traced, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    by_line: Counter[str] = Counter()
    by_owner: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    for trace in snap.traces:
        frame = trace.traceback[0]
        by_line[f"{_short(frame.filename)}:{frame.lineno}"] += trace.size
        owner = _owner(trace)
        by_owner[owner or "(none of pitboard's code on the stack)"] += trace.size
        by_package[_package(owner)] += trace.size
    types: Counter[str] = Counter(type(o).__name__ for o in gc.get_objects())

    def mb(counter: Counter[str]) -> list[list]:
        return [[k, round(v / 2**20, 2)] for k, v in counter.most_common(top)]

    return {"traced_mb": round(traced / 2**20, 1), "traced_peak_mb": round(peak / 2**20, 1),
            "by_package_mb": mb(by_package), "by_owner_mb": mb(by_owner),
            "by_line_mb": mb(by_line),
            "objects_by_type": [[k, n] for k, n in types.most_common(top)],
            "note": "by_owner: the newest frame in backends/, console/ or widgets/ on the "
                    "allocation's stack; by_line: the line that allocated the block"}
