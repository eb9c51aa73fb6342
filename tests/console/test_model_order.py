"""The model table's problems-first order: what an on-call engineer should look at on top,
in the problem strip's order; `o` switches to name order and back, the cursor staying on
its model."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

from backends.domain.health import attention
from backends.domain.models import FleetSnapshot, Health, ModelService, Problem
from console.app import make_app
from console.presenters.problems import worst_problems
from tests.console.conftest import demo_backends, select_model, wait_for, wait_loaded
from widgets.model_rows import rows_from_snapshot
from widgets.model_table import ModelTable

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=timezone.utc)


def _svc(name: str) -> ModelService:
    return ModelService(name=name, namespace="ml", cluster="prod", replicas_desired=2,
                        replicas_ready=2)


def _problem(signal: str, level: str, minutes_ago: int | None = None) -> Problem:
    since = NOW - timedelta(minutes=minutes_ago) if minutes_ago is not None else None
    return Problem(signal=signal, level=level, text=f"{signal} {level}", since=since)


def _snapshot() -> FleetSnapshot:
    """Eight models in name order, each with a status decided beforehand (as the poller's
    ``status`` carries it)."""
    status = {
        "a-calm": Health(status="OK", level="ok"),
        "b-drift": Health(status="DRIFT", level="warn", problems=(_problem("drift", "warn", 5),)),
        "c-unknown": Health(status="?", level="unknown", why="no figures"),
        "d-errors-new": Health(status="ERRORS", level="warn",
                               problems=(_problem("errors", "warn", 2),)),
        "e-canary": Health(status="CANARY", level="info"),
        "f-errors-old": Health(status="ERRORS", level="warn",
                               problems=(_problem("errors", "warn", 30),)),
        "g-down": Health(status="DOWN", level="bad", problems=(_problem("replicas", "bad"),
                                                               _problem("errors", "bad", 3))),
        "h-calm": Health(status="OK", level="ok"),
        # a firing alert at bad, with a warn problem of its own: ranked by its own
        "i-alert-and-drift": Health(status="DRIFT", level="warn", problems=(
            _problem("alert", "bad", 60), _problem("drift", "warn", 1))),
    }
    services = tuple(_svc(name) for name in status)
    return FleetSnapshot(taken_at=NOW, context="prod", services=services,
                         status={s.key: status[s.name] for s in services})


def test_rows_carry_their_place_and_problems_come_first_in_the_strips_order():
    snap = _snapshot()
    rows = rows_from_snapshot(snap)
    assert [r.name for r in rows] == [s.name for s in snap.services]  # rows keep the source's
    ordered = [r.name for r in sorted(rows, key=lambda r: r.attention)]
    assert ordered == [
        "g-down",             # bad first
        "f-errors-old",       # warn errors before warn drift, the older first
        "d-errors-new",
        "b-drift",            # warn drift, 5 minutes
        "i-alert-and-drift",  # warn drift, 1 minute (its bad alert repeats its own problem)
        "c-unknown",          # no figure at all: before the calm ones
        "e-canary",           # a canary in progress
        "a-calm", "h-calm",   # nothing to look at: in the source's order
    ]
    # the table's first problems are the strip's models, in the strip's order
    strip_models = list(dict.fromkeys(line.model for line in worst_problems(snap)))
    assert ordered[:len(strip_models)] == strip_models
    assert attention(None) < attention(Health(status="OK", level="ok"))


def _screen_text(app) -> str:
    runs = re.findall(r"<text[^>]*>(.*?)</text>", app.export_screenshot(), flags=re.S)
    return html.unescape("".join(runs)).replace("\xa0", " ")


async def test_o_switches_the_order_and_the_cursor_keeps_its_model(settings):
    app = make_app(settings, demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        screen = app.fleet_screen
        table = screen.query_one(ModelTable)
        source = [s.key for s in screen.snapshot.services]
        names = {s.key: s.name for s in screen.snapshot.services}
        strip = worst_problems(screen.snapshot)
        assert strip, "the demo has an incident"
        # problems first by default: the strip's worst model on the first row, selected
        assert table.order == "problems" and table.keys[0] == strip[0].key
        assert screen.selected == strip[0].key
        assert table.keys != source and sorted(table.keys) == sorted(source)
        assert f"Models {table.row_count} · problems first" in _screen_text(app)
        assert "Status↓" in "".join(seg.text for seg in table.render_line(0))
        # a calm model, then `o`: by name, the cursor still on that model
        calm = next(k for k in reversed(table.keys) if k not in {x.key for x in strip})
        await select_model(pilot, names[calm])
        await pilot.press("o")
        await wait_for(pilot, lambda: table.order == "name")
        by_name = sorted(source, key=lambda k: names[k])
        assert table.keys == by_name and by_name != source  # the demo lists them otherwise
        assert table.selected_key == calm and screen.selected == calm
        assert table.cursor_row == by_name.index(calm)
        assert f"Models {table.row_count} · by name" in _screen_text(app)
        header = "".join(seg.text for seg in table.render_line(0))
        assert "Model↓" in header and "Status↓" not in header
        # and back
        await pilot.press("o")
        await wait_for(pilot, lambda: table.order == "problems")
        assert table.keys[0] == strip[0].key and table.selected_key == calm
        problems_first = table.keys
        # the filter keeps the order shown
        await pilot.press("slash", *"er")
        await wait_for(pilot, lambda: table.filter_text == "er")
        kept = set(table.keys)
        assert 1 < len(kept) < len(source)
        assert table.keys == [k for k in problems_first if k in kept]


async def test_the_config_can_start_the_table_by_name():
    from console.config import load_settings

    app = make_app(load_settings(refresh=3600, display={"model_order": "name"}),
                   demo_backends())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one(ModelTable)
        name_of = {s.key: s.name for s in app.fleet_screen.snapshot.services}
        names = [name_of[k] for k in table.keys]
        assert table.order == "name" and names == sorted(names)
        assert f"Models {table.row_count} · by name" in _screen_text(app)
        await pilot.press("o")
        await wait_for(pilot, lambda: table.order == "problems")


def _held_start(settings):
    """An app whose cluster read comes back stale (its data with it) and whose metrics
    read waits for ``metrics.go``: the first frame shows the cluster alone, every model
    without figures; the figures then make llm-chat the worst (its GPU's XID 79)."""
    import threading

    from backends.domain.errors import StaleError
    from console.wiring import Backends
    from tests.console.fakes import FakeCluster, FakeMetrics, frozen_clock

    class Behind(FakeCluster):
        def read(self):
            raise StaleError("deployments watch of context 'fake-ctx' is failing",
                             part=super().read(), source="kubernetes")

    class Held(FakeMetrics):
        def __init__(self) -> None:
            super().__init__()
            self.go = threading.Event()
            self.xid = True

        def read(self, services, window_s, at=None, *, gpu_scope=None):
            if not self.go.wait(30):
                raise AssertionError("the test never let the metrics read go")
            part = super().read(services, window_s, at, gpu_scope=gpu_scope)
            if self.xid:
                return part
            # no XID any more; fraud-scorer's errors at 40 % instead
            gpus = tuple(g.model_copy(update={"last_xid": None}) for g in part.gpus)
            health = {**part.health, "fraud-scorer": part.health["fraud-scorer"].model_copy(
                update={"error_ratio": 0.4})}
            return part.model_copy(update={"gpus": gpus, "health": health})

    cluster = Behind(names=("llm-chat", "embedder", "fraud-scorer", "ranker"))
    metrics = Held()
    return make_app(settings, Backends(cluster=cluster, metrics=metrics,
                                       clock=frozen_clock)), metrics


async def test_the_cursor_follows_the_top_row_until_the_first_complete_frame(settings):
    """A start whose cluster read came first: once the figures bring the incident to the
    top, the cursor is on it; after that first complete frame it keeps its model."""
    app, metrics = _held_start(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.fleet_screen.query_one(ModelTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        before = table.keys[0]
        assert table.selected_key == before
        metrics.go.set()
        await wait_for(pilot, lambda: app.state.metrics is not None)
        await wait_for(pilot, lambda: app.fleet_screen.snapshot.gpus != ())
        top = table.keys[0]
        assert top.endswith("/llm-chat") and top != before  # the figures moved the rows
        await wait_for(pilot, lambda: app.fleet_screen.selected == top)
        assert table.selected_key == top
        # from now on the selection is the person's: a new worst model does not take it
        metrics.xid = False
        for _ in range(2):  # a status is held for two reads before the rows move
            reads = metrics.reads
            app.poller.poll("metrics")
            await wait_for(pilot, lambda: metrics.reads > reads)
        await wait_for(pilot, lambda: table.keys[0].endswith("/fraud-scorer"))
        assert table.selected_key == top and app.fleet_screen.selected == top


async def test_a_key_pressed_before_the_figures_keeps_the_cursor_where_it_was_put(settings):
    app, metrics = _held_start(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.fleet_screen.query_one(ModelTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        table.focus()
        await pilot.press("down")
        chosen = table.selected_key
        assert chosen == table.keys[1]
        metrics.go.set()
        await wait_for(pilot, lambda: app.fleet_screen.snapshot.gpus != ())
        assert table.keys[0].endswith("/llm-chat")
        assert table.selected_key == chosen != table.keys[0]
