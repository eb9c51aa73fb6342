"""The help lists every key of the screen it was opened on and of the app, from the live
bindings: nothing missing (inherited view keys included), nothing stale."""

from __future__ import annotations

from console.app import make_app
from console.config import load_settings
from console.screens.modals.help import KEY_NAMES, HelpScreen
from tests.console.conftest import demo_backends, wait_for, wait_loaded, workers_idle


def _expected_keys(screen) -> set[str]:
    return {KEY_NAMES.get(k, k) for k, a in screen.active_bindings.items()
            if not a.binding.system}


async def _help_of(pilot):
    app = pilot.app
    under = app.screen
    expected = _expected_keys(under)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
    rows = {key: (does, detail) for key, does, detail in app.screen._rows}
    return under, expected, rows


async def test_fleet_help_lists_every_key_with_its_description():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        _, expected, rows = await _help_of(pilot)
        assert set(rows) == expected
        assert all(does.strip() for does, _ in rows.values())
        for key, does in (("R", "Rollback"), ("P", "Promote"), ("A", "Approve"), ("n", "Note"),
                          ("i", "Incident"), ("e", "Export"), ("/", "Filter"), (":", "Jump"),
                          ("?", "Help"), ("q", "Quit"), ("space", "Pause"), ("T", "Replay"),
                          ("x", "Detail"), ("ctrl+p", "Command palette")):
            assert rows[key][0] == does, key
        # llm-chat is selected: no canary, so P and A are dimmed and say why
        assert "unavailable" in rows["P"][1] and "no canary" in rows["P"][1]
        assert rows["R"][1] == "Roll the selected model back (guarded, audited)"
        screen = app.screen
        keys = [k for k, *_ in screen._rows]
        assert [screen._enabled[keys.index(k)] for k in ("R", "P")] == [True, False]
        text = " ".join(f"{d} {t}" for d, t in rows.values()).lower()
        assert "arrive" not in text and "issue" not in text
        await pilot.press("escape")
        assert app.screen is app.fleet_screen


async def test_view_help_includes_the_inherited_view_keys():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        await pilot.press("colon", *"gpus", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "GpuScreen")
        await workers_idle(pilot)
        _, expected, rows = await _help_of(pilot)
        assert set(rows) == expected
        for key, does in (("esc", "Back"), ("t", "Window"), ("T", "Replay"), (":", "Jump"),
                          ("s", "Sort"), ("/", "Filter"), ("enter", "Chart"), ("q", "Quit")):
            assert rows[key][0] == does, key
        assert "R" not in rows  # fleet-only keys are not listed on a view
