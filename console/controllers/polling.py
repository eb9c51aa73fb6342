"""Pollers: one exclusive thread worker per source, re-armed only after it finished.

Mixed into the App. A poll is skipped (and remembered) while refresh is paused or a
modal is open; it runs as soon as that ends. Errors land in one ``Worker.StateChanged``
handler that marks the source stale and notifies; the app never exits on them.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from backends.domain.errors import BackendError, ConfigError, StaleError, is_unreachable
from backends.domain.redact import redact
from backends.domain.models import GpuScope, ModelService, Series
from console.controllers.messages import BackendsReady, ChartUpdated, SourceUpdated
from console.controllers.state import RATE_WINDOW_S, SOURCES, WINDOW_SECONDS, Clock
from console.controllers.base import Controller, in_thread
from console.controllers.contexts import current_context
from console.presenters.cost import idle_util_of
from console.presenters.prepare import FleetPrep
from console.wiring import build_backends, release_free_memory
from widgets.alert_data import PreparedAlerts, prepare_alerts
from widgets.text import safe

if TYPE_CHECKING:
    from backends.domain.sources import AlertsBackend, ClusterBackend, MetricsBackend, MetricsPart
    from console.app import PitboardApp

DONE = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
GPU_ROWS_MAX = 2000
"""Up to this many GPUs a metrics read gives every GPU one row (the fleet's GPU panel shows
them all; measured flat at 2,000 GPUs). Past it, reads are scoped to what is on screen
(:meth:`Poller.gpu_scope`): a page of GPUs, every GPU counted in ``gpu_summary``."""
FLEET_SCOPE = GpuScope(sort="util", limit=100)
"""The fleet screen's GPUs past ``GPU_ROWS_MAX``: the 100 busiest."""
FIRST_SHOW_GRACE_S = 0.25
"""Before every source answered once, a source's answer waits up to this long for the
others (from the first answer), so the first frames are not drawn once per source (the
cluster's models, then its alerts, then its figures: a layout and a repaint of the whole
screen each, ~40 ms apiece at start); after it, or once all answered, each is shown."""


