"""A console narrowed by ``:ctx`` over a fleet read page by page (past GPU_ROWS_MAX):
the metrics read is within that context where the store tells the clusters apart
(``GpuScope.cluster``), its summary is told only for that context, and in the moment
after ``:ctx`` changes -- the last read still within the old one -- no figure of one
context is shown as another's or as the fleet's."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from backends.domain.models import CostBurn, FleetSnapshot, GpuScope, GpuSummary
from backends.domain.sources import MetricsPart
from console.controllers.contexts import ContextFilter, read_within, use_context
from console.controllers.polling import FLEET_SCOPE, GPU_ROWS_MAX, Poller

AT = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
BIG = GpuSummary(gpus=GPU_ROWS_MAX * 10, by_cluster={"prod-a": 900})


def app_of(context, reads_by_cluster=True, metrics=None, screen=None):
    flt = ContextFilter()
    flt.context = context
    part = metrics if metrics is not None else MetricsPart(gpu_summary=BIG, gpu_scope=FLEET_SCOPE)
    return SimpleNamespace(
        state=SimpleNamespace(metrics=part, cluster=None),
        screen=screen if screen is not None else object(),
        navigator=SimpleNamespace(context_filter=flt),
        backends=SimpleNamespace(metrics=SimpleNamespace(reads_by_cluster=reads_by_cluster),
                                 cluster=None))


def test_narrowed_reads_are_within_the_context_where_the_store_can():
    assert Poller(app_of(None)).gpu_scope() == FLEET_SCOPE  # type: ignore[arg-type]
    assert Poller(app_of("prod-a")).gpu_scope() == FLEET_SCOPE.model_copy(  # type: ignore[arg-type]
        update={"cluster": "prod-a"})
    # one context's series only (the demo, a store with no cluster label): a page of all
    assert Poller(app_of("prod-a", reads_by_cluster=False)).gpu_scope() == FLEET_SCOPE  # type: ignore[arg-type]
    # a view's own page (the :gpus sort and filter) keeps them
    gpus_view = SimpleNamespace(gpu_scope=lambda: GpuScope(sort="temp", limit=40, state="hot"))
    assert Poller(app_of("prod-a", screen=gpus_view)).gpu_scope() == GpuScope(  # type: ignore[arg-type]
        sort="temp", limit=40, state="hot", cluster="prod-a")
    # a small fleet: every GPU's row, whatever the context
    small = MetricsPart(gpu_summary=GpuSummary(gpus=16))
    assert Poller(app_of("prod-a", metrics=small)).gpu_scope() is None  # type: ignore[arg-type]


def test_changing_the_context_reads_its_page_at_once():
    polled: list[str] = []

    class Spy(Poller):
        def poll(self, source: str) -> None:
            polled.append(source)

    app = app_of(None)
    app.show_state = lambda: None
    app.poller = Spy(app)  # type: ignore[arg-type]
    app.poller.rescope()
    assert polled == []  # the last read is the page on screen
    assert use_context(app, "prod-a")
    assert polled == ["metrics"]  # its page and its summary, now
    app.state.metrics = MetricsPart(gpu_summary=BIG, gpu_scope=FLEET_SCOPE.model_copy(
        update={"cluster": "prod-a"}))
    app.poller.rescope()
    assert polled == ["metrics"]
    assert use_context(app, None)
    assert polled == ["metrics", "metrics"]  # the fleet's again


def test_a_summary_is_told_only_for_the_context_it_was_read_within():
    fleet = MetricsPart(gpu_summary=BIG, gpu_scope=FLEET_SCOPE)
    within = MetricsPart(gpu_summary=BIG, gpu_scope=GpuScope(cluster="prod-a"))
    every_row = MetricsPart(gpu_summary=BIG)
    assert fleet.page_of_fleet is fleet.page_of(None) is BIG
    assert fleet.page_of("prod-a") is None  # every context's figures, not prod-a's
    assert within.page_of("prod-a") is BIG
    assert within.page_of(None) is None and within.page_of("prod-b") is None
    assert within.page_of_fleet is None
    assert every_row.page_of(None) is None  # the rows are every GPU: their own figures


def test_right_after_ctx_changes_no_cost_is_told_as_anothers():
    cost = CostBurn(hourly=812.0, today=9000.0, by_model={"llm-a": 800.0}, source="opencost")
    within_a = MetricsPart(cost=cost, gpu_summary=BIG, gpu_scope=GpuScope(cluster="prod-a"))
    snap = FleetSnapshot(taken_at=AT, context="prod-a", cost=cost)
    # :ctx just left: the last read was prod-a's; its cost is not the fleet's
    app = app_of(None, metrics=within_a)
    assert read_within(snap, app) == "prod-a"
    shown = app.navigator.context_filter.apply(snap, app)
    assert shown.cost.hourly is None and shown.cost.today is None
    assert shown.cost.by_model == {} and shown.cost.source == "opencost"
    # narrowed to prod-a, read within prod-a: its cost whole, as read
    app = app_of("prod-a", metrics=within_a)
    assert app.navigator.context_filter.apply(snap, app).cost == cost
    # a replayed instant's cost is not the live read's
    other = snap.model_copy(update={"cost": CostBurn(hourly=5.0)})
    assert read_within(other, app_of(None, metrics=within_a)) is None
    # the fleet's read: the fleet's cost
    fleet = MetricsPart(cost=cost, gpu_summary=BIG, gpu_scope=FLEET_SCOPE)
    app = app_of(None, metrics=fleet)
    assert app.navigator.context_filter.apply(snap, app) is snap


def test_a_small_context_of_a_large_fleet_stays_read_within():
    """The summary of a read within one context counts that context (500 GPUs), not the
    fleet: it does not make the next read one of every GPU's row (which would then
    count 2,500 and scope again: a read of each kind in turn)."""
    within = MetricsPart(gpu_summary=GpuSummary(gpus=500, by_cluster={"prod-a": 500}),
                         gpu_scope=FLEET_SCOPE.model_copy(update={"cluster": "prod-a"}))
    app = app_of("prod-a", metrics=within)
    assert Poller(app).gpu_scope() == within.gpu_scope  # type: ignore[arg-type]
    app.navigator.context_filter.context = None  # :ctx left: the fleet's page first
    assert Poller(app).gpu_scope() == FLEET_SCOPE  # type: ignore[arg-type]


def test_the_contexts_gpu_counts_of_a_fleet_read_page_by_page():
    from backends.domain.models import GpuDevice
    from console.controllers.contexts import gpu_counts
    from console.screens.contexts import gpu_cell

    rows = (GpuDevice(node="n1", index=0, pod="llm-a-0", cluster="prod-a"),
            GpuDevice(node="n1", index=1, cluster="prod-a"))
    fleet = GpuSummary(gpus=5000, allocated=4200, by_cluster={"prod-a": 3000, "prod-b": 2000})
    every_row = MetricsPart(gpus=rows, gpu_summary=GpuSummary(gpus=2))
    assert gpu_counts(app_of(None, metrics=every_row), "prod-a", rows) == (2, 1)
    page = MetricsPart(gpus=rows, gpu_summary=fleet, gpu_scope=FLEET_SCOPE)
    assert gpu_counts(app_of(None, metrics=page), None, rows) == (5000, 4200)
    assert gpu_counts(app_of(None, metrics=page), "prod-a", rows) == (3000, None)
    assert gpu_counts(app_of(None, metrics=page), "prod-c", ()) == (0, None)
    # one context read (the demo: its GPUs carry none): the fleet's figures are its own
    alone = MetricsPart(gpus=rows, gpu_summary=GpuSummary(gpus=20000, allocated=18000),
                        gpu_scope=FLEET_SCOPE)
    assert gpu_counts(app_of(None, metrics=alone), "demo", rows, only=True) == (20000, 18000)
    assert gpu_counts(app_of(None, metrics=alone), "demo", rows) == (None, None)
    within = MetricsPart(gpus=rows, gpu_summary=GpuSummary(gpus=3000, allocated=2900),
                         gpu_scope=GpuScope(cluster="prod-a"))
    assert gpu_counts(app_of("prod-a", metrics=within), "prod-a", rows) == (3000, 2900)
    assert gpu_counts(app_of("prod-a", metrics=within), "prod-b", ()) == (None, None)
    assert gpu_counts(app_of("prod-a", metrics=within), None, rows) == (None, None)
    assert [gpu_cell(*c) for c in ((1, 2), (None, 3000), (None, None), (2900, 3000))] == [
        "1/2", "3,000", "—", "2,900/3,000"]


def test_whose_summary_a_page_of_gpus_tells():
    """The GPU panel, :gpus and :cost tell the server's summary only for the rows it
    counted: the live read's rows (also narrowed to the one context there is), or a page
    read within the context the console is narrowed to; never a replayed instant's."""
    from backends.domain.models import GpuDevice
    from console.controllers.contexts import told_summary

    rows = (GpuDevice(node="n1", index=0, cluster="prod-a"),)
    cost = CostBurn(hourly=1.0)

    def app_with(part, context, live_rows):
        app = app_of(context, metrics=part)
        app.state.live_gpus = lambda gpus: gpus is live_rows
        return app

    fleet = MetricsPart(gpus=rows, cost=cost, gpu_summary=BIG, gpu_scope=FLEET_SCOPE)
    live = FleetSnapshot(taken_at=AT, context="prod-a", gpus=rows, cost=cost)
    rows = live.gpus  # the live snapshot's tuple (FleetState.live_gpus: by identity)
    assert told_summary(app_with(fleet, None, rows), live) == (BIG, FLEET_SCOPE)
    # :ctx to the only context: the same rows, the fleet's figures are its own
    assert told_summary(app_with(fleet, "prod-a", rows), live) == (BIG, FLEET_SCOPE)
    # narrowed rows of a read of every context: the page's own figures
    narrowed = live.model_copy(update={"gpus": tuple(list(rows))})  # another tuple
    assert told_summary(app_with(fleet, "prod-a", ()), narrowed) is None
    # a read within the narrowed context: its figures
    scope = FLEET_SCOPE.model_copy(update={"cluster": "prod-a"})
    within = MetricsPart(gpus=rows, cost=cost, gpu_summary=BIG, gpu_scope=scope)
    assert told_summary(app_with(within, "prod-a", ()), narrowed) == (BIG, scope)
    assert told_summary(app_with(within, None, ()), narrowed) is None  # :ctx just left
    # a replayed instant (not the live rows, not the live cost)
    replayed = live.model_copy(update={"cost": CostBurn(hourly=2.0), "gpus": ()})
    assert told_summary(app_with(within, "prod-a", rows), replayed) is None
    # every GPU read one by one: their own figures
    every = MetricsPart(gpus=rows, cost=cost, gpu_summary=BIG)
    assert told_summary(app_with(every, None, rows), live) is None
