"""Screenshots kept under ``snapshots/`` for a person to look at (the README shows them).

A test takes its screenshot every run (to its tmp dir: taking it is part of the test); the
committed file is replaced only when it is missing or ``PITBOARD_UPDATE_SCREENSHOTS=1``,
so a test run leaves the checkout unchanged. Pixels differ between chromium builds: these
are for reading, not for comparing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.browser.conftest import ROOT

SNAPSHOTS = ROOT / "snapshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def keep_screenshot(page, name: str, tmp: Path, *, full_page: bool = False) -> Path:
    """Screenshot ``page`` to ``tmp/name``; copy it to ``snapshots/name`` when asked."""
    shot = tmp / name
    page.screenshot(path=str(shot), full_page=full_page)
    assert shot.read_bytes()[:8] == PNG_MAGIC
    kept = SNAPSHOTS / name
    if not kept.exists() or os.environ.get("PITBOARD_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, kept)
    return kept
