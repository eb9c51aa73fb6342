"""``:promotions``, the release manager's queue, on the demo fleet (frozen clock): every
canary with the gates the guard judges, approvals counted and missing, sortable; ``A`` and
``P`` go through the same controllers as on the fleet screen."""

from __future__ import annotations

from backends.actions import gates as g
from backends.actions.gates import approvals_since_promote, evaluate_promote_gates
from backends.domain.actions import ActionKind, Check, CheckStatus
from console.presenters.promotions import SORTS, PromotionRow, row_cells, sort_rows
from console.screens.modals.guard import ApproveScreen, GuardScreen
from console.screens.promotions import PromotionsScreen
from tests.console.actions_support import (ALICE, BOB, RECOMMENDER, RERANKER, action_app,
                                           fill, ready, screen_text)
from tests.console.conftest import wait_for
from widgets.promotion_table import PromotionTable

ONE_APPROVAL = {"approvals_required": 1}


def verdict(row: PromotionRow, name: str) -> Check:
    found = row.check(name)
    assert found is not None, name
    return found


async def open_queue(pilot) -> PromotionsScreen:
    await ready(pilot)
    await pilot.press("colon", *"promotions", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PromotionsScreen)
                   and bool(pilot.app.screen.rows))
    return pilot.app.screen


def cells(screen: PromotionsScreen) -> dict[str, dict[str, str]]:
    """The table's text per service key, by column label."""
    from console.presenters.promotions import COLUMNS

    return {r.key: {label: text for (label, _), (text, _) in zip(COLUMNS, row_cells(r))}
            for r in screen.rows}


async def test_every_canary_with_the_gates_the_guard_judges(tmp_path):
    app, _fleet = action_app(tmp_path / "audit.db", promote_gates=ONE_APPROVAL)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_queue(pilot)
        snap = screen.snapshot
        assert snap is not None
        with_canary = [s.key for s in snap.services if s.canary is not None]
        assert sorted(r.key for r in screen.rows) == sorted(with_canary) == sorted(
            [RECOMMENDER, RERANKER])
        gates = app.settings.actions.gates_for("demo")
        for row in screen.rows:  # the guard's own verdicts, not a restatement
            expected = evaluate_promote_gates(
                snap, row.key, gates, [], ALICE,
                annotated=g.annotation_approvals(snap, row.key))
            assert row.checks == expected
        # the demo's recommender canary errs (blocked), the reranker is healthy but unapproved
        shown = cells(screen)
        rec, rer = screen.rows[0], screen.rows[1]  # sorted by gate: blocked first
        assert (rec.key, rer.key) == (RECOMMENDER, RERANKER)
        assert verdict(rec, g.ERRORS).status == CheckStatus.FAILED
        assert shown[RECOMMENDER]["gate"].startswith("✗")
        assert rec.error_canary is not None and rec.error_stable is not None
        assert shown[RECOMMENDER]["errors c/s"] == (f"{rec.error_canary * 100:.2f}%/"
                                                    f"{rec.error_stable * 100:.2f}%")
        assert verdict(rer, g.ERRORS).status == CheckStatus.PASSED
        assert verdict(rer, g.APPROVALS).status == CheckStatus.FAILED and rer.missing == 1
        assert shown[RERANKER]["approvals"] == "0/1 need 1"
        assert rer.gate == "blocked" and len(rer.failing) == 1  # only the approval missing
        text = screen_text(app)
        assert "promotions · 2 canaries" in text and "recommender" in text
        assert "canary error ratio: canary" in text  # the selected row's checks, in full


async def test_s_cycles_the_sort(tmp_path):
    app, _fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_queue(pilot)
        seen = [screen.sort]
        for _ in SORTS:
            await pilot.press("s")
            seen.append(screen.sort)
            assert [r.key for r in screen.rows] == [r.key for r in
                                                   sort_rows(screen.rows, screen.sort)]
            assert f"sort: {screen.sort}" in screen_text(app)
        assert seen == [*SORTS, SORTS[0]]
        await pilot.press(*["s"] * SORTS.index("model"))
        assert [r.model for r in screen.rows] == ["recommender", "reranker"]


async def test_approvals_counted_and_missing_and_A_approves_the_selected_row(tmp_path):
    app, _fleet = action_app(tmp_path / "audit.db", actor=ALICE, promote_gates=ONE_APPROVAL)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        audit = app.backends.audit
        rerank = next(s for s in app.fleet_screen.snapshot.services if s.key == RERANKER)
        audit.append("approval", actor=BOB, action="approve", target=RERANKER,
                     reason="looks good", detail={"canary": rerank.canary.revision})
        screen = await open_queue(pilot)
        await wait_for(pilot, lambda: cells(screen)[RERANKER]["approvals"] == "1/1")
        row = next(r for r in screen.rows if r.key == RERANKER)
        assert row.approvers == (BOB,) and row.missing == 0 and row.gate == "ready"
        assert "audit: 1 approval" in screen_text(app)

        table = screen.query_one("#promo-table", PromotionTable)
        table.move_cursor(row=[r.key for r in screen.rows].index(RECOMMENDER))
        await wait_for(pilot, lambda: screen.selected == RECOMMENDER)
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ApproveScreen))
        assert app.screen.service_name == "recommender"
        await fill(pilot, app.screen, "#reason", "canary errors explained: known client bug")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.kind == "approval" and e.target == RECOMMENDER
                                          for e in audit.entries()))
        entry = [e for e in audit.entries() if e.target == RECOMMENDER][-1]
        assert entry.actor == ALICE and entry.detail["canary"] == "recommender-predictor-00004"
        assert approvals_since_promote(audit.entries(target=RECOMMENDER),
                                       "recommender-predictor-00004") == [entry]
        # ALICE would promote: her own approval is recorded but does not count
        await wait_for(pilot, lambda: screen.store_state == "audit: 2 approvals")
        rec = next(r for r in screen.rows if r.key == RECOMMENDER)
        assert rec.approvers == () and rec.missing == 1
        assert "your own approval does not count" in verdict(rec, g.APPROVALS).reason


async def test_P_opens_the_guard_for_the_selected_canary(tmp_path):
    app, _fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_queue(pilot)
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.selected == screen.rows[1].key)
        target = screen.selected
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, GuardScreen))
        plan = app.screen.plan
        assert plan.request.kind == ActionKind.PROMOTE and plan.request.service_key == target
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromotionsScreen)
                       and not app.actions.action_busy)
        assert [e.kind for e in app.backends.audit.entries()] == []  # cancel records nothing


async def test_read_only_dims_A_and_P_and_says_why(tmp_path):
    app, _fleet = action_app(tmp_path / "audit.db", read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_queue(pilot)
        assert screen.check_action("approve", ()) is None
        assert screen.check_action("promote", ()) is None
        assert screen.check_action("cycle_sort", ()) is True
        tooltip = screen.active_bindings["A"].tooltip
        assert "unavailable" in tooltip and "read-only" in tooltip
        await pilot.press("A", "P")
        await pilot.pause()
        assert isinstance(app.screen, PromotionsScreen)  # nothing opened
        assert "A/P off: read-only mode (--read-only)" in screen_text(app)
