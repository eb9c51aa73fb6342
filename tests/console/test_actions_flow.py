"""Pilot tests of the guarded action path on the demo fleet: rollback, promote, gates,
overrides, protected contexts, read-only and approvals."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Checkbox

from console.screens.modals.guard import GuardScreen
from tests.console.actions_support import (ALICE, BOB, LLM, RECOMMENDER, RERANKER, action_app,
                                           fill, kinds, open_guard, ready, screen_text, select,
                                           service, type_text, until_done)
from tests.console.conftest import wait_for


async def test_rollback_cancel_then_confirm(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        before = service(fleet, LLM)
        top = fleet.cluster.read().revisions[LLM][0].number
        guard = await open_guard(pilot, "R")
        text = screen_text(app)
        for shown in ("Roll back llm-chat", "demo / ml-serving / deployment/llm-chat",
                      "revision", f"{top + 1} (template of revision", "no rollout in flight",
                      "dry run"):
            assert shown in text
        assert guard.query_one("#confirm", Button).disabled
        await pilot.press("escape")  # cancel: nothing sent, nothing recorded
        await wait_for(pilot, lambda: app.screen is app.fleet_screen and not app.actions.action_busy)
        assert service(fleet, LLM) == before and kinds(app) == []

        guard = await open_guard(pilot, "R")
        await type_text(pilot, "p95 regression")
        assert not guard.query_one("#confirm", Button).disabled
        await pilot.press("enter")
        progress = await until_done(pilot)
        assert "succeeded" in str(progress.query_one("#p-result").render())
        after = fleet.cluster.read()
        assert after.revisions[LLM][0].number == top + 1 and after.revisions[LLM][0].current
        assert service(fleet, LLM).version != before.version
        assert kinds(app) == [("intent", None), ("outcome", "succeeded"),
                              ("settle", "complete")]
        intent = app.backends.audit.entries()[0]
        assert intent.actor == ALICE and intent.reason == "p95 regression"
        assert intent.target == LLM and intent.detail["changes"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_failed_gate_blocks_and_override_is_recorded(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await select(pilot, RECOMMENDER)
        guard = await open_guard(pilot, "P")
        failed = {c.name for c in guard.failed}
        assert "canary error ratio" in failed and not guard.hard
        await fill(pilot, guard, "#reason", "known client bug")
        confirm = guard.query_one("#confirm", Button)
        assert confirm.disabled and "Blocked by canary error ratio" in guard.problem()
        await pilot.press("enter")  # refused in the modal: focus moves to the override
        assert isinstance(app.screen, GuardScreen) and kinds(app) == []
        assert app.focused is guard.query_one("#override", Checkbox)
        await pilot.press("space")
        assert guard.override and not confirm.disabled
        await pilot.click("#confirm")
        await until_done(pilot)
        assert service(fleet, RECOMMENDER).canary is None
        entries = app.backends.audit.entries()
        assert [e.kind for e in entries] == ["intent", "override", "outcome", "settle"]
        assert entries[1].reason == "known client bug" and entries[0].detail["override"]
        assert "canary error ratio" in {c["name"] for c in entries[1].detail["checks"]}


async def test_protected_context_needs_the_typed_name(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db", protected_contexts=["demo"])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        guard = await open_guard(pilot, "R")
        confirm = guard.query_one("#confirm", Button)
        await fill(pilot, guard, "#reason", "bad deploy")
        await pilot.press("enter")  # moves to the name field
        await type_text(pilot, "llm")
        assert confirm.disabled and "type llm-chat" in guard.problem()
        await pilot.press("enter")
        assert isinstance(app.screen, GuardScreen) and kinds(app) == []
        await type_text(pilot, "-chat")
        assert not confirm.disabled
        await pilot.press("enter")
        await until_done(pilot)
        assert kinds(app)[0] == ("intent", None)


@pytest.mark.parametrize("how", ["flag", "config"])
async def test_read_only_exposes_no_action(tmp_path, how):
    db = tmp_path / "audit.db"
    if how == "flag":
        app, fleet = action_app(db, read_only=True)
    else:
        app, fleet = action_app(db, read_only_contexts=["demo"])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await select(pilot, RERANKER)
        before = service(fleet, RERANKER)
        assert app.read_only  # the RO badge
        bindings = app.fleet_screen.active_bindings
        for key in ("R", "P", "A", "n", "i"):
            assert not bindings[key].enabled
            assert "read-only" in bindings[key].tooltip
        for key in ("R", "P", "A", "n", "i"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.fleet_screen
        assert service(fleet, RERANKER) == before
        assert app.actions.runner is None or app.backends.audit.entries() == []
        from console.controllers.action_keys import palette_entries

        labels = [label for label, *_ in palette_entries(app)]
        assert not any(label.startswith(("Rollback", "Promote", "Approve")) for label in labels)
    assert not db.exists()  # read-only never creates the store


async def test_approval_by_a_different_identity(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db", promote_gates={"approvals_required": 1})
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await select(pilot, RERANKER)
        guard = await open_guard(pilot, "P")  # no approval yet: blocked, not overridable
        assert [c.name for c in guard.hard] == ["approvals"] and not guard.can_override
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.actions.action_busy)

        async def approve(actor: str, reason: str) -> None:
            app.actions.actor = actor
            await pilot.press("A")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ApproveScreen")
            await fill(pilot, app.screen, "#reason", reason)
            await pilot.press("enter")
            await wait_for(pilot, lambda: sum(1 for e in app.backends.audit.entries()
                                              if e.kind == "approval" and e.actor == actor))

        await approve(ALICE, "self")  # recorded, but it does not count for alice
        await approve(BOB, "canary good")
        app.actions.actor = ALICE
        guard = await open_guard(pilot, "P")  # a healthy canary, approved by someone else
        assert not guard.failed, guard.plan.checks
        approvals = next(c for c in guard.plan.checks if c.name == "approvals")
        assert approvals.reason == f"approved by {BOB}"
        await fill(pilot, guard, "#reason", "approved by bob")
        await pilot.press("enter")
        await until_done(pilot)
        reranker = service(fleet, RERANKER)  # traffic moved to 100 %
        assert reranker.canary is None and [t.percent for t in reranker.traffic] == [100]
        assert [e.kind for e in app.backends.audit.entries()] == [
            "approval", "approval", "intent", "outcome", "settle"]


async def test_unavailable_keys_are_dimmed_with_the_reason(tmp_path):
    app, _ = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)  # a Deployment: no canary
        bindings = app.fleet_screen.active_bindings
        assert bindings["R"].enabled and bindings["n"].enabled and bindings["i"].enabled
        assert not bindings["P"].enabled and "has no canary" in bindings["P"].tooltip
        assert not bindings["e"].enabled and "no incident" in bindings["e"].tooltip
        from console.controllers.action_keys import palette_entries

        labels = [label for label, *_ in palette_entries(app)]
        assert {"Rollback llm-chat", "Add a note", "Open an incident", "Audit log"} <= set(labels)
        assert not any(label.startswith("Promote") for label in labels)
        await pilot.press("P")
        assert app.screen is app.fleet_screen and not app.actions.action_busy
        await select(pilot, RERANKER)
        bindings = app.fleet_screen.active_bindings
        assert bindings["P"].enabled and bindings["A"].enabled


async def test_hostile_names_stay_literal_in_the_guard(tmp_path):
    app, _ = action_app(tmp_path / "audit.db", hostile=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        key = next(s.key for s in app.state.cluster.services if s.name == "[bold red]x[/]")
        await select(pilot, key)
        guard = await open_guard(pilot, "R")
        text = screen_text(app)
        assert "Roll back [bold red]x[/]" in text and "v0.2.0[/]" in text
        await fill(pilot, guard, "#reason", "[red]why[/] \x1b[2J")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.actions.action_busy)
        assert kinds(app) == []
