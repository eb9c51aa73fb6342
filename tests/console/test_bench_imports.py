"""The benchmark's import costs (console.cli._bench_imports): the timer's output read
right, grouped by owner, and the imports it times are the ones pitboard --demo makes
before its first frame."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from console.cli._bench_imports import (PITBOARD_IMPORTS, import_costs, owner,
                                        parse_importtime, summarise)

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      5000 |       5200 |     pydantic_core._pydantic_core
something a module printed
import time:      3000 |      9000 |   backends.domain.models
import time:       700 |      9700 | console.app
import time:       400 |        400 | textual.app
"""


def test_importtime_lines_are_read_and_other_lines_skipped():
    assert parse_importtime(SAMPLE) == {
        "_io": 120, "pydantic_core._pydantic_core": 5000, "backends.domain.models": 3000,
        "console.app": 700, "textual.app": 400}


def test_owners():
    assert owner("backends.domain.models") == "pitboard domain models (pydantic classes)"
    assert owner("backends.demo.catalog") == "pitboard backends.demo (in a worker)"
    assert owner("backends.domain.slo") == "pitboard backends"
    assert owner("widgets.footer") == "pitboard widgets"
    assert owner("console.app") == "pitboard console"
    assert owner("pydantic_core.core_schema") == owner("annotated_types") == "pydantic"
    assert owner("rich.console") == owner("textual.app") == "textual and its libraries"
    assert owner("zoneinfo") == "python standard library"


def test_medians_by_owner_and_the_part_the_bare_app_lacks():
    runs = [{"console.app": 1000, "textual.app": 400, "pydantic": 9000},
            {"console.app": 3000, "textual.app": 600, "pydantic": 7000},
            {"console.app": 2000, "textual.app": 500}]  # pydantic missing: counted as 0
    out = summarise(runs, bare_modules={"textual.app"})
    assert out["runs"] == 3 and out["modules"] == 3
    assert out["by_owner_ms"] == {"pydantic": 7.0, "pitboard console": 2.0,
                                  "textual and its libraries": 0.5}
    assert out["total_ms"] == 9.5
    assert out["not_in_bare_app_ms"] == 9.0
    assert "textual and its libraries" not in out["not_in_bare_app_by_owner_ms"]
    assert out["slowest_pitboard_modules_ms"] == {"console.app": 2.0}
    with pytest.raises(ValueError):
        summarise([], ())


def test_real_imports_are_timed():
    out = import_costs(1)
    mine = out["not_in_bare_app_by_owner_ms"]
    assert out["runs"] == 1 and out["total_ms"] > out["not_in_bare_app_ms"] > 0
    for group in ("pydantic", "pitboard domain models (pydantic classes)",
                  "pitboard console", "pitboard widgets", "pitboard backends.demo (in a worker)"):
        assert mine[group] > 0, group
    assert "backends.domain.models" in out["slowest_pitboard_modules_ms"]
    with pytest.raises(ValueError):
        import_costs(0)


def test_the_timed_imports_are_those_of_the_first_frame():
    """pitboard's own modules loaded when the demo's first frame is out (every source
    answered: where the benchmark's marker is written) are all among those
    PITBOARD_IMPORTS loads: the figures leave none out. (The work after the first frame
    -- the audit store, opened in a worker -- is left out: it imports after the frame.)"""
    script = textwrap.dedent("""
        import asyncio, json, sys
        import console.screens.fleet as fleet
        from console.app import PitboardApp, make_app
        from console.config_core import quick_settings

        at_frame = []
        fleet._mark_first_frame = lambda path: at_frame.append(sorted(
            m for m in sys.modules if m.split(".")[0] in ("console", "widgets", "backends")))
        PitboardApp.after_first_frame = lambda self: None

        async def main():
            app = make_app(quick_settings(demo={"enabled": True}))
            async with app.run_test(size=(80, 24)) as pilot:
                for _ in range(400):
                    if at_frame:
                        break
                    await pilot.pause(0.01)
                assert at_frame, "no first frame"
                print(json.dumps(at_frame[0]))
        asyncio.run(main())
    """)
    env = {**os.environ, "PITBOARD_FIRST_FRAME_FILE": os.devnull}  # the marker's moment
    at_frame = set(json.loads(subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        timeout=120, env=env).stdout.strip().splitlines()[-1]))
    timed = set(json.loads(subprocess.run(
        [sys.executable, "-c", "import json, sys; "
         + "; ".join(f"import {m}" for m in PITBOARD_IMPORTS)
         + "; print(json.dumps([m for m in sys.modules "
           "if m.split('.')[0] in ('console', 'widgets', 'backends')]))"],
        capture_output=True, text=True, check=True, timeout=120).stdout))
    assert "backends.demo.fleet" in at_frame
    assert at_frame - timed == set()
