"""The "what's wrong now" strip on the fleet screen (demo fleet, frozen clock)."""

from __future__ import annotations

from backends.domain.models import SourceStatus
from console.app import make_app
from console.screens.model_detail import ModelDetailScreen
from tests.console.conftest import count_layouts, demo_backends, wait_for, wait_loaded
from widgets.problem_strip import ProblemStrip


async def test_strip_lists_the_worst_problems_and_enter_opens_the_model(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        strip = app.fleet_screen.query_one(ProblemStrip)
        await wait_for(pilot, lambda: bool(strip.lines))
        first = strip.lines[0]
        # the demo's incident: llm-chat's GPU has a new XID 79 (bad) before the
        # recommender's canary, worse than stable (warn)
        assert (first.model, first.level) == ("llm-chat", "bad")
        assert first.text.startswith("XID 79 on GPU")
        assert [x.level for x in strip.lines] == sorted(
            (x.level for x in strip.lines), key=["bad", "warn"].index)
        assert any(x.model == "recommender" and x.text.startswith("canary errors")
                   for x in strip.lines)
        text = strip.strip_text().plain
        assert "llm-chat" in text and "since" in text
        # the status on the row says the same as the strip
        table = app.fleet_screen.query_one("ModelTable")
        assert table.get_cell(first.key, "status") == "GPU"
        strip.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        assert app.fleet_screen.selected == first.key


async def test_strip_fits_80x24_and_counts_the_rest(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        strip = app.fleet_screen.query_one(ProblemStrip)
        await wait_for(pilot, lambda: bool(strip.lines))
        shown = strip.strip_text().plain.splitlines()
        assert len(shown) == 2 and strip.size.height == 2
        # two rows: the worst problem whole, then every other one named (model and status
        # word, worst first) as far as the line goes
        first, rest = strip.lines[0], strip.lines[1:]
        assert shown[0].startswith(f"● {first.model}  {first.text}")
        assert shown[1].startswith(f"{'●' if rest[0].level == 'bad' else '▲'} "
                                   f"+{len(rest)} more: {rest[0].model} {rest[0].word}")
        assert all(x.word and x.word.isupper() for x in rest)


async def test_all_clear_when_nothing_is_wrong():
    from textual.app import App, ComposeResult

    class Alone(App):
        def compose(self) -> ComposeResult:
            yield ProblemStrip()

    app = Alone()
    async with app.run_test(size=(80, 5)):
        strip = app.query_one(ProblemStrip)
        # before its first lines (the console before any source answered) it says nothing
        # is known -- it used to say all clear there
        assert strip.strip_text().plain == "waiting for data…"
        strip.show(())
        assert strip.strip_text().plain.startswith("✓ all clear")
        # a source failing or not answered yet: nothing seen is not all clear
        strip.show((), blind="metrics failing")
        text = strip.strip_text().plain
        assert text.startswith("? no problem seen · metrics failing") and "clear" not in text


async def test_the_strip_says_which_sources_it_cannot_see_through(settings, fakes):
    from console.screens.fleet import _blind

    cluster, metrics, backends = fakes
    app = make_app(settings, backends)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        snap = app.fleet_screen.snapshot
        assert _blind(snap) == ""
        down = {**snap.sources, "metrics": snap.sources["metrics"].model_copy(
            update={"ok": False, "error": "connection refused"})}
        unseen = {**down, "alerts": SourceStatus(name="alerts")}
        assert _blind(snap.model_copy(update={"sources": down})) == "metrics failing"
        assert _blind(snap.model_copy(update={"sources": unseen})) == \
            "metrics failing, alerts not answered yet"


async def test_a_line_that_changes_length_is_repainted_not_laid_out():
    """While any problem shows, the strip takes its whole room (``max_lines`` rows): what
    a line says and how many lines there are change without a layout (at 3,000 models the
    named rest changes every refresh, and the count goes up and down by one); the screen
    moves when the first problem comes (at once) and when the last has been gone for
    SHRINK_AFTER_S."""
    from dataclasses import dataclass
    from datetime import datetime

    from textual.app import App, ComposeResult

    @dataclass(frozen=True)
    class P:
        key: str
        model: str
        level: str
        word: str
        text: str
        since: datetime | None = None

    class Alone(App):
        def compose(self) -> ComposeResult:
            yield ProblemStrip()

    down = P("a", "a", "bad", "DOWN", "no replica ready")
    app = Alone()
    async with app.run_test(size=(100, 8)) as pilot:
        strip = app.query_one(ProblemStrip)
        now = [1000.0]
        strip.clock = lambda: now[0]
        strip.max_lines = 4
        strip.show(())
        await pilot.pause()
        assert strip.size.height == 1  # all clear: one row
        layouts = count_layouts(app)
        strip.show([down, P("b", "b", "warn", "SLOW", "p95 1.2 s > SLO 800 ms")])
        await pilot.pause()
        assert layouts and strip.size.height == 4  # the first problems: the whole room
        layouts.clear()
        strip.show([down, P("b", "b", "warn", "SLOW", "p95 12.5 s > SLO 800 ms")])
        await pilot.pause()
        assert not layouts
        assert "12.5 s" in strip.render_line(1).text  # repainted with the new text
        strip.show([down])  # one line fewer
        await pilot.pause()
        assert not layouts and strip.size.height == 4  # held: blank rows
        assert strip.render_line(1).text.strip() == ""
        strip.show([P(k, k, "warn", "SLOW", "slow") for k in "abcdef"])  # more than room
        await pilot.pause()
        assert not layouts and strip.size.height == 4
        assert "+2 more" in strip.render_line(3).text
        strip.show(())  # all clear: the rows stay for SHRINK_AFTER_S ...
        await pilot.pause()
        assert not layouts and strip.size.height == 4
        assert strip.render_line(0).text.startswith("✓ all clear")
        now[0] += ProblemStrip.SHRINK_AFTER_S - 1
        strip.show([down])  # ... so a problem that comes back moves nothing
        strip.show(())
        await pilot.pause()
        assert not layouts and strip.size.height == 4
        now[0] += ProblemStrip.SHRINK_AFTER_S - 1  # needed 59 s ago: still held
        strip.show(())
        await pilot.pause()
        assert not layouts and strip.size.height == 4
        now[0] += 2  # unneeded for longer than SHRINK_AFTER_S: given back
        strip.show(())
        await pilot.pause()
        assert layouts and strip.size.height == 1
        layouts.clear()
        strip.show([down])  # a new incident: the whole room at once
        await pilot.pause()
        assert layouts and strip.size.height == 4
        layouts.clear()
        now[0] += 10 * ProblemStrip.SHRINK_AFTER_S
        strip.show([down])  # the same problem for ten minutes: needed all along ...
        strip.show(())
        await pilot.pause()
        assert not layouts and strip.size.height == 4  # ... so held after it ends


async def test_a_stale_cluster_read_still_brings_the_figures_and_the_strip_says_so(settings):
    """The cluster listed but its watch behind from the first read (StaleError with its
    data): the models show, the metrics are read for them, the cluster badge is stale."""
    from backends.domain.errors import StaleError
    from console.wiring import Backends
    from tests.console.fakes import FakeCluster, FakeMetrics, frozen_clock

    class Behind(FakeCluster):
        def read(self):
            raise StaleError("deployments watch of context 'fake-ctx' is failing",
                             part=super().read(), source="kubernetes")

    cluster, metrics = Behind(), FakeMetrics()
    app = make_app(settings, Backends(cluster=cluster, metrics=metrics, clock=frozen_clock))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.state.metrics is not None)
        status = app.state.status["cluster"]
        assert not status.ok and "watch of context 'fake-ctx'" in (status.error or "")
        assert {s.key for s in app.state.cluster.services} == {s.key for s in cluster.svcs}
        assert metrics.reads >= 1
        await wait_for(pilot, lambda: app.fleet_screen.query_one(ProblemStrip)._blind != "")
        assert app.fleet_screen.query_one(ProblemStrip)._blind == "cluster failing"


async def test_before_any_source_answers_the_strip_does_not_say_all_clear(settings):
    """The cluster's first read still out (a slow or unreachable API server): the strip
    says it is waiting, never 'all clear'; once the sources answer, it shows what is."""
    import threading

    from console.wiring import Backends
    from tests.console.fakes import FakeCluster, FakeMetrics, frozen_clock

    go = threading.Event()

    class Slow(FakeCluster):
        def read(self):
            if not go.wait(30):
                raise AssertionError("the test never let the read go")
            return super().read()

    app = make_app(settings, Backends(cluster=Slow(), metrics=FakeMetrics(), clock=frozen_clock))
    async with app.run_test(size=(100, 30)) as pilot:
        strip = app.fleet_screen.query_one(ProblemStrip)
        try:
            await pilot.pause(0.3)
            assert app.state.cluster is None
            assert strip.strip_text().plain == "waiting for data…"
        finally:
            go.set()
        await wait_for(pilot, lambda: bool(strip.lines))
        assert strip.lines[0].model == "llm-chat"  # the fakes' GPU with an XID
