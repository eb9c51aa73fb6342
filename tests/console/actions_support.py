"""Helpers of the action Pilot tests: a demo app on a frozen clock with a tmp audit store
and an injected actor, and small waits (deadlines, never fixed sleeps)."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from backends.demo.fleet import FrozenClock
from backends.domain.models import ModelService
from console.app import make_app
from console.config import load_settings
from console.screens.modals.guard import GuardScreen, ProgressScreen
from console.wiring import build_demo
from tests.console.conftest import wait_for, workers_idle
from widgets.model_table import ModelTable

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
ALICE = "alice@laptop k8s:alice@example.com"
BOB = "bob@desk k8s:bob@example.com"
LLM = "demo/ml-serving/Deployment/llm-chat"
RERANKER = "demo/ml-serving/Rollout/reranker"
RECOMMENDER = "demo/ml-serving/InferenceService/recommender"


def action_app(db: Path, *, actor: str = ALICE, read_only: bool = False, hostile: bool = False,
               **actions):
    """(app, demo fleet): the demo on a frozen clock, the audit store at ``db``."""
    settings = load_settings(refresh=3600, read_only=read_only,
                             demo={"enabled": True, "hostile": hostile},
                             audit={"path": str(db)}, actions=actions)
    backends = build_demo(settings, clock=FrozenClock(FROZEN))
    backends.extra["actor"] = actor
    return make_app(settings, backends), backends.extra["fleet"]


async def ready(pilot) -> None:
    """Data on screen and the audit store opened (or given up)."""
    app = pilot.app
    await wait_for(pilot, lambda: app.state.metrics is not None
                   and not app.actions.audit_error.startswith("opening"))
    await workers_idle(pilot)


async def select(pilot, key: str) -> None:
    """Select the model ``key`` in the model table."""
    screen = pilot.app.fleet_screen
    table = screen.query_one(ModelTable)
    table.move_cursor(row=table.get_row_index(key))
    await wait_for(pilot, lambda: screen.selected == key)


async def type_text(pilot, text: str) -> None:
    """Type ``text`` key by key into the focused widget."""
    names = {" ": "space", "-": "minus", ".": "full_stop", ",": "comma", "\n": "enter"}
    for ch in text:
        await pilot.press(names.get(ch, ch))


async def open_guard(pilot, key: str) -> GuardScreen:
    """Press ``key`` (R or P) and wait for the guard modal."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, GuardScreen))
    return pilot.app.screen


async def until_done(pilot) -> ProgressScreen:
    """Wait for the progress view to show the result."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen) and app.screen.done
                   and not app.actions.action_busy)
    return app.screen


def service(fleet, key: str) -> ModelService:
    return next(s for s in fleet.cluster.read().services if s.key == key)


def kinds(app) -> list[tuple[str, str | None]]:
    return [(e.kind, e.outcome) for e in app.backends.audit.entries()]


def screen_text(app) -> str:
    """The visible screen as plain text (from the SVG export, unescaped)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def fill(pilot, screen, selector: str, text: str) -> None:
    """Put ``text`` into an Input of ``screen`` (as if typed, without a key per char)."""
    field = screen.query_one(selector)
    field.focus()
    field.value = text
    await pilot.pause()


async def highlight(pilot, table, row: int) -> None:
    """Focus ``table`` and move its cursor to ``row`` with the arrow keys, as a user would."""
    table.focus()
    await pilot.pause()
    while table.cursor_row > row:
        await pilot.press("up")
    while table.cursor_row < row:
        await pilot.press("down")
    await wait_for(pilot, lambda: table.cursor_row == row)
