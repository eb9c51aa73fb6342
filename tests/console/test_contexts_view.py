"""``:ctx``: one row per context with its state and policy, and narrowing the console to one
context (``enter``) and back (``enter`` on "all contexts", the same context again, or
``esc`` on the fleet). The demo fleet (one context) and a fake two-context fleet."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace


from backends.domain.sources import ClusterBackend, ClusterPart
from backends.domain.models import (Alert, CostBurn, FleetSnapshot, GpuDevice, HealthSample,
                             ModelService, Revision, SourceStatus)
from console.app import make_app
from console.config import load_settings
from console.controllers.contexts import (ContextFilter, context_rows, gpu_owners, known_slots,
                                    narrow_parts, read_only_reason)
from backends.actions.catalog import is_mutating
from tests.console.conftest import demo_backends, wait_for, workers_idle
from tests.console.fakes import T0, FakeMetrics, frozen_clock
from console.controllers.state import Backends

HOSTILE_CTX = "[bold red]prod[/]\x1b[2J-🔥"


# -- a two-context fleet ---------------------------------------------------------------------
def svc(name: str, ctx: str, ns: str = "ml") -> ModelService:
    return ModelService(name=name, namespace=ns, cluster=ctx, version="v1", replicas_desired=1,
                        replicas_ready=1)


class FakeFleet(ClusterBackend):
    """Two contexts like ``KubernetesFleet``: ``clusters``, ``errors``, rows tagged."""

    def __init__(self, eu: str = "prod-eu", us: str = "prod-us") -> None:
        self.eu, self.us = eu, us
        self.clusters = {
            eu: SimpleNamespace(context=eu, namespaces=["ml"], read_only=False,
                                api=SimpleNamespace(conn=SimpleNamespace(
                                    server="https://eu.example:6443"))),
            us: SimpleNamespace(context=us, namespaces=[], read_only=True,
                                api=SimpleNamespace(conn=SimpleNamespace(
                                    server="https://us.example:6443"))),
        }
        self.context = f"{eu},{us}"
        self.namespace = "ml"
        self.errors: dict[str, str] = {}
        self.fail_us = False
        self.lock = threading.Lock()

    def read(self) -> ClusterPart:
        with self.lock:
            fail_us = self.fail_us
        services = [svc("llm-chat", self.eu), svc("ranker", self.eu)]
        if not fail_us:
            services += [svc("llm-chat", self.us), svc("speech-asr", self.us)]
        self.errors = {self.us: "cannot reach https://us.example:6443"} if fail_us else {}
        gpus = [GpuDevice(node="eu-node", index=i, pod=f"p{i}", namespace="ml",
                          model="ranker" if i else None) for i in range(2)]
        if not fail_us:
            gpus += [GpuDevice(node="us-node", index=i, pod=f"q{i}", namespace="ml",
                               model="speech-asr") for i in range(3)]
        revs = {s.key: (Revision(number=1, current=True, created=T0 - timedelta(days=1)),)
                for s in services}
        return ClusterPart(context=self.context, namespace="ml", services=tuple(services),
                           revisions=revs, gpus=tuple(gpus))

    def plan(self, request):  # pragma: no cover
        raise AssertionError("the contexts view never acts")

    execute = progress = plan


class ClusterGpusMetrics(FakeMetrics):
    """FakeMetrics without GPUs of its own: the cluster's allocation is what is shown."""

    def read(self, services, window_s, at=None, *, gpu_scope=None):
        return super().read(services, window_s, at).model_copy(update={"gpus": ()})


def fleet_app(fleet: FakeFleet | None = None, **settings):
    fleet = fleet or FakeFleet()
    cfg = load_settings(refresh=3600, **settings)
    backends = Backends(cluster=fleet, metrics=ClusterGpusMetrics(), clock=frozen_clock)
    return make_app(cfg, backends), fleet


async def open_ctx(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.state.metrics is not None)
    await workers_idle(pilot)
    await pilot.press("colon", *"ctx", "enter")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextsScreen")


