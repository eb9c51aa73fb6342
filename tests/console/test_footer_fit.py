"""The fleet footer keeps its most important keys visible and whole at 80 columns."""

from __future__ import annotations

import pytest
from textual.binding import ActiveBinding, Binding
from textual.widgets._footer import FooterKey

from console.app import make_app
from console.config import load_settings
from console.screens.footer_fit import fit_footer, item_width
from tests.console.conftest import demo_backends, wait_for, wait_loaded

MUST = {"/", ":", "R", "P", "n", "q", "?"}


def _shown(app) -> list[FooterKey]:
    return [k for k in app.fleet_screen.query(FooterKey) if "-command-palette" not in k.classes]


@pytest.mark.parametrize("size,hidden", [((80, 24), {"t", "A", "i", "e", "space", "T"}),
                                         ((160, 48), set())])
async def test_fleet_footer_fits_the_terminal(size, hidden):
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=size) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: bool(_shown(app)))
        keys = _shown(app)
        displays = {k.key_display for k in keys}
        assert MUST <= displays and not displays & hidden
        palette = next(k for k in app.fleet_screen.query(FooterKey)
                       if "-command-palette" in k.classes)
        assert all(k.region.right <= palette.region.x for k in keys)  # none cut or covered


async def test_fleet_footer_refits_when_the_terminal_is_resized():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: "T" in {k.key_display for k in _shown(app)})
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "T" not in {k.key_display for k in _shown(app)})
        assert MUST <= {k.key_display for k in _shown(app)}


def _active(*specs: tuple[str, str]) -> dict:
    return {key: ActiveBinding(None, Binding(key, key.lower(), desc), True, "")
            for key, desc in specs}


def test_fit_keeps_the_priority_prefix_in_footer_order():
    bindings = _active(("a", "Alpha"), ("b", "Beta"), ("c", "Gamma"), ("d", "Delta"))
    width = item_width("c", "Gamma") + item_width("a", "Alpha") + 1
    fitted = fit_footer(bindings, width, ("c", "a", "b", "d"), lambda b: b.key, reserve=0)
    assert list(fitted) == list(bindings)  # order unchanged
    assert [k for k, a in fitted.items() if a.binding.show] == ["a", "c"]
    assert all(a.binding.show for a in bindings.values())  # the input is untouched
    # a wide terminal shows everything; a tiny one nothing (never a half key)
    assert all(a.binding.show for a in fit_footer(bindings, 500, (), lambda b: b.key).values())
    assert not any(a.binding.show for a in fit_footer(bindings, 3, (), lambda b: b.key,
                                                      reserve=0).values())
