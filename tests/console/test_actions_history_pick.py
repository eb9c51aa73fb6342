"""Rollback to a revision picked in the history view (``kubectl rollout undo
--to-revision``): with a revision row highlighted in the fleet screen's releases panel,
the model detail's releases or ``:releases``, ``R`` / ``U`` start the guarded rollback to
THAT revision; the live revision, a pitboard record and a kind without revisions say why
and send nothing."""

from __future__ import annotations

from backends.domain.models import Revision
from console.screens.modals.guard import GuardScreen
from console.screens.model_detail import ModelDetailScreen
from console.screens.releases import ReleasesScreen
from tests.console.actions_support import (LLM, RECOMMENDER, action_app, highlight, kinds,
                                           ready, screen_text, select, service)
from tests.console.conftest import wait_for
from tests.console.test_actions_keys import confirm
from widgets.release_history import ReleaseHistory


def messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_r_in_the_releases_panel_rolls_back_to_the_highlighted_revision(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        history = fleet.cluster.read().revisions[LLM]
        target = history[-1]  # the oldest
        assert not target.current
        panel = app.fleet_screen.query_one(ReleaseHistory)
        await highlight(pilot, panel, len(history) - 1)
        assert panel.highlighted_revision == target
        tips = {a.binding.action: a.tooltip for a in app.fleet_screen.active_bindings.values()}
        assert f"Roll back to revision {target.number}" in tips["rollback"]
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        assert f"(template of revision {target.number})" in screen_text(app)
        await confirm(pilot)
        intent = app.backends.audit.entries()[0]
        assert intent.detail["to_revision"] == target.number
        assert service(fleet, LLM).version == target.version
        assert kinds(app)[-1] == ("settle", "complete")


async def test_u_on_the_live_revision_says_why_and_sends_nothing(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        history = fleet.cluster.read().revisions[LLM]
        live = next(i for i, r in enumerate(history) if r.current)
        panel = app.fleet_screen.query_one(ReleaseHistory)
        await highlight(pilot, panel, live)
        for key in ("U", "R"):
            await pilot.press(key)
            await wait_for(pilot, lambda: any(f"revision {history[live].number} is the one "
                                              "llm-chat runs now" in m for m in messages(app)))
            app.clear_notifications()
        assert app.screen is app.fleet_screen and not app.actions.in_flight
        assert kinds(app) == []  # nothing prepared, nothing recorded
        # with the model table focused, R is the plain rollback again (to the previous one)
        app.fleet_screen.query_one("#models").focus()
        await pilot.pause()
        assert app.fleet_screen.picked_revision() is None


async def test_u_in_releases_view_rolls_that_rows_model_back(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        history = fleet.cluster.read().revisions[LLM]
        target = next(r for r in history if not r.current)
        app.navigator.open_view("releases")
        await wait_for(pilot, lambda: isinstance(app.screen, ReleasesScreen))
        view = app.screen
        await wait_for(pilot, lambda: any(r.key == LLM for r in view._rows))
        row = next(i for i, r in enumerate(view._rows)
                   if r.key == LLM and r.revision == target.number)
        table = view.query_one("#rel-table")
        await highlight(pilot, table, row)
        assert view.selected == LLM and view.picked_revision() == target
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        assert f"(template of revision {target.number})" in screen_text(app)
        await confirm_in_view(pilot, view)
        assert app.backends.audit.entries()[0].detail["to_revision"] == target.number
        assert service(fleet, LLM).version == target.version

        # a pitboard record (◆) is no revision: said, nothing sent
        view.forget("audit")  # read the audit store again now (the clock is frozen)
        view.apply_snapshot(app.navigator.view_snapshot())
        await wait_for(pilot, lambda: any(r.pitboard for r in view._rows), timeout=15)
        record = next(i for i, r in enumerate(view._rows) if r.pitboard)
        await highlight(pilot, table, record)
        before = len(app.backends.audit.entries())
        await pilot.press("R")
        await wait_for(pilot, lambda: any("not a revision" in m for m in messages(app)))
        assert app.screen is view and len(app.backends.audit.entries()) == before

        # a kind whose history cannot be picked from (KServe): dimmed, with the reason
        row = next(i for i, r in enumerate(view._rows)
                   if r.key == RECOMMENDER and r.revision is not None)
        await highlight(pilot, table, row)
        assert view.check_action("rollback", ()) is None
        why = app.actions.action_unavailable("rollback_to", view._selected_model())
        assert why is not None and "InferenceService" in why


async def confirm_in_view(pilot, view) -> None:
    """Type a reason, confirm, wait for the result, close the progress view."""
    from tests.console.actions_support import type_text, until_done

    await type_text(pilot, "on-call")
    await pilot.press("enter")
    await until_done(pilot)
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen is view)


async def test_r_in_the_model_detail_releases(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(140, 44)) as pilot:
        await ready(pilot)
        history: tuple[Revision, ...] = fleet.cluster.read().revisions[LLM]
        target = history[-1]
        app.navigator.open_view("model", key=LLM)
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        view = app.screen
        assert view.picked_revision() is None  # releases not focused: R = previous
        table = view.query_one("#md-releases")
        await wait_for(pilot, lambda: any(r.revision == target.number for r in view._rel_rows))
        row = next(i for i, r in enumerate(view._rel_rows) if r.revision == target.number)
        await highlight(pilot, table, row)
        assert view.picked_revision() == target
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        assert f"(template of revision {target.number})" in screen_text(app)
        await confirm_in_view(pilot, view)
        assert app.backends.audit.entries()[0].detail["to_revision"] == target.number
        assert service(fleet, LLM).version == target.version