def table_text(screen) -> list[list[str]]:
    from textual.widgets import DataTable

    table = screen.query_one("#ctx-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def shown_keys(app) -> list:
    return [b.binding.action for b in app.screen.active_bindings.values()
            if b.binding.show and b.enabled]


# -- pure: attribution, narrowing, policy ------------------------------------------------------
def test_gpus_are_attributed_by_model_node_and_neighbours():
    services = (svc("a", "eu"), svc("b", "us"), svc("same", "eu"), svc("same", "us"))
    gpus = (GpuDevice(node="n1", index=0, model="a", namespace="ml"),     # by its model
            GpuDevice(node="n1", index=1),                                 # free, same node
            GpuDevice(node="n2", index=0, model="same", namespace="ml"),  # ambiguous model
            GpuDevice(node="n3", index=0),                                  # node listed
            GpuDevice(node="n9", index=0))                                  # nobody knows
    owners = gpu_owners(services, gpus, ["eu", "us"], {"us": frozenset({"n3"})})
    assert owners == ("eu", "eu", None, "us", None)
    assert gpu_owners(services, gpus, ["only"], {}) == ("only",) * 5
    # told by the GPU itself (a ``cluster`` attribute: see the report's GpuDevice.cluster),
    # or by the cluster part's GPU in the same slot
    tagged = (tag(gpus[2], "us"), gpus[4])
    assert gpu_owners(services, tagged, ["eu", "us"], {}, {("n9", 0): "eu"}) == ("us", "eu")
    cluster_gpus = (tag(GpuDevice(node="n9", index=0), "eu"),
                    tag(GpuDevice(node="n8", index=0), "eu"),
                    tag(GpuDevice(node="n8", index=0), "us"))  # same node name twice
    assert known_slots(cluster_gpus) == {("n9", 0): "eu"}


def tag(gpu: GpuDevice, ctx: str) -> SimpleNamespace:
    """``gpu`` with a ``cluster`` (GpuDevice may not have that field yet)."""
    return SimpleNamespace(**{**gpu.model_dump(), "cluster": ctx})


def _snapshot() -> FleetSnapshot:
    part = FakeFleet().read()
    health = {n: HealthSample(model=n, at=T0, rps=1.0) for n in ("llm-chat", "ranker",
                                                                   "speech-asr")}
    alerts = (Alert(name="GpuHot", labels={"cluster": "prod-us"}),
              Alert(name="SlowRanker", model="ranker"), Alert(name="Watchdog"),
              Alert(name="AsrErrors", model="speech-asr"))
    gpus = tuple(g.model_copy(update={"hourly_cost": 2.0}) for g in part.gpus)
    return FleetSnapshot(taken_at=T0, context=part.context, namespace="ml",
                         services=part.services, revisions=part.revisions, gpus=gpus,
                         health=health, alerts=alerts,
                         cost=CostBurn(hourly=10.0, today=50.0, monthly_budget=900.0,
                                       by_model={"ranker": 2.0, "speech-asr": 6.0},
                                       source="opencost"))


def test_narrowing_keeps_one_context_and_invents_nothing():
    snap = _snapshot()
    flt = ContextFilter()
    fleet = SimpleNamespace(backends=SimpleNamespace(cluster=FakeFleet()), state=None)
    assert flt.apply(snap, fleet) is snap  # all contexts: the very same snapshot
    flt.context = "prod-eu"
    eu = flt.apply(snap, fleet)
    assert eu.context == "prod-eu"
    assert {(s.cluster, s.name) for s in eu.services} == {("prod-eu", "llm-chat"),
                                                          ("prod-eu", "ranker")}
    assert set(eu.revisions) == {s.key for s in eu.services}
    assert [g.node for g in eu.gpus] == ["eu-node", "eu-node"]  # the free one by its node
    assert set(eu.health) == {"llm-chat", "ranker"}
    assert [a.name for a in eu.alerts] == ["SlowRanker", "Watchdog"]
    assert eu.cost.hourly == 4.0 and eu.cost.by_model == {"ranker": 2.0}
    assert eu.cost.today is None and eu.cost.monthly_budget is None  # not splittable
    assert flt.apply(snap, fleet).services is eu.services  # cached while the inputs stay
    flt.context = "prod-us"
    us = flt.apply(snap, fleet)
    assert [a.name for a in us.alerts] == ["GpuHot", "Watchdog", "AsrErrors"]
    assert len(us.gpus) == 3 and us.cost.hourly == 6.0
    one = snap.model_copy(update={"services": eu.services, "gpus": ()})
    assert narrow_parts(one, "prod-eu", ()) == {"context": "prod-eu"}


def test_rows_say_state_and_policy_per_context():
    settings = load_settings(actions={"protected_contexts": ["prod-eu"],
                                      "contexts": {"prod-eu": {"approvals_required": 2}}})
    fleet = FakeFleet()
    snap = _snapshot().model_copy(update={"sources": {"cluster": SourceStatus(
        name="cluster", ok=True, last_success=T0)}})
    flt = ContextFilter()
    app = SimpleNamespace(backends=SimpleNamespace(cluster=fleet), settings=settings, state=None)
    rows = {r.name: r for r in context_rows(snap, app, flt, T0 + timedelta(seconds=3))}
    eu, us = rows["prod-eu"], rows["prod-us"]
    assert (eu.server, eu.namespaces, eu.models, eu.gpus, eu.gpus_used) == (
        "https://eu.example:6443", "ml", 2, 2, 2)
    assert (us.namespaces, us.models, us.gpus) == ("all", 2, 3)
    assert eu.state == us.state == "ok" and eu.age_s == 3
    assert eu.protected and eu.approvals == 2 and eu.read_only is None
    assert us.read_only == "backend" and not us.protected and us.approvals == 0
    fleet.errors = {"prod-us": "cannot reach"}
    later = snap.model_copy(update={"sources": {"cluster": SourceStatus(
        name="cluster", ok=True, last_success=T0 + timedelta(seconds=10))}})
    rows = {r.name: r for r in context_rows(later, app, flt, T0 + timedelta(seconds=12))}
    assert rows["prod-us"].state == "stale" and rows["prod-us"].age_s == 12
    assert rows["prod-us"].error == "cannot reach" and rows["prod-eu"].age_s == 2
    fresh = {r.name: r for r in context_rows(later, app, ContextFilter(), T0)}
    assert fresh["prod-us"].state == "unreachable"
    ro = load_settings(read_only=True, actions={"read_only_contexts": ["x"]})
    assert read_only_reason(ro, fleet, "prod-eu") == "--read-only"
    assert read_only_reason(load_settings(actions={"contexts": {"prod-eu": {"read_only": True}}}),
                            fleet, "prod-eu") == "config"


# -- Pilot: the demo (one context) -------------------------------------------------------------
async def test_ctx_on_the_demo_lists_its_one_context():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ctx(pilot)
        rows = table_text(app.screen)
        assert [r[1] for r in rows] == ["all contexts", "demo"]
        assert rows[0][0] == "●" and rows[1][0] == ""  # every context shown
        assert rows[1][2:5] == ["ml-serving", "17", "34/38"]  # 80 columns: no server
        assert rows[1][5].startswith("ok") and rows[1][6] == "writable"
        keys = shown_keys(app)
        assert "select_cursor" in keys and "back" in keys and "quit" in keys
        assert not [k for k in keys if is_mutating(k)]
        await pilot.press("escape")
        assert app.screen is app.fleet_screen


async def test_ctx_read_only_shows_no_mutating_key():
    from backends.demo.fleet import FrozenClock
    from console.wiring import build_demo
    from tests.console.conftest import FROZEN

    settings = load_settings(refresh=3600, read_only=True, demo={"enabled": True})
    app = make_app(settings, build_demo(settings, clock=FrozenClock(FROZEN)))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_ctx(pilot)
        rows = table_text(app.screen)
        assert rows[1][7] == "RO (--read-only)" and rows[0][7] == "RO (--read-only)"
        assert not [k for k in shown_keys(app) if is_mutating(k)]
        assert not [b for b in app.screen.active_bindings.values()
                    if b.enabled and is_mutating(b.binding.action)]


async def test_enter_on_the_demo_context_and_back():
    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ctx(pilot)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
        assert app.navigator.context_filter.context == "demo"
        assert len(app.fleet_screen.snapshot.services) == 17  # one context: all of it
        await pilot.press("escape")
        assert app.navigator.context_filter.context is None


# -- Pilot: two contexts -----------------------------------------------------------------------
async def test_two_contexts_rows_and_policy():
    app, fleet = fleet_app(actions={"protected_contexts": ["prod-eu"],
                                    "contexts": {"prod-eu": {"approvals_required": 1}}})
    async with app.run_test(size=(160, 48)) as pilot:
        await open_ctx(pilot)
        rows = table_text(app.screen)
        assert [r[1] for r in rows] == ["all contexts", "prod-eu", "prod-us"]
        assert rows[0][4:6] == ["4", "5/5"]
        assert rows[1][2:6] == ["https://eu.example:6443", "ml", "2", "2/2"]
        assert rows[1][7] == "protected · 1 approval"
        assert rows[2][3] == "all" and rows[2][7] == "RO"
        with fleet.lock:
            fleet.fail_us = True
        app.poller.poll("cluster")
        await wait_for(pilot, lambda: table_text(app.screen)[2][6].startswith("stale"))
        await pilot.press("down", "down")
        detail = str(app.screen.query_one("#ctx-detail").render())
        assert "cannot reach https://us.example:6443" in detail and "read-only" in detail


async def test_enter_narrows_the_fleet_and_all_contexts_restores_it():
    app, _ = fleet_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ctx(pilot)
        await pilot.press("down", "down", "enter")  # prod-us
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
        fs = app.fleet_screen
        assert {s.cluster for s in fs.snapshot.services} == {"prod-us"}
        assert fs.query_one("#models").row_count == 2
        assert {g.node for g in fs.snapshot.gpus} == {"us-node"}
        assert "prod-us" in str(fs.query_one("#hdr-where").render())
        assert all(key.startswith("prod-us/") for key in fs.snapshot.revisions)
        await pilot.press("colon", *"ctx", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextsScreen")
        assert table_text(app.screen)[2][0] == "●"
        assert app.screen.query_one("#ctx-table").cursor_row == 2  # on the current one
        await pilot.press("up", "up", "enter")  # all contexts
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
        assert fs.query_one("#models").row_count == 4 and len(fs.snapshot.gpus) == 5
        # enter on the current context again (the cursor starts on it), and esc on the
        # fleet, show every context again
        for again in (True, False):
            await pilot.press("colon", *"ctx", "enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextsScreen")
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: app.navigator.context_filter.context == "prod-eu")
            await wait_for(pilot, lambda: app.screen is app.fleet_screen)
            assert fs.query_one("#models").row_count == 2
            if again:
                await pilot.press("colon", *"ctx", "enter")
                await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextsScreen")
                await pilot.press("enter")
            else:
                await pilot.press("escape")
            await wait_for(pilot, lambda: app.navigator.context_filter.context is None)
            await wait_for(pilot, lambda: app.screen is app.fleet_screen)
            assert fs.query_one("#models").row_count == 4


async def test_hostile_context_names_stay_literal():
    app, _ = fleet_app(FakeFleet(eu=HOSTILE_CTX, us="x" * 300))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ctx(pilot)
        rows = table_text(app.screen)
        assert rows[1][1] == "[bold red]prod[/]\\x…"  # escaped, then cut to 20 cells
        assert rows[2][1] == "x" * 19 + "…"
        await pilot.press("down")
        detail = str(app.screen.query_one("#ctx-detail").render())
        assert "[bold red]prod[/]\\x1b[2J-🔥" in detail and "\x1b" not in detail
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
        assert app.navigator.context_filter.context == HOSTILE_CTX
        assert "\x1b" not in str(app.fleet_screen.query_one("#hdr-where").render())


async def test_a_read_only_context_dims_its_models_actions():
    app, fleet = fleet_app()  # prod-us's member is read-only, prod-eu is writable
    async with app.run_test(size=(120, 40)) as pilot:
        await open_ctx(pilot)
        await wait_for(pilot, lambda: app.actions.runner is not None)
        await pilot.press("down", "down", "enter")  # prod-us
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)
        fs = app.fleet_screen
        await wait_for(pilot, lambda: fs._selected_model() is not None)
        assert fs._selected_model().cluster == "prod-us"
        why = app.actions.action_unavailable("rollback", fs._selected_model())
        assert why == "context prod-us is read-only (backend)"
        assert fs.check_action("rollback", ()) is None and fs.check_action("promote", ()) is None
        eu = next(s for s in app.state.cluster.services if s.cluster == "prod-eu")
        assert app.actions.action_unavailable("rollback", eu) is None


