"""SVG snapshots of the contexts view (``:ctx``) at 80x24 and 160x48 (frozen clock),
plain and with a context policy (protected, approvals). Update with
``pytest snapshots/test_snapshots_ctx.py --snapshot-update`` and read the SVGs."""

from __future__ import annotations

import pytest

from backends.demo.fleet import FrozenClock
from console.app import make_app
from console.config import load_settings
from console.wiring import build_demo
from snapshots.test_snapshots_views import FROZEN, SIZES, opener

POLICY = {"protected_contexts": ["demo"], "contexts": {"demo": {"approvals_required": 2}}}


def demo_app(**settings):
    cfg = load_settings(refresh=3600, demo={"enabled": True}, **settings)
    return make_app(cfg, build_demo(cfg, clock=FrozenClock(FROZEN)))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ctx(snap_compare, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=opener("ctx"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ctx_policy(snap_compare, size):
    """A protected context needing 2 approvals, its row selected (detail line in full)."""
    assert snap_compare(demo_app(actions=POLICY), terminal_size=size,
                        run_before=opener("ctx", "down"))
