"""The backends built in a thread started before Textual is imported
(console.wiring.BackendsInAdvance): the app takes those, errors reach the connect worker's
one handler as before, a retry builds afresh, and the command line starts the build
before it imports the app."""

from __future__ import annotations

import sys
import threading

import pytest

from backends.demo.fleet import FrozenClock
from backends.domain.errors import ConfigError
from console import wiring
from console.app import make_app
from console.config import load_settings
from console.wiring import BackendsInAdvance
from tests.console.conftest import FROZEN, wait_for, workers_idle


def _demo_settings():
    return load_settings(demo={"enabled": True}, refresh=3600)


def _counting_builds(monkeypatch, started: threading.Event | None = None):
    """build_backends counted, each build on a frozen demo clock: (calls, results)."""
    calls: list[str] = []
    results: list[object] = []

    def build(settings, **_):
        calls.append(threading.current_thread().name)
        if started is not None:
            started.wait(10)
        backends = wiring.build_demo(settings, clock=FrozenClock(FROZEN))
        results.append(backends)
        return backends

    monkeypatch.setattr(wiring, "build_backends", build)
    return calls, results


def test_the_build_runs_in_its_own_thread_and_is_taken_once(monkeypatch):
    calls, results = _counting_builds(monkeypatch)
    early = BackendsInAdvance(_demo_settings())
    first = early.take()
    assert calls == ["backends-in-advance"] and first is results[0]
    second = early.take()  # a retry: built afresh, here, not handed the first again
    assert len(calls) == 2 and calls[1] == threading.current_thread().name
    assert second is results[1] and second is not first
    first.close()
    second.close()


def test_an_error_of_the_build_is_raised_where_it_is_taken(monkeypatch):
    error = ConfigError("no kubeconfig found", source="kubernetes")

    def broken(_settings, **_):
        raise error

    monkeypatch.setattr(wiring, "build_backends", broken)
    early = BackendsInAdvance(_demo_settings())
    with pytest.raises(ConfigError) as caught:
        early.take()
    assert caught.value is error


async def test_the_app_shows_the_fleet_built_in_advance(monkeypatch):
    started = threading.Event()
    calls, results = _counting_builds(monkeypatch, started)
    early = BackendsInAdvance(_demo_settings())
    app = make_app(_demo_settings(), backends_in_advance=early)
    async with app.run_test(size=(160, 48)) as pilot:
        started.set()  # the build was still going when the app mounted
        await wait_for(pilot, lambda: app.state.metrics is not None and app.state.answered())
        await workers_idle(pilot)
        assert calls == ["backends-in-advance"]  # the connect worker built nothing itself
        assert app.backends is results[0]
        assert app.fleet_screen.snapshot is not None
        assert "llm-chat" in {s.name for s in app.fleet_screen.snapshot.services}


async def test_a_bad_configuration_found_in_advance_exits_2_as_before(monkeypatch, capsys):
    """Found at once, before the first screen has mounted: the same clean exit (2, the
    reason), no traceback from a screen closing while it mounts."""
    def broken(_settings, **_):
        raise ConfigError("context 'prod' not in the kubeconfig", source="kubernetes")

    monkeypatch.setattr(wiring, "build_backends", broken)
    app = make_app(_demo_settings(), backends_in_advance=BackendsInAdvance(_demo_settings()))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 2
    err = capsys.readouterr().err
    assert "pitboard: nothing can be shown: context 'prod' not in the kubeconfig" in err
    assert "Traceback" not in err and "Error" not in err


def test_the_command_line_starts_the_build_before_it_imports_the_app(monkeypatch):
    """``pitboard`` (the console): the build's thread is running before ``console.app``
    (Textual, the first screen) is imported; the app gets that build."""
    import console.cli.main as cli

    seen: dict = {}
    real_init = BackendsInAdvance.__init__

    def init(self, settings):
        seen["app_imported_then"] = "console.app" in sys.modules
        real_init(self, settings)
        seen["early"] = self

    class Stop(Exception):
        pass

    def app_factory(settings, backends=None, backends_in_advance=None):
        seen["given"] = backends_in_advance
        raise Stop

    monkeypatch.setattr(BackendsInAdvance, "__init__", init)
    monkeypatch.setattr(wiring, "build_backends", lambda s, **_: wiring.build_demo(
        s, clock=FrozenClock(FROZEN)))
    monkeypatch.delitem(sys.modules, "console.app")  # as at a real start
    fake_app = type(sys)("console.app")
    fake_app.make_app = app_factory  # type: ignore[attr-defined]

    def import_app(*_args):
        seen["imported_after"] = "early" in seen
        monkeypatch.setitem(sys.modules, "console.app", fake_app)
        return fake_app

    real_import = __import__

    def importing(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "console.app":
            return import_app()
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr("builtins.__import__", importing)
    monkeypatch.setattr(cli, "no_terminal", lambda: None)  # (pytest's stdin is not one)
    with pytest.raises(Stop):
        cli.main(["--demo"])
    assert seen["app_imported_then"] is False and seen["imported_after"] is True
    assert seen["given"] is seen["early"]
    seen["early"].take().close()
