"""SVG snapshots of ``:promotions`` (the release manager's queue) at 80x24 and 160x48 on
the demo fleet (frozen clock, seed 7). Update with ``pytest snapshots --snapshot-update``
and read the SVGs."""

from __future__ import annotations

import pytest

from snapshots.test_snapshots_views import SIZES, demo_app, opener


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_promotions(snap_compare, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=opener("promotions"))
