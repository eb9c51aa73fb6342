"""What the speed work must not change: quick settings equal the full ones, heavy modules
stay out of the start-up path, display data made off the UI thread equal the UI thread's,
and partial repaints show the new figures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backends.domain.actions import ActionKind
from backends.domain.slo import fleet_burn
from backends.domain.slo_config import SloConfig
from console.app import make_app
from console.cli.main import build_parser, parse_args
from console.config import load_settings
from console.config_core import SECTIONS, CoreSettings, QuickSettings, quick_settings
from console.presenters.prepare import FleetPrep
from console.controllers.state import FleetState
from tests.console.conftest import FROZEN, demo_backends, wait_for, wait_loaded
from widgets.gpu_grid import GpuGrid
from widgets.model_rows import rows_from_snapshot
from widgets.footer import KeyFooter


@pytest.mark.parametrize("overrides", [
    {}, {"demo": {"enabled": True}}, {"demo": {"enabled": True, "seed": 3}},
    {"read_only": True, "refresh": 2.5, "time_window": "6h"},
    # what --context/--kubeconfig/--namespace, --prometheus and --alertmanager set
    {"kubernetes": {"contexts": ["prod-eu", "prod-us"], "namespaces": ["ml-serving"],
                    "kubeconfig": "/tmp/kc"},
     "prometheus": {"url": "http://prometheus:9090"},
     "alertmanager": {"url": "http://user:pw@am:9093"}, "read_only": True},
    {"prometheus": {"url": "http://prometheus:9090"}}])
def test_quick_settings_equal_the_full_ones(overrides):
    quick = quick_settings(**overrides)
    full = load_settings(**overrides)
    assert isinstance(quick, QuickSettings)
    for name in CoreSettings.model_fields:
        assert getattr(quick, name) == getattr(full, name), name
    for name in SECTIONS:
        assert getattr(quick, name) == getattr(full, name), name
    assert set(SECTIONS) | set(CoreSettings.model_fields) == set(type(full).model_fields)


def test_anything_else_takes_the_full_path(tmp_path, monkeypatch):
    assert quick_settings(prometheus={"url": "ftp://x"}) is None  # invalid: worded there
    assert quick_settings(kubernetes={"bogus": 1}) is None  # no such field: worded there
    assert quick_settings(slo={"models": {}}) is None  # not a section a flag sets
    assert quick_settings(prometheus="http://x:9090") is None  # not a section's table
    assert quick_settings(refresh=0.001) is None  # invalid: load_settings words the error
    assert quick_settings(tmp_path / "given.toml") is None  # an explicit file
    monkeypatch.setenv("PITBOARD_DEMO__SEED", "4")
    assert quick_settings() is None  # a setting from the environment
    monkeypatch.delenv("PITBOARD_DEMO__SEED")
    monkeypatch.setenv("PITBOARD_FIRST_FRAME_FILE", str(tmp_path / "f"))
    assert quick_settings() is not None  # the benchmark hook is not a setting


@pytest.mark.parametrize("argv", [
    [], ["--demo"], ["--demo", "--seed", "3", "--read-only", "--window", "6h"],
    ["--context", "a", "--context", "b", "--namespace", "ml", "--refresh", "2.5"],
    ["--prometheus", "http://p:9090", "--alertmanager=http://a:9093", "--once",
     "--format", "json"], ["--dem", "--conf", "x.toml"]])
def test_console_flags_parse_as_the_full_parser_parses_them(argv):
    parser, args, extra = parse_args(argv)
    assert parser is None and extra == []  # the subcommands' parsers were not built
    full, full_extra = build_parser().parse_known_args(argv)
    assert vars(args) == vars(full) and full_extra == []


@pytest.mark.parametrize("argv", [
    ["audit", "verify"], ["--demo", "bench", "--quick"], ["-h"], ["--demo", "--bogus"],
    ["--refresh", "abc"], ["--window", "3h"], ["audti"]])
def test_anything_but_console_flags_goes_to_the_full_parser(argv, capsys):
    try:
        parser, args, extra = parse_args(argv)
    except SystemExit as exc:  # --help, or an error worded by the full parser
        out = capsys.readouterr()
        assert "COMMAND" in out.out + out.err  # the full usage, subcommands included
        assert exc.code == (0 if argv == ["-h"] else 2)
        return
    assert parser is not None
    listed = parser.format_help()  # every subcommand is there
    assert all(f"    {name} " in listed for name in ("bench", "audit", "export", "serve",
                                                   "rollback", "silence"))
    assert (vars(args), extra) == tuple(
        (vars(a), e) for a, e in [build_parser().parse_known_args(argv)])[0]


def test_heavy_modules_are_not_imported_before_the_first_frame():
    code = ("import sys, console.cli.main, console.app\n"
            "console.cli.main.build_parser()\n"  # main() builds it before the first frame
            "print(' '.join(sorted(m for m in ('pydantic_settings', 'sqlite_utils', "
            "'console.config', 'console.screens.modals.guard', 'console.screens.incident', "
            "'console.screens.audit', 'console.screens.modals.help', 'backends.actions.guard', "
            "'backends.audit.export', 'console.presenters.records', 'kubernetes', "
            "'backends.domain.actions', 'backends.actions.config') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.strip() == ""


def test_the_alertmanager_client_imports_httpx_without_its_command_line():
    """httpx's own CLI (click, pygments' lexers) is not imported with it: ~25 ms of the real
    start's critical path; the client itself is whole (the Alertmanager tests use it)."""
    code = ("import sys, backends.alertmanager, httpx\n"
            "print(sorted(m for m in ('click', 'pygments.lexers', 'rich.progress') "
            "if m in sys.modules), callable(httpx.main), httpx.Client.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.split() == ["[]", "True", "Client"]


def test_the_real_cluster_flags_start_without_pydantic_settings(tmp_path):
    """``pitboard --context ... --prometheus URL --alertmanager URL`` (the README's first
    real-cluster command, no config file): quick settings, pydantic-settings not imported."""
    code = ("import sys, console.cli.main as m\n"
            "_, args, _ = m.parse_args(['--context', 'prod-eu', '--namespace', 'ml', "
            "'--kubeconfig', 'kc', '--prometheus', 'http://p:9090', "
            "'--alertmanager', 'http://a:9093'])\n"
            "s = m.startup_settings(args)\n"
            "print(type(s).__name__, 'pydantic_settings' in sys.modules, "
            "s.kubernetes.contexts, s.prometheus.url)")
    env = {k: v for k, v in __import__("os").environ.items()
           if not k.startswith("PITBOARD_")} | {"XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env,
                         cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.split() == ["QuickSettings", "False", "['prod-eu']", "http://p:9090"]


def test_display_data_made_in_the_poller_equal_the_ui_threads():
    backends = demo_backends()
    state = FleetState()
    state.succeeded("cluster", backends.cluster.read(), FROZEN)
    part = backends.metrics.read(state.cluster.services, 300, FROZEN)
    prepared = FleetPrep(SloConfig())(state.cluster, part)
    state.succeeded("metrics", part, FROZEN)
    state.health_status = prepared.status  # as the poller adopts it
    snapshot = state.snapshot(FROZEN)
    assert prepared.rows_for(snapshot) == rows_from_snapshot(snapshot, {}, fleet_burn(SloConfig()))
    assert prepared.gpus == snapshot.gpus
    state.adopt_gpus(prepared.cluster.gpus, part.gpus, prepared.gpus)
    assert prepared.plan_for(state.snapshot(FROZEN).gpus) is prepared.plan
    other = snapshot.model_copy(update={"health": dict(snapshot.health)})
    assert prepared.rows_for(other) is None  # made from other objects: recomputed


async def test_only_changed_gpu_lines_are_repainted_and_show_the_new_figures(settings):
    backends = demo_backends()
    app = make_app(settings, backends)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        grid = app.fleet_screen.query_one(GpuGrid)
        gpus = list(grid._gpus)
        target = next(i for i, g in enumerate(gpus) if g.util_percent is not None)
        gpus[target] = gpus[target].model_copy(update={"util_percent": 1.0})
        grid.show_gpus(tuple(gpus))
        line = next(y for y, item in enumerate(grid._lines) if item is gpus[target])
        await pilot.pause()
        assert "  1%" in grid.render_line(line - int(grid.scroll_offset.y)).text


async def test_footer_dims_keys_in_place(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        footer = app.fleet_screen.query_one(KeyFooter)
        await wait_for(pilot, lambda: app.actions.runner is not None)
        keys = {k.key: k for k in footer.query("FooterKey")}
        assert not keys["R"].has_class("-disabled")
        selected = app.fleet_screen.selected
        assert selected is not None
        app.actions.in_flight[selected] = ActionKind.ROLLBACK  # this model's lock: R dimmed
        app.fleet_screen.sync_action_keys()
        await wait_for(pilot, lambda: keys["R"].has_class("-disabled"))
        assert {k.key: k for k in footer.query("FooterKey")}["R"] is keys["R"]  # no rebuild
        del app.actions.in_flight[selected]
        app.fleet_screen.sync_action_keys()
        await wait_for(pilot, lambda: not keys["R"].has_class("-disabled"))


def _count_restyles(monkeypatch) -> list:
    """Every whole-node restyle (Textual's ``update_node_styles``), as (node, time)."""
    from textual.dom import DOMNode

    calls: list = []
    original = DOMNode.update_node_styles

    def counted(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DOMNode, "update_node_styles", counted)
    return calls


async def test_footer_keys_mount_in_their_final_style(monkeypatch):
    """No footer key is restyled as it mounts (FooterKey.compact defaults to True and the
    footer's binding then sets it False, each flip a restyle); the palette key, not bound,
    stays compact. Both styles as Textual's own Footer gives them."""
    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    class Keys(App):
        BINDINGS = [Binding("a", "bell", "Alpha"), Binding("b", "toggle_dark", "Beta")]

        def __init__(self, footer):
            super().__init__()
            self.footer = footer

        def compose(self):
            yield self.footer

    looks = {}
    for footer in (Footer(), KeyFooter()):
        calls = _count_restyles(monkeypatch)
        async with Keys(footer).run_test(size=(80, 5)) as pilot:
            await wait_for(pilot, lambda: len(footer.query(FooterKey)) >= 3)
            await pilot.pause()
            keys = list(footer.query(FooterKey))
            looks[type(footer)] = [(k.key, k.compact, sorted(k.classes)) for k in keys]
            restyled = [k.key for k in calls if isinstance(k, FooterKey)]
        monkeypatch.undo()
    assert looks[KeyFooter] == looks[Footer]
    assert looks[KeyFooter] == [("a", False, []), ("b", False, []),
                                ("ctrl+p", True, ["-command-palette", "-compact"])]
    assert restyled == []


async def test_a_screen_is_restyled_when_it_resumes_but_not_when_it_opens(settings, monkeypatch):
    """Opening the fleet screen (or a view) styles its widgets once: no whole-screen restyle
    for its breakpoint class or its first resume. A later resume restyles it as before."""
    from textual import events

    from console.screens.gpus import GpuScreen

    calls = _count_restyles(monkeypatch)
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        fleet = app.fleet_screen
        assert fleet.has_class("-narrow")
        assert fleet not in calls
        app.push_screen(GpuScreen())
        await pilot.pause()
        view = app.screen
        assert isinstance(view, GpuScreen) and view.has_class("-narrow") and view not in calls
        app.pop_screen()
        await pilot.pause()
        assert fleet not in calls  # back from a screen: Textual 8.2 does not restyle
        fleet.post_message(events.ScreenResume())  # as a mode or screen switch back does
        await wait_for(pilot, lambda: fleet in calls)  # later resumes restyle, as before


def test_read_only_checks_with_quick_settings_build_no_actions_section():
    """The footer's key checks (before the first frame) ask each context's policy: with
    quick settings the ``[actions]`` section (pydantic models) is not built for it, and
    the answers are those of the built default section."""
    from backends.actions.config import ActionsConfig
    from console.controllers.contexts import context_policy

    backends = demo_backends()
    quick = quick_settings()
    assert isinstance(quick, QuickSettings)
    answers = [context_policy(quick, backends.cluster, name) for name in ("demo", "prod")]
    assert "actions" not in vars(quick)
    full = load_settings()
    assert answers == [context_policy(full, backends.cluster, n) for n in ("demo", "prod")]
    assert quick.actions == ActionsConfig() == full.actions  # still there when read
    assert answers == [context_policy(quick, backends.cluster, n) for n in ("demo", "prod")]
    assert not any(ActionsConfig().is_read_only(n) for n in ("demo", "prod", "", "x"))
    ro = quick_settings(read_only=True)
    assert context_policy(ro, backends.cluster, "demo") == context_policy(
        load_settings(read_only=True), backends.cluster, "demo") is not None


async def test_the_first_frame_builds_no_actions_section(monkeypatch):
    """Up to the first frame's marker (footer keys checked, the app's after-first-frame
    callback run), ``pitboard --demo`` with quick settings never builds the ``[actions]``
    section."""
    from console.screens.fleet import FleetScreen

    quick = quick_settings(refresh=3600)
    assert quick is not None
    app = make_app(quick, demo_backends())
    seen: list[tuple[bool, int, bool]] = []
    original = FleetScreen._after_first_frame

    def marked(screen: FleetScreen) -> None:
        seen.append(("actions" in vars(quick), len(screen.query("FooterKey")), app.started))
        original(screen)

    monkeypatch.setattr(FleetScreen, "_after_first_frame", marked)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(seen) and app.actions.runner is not None)
    built, keys, started = seen[0]
    assert keys > 0 and started and not built


async def test_the_footer_is_built_once_at_start(monkeypatch):
    """The fleet screen's footer composes its keys, fitted to the terminal, with the
    screen: no recompose (remove and mount every key, one more layout) up to the first
    frame with data, nor once the actions are ready (keys dimmed in place)."""
    recomposed: list[KeyFooter] = []
    original = KeyFooter.recompose

    async def counted(self: KeyFooter) -> None:
        recomposed.append(self)
        await original(self)

    monkeypatch.setattr(KeyFooter, "recompose", counted)
    quick = quick_settings(refresh=3600)
    assert quick is not None
    app = make_app(quick, demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        await wait_for(pilot, lambda: app.actions.runner is not None)
        await pilot.pause()
        footer = app.fleet_screen.query_one(KeyFooter)
        keys = [(k.key, k.description) for k in footer.query("FooterKey")]
    assert keys == [("slash", "Filter"), ("colon", "Jump"), ("R", "Rollback"),
                    ("P", "Promote"), ("n", "Note"), ("q", "Quit"),
                    ("question_mark", "Help"), ("ctrl+p", "palette")]
    assert recomposed == []
