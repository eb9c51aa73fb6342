"""Keys typed ahead of a prompt (a fast typist, a paste into the terminal, tmux) land in
the prompt, never on the screen's one-key actions: ``:audit`` typed at once must not
press ``i`` (incident), ``:quit``-like words must not quit."""

from __future__ import annotations

import pytest
from textual import events

from console.app import make_app
from console.config import load_settings
from tests.console.conftest import demo_backends, wait_for, wait_loaded, workers_idle


def typed(app, text: str) -> None:
    """``text`` arriving in one read from the terminal: every key queued before the first
    is handled, as the driver posts them."""
    names = {":": "colon", "/": "slash", "?": "question_mark", "\r": "enter"}
    for ch in text:
        app.post_message(events.Key(names.get(ch, ch), None if ch == "\r" else ch))


@pytest.mark.parametrize("start", ["fleet", "releases"])
async def test_a_jump_typed_at_once_goes_to_the_prompt(start):
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_loaded(pilot)
        if start != "fleet":
            app.navigator.open_view(start)
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ReleasesScreen")
            await workers_idle(pilot)
        typed(app, ":gpus\r")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "GpuScreen")
        # nothing else opened (a view jumped to replaces the view it was opened from)
        assert [type(s).__name__ for s in app.screen_stack] == ["FleetScreen", "GpuScreen"]


async def test_a_filter_typed_at_once_goes_to_the_prompt():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_loaded(pilot)
        typed(app, "/reco")
        await pilot.pause()
        prompt = app.fleet_screen.query_one("#filter")
        await wait_for(pilot, lambda: prompt.value == "reco")
        assert app.screen is app.fleet_screen and len(app.screen_stack) == 1


async def test_keys_typed_before_a_dialog_appeared_never_reach_it_or_the_screen():
    """``?q`` typed at once: the help opens and the ``q`` typed before it was there is
    dropped (it neither quits from the models table nor lands in the dialog)."""
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_loaded(pilot)
        typed(app, "?q")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.pause(0.2)
        assert app.is_running and type(app.screen).__name__ == "HelpScreen"
