"""The new action keys on the demo: U picks a revision from the history, s asks for a
replica count, z / Z pause and resume, X / Y / F only where they apply (dimmed with why),
all through the guard and the audit log; the palette lists what is available."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from console.controllers.action_keys import palette_entries
from console.screens.modals.guard import GuardScreen
from console.screens.modals.params import ParamScreen, RevisionScreen, parse_duration
from tests.console.actions_support import (LLM, RERANKER, RECOMMENDER, action_app, kinds,
                                           ready, screen_text, select, service, type_text,
                                           until_done)
from tests.console.conftest import wait_for


async def confirm(pilot, reason: str = "on-call") -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, GuardScreen))
    await type_text(pilot, reason)
    await pilot.press("enter")
    await until_done(pilot)
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen is pilot.app.fleet_screen)


async def test_rollback_to_a_revision_picked_from_the_history(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        history = fleet.cluster.read().revisions[LLM]
        oldest = history[-1]
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, RevisionScreen))
        picker = app.screen
        assert [r.number for r in picker.revisions] == [r.number for r in history
                                                        if not r.current]
        options = picker.query_one(OptionList)
        options.highlighted = len(picker.revisions) - 1  # the oldest
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        assert f"(template of revision {oldest.number})" in screen_text(app)
        await confirm(pilot)
        intent = app.backends.audit.entries()[0]
        assert intent.detail["to_revision"] == oldest.number
        assert service(fleet, LLM).version == oldest.version
        assert kinds(app)[-1] == ("settle", "complete")


async def test_scale_asks_for_the_replicas_and_previews_them(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ParamScreen))
        field = app.screen.query_one(Input)
        assert field.value == "2"
        field.value = "many"
        await pilot.pause()
        assert "not a replica count" in screen_text(app)
        field.value = "3"
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        text = screen_text(app)
        assert "Scale llm-chat" in text and "replicas" in text
        await confirm(pilot, "traffic spike")
        assert service(fleet, LLM).replicas_desired == 3
        assert app.backends.audit.entries()[0].action == "scale"


async def test_pause_resume_and_the_argo_only_keys(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        screen = app.fleet_screen
        for name in ("abort", "retry"):
            why = app.actions.action_unavailable(name, screen._selected_model())
            assert why == f"{name} is for Rollout only (llm-chat is a Deployment)"
            assert screen.check_action(name, ()) is None
        labels = [label for label, _cb, _key in palette_entries(app)]
        assert "Restart llm-chat" in labels and "Abort the rollout of llm-chat" not in labels
        await pilot.press("z")
        await confirm(pilot, "hold it")
        assert service(fleet, LLM).paused
        await pilot.press("Z")
        await confirm(pilot, "go on")
        assert not service(fleet, LLM).paused

        await select(pilot, RERANKER)  # a Rollout with a canary: X Y F apply
        for name in ("abort", "retry", "promote_full"):
            assert app.actions.action_unavailable(name, screen._selected_model()) is None
        await pilot.press("X")
        await confirm(pilot, "canary bad")
        assert service(fleet, RERANKER).canary is None or \
            service(fleet, RERANKER).canary.percent == 0
        assert [e.action for e in app.backends.audit.entries() if e.kind == "intent"] == [
            "pause", "resume", "abort"]

        await select(pilot, RECOMMENDER)  # an InferenceService: no restart, no scale
        why = app.actions.action_unavailable("restart", screen._selected_model())
        assert why is not None and "is an InferenceService" in why


def test_durations():
    assert parse_duration("90m") == 5400 and parse_duration("2h") == 7200
    assert parse_duration("45") == 2700  # minutes
    for bad in ("", "soon", "30s", "15d"):
        try:
            parse_duration(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
