"""For the benchmark: what each import on the way to ``pitboard --demo``'s first frame costs.

Python's own import timer (``-X importtime``) in fresh processes, from the same bytecode as
the first-frame runs, the collector off as pitboard starts (console/__main__.py): the
modules ``pitboard --demo`` imports before its first frame (the command line's, the app's,
and the demo backend's, built in a worker while the screen composes) against those of the
bare Textual app (``console.cli._bench_bare``). Each module's own time (its children
apart), median over the runs, summed by owner: Textual and its libraries, pydantic, the
domain models, pitboard's packages, the standard library. The timer itself adds a few
microseconds per module: the figures are shares to compare, a little above the wall
clock."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

BARE_IMPORTS = ("console.cli._bench_bare",)
"""The bare app's module: Textual's app, header and footer."""

PITBOARD_IMPORTS = ("console.cli.main", "console.app", "console.wiring", "backends.demo.fleet")
"""What ``pitboard --demo`` imports before its first frame: the command line (which turns
pydantic's plugin discovery off first), the app with its first screen, and the demo
backend (console.wiring.build_demo)."""

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

TEXTUAL = frozenset({"textual", "rich", "markdown_it", "mdurl", "pygments", "platformdirs",
                     "linkify_it", "typing_extensions", "uc_micro"})
PYDANTIC = frozenset({"pydantic", "pydantic_core", "annotated_types", "typing_inspection"})
PITBOARD = frozenset({"console", "widgets", "backends"})


def parse_importtime(text: str) -> dict[str, int]:
    """Module -> its own import time (µs) from ``-X importtime`` output; other lines
    (the header, anything a module printed) are skipped."""
    own: dict[str, int] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            own[m.group(4)] = own.get(m.group(4), 0) + int(m.group(1))
    return own


def owner(module: str) -> str:
    """The group a module's time is counted in."""
    top = module.split(".", 1)[0]
    if module == "backends.domain.models":
        return "pitboard domain models (pydantic classes)"
    if module.startswith("backends.demo"):
        return "pitboard backends.demo (in a worker)"
    if top in PITBOARD:
        return f"pitboard {top}"
    if top in PYDANTIC:
        return "pydantic"
    if top in TEXTUAL:
        return "textual and its libraries"
    return "python standard library"


def summarise(runs: Sequence[Mapping[str, int]], bare_modules: Iterable[str]) -> dict:
    """Median own time per module over ``runs``, summed by owner (ms): all of pitboard's
    start, and the part the bare app does not import."""
    if not runs:
        raise ValueError("no runs to summarise")
    samples: dict[str, list[int]] = defaultdict(list)
    for run in runs:
        for module, us in run.items():
            samples[module].append(us)
    median: dict[str, float] = {m: statistics.median(v + [0] * (len(runs) - len(v)))
                                for m, v in samples.items()}
    bare = set(bare_modules)
    groups: dict[str, float] = defaultdict(float)
    extra: dict[str, float] = defaultdict(float)
    for module, own_us in median.items():
        groups[owner(module)] += own_us
        if module not in bare:
            extra[owner(module)] += own_us
    ours = sorted(((us, m) for m, us in median.items()
                   if m.split(".", 1)[0] in PITBOARD), reverse=True)

    def ms(d: Mapping[str, float]) -> dict[str, float]:
        return {k: round(v / 1000, 1) for k, v in sorted(d.items(), key=lambda kv: -kv[1])}

    return {"runs": len(runs), "modules": len(median),
            "total_ms": round(sum(median.values()) / 1000, 1),
            "by_owner_ms": ms(groups),
            "not_in_bare_app_ms": round(sum(extra.values()) / 1000, 1),
            "not_in_bare_app_by_owner_ms": ms(extra),
            "slowest_pitboard_modules_ms": {m: round(us / 1000, 2) for us, m in ours[:12]}}


def _importtime(imports: Sequence[str], pycache: str | None) -> str:
    code = ("import gc; gc.disable(); "
            + "; ".join(f"import {m}" for m in imports))
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"importing {', '.join(imports)} failed: {done.stderr[-2000:]}")
    return done.stderr


def import_costs(runs: int, pycache: str | None = None) -> dict:
    """Each import's cost on the way to the first frame (see the module's docstring);
    ``pycache``: the bytecode cache the first-frame runs use. One warm-up run first."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    bare = parse_importtime(_importtime(BARE_IMPORTS, pycache))
    _importtime(PITBOARD_IMPORTS, pycache)  # warm the caches
    timed = [parse_importtime(_importtime(PITBOARD_IMPORTS, pycache)) for _ in range(runs)]
    return summarise(timed, bare)
