"""The audit and incident views fit their footer to the terminal: at 80 columns back, help
and the keys an incident needs stay visible and whole; at 160 every key is shown; the help
still lists the hidden ones."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from backends.audit.store import SqliteAudit
from backends.demo.fleet import FrozenClock
from console.screens.audit import AuditScreen
from console.screens.modals.help import help_rows
from console.screens.incident import IncidentScreen
from tests.console.actions_support import ALICE, FROZEN, action_app, ready
from tests.console.conftest import wait_for

AUDIT_ALL = {"esc", "r", "q", "?", "space", "T"}
INCIDENT_ALL = {"esc", "r", "n", "e", "q", "?", "space", "T"}


def _keys(screen) -> tuple[list[FooterKey], FooterKey | None]:
    """(the footer's keys, the command palette key) on ``screen``."""
    keys = list(screen.query(FooterKey))
    palette = next((k for k in keys if "-command-palette" in k.classes), None)
    return [k for k in keys if k is not palette], palette


def _shown(screen) -> set[str]:
    return {k.key_display for k in _keys(screen)[0]}


def _app(tmp_path):
    db = tmp_path / "audit.db"
    store = SqliteAudit(db, clock=FrozenClock(FROZEN))
    store.open_incident("llm-chat p95 over SLO", "SEV2", ALICE)  # n and e are usable
    store.close()
    return action_app(db)[0]


async def _open(pilot, name: str, kind: type) -> None:
    app = pilot.app
    await ready(pilot)
    await pilot.press("colon", *name, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, kind) and app.screen.view is not None
                   and bool(_keys(app.screen)[0]))


def _whole(screen) -> None:
    """No key is cut by the screen edge or covered by the palette key."""
    keys, palette = _keys(screen)
    assert palette is not None
    assert all(k.region.right <= palette.region.x for k in keys)
    assert palette.region.right <= screen.size.width


@pytest.mark.parametrize("size,shown", [
    ((60, 24), {"esc", "?", "r", "q"}),
    ((80, 24), AUDIT_ALL),
    ((160, 48), AUDIT_ALL),
])
async def test_audit_footer_fits_the_terminal(tmp_path, size, shown):
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await _open(pilot, "audit", AuditScreen)
        assert _shown(app.screen) == shown
        _whole(app.screen)


@pytest.mark.parametrize("size,shown", [
    ((80, 24), {"esc", "?", "n", "e", "q", "r"}),  # space Pause and T Replay left out
    ((160, 48), INCIDENT_ALL),
])
async def test_incident_footer_fits_the_terminal(tmp_path, size, shown):
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await _open(pilot, "incident", IncidentScreen)
        assert _shown(app.screen) == shown
        _whole(app.screen)
        assert app.screen.active_bindings["n"].enabled  # shown usable, not dimmed


async def test_incident_footer_refits_and_help_lists_hidden_keys(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, "incident", IncidentScreen)
        screen = app.screen
        assert _shown(screen) == INCIDENT_ALL
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "T" not in _shown(screen))
        assert _shown(screen) == {"esc", "?", "n", "e", "q", "r"}
        _whole(screen)
        listed = {row[0] for row in help_rows(screen)[0]}
        assert {"space", "T", "n", "e", "?"} <= listed  # hidden from the footer, not from ?
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
