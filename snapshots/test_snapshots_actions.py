"""SVG snapshots of the guard modal (passing and failing checks), the audit view and an
incident view, at 80x24 and 160x48. Frozen clock, fixed seed, injected actor, the audit
store at a relative path (``audit.db`` in a tmp working directory): nothing varies per
machine.

Update with ``pytest snapshots/test_snapshots_actions.py --snapshot-update`` and look at
the SVGs in ``snapshots/__snapshots__/test_snapshots_actions/``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from backends.domain.actions import ActionKind, ActionRequest
from backends.audit.store import SqliteAudit
from backends.demo.fleet import FrozenClock, make_demo
from backends.actions.guard import ActionRunner
from backends.domain.models import FleetSnapshot
from console.app import make_app
from console.config import load_settings
from console.wiring import build_demo
from snapshots.settle import tables_settled

FROZEN = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (160, 48)]
ALICE = "alice@laptop k8s:alice@example.com"
BOB = "bob@desk k8s:bob@example.com"
LLM = "demo/ml-serving/Deployment/llm-chat"
RERANKER = "demo/ml-serving/Rollout/reranker"
RECOMMENDER = "demo/ml-serving/InferenceService/recommender"
ids = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the audit store is "audit.db": the same path everywhere


def demo_app():
    settings = load_settings(refresh=3600, demo={"enabled": True},
                             audit={"path": "audit.db"})
    backends = build_demo(settings, clock=FrozenClock(FROZEN))
    backends.extra["actor"] = ALICE
    return make_app(settings, backends)


def seed_audit() -> None:
    """A scripted history: incident, note, a rollback, an approval, a crashed promote."""
    clock = FrozenClock(FROZEN)
    fleet = make_demo(seed=7, clock=clock)
    audit = SqliteAudit("audit.db", clock=clock)
    runner = ActionRunner(fleet.cluster, audit, clock, sleep=clock.advance,
                          monotonic=lambda: clock().timestamp())
    audit.open_incident("llm-chat p95 over SLO", "SEV2", ALICE)
    clock.advance(60)
    audit.add_note("p95 doubled after v1.4.2; rolling back.\n[bold red]not markup[/]", ALICE,
                   {"service_key": LLM, "model": {"name": "llm-chat", "p95_ms": 3975.0}})
    clock.advance(30)
    part = fleet.cluster.read()
    snap = FleetSnapshot(taken_at=clock(), context=part.context, services=part.services,
                         revisions=part.revisions)
    plan = runner.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=LLM), snap)
    runner.run(plan, "p95 regression since v1.4.2", ALICE)
    clock.advance(45)
    runner.approve(RERANKER, BOB, "canary error ratio flat for 2h", canary="5")
    clock.advance(20)
    audit.append("intent", actor=ALICE, action="promote", target=RERANKER,
                 reason="promote after approval", detail={"object_ref": "rollout/reranker"})
    audit.close()


async def loaded(pilot) -> None:
    """Every source, the chart and the audit store, then no worker running."""
    app = pilot.app
    deadline = time.monotonic() + 15
    while not (all(s.last_success for s in app.state.status.values())
               and app.fleet_screen._chart is not None
               and app.fleet_screen._chart._data is not None
               and not app.actions.audit_error.startswith("opening")):
        assert time.monotonic() < deadline, "demo data did not arrive"
        await pilot.pause(0.02)
    await idle(pilot)


async def idle(pilot, timeout: float = 10.0) -> None:
    from textual.worker import WorkerState

    deadline = time.monotonic() + timeout
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        assert time.monotonic() < deadline, "workers still running after the deadline"
        await pilot.pause(0.01)
    await tables_settled(pilot)


async def until(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await pilot.pause(0.02)
    await idle(pilot)


async def _guard(pilot, key: str, service: str, reason: str = "") -> None:
    from console.screens.modals.guard import GuardScreen
    from widgets.model_table import ModelTable

    await loaded(pilot)
    app = pilot.app
    table = app.fleet_screen.query_one(ModelTable)
    table.move_cursor(row=table.get_row_index(service))
    await until(pilot, lambda: app.fleet_screen.selected == service)
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, GuardScreen))
    if reason:
        app.screen.query_one("#reason").value = reason
    await idle(pilot)


@ids
def test_guard_passing_checks(snap_compare, size):
    async def run_before(pilot):
        await _guard(pilot, "R", LLM)

    assert snap_compare(demo_app(), terminal_size=size, run_before=run_before)


@ids
def test_guard_failing_checks(snap_compare, size):
    async def run_before(pilot):
        await _guard(pilot, "P", RECOMMENDER, reason="errors are a known client bug")

    assert snap_compare(demo_app(), terminal_size=size, run_before=run_before)


@ids
def test_audit_view(snap_compare, size):
    seed_audit()

    async def run_before(pilot):
        from console.screens.audit import AuditScreen

        await loaded(pilot)
        await pilot.press("colon", *"audit", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, AuditScreen)
                    and pilot.app.screen.view is not None)
        pilot.app.clear_notifications()
        await idle(pilot)

    assert snap_compare(demo_app(), terminal_size=size, run_before=run_before)


@ids
def test_incident_view(snap_compare, size):
    seed_audit()

    async def run_before(pilot):
        from console.screens.incident import IncidentScreen

        await loaded(pilot)
        pilot.app.clear_notifications()
        await pilot.press("colon", *"incident", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IncidentScreen)
                    and pilot.app.screen.view is not None)

    assert snap_compare(demo_app(), terminal_size=size, run_before=run_before)