def describe(error: BaseException | None) -> str:
    """Short reason for the header/tooltip: BackendError text, else the exception type."""
    if error is None:
        return "unknown error"
    if isinstance(error, BackendError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def partial_failure(backend) -> str | None:
    """What failed of a source that still answered: the contexts of a several-context
    cluster backend whose reads fail (their last good data stays on screen)."""
    errors = getattr(backend, "errors", None) or {}
    if not errors:
        return None
    total = len(getattr(backend, "clusters", None) or ()) or len(errors)
    failing = "; ".join(f"{ctx}: {err}" for ctx, err in errors.items())
    return f"{len(errors)} of {total} contexts failing, last good data shown: {failing}"


def draw_safely(draw, series):
    """``draw(series)``, or None when there is no drawer or it failed (the chart then
    draws the series in a worker of its own, which reports the error)."""
    if draw is None:
        return None
    try:
        return draw(series)
    except Exception:  # noqa: BLE001 - an optimisation, never a reason to lose the series
        return None


class Poller(Controller):
    """``app.poller``: reads the app's ``backends`` into its ``state`` and hands each
    fresh snapshot to ``app.show_state()``."""

    def __init__(self, app: PitboardApp) -> None:
        super().__init__(app)
        self._poll_timers: dict[str, Timer] = {}
        self._pending: set[str] = set()
        self.poll_counts: Counter[str] = Counter()
        self.polling_started = False
        self.cluster_seen = False  # the cluster answered once: later failures only mark it stale
        self.alerts_prepared: PreparedAlerts | None = None
        """The latest alerts read, sorted and formatted in the poller's thread."""
        self._retired: deque[tuple] = deque(maxlen=8)
        """What the updates replaced, freed by the next worker (``free_retired``)."""
        self._held: Timer | None = None  # first answers held (FIRST_SHOW_GRACE_S)
        self._holding = True  # until the grace ran out or every source answered

    # -- scheduling ---------------------------------------------------------------
    @property
    def modal_open(self) -> bool:
        """True while a modal (help, palette, ...) covers the fleet screen."""
        return isinstance(self.app.screen, ModalScreen)

    def start_polling(self) -> None:
        """Register the sources and poll each once now."""
        backends = self.app.require_backends()
        self.polling_started = True
        self.app.state.expect(backends.sources)
        for source in backends.sources:
            self.poll(source)

    def poll(self, source: str) -> None:
        """Start one poll of ``source`` unless paused/modal (then it waits)."""
        timer = self._poll_timers.pop(source, None)
        if timer is not None:
            timer.stop()
        backends = self.app.backends
        if backends is None or source not in backends.sources:
            return
        if self.app.paused or self.modal_open:
            self._pending.add(source)
            return
        cluster = self.app.state.cluster
        if source == "metrics" and cluster is None:
            self._pending.add(source)  # runs right after the first cluster read
            return
        self._pending.discard(source)
        self.poll_counts[source] += 1
        # each worker gets its backend: a configured source is not None (backends.sources)
        if source == "cluster":
            self._poll_cluster(backends.cluster, backends.clock)
        elif source == "metrics" and backends.metrics is not None and cluster is not None:
            self._poll_metrics(backends.metrics, backends.clock, cluster.services,
                               self.gpu_scope())
        elif source == "alerts" and backends.alerts is not None:
            self._poll_alerts(backends.alerts, backends.clock)

    def resume_pending(self) -> None:
        """Run the polls that were skipped while paused or behind a modal."""
        for source in sorted(self._pending, key=SOURCES.index):
            self.poll(source)

    def _rearm(self, source: str) -> None:
        if source not in self._poll_timers:
            self._poll_timers[source] = self.app.set_timer(
                self.app.settings.refresh, lambda: self.poll(source), name=f"poll-{source}"
            )

    # -- workers (threads) ----------------------------------------------------------
    @in_thread(exclusive=True, group="connect", name="connect", description="construct backends")
    def connect(self) -> None:
        """Build the backends off the event loop (heavy client imports happen here), or
        take those the command line started building before the app was imported
        (``app.backends_in_advance``: :class:`console.wiring.BackendsInAdvance`)."""
        early = getattr(self.app, "backends_in_advance", None)
        backends = early.take() if early is not None else build_backends(self.app.settings)
        self.app.post_message(BackendsReady(backends))

    @in_thread(exclusive=True, group="cluster", name="cluster", description="read model services")
    def _poll_cluster(self, backend: ClusterBackend, clock: Clock) -> None:
        self.free_retired()
        part = backend.read()
        self.app.post_message(SourceUpdated("cluster", part, clock(),
                                            problem=partial_failure(backend)))

    def gpu_scope(self) -> GpuScope | None:
        """Which GPUs the next metrics read gives one row each: every GPU up to
        ``GPU_ROWS_MAX`` (None); past it, what the active view shows: its own
        ``gpu_scope()`` (``:gpus``: the page of its sort and filter), a model's GPUs in
        its detail, else the fleet screen's ``FLEET_SCOPE``."""
        metrics, cluster = self.app.state.metrics, self.app.state.cluster
        summary = metrics.gpu_summary if metrics is not None else None
        # the fleet's size: the last read's count, else the cluster's GPUs (allocation from
        # Kubernetes) so a large fleet's first read is scoped too; else unknown (the first
        # read of a metrics store alone, with no GPUs from Kubernetes): scoped as well --
        # its summary, counted by the server, tells the size -- for every GPU's rows would
        # cost a 20,000-GPU fleet ~230 MB at its peak, which the process keeps for good
        # (a read within one context counted that context's GPUs, not the fleet's)
        if getattr(getattr(metrics, "gpu_scope", None), "cluster", None) is not None:
            summary = None
        known = summary.gpus if summary is not None else (
            len(cluster.gpus) if cluster is not None and cluster.gpus else None)
        if known is not None and known <= GPU_ROWS_MAX:
            return None
        screen = self.app.screen
        own = getattr(screen, "gpu_scope", None)
        model = getattr(screen, "model_name", None)  # a model's detail: its GPUs
        if callable(own):
            scope = own()
            scope = scope if isinstance(scope, GpuScope) else FLEET_SCOPE
        elif type(screen).__name__ == "ModelDetailScreen" and isinstance(model, str):
            scope = GpuScope(model=model, limit=100)
        else:
            scope = FLEET_SCOPE
        # narrowed by :ctx: the read within that context -- its busiest GPUs, its summary
        # and cost -- where the store tells the clusters apart (else the page is of every
        # context's GPUs, and the screens narrow it)
        context = current_context(self.app)
        metrics_backend = getattr(getattr(self.app, "backends", None), "metrics", None)
        if context is not None and getattr(metrics_backend, "reads_by_cluster", False):
            scope = scope.model_copy(update={"cluster": context})
        return scope

    def rescope(self) -> None:
        """Read the metrics again now if the GPUs the last read was scoped to are no
        longer those on screen (another view, sort, filter or ``:ctx``)."""
        part = self.app.state.metrics
        if part is not None and part.gpu_scope is not None \
                and part.gpu_scope != self.gpu_scope():
            self.poll("metrics")

    @in_thread(exclusive=True, group="metrics", name="metrics", description="read metrics")
    def _poll_metrics(self, backend: MetricsBackend, clock: Clock,
                      services: Sequence[ModelService], scope: GpuScope | None = None) -> None:
        self.free_retired()
        at = clock()
        part = (backend.read(services, RATE_WINDOW_S, at) if scope is None
                else backend.read(services, RATE_WINDOW_S, at, gpu_scope=scope))
        self.app.post_message(self.metrics_update(part, at))
        release_free_memory()  # what the read's decoding freed, back to the system

    def metrics_update(self, part: MetricsPart, at: datetime) -> SourceUpdated:
        """The message for a fresh metrics part, with its display data made here, in the
        poller's thread (see console.presenters.prepare); the UI thread only shows them."""
        prep: FleetPrep | None = getattr(self, "_fleet_prep", None)
        try:
            if prep is None:
                prep = self._fleet_prep = FleetPrep(self.app.settings.slo)
            prepared = prep(self.app.state.cluster, part, self.app.state.alerts or (), at,
                            lambda s: self._problem_chart(s, at),
                            lambda s: self._problem_revisions(s, at),
                            cost_idle_util=self._cost_idle_util())
        except Exception:  # noqa: BLE001 - an optimisation: the UI thread then computes
            prepared = None  # them itself (and reports any error there)
        return SourceUpdated("metrics", part, at, prepared)

    def _cost_idle_util(self) -> float | None:
        """The idle threshold the cost view's rows are made with while a cost view is
        open (they are then made in the poller's thread too), else None: nobody shows
        them (a few milliseconds a refresh at 3,000 models saved)."""
        if any(type(s).__name__ == "CostScreen" for s in self.app.screen_stack):
            return idle_util_of(self.app.settings)
        return None

    def _problem_chart(self, service: ModelService, at: datetime) -> Sequence[Series]:
        """The last hour of ``service``'s chart, read (in the poller's thread) when one of
        its problems appears, to say since when it has been there."""
        metrics = self.app.backends.metrics if self.app.backends is not None else None
        return metrics.chart(service.name, 3600, at, service=service) if metrics else ()

    def _problem_revisions(self, service: ModelService, at: datetime) -> Sequence[Series]:
        """The last hour of ``service``'s error % per revision, read (in the poller's
        thread) when a canary worse than stable appears, to say since when."""
        metrics = self.app.backends.metrics if self.app.backends is not None else None
        return metrics.revision_error_chart(service.name, 3600, at, service=service) \
            if metrics else ()

    @in_thread(exclusive=True, group="alerts", name="alerts", description="read alerts")
    def _poll_alerts(self, backend: AlertsBackend, clock: Clock) -> None:
        self.free_retired()
        alerts = backend.alerts()
        self.app.post_message(self.alerts_update(alerts, clock()))

    def alerts_update(self, alerts, at: datetime) -> SourceUpdated:
        """The message for a fresh alerts read, sorted, formatted and joined to the
        cluster's models here, in the poller's thread (``widgets.alert_data.prepare_alerts``:
        ~5 ms for a few hundred alerts); the alerts view only draws them."""
        cluster = self.app.state.cluster
        try:
            prepared: PreparedAlerts | None = prepare_alerts(
                alerts, cluster.services if cluster is not None else None)
        except Exception:  # noqa: BLE001 - an optimisation: the view then sorts them itself
            prepared = None  # (and reports any error there)
        return SourceUpdated("alerts", prepared.alerts if prepared is not None else alerts,
                             at, prepared)

    @in_thread(exclusive=True, group="chart", name="chart", description="read chart series")
    def load_chart(self, model: str, window: str, draw=None,
                   service: ModelService | None = None) -> None:
        """Range series of ``model`` (``service``'s, when given) over ``window`` for the
        chart on screen; ``draw`` (from ``LatencyChart.drawer``) draws them here too, so
        the figure needs no second worker and no second frame."""
        if self.app.backends is None or self.app.backends.metrics is None:
            return
        at = self.app.backends.clock()
        series = tuple(self.app.backends.metrics.chart(model, WINDOW_SECONDS[window], at,
                                                   service=service))
        self.app.post_message(ChartUpdated(model, window, series, draw_safely(draw, series),
                                       service.key if service else None))

    # -- results -----------------------------------------------------------------------
    def on_backends_ready(self, message: BackendsReady) -> None:
        self.app.backends = message.backends
        if self.app.fleet_screen.is_mounted:
            self.start_polling()  # else when it is (the app's fleet_mounted)

    def free_retired(self) -> None:
        """(In a worker's thread) drop what earlier updates replaced: the last reference
        to a refresh's objects goes here, not on the UI thread. At 3,000 models freeing
        the previous snapshot, its rows and parts cost the UI thread ~10 ms a refresh."""
        while True:
            try:
                self._retired.popleft()  # the last reference, dropped in this thread
            except IndexError:  # none left (another worker may have taken the last)
                return

    def on_source_updated(self, message: SourceUpdated) -> None:
        screen = self.app.fleet_screen
        self._retired.append((self.app.state.held(), screen.snapshot, screen.prepared,
                              self.alerts_prepared))
        if message.source == "cluster":
            self.cluster_seen = True
        self.app.state.succeeded(message.source, message.part, message.at, message.problem)
        prepared = message.prepared
        if isinstance(prepared, PreparedAlerts):
            self.alerts_prepared = prepared
        elif prepared is not None:
            self.app.state.adopt_gpus(prepared.cluster.gpus, prepared.part.gpus, prepared.gpus)
            self.app.state.health_status = prepared.status
            self.app.fleet_screen.prepared = prepared
        if message.source == "cluster" and "metrics" in self._pending and not self.app.paused:
            self.poll("metrics")
        if self._hold_first_answers():
            return
        self.app.show_state()

    def _hold_first_answers(self) -> bool:
        """True: this answer is held, to be shown with the others (FIRST_SHOW_GRACE_S)."""
        if not self._holding:
            return False
        if self.app.state.answered():  # all there: shown now, together
            self._end_hold()
            return False
        if self._held is None:
            self._held = self.app.set_timer(FIRST_SHOW_GRACE_S, self._show_held,
                                            name="first-answers")
        return True

    def _end_hold(self) -> None:
        self._holding = False
        if self._held is not None:
            self._held.stop()
            self._held = None

    def _show_held(self) -> None:
        """The grace is over: show what answered; every answer from now on as it comes."""
        self._held = None
        if self._holding:
            self._holding = False
            self.app.show_state()

    def on_chart_updated(self, message: ChartUpdated) -> None:
        self.app.fleet_screen.show_chart(message.model, message.window, message.series,
                                     message.drawn, message.key)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one error handler: mark the source stale, notify, never exit."""
        worker = event.worker
        group = worker.group
        if event.state == WorkerState.ERROR:
            reason = describe(worker.error)
            if group in ("connect", "cluster") and not self.cluster_seen and \
                    worker.error is not None and is_unreachable(worker.error):
                # Nothing was ever read and the cluster cannot be reached: say where, why.
                self.app.exit(return_code=2, message=Text(
                    f"pitboard: cannot reach the cluster: {redact(str(worker.error))}\n"
                    "(check the context and the VPN; pitboard --demo runs the console on "
                    "an embedded simulated fleet)"))
                return
            if group == "connect" and isinstance(worker.error, ConfigError):
                # Bad kubeconfig/context: retrying cannot help and nothing can be shown.
                self.app.exit(return_code=2, message=Text(
                    f"pitboard: nothing can be shown: {reason}\n"
                    "(pitboard --demo runs the console on an embedded simulated fleet)"))
                return
            if group in SOURCES or group == "connect":
                source = "cluster" if group == "connect" else group
                was_ok = self.app.state.status.get(source) is None or self.app.state.status[source].ok
                error = worker.error
                stale = error if isinstance(error, StaleError) else None  # its text: reason's
                self.app.state.failed(source, stale or reason, self.app.clock())
                if stale is not None and self.app.state.cluster is stale.part:  # data held
                    self.cluster_seen = True  # it answered: later failures only mark it stale
                    if "metrics" in self._pending and not self.app.paused:
                        self.poll("metrics")  # the figures of the models it listed
                if was_ok:
                    self.app.notify(safe(reason, 300), title=f"{source} failed", severity="error",
                                markup=False)
                self._end_hold()  # a failure is shown at once, with whatever answered
                self.app.show_state()
            elif group in ("chart", "chart-draw"):
                self.app.notify(safe(reason, 300), title="chart failed", severity="warning",
                            markup=False)
        if event.state in DONE:
            if group in SOURCES:
                self._rearm(group)
            elif group == "connect" and event.state == WorkerState.ERROR:
                self.app.set_timer(self.app.settings.refresh, self.connect)
