"""Locks per object: an action in flight on one model blocks a second action on that model
only; every other model stays actionable, and the dimmed key says what is in flight."""

from __future__ import annotations

import threading

from backends.domain.actions import ActionKind
from tests.console.actions_support import (LLM, RERANKER, action_app, kinds, open_guard, ready,
                                           select, type_text)
from tests.console.conftest import wait_for
from console.screens.modals.guard import ProgressScreen


def hold_progress(app, key: str) -> threading.Event:
    """Make the rollout of ``key`` stay in flight until the returned event is set (the
    runner keeps polling its progress); other objects settle as usual."""
    cluster = app.backends.cluster
    real = cluster.progress
    release = threading.Event()

    def progress(service_key: str):
        if service_key == key:
            release.wait(timeout=30)
        return real(service_key)

    cluster.progress = progress
    return release


async def test_second_model_rolled_back_while_the_first_still_rolls_out(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        release = hold_progress(app, LLM)
        try:
            await select(pilot, LLM)
            await open_guard(pilot, "R")
            await type_text(pilot, "p95 regression")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen))
            first = app.screen
            await wait_for(pilot, lambda: ("outcome", "succeeded") in kinds(app))
            await pilot.press("escape")  # close the view: the action carries on
            await wait_for(pilot, lambda: app.screen is app.fleet_screen)
            assert app.actions.in_flight == {LLM: ActionKind.ROLLBACK}
            assert app.actions.in_flight_text() == "rollback llm-chat"

            # the same model: R is dimmed, naming what is in flight
            screen = app.fleet_screen
            why = app.actions.action_unavailable("rollback", screen._selected_model())
            assert why == "rollback of llm-chat is under way"
            assert screen.check_action("rollback", ()) is None
            await pilot.press("R")  # refused with the reason: no second guard
            await pilot.pause()
            assert app.screen is screen

            # another model: actionable, rolled back and settled while the first is held
            await select(pilot, RERANKER)
            assert app.actions.action_unavailable("rollback", screen._selected_model()) is None
            assert screen.check_action("rollback", ()) is True
            await open_guard(pilot, "R")
            await type_text(pilot, "second model bad too")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen)
                           and app.screen is not first and app.screen.done)
            assert "succeeded" in str(app.screen.query_one("#p-result").render())
            assert app.actions.in_flight == {LLM: ActionKind.ROLLBACK}
            entries = app.backends.audit.entries()
            settled = {e.target for e in entries if e.kind == "settle"}
            assert settled == {RERANKER}  # the first has not settled yet
            await pilot.press("escape")
        finally:
            release.set()
        await wait_for(pilot, lambda: not app.actions.in_flight)
        entries = app.backends.audit.entries()
        assert sorted((e.target, e.kind, e.outcome) for e in entries) == sorted([
            (LLM, "intent", None), (LLM, "outcome", "succeeded"), (LLM, "settle", "complete"),
            (RERANKER, "intent", None), (RERANKER, "outcome", "succeeded"),
            (RERANKER, "settle", "complete")])
        await select(pilot, LLM)
        assert app.actions.action_unavailable("rollback", app.fleet_screen._selected_model()) \
            is None
        assert fleet is not None


async def test_cancel_and_failed_preflight_release_the_lock(tmp_path):
    app, _fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        await open_guard(pilot, "R")
        assert app.actions.in_flight == {LLM: ActionKind.ROLLBACK}  # locked from the key on
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
        assert app.actions.in_flight == {} and app.actions.in_flight_text() == ""

        runner = app.actions.runner

        def broken(*_a, **_k):
            raise RuntimeError("preflight exploded")

        runner.prepare = broken
        await pilot.press("R")
        await wait_for(pilot, lambda: not app.actions.in_flight)
        assert app.screen is app.fleet_screen and kinds(app) == []


async def test_the_header_can_show_what_is_in_flight(tmp_path):
    """FleetHeader.show(in_flight=...): what the fleet screen passes from
    ``app.actions.in_flight_text()`` (its one-line hook)."""
    from textual.widgets import Static

    from widgets.fleet_header import FleetHeader

    app, _fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(160, 34)) as pilot:
        await ready(pilot)
        app.actions.in_flight[LLM] = ActionKind.ROLLBACK
        app.actions._names[LLM] = "llm-chat"
        header = app.fleet_screen.query_one(FleetHeader)
        header.show(context="demo", namespace="ml-serving", window="1h", paused=False,
                    read_only=False, sources=app.state.status, now=app.clock(),
                    in_flight=app.actions.in_flight_text())
        await pilot.pause()
        where = str(header.query_one("#hdr-where", Static).render())
        assert "demo / ml-serving  ⟳ rollback llm-chat" in where