async def test_ctx_name_narrows_at_once_as_in_k9s():
    """``:ctx prod-us`` narrows the console to that context without the view, ``:ctx all``
    shows every one again; a unique start is enough; an unknown name says which exist
    and changes nothing (it said "unknown panel :ctx nosuch")."""
    from console.controllers.contexts import current_context

    app, _ = fleet_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.state.metrics is not None)
        await workers_idle(pilot)
        told: list[str] = []
        app.fleet_screen.notify = lambda message, **_: told.append(message)

        async def jump(text: str) -> None:
            await pilot.press("colon", *text, "enter")
            await pilot.pause()

        await jump("ctx prod-us")
        assert current_context(app) == "prod-us" and told[-1].startswith("showing prod-us")
        assert {s.cluster for s in app.fleet_screen.snapshot.services} == {"prod-us"}
        await jump("ctx all")
        assert current_context(app) is None and told[-1] == "showing all contexts"
        await jump("ctx prod-e")  # the one context it starts
        assert current_context(app) == "prod-eu"
        await jump("ctx prod")  # two start so: which one?
        assert current_context(app) == "prod-eu"
        assert told[-1] == "no context 'prod' (contexts: prod-eu, prod-us)"
        await jump("ctx nosuch")
        assert current_context(app) == "prod-eu" and told[-1].startswith("no context 'nosuch'")
        assert type(app.screen).__name__ != "ContextsScreen"  # the view never opened
        await jump("ctx")  # no name: the view, as before
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContextsScreen")
