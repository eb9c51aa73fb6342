"""Pilot tests of the fleet screen: data, filter, selection, window, pause, failures."""

from __future__ import annotations

import html

from console.app import make_app
from console.screens.modals.help import HelpScreen
from console.controllers.state import WINDOW_SECONDS
from tests.console.conftest import demo_backends, wait_for, wait_loaded, workers_idle
from widgets.fleet_header import FleetHeader
from widgets.gpu_grid import GpuGrid
from widgets.model_table import ModelTable
from widgets.release_history import ReleaseHistory


def screen_text(app) -> str:
    """The visible screen as plain text (from the SVG export, unescaped)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def header_text(app) -> str:
    header = app.fleet_screen.query_one(FleetHeader)
    return " ".join(str(w.render()) for w in header.query("Static"))


async def test_demo_fleet_on_screen(settings):
    backends = demo_backends()
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one(ModelTable)
        services = app.state.cluster.services
        assert table.row_count == len(services) >= 8
        names = {str(table.get_cell(s.key, "name")) for s in services}
        assert "llm-chat" in names
        assert len(app.fleet_screen.query_one(GpuGrid)._gpus) == 38
        text = screen_text(app)
        assert "demo" in text and "Cost burn" in text and "XID 79" in text
        assert app.return_code is None


async def test_filter_and_back(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one(ModelTable)
        total = table.row_count
        await pilot.press("slash", *"fraud")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert str(table.get_cell_at((0, 0))) == "fraud-scorer"
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == total)
        assert app.focused is table


async def test_selecting_a_model_updates_chart_and_history(settings, fakes):
    cluster, metrics, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        screen = app.fleet_screen
        history = screen.query_one(ReleaseHistory)
        table = screen.query_one(ModelTable)
        by_key = {s.key: s for s in cluster.svcs}
        first = by_key[table.keys[0]]
        assert screen.selected == first.key
        assert metrics.chart_calls[-1][0] == first.name
        assert metrics.chart_calls[-1][2] == first.key  # the service's own series
        await pilot.press("down")
        second = by_key[table.keys[1]]
        await wait_for(pilot, lambda: screen._chart._data is not None
                       and screen._chart._data[0] == second.name)
        assert screen.selected == second.key
        assert history._shown == cluster.read().revisions[second.key]
        await pilot.press("x")
        assert screen.has_class("-expanded")
        await pilot.press("escape")
        assert not screen.has_class("-expanded")


async def test_t_cycles_the_window(settings, fakes):
    _, metrics, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        assert app.fleet_screen.window == "1h"
        await pilot.press("t")
        await wait_for(pilot, lambda: metrics.chart_calls[-1][1] == WINDOW_SECONDS["6h"])
        assert app.fleet_screen.window == "6h"
        assert "6h" in header_text(app)
        await wait_for(pilot, lambda: app.fleet_screen._chart._data[1] == "6h")
        for expected in ("24h", "7d", "15m", "1h"):
            await pilot.press("t")
            assert app.fleet_screen.window == expected


async def test_space_pauses_polling(settings, fakes):
    cluster, metrics, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        reads = (cluster.reads, metrics.reads)
        await pilot.press("space")
        assert app.paused and "PAUSED" in screen_text(app)
        app.poller.poll("cluster")  # what the re-armed timers call
        app.poller.poll("metrics")
        await pilot.pause()
        await workers_idle(pilot)
        assert (cluster.reads, metrics.reads) == reads
        await pilot.press("space")
        await wait_for(pilot, lambda: cluster.reads > reads[0] and metrics.reads > reads[1])
        assert not app.paused


async def test_no_poll_while_a_modal_is_open(settings, fakes):
    cluster, _, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        reads = cluster.reads
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        app.poller.poll("cluster")
        await workers_idle(pilot)
        assert cluster.reads == reads
        await pilot.press("escape")
        await wait_for(pilot, lambda: cluster.reads == reads + 1)


async def test_failing_metrics_marks_only_its_source_stale(settings, fakes):
    cluster, metrics, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one(ModelTable)
        rps_before = str(table.get_cell(cluster.svcs[0].key, "rps"))
        gpus_before = app.fleet_screen.query_one(GpuGrid)._gpus
        metrics.fail = True
        app.poller.poll("metrics")
        await wait_for(pilot, lambda: not app.state.status["metrics"].ok)
        await workers_idle(pilot)
        await pilot.pause()
        assert app.state.status["cluster"].ok
        assert "unreachable" in app.state.status["metrics"].error
        assert "metrics stale  0s" in header_text(app)
        assert "cluster  0s" in header_text(app)
        assert str(table.get_cell(cluster.svcs[0].key, "rps")) == rps_before
        assert app.fleet_screen.query_one(GpuGrid)._gpus is gpus_before
        assert app.is_running and app.return_code is None
        metrics.fail = False
        app.poller.poll("metrics")
        await wait_for(pilot, lambda: app.state.status["metrics"].ok)


async def test_only_changed_rows_are_redrawn(settings, fakes):
    cluster, metrics, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one(ModelTable)
        drawn: list[str] = []
        original = table._line
        table._line = lambda cells, base: (drawn.append(cells[0][0]), original(cells, base))[1]
        polls = app.poller.poll_counts["metrics"]
        app.poller.poll("metrics")  # same figures again: nothing to redraw
        await wait_for(pilot, lambda: app.poller.poll_counts["metrics"] > polls)
        await workers_idle(pilot)
        await pilot.pause()
        assert drawn == []
        metrics.rps = 250.0
        app.poller.poll("metrics")
        await wait_for(pilot, lambda: table.get_cell(cluster.svcs[0].key, "rps") == "250.0")
        await pilot.pause()
        assert set(drawn) == {table.get_cell_at((r, 0)) for r in range(table.row_count)}
        assert len(drawn) == table.row_count


async def test_hostile_names_render_literally(settings):
    app = make_app(settings, demo_backends(hostile=True))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one(ModelTable)
        cells = [str(table.get_cell_at((r, 0))) for r in range(table.row_count)]
        assert "[bold red]x[/]" in cells
        assert any("\\x1b[2J" in c for c in cells)
        assert not any("\x1b" in c for c in cells)
        assert any(len(c) >= 300 for c in cells)
        text = screen_text(app)
        long_line = next(line for line in text.splitlines() if "long-" in line)
        assert "…" in long_line  # truncated with an ellipsis, the layout intact
        assert "[bold red]x[/]" in text
        assert "\\x1b[2J" in text and "\x1b" not in text
        name = next(s for s in app.state.cluster.services if s.name.startswith("[bold"))
        table.move_cursor(row=table.get_row_index(name.key))
        await wait_for(pilot, lambda: app.fleet_screen._chart._data[0] == name.name)
        assert "[bold red]x[/]" in screen_text(app)
        assert app.return_code is None


async def test_help_and_jump(settings, fakes):
    *_, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {key: desc for key, desc, _ in app.screen._rows}
        for key, desc in (("/", "Filter"), ("t", "Window"), ("space", "Pause"), ("q", "Quit"),
                          (":", "Jump"), ("enter", "Detail"), ("ctrl+p", "Command palette")):
            assert keys.get(key) == desc
        assert "Filter the model table" in screen_text(app)
        await pilot.press("escape")
        assert app.screen is app.fleet_screen
        await pilot.press("colon", *"history", "enter")
        assert isinstance(app.focused, ReleaseHistory)
        await pilot.press("colon", *"models", "enter")
        assert isinstance(app.focused, ModelTable)


async def test_palette_offers_models(settings, fakes):
    cluster, _, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        from console.screens.commands import FleetCommands

        provider = FleetCommands(app.screen)
        labels = [label for label, *_ in provider._entries()]
        assert "Model fraud-scorer" in labels and "Pause refresh" in labels
        hits = [h async for h in provider.search("fraud")]
        assert hits and hits[0].text == "Model fraud-scorer"
        hits[0].command()
        await pilot.pause()
        assert app.fleet_screen.selected == cluster.svcs[2].key


async def test_read_only_badge(fakes):
    from console.config import load_settings
    from widgets.badges import ReadOnlyBadge

    *_, backends = fakes
    app = make_app(load_settings(refresh=3600, read_only=True), backends)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_loaded(pilot)
        badge = app.fleet_screen.query_one(ReadOnlyBadge)
        assert badge.has_class("-on") and badge.styles.display == "block"
        assert str(badge.render()) == "RO" and badge.region.width > 0


async def test_a_late_message_while_the_app_shuts_down_is_not_a_crash(settings):
    """A worker's message (here the audit store opening) can reach the app while it shuts
    down, after the fleet screen's widgets are gone (``run_test`` shuts the app down with
    its message loop still running): the app drops it instead of failing on the missing
    header, and the screen's own clock tick finds no header to update. Failed in CI as
    ``NoMatches: FleetHeader`` before the guards."""
    import asyncio

    from console.controllers.actions import AuditOpened

    backends = demo_backends()
    app = make_app(settings, backends)
    handled: list[str] = []
    original = app.actions.on_audit_opened

    def counted(message):
        handled.append("opened")
        original(message)

    app.actions.on_audit_opened = counted  # type: ignore[method-assign]
    close_all = app._close_all

    async def late_message_during_close():
        await app.fleet_screen.remove_children()
        app.post_message(AuditOpened(None, None, error="late"))
        await asyncio.sleep(1.2)  # the app's loop handles it now, mid-shutdown, and the
        # header's once-a-second tick comes round while the header is gone
        await close_all()

    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        before = len(handled)
        app._close_all = late_message_during_close  # type: ignore[method-assign]
    assert len(handled) == before  # dropped, not handed to the controller
