"""The collector's full passes run between refreshes once the console is up, never in one
(console.controllers.collector), and the process's collector is as it was after the app."""

from __future__ import annotations

import gc

import console.controllers.collector as collector_mod
from console.app import make_app
from tests.console.conftest import demo_backends, wait_for, wait_loaded


async def test_full_passes_wait_for_an_idle_screen_after_a_refresh(settings, monkeypatch):
    monkeypatch.setattr(collector_mod, "EVERY_S", 0.0)
    monkeypatch.setattr(collector_mod, "IDLE_S", 0.05)
    before = gc.get_threshold()
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: app.collector.started)
        young, middle, full = gc.get_threshold()
        # no automatic full pass any more; the young generations as before
        assert (young, middle) == before[:2] and full >= 2**30
        assert gc.isenabled()
        passes = len(app.collector.pauses_ms)
        app.show_state()  # a refresh shown: a pass once the screen has been idle
        assert len(app.collector.pauses_ms) == passes  # not within the refresh
        await wait_for(pilot, lambda: len(app.collector.pauses_ms) == passes + 1)
        assert app.collector.pauses_ms[-1] >= 0.0
        # refreshes in quick succession: the pass waits for the last of them
        app.show_state()
        app.show_state()
        await pilot.pause(0.01)
        assert len(app.collector.pauses_ms) == passes + 1
        await wait_for(pilot, lambda: len(app.collector.pauses_ms) == passes + 2)
    assert gc.get_threshold() == before


async def test_no_pass_before_it_is_due(settings, monkeypatch):
    monkeypatch.setattr(collector_mod, "IDLE_S", 0.01)
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: app.collector.started)
        passes = len(app.collector.pauses_ms)
        app.show_state()  # EVERY_S (30 s) has not passed since start
        await pilot.pause(0.2)
        assert len(app.collector.pauses_ms) == passes


async def test_a_pass_freezes_what_it_leaves_and_the_deep_pass_frees_dead_cycles(
        settings, monkeypatch):
    import weakref

    class Node:
        pass

    app = make_app(settings, demo_backends())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: app.collector.started)
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        alive = weakref.ref(node)
        app.collector.collect()  # left alive by this pass: frozen out of the next ones
        frozen = gc.get_freeze_count()
        assert frozen > 0
        del node
        app.collector.collect()
        assert alive() is not None  # dead, but frozen: a shallow pass does not see it
        monkeypatch.setattr(collector_mod, "DEEP_EVERY_S", 0.0)
        app.collector.collect()
        assert alive() is None  # the deep pass looks at everything again
