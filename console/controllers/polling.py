"""Pollers: one exclusive thread worker per source, re-armed only after it finished.

Mixed into the App. A poll is skipped (and remembered) while refresh is paused or a
modal is open; it runs as soon as that ends. Errors land in one ``Worker.StateChanged``
handler that marks the source stale and notifies; the app never exits on them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from backends.domain.errors import BackendError, ConfigError
from backends.domain.models import ModelService
from console.controllers.messages import BackendsReady, ChartUpdated, SourceUpdated
from console.controllers.state import RATE_WINDOW_S, SOURCES, WINDOW_SECONDS, Backends
from widgets.text import safe

DONE = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


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


class PollingMixin:
    """Needs on the host App: ``backends``, ``state``, ``settings``, ``paused``,
    ``fleet_screen`` and ``clock()``."""

    backends: Backends | None

    def _init_polling(self) -> None:
        self._poll_timers: dict[str, Timer] = {}
        self._pending: set[str] = set()
        self.poll_counts: Counter[str] = Counter()
        self.polling_started = False

    # -- scheduling ---------------------------------------------------------------
    @property
    def modal_open(self) -> bool:
        """True while a modal (help, palette, ...) covers the fleet screen."""
        return isinstance(self.screen, ModalScreen)  # type: ignore[attr-defined]

    def start_polling(self) -> None:
        """Register the sources and poll each once now."""
        assert self.backends is not None
        self.polling_started = True
        self.state.expect(self.backends.sources)  # type: ignore[attr-defined]
        for source in self.backends.sources:
            self.poll(source)

    def poll(self, source: str) -> None:
        """Start one poll of ``source`` unless paused/modal (then it waits)."""
        timer = self._poll_timers.pop(source, None)
        if timer is not None:
            timer.stop()
        if self.backends is None or source not in self.backends.sources:
            return
        if self.paused or self.modal_open:  # type: ignore[attr-defined]
            self._pending.add(source)
            return
        if source == "metrics" and self.state.cluster is None:  # type: ignore[attr-defined]
            self._pending.add(source)  # runs right after the first cluster read
            return
        self._pending.discard(source)
        self.poll_counts[source] += 1
        if source == "cluster":
            self._poll_cluster()
        elif source == "metrics":
            self._poll_metrics(self.state.cluster.services)  # type: ignore[attr-defined]
        elif source == "alerts":
            self._poll_alerts()

    def resume_pending(self) -> None:
        """Run the polls that were skipped while paused or behind a modal."""
        for source in sorted(self._pending, key=SOURCES.index):
            self.poll(source)

    def _rearm(self, source: str) -> None:
        if source not in self._poll_timers:
            self._poll_timers[source] = self.set_timer(  # type: ignore[attr-defined]
                self.settings.refresh, lambda: self.poll(source), name=f"poll-{source}"  # type: ignore[attr-defined]
            )

    # -- workers (threads) ----------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="connect", name="connect",
          description="construct backends")
    def connect(self) -> None:
        """Build the backends off the event loop (heavy client imports happen here)."""
        from console.wiring import build_backends  # noqa: PLC0415 - lazy by design

        self.post_message(BackendsReady(build_backends(self.settings)))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, exit_on_error=False, group="cluster", name="cluster",
          description="read model services")
    def _poll_cluster(self) -> None:
        backend = self.backends.cluster
        part = backend.read()
        self.post_message(SourceUpdated("cluster", part, self.backends.clock(),  # type: ignore[attr-defined]
                                        problem=partial_failure(backend)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="metrics", name="metrics",
          description="read metrics")
    def _poll_metrics(self, services: Sequence[ModelService]) -> None:
        at = self.backends.clock()
        part = self.backends.metrics.read(services, RATE_WINDOW_S, at)
        self.post_message(self.metrics_update(part, at))  # type: ignore[attr-defined]

    def metrics_update(self, part, at) -> SourceUpdated:
        """The message for a fresh metrics part, with its display data made here, in the
        poller's thread (see console.presenters.prepare); the UI thread only shows them."""
        prep = getattr(self, "_fleet_prep", None)
        try:
            if prep is None:
                from console.presenters.prepare import FleetPrep  # noqa: PLC0415

                prep = self._fleet_prep = FleetPrep(self.settings.slo)  # type: ignore[attr-defined]
            prepared = prep(self.state.cluster, part)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - an optimisation: the UI thread then computes
            prepared = None  # them itself (and reports any error there)
        return SourceUpdated("metrics", part, at, prepared)

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts", name="alerts",
          description="read alerts")
    def _poll_alerts(self) -> None:
        alerts = self.backends.alerts.alerts()
        self.post_message(SourceUpdated("alerts", alerts, self.backends.clock()))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, exit_on_error=False, group="chart", name="chart",
          description="read chart series")
    def load_chart(self, model: str, window: str, draw=None,
                   service: ModelService | None = None) -> None:
        """Range series of ``model`` (``service``'s, when given) over ``window`` for the
        chart on screen; ``draw`` (from ``LatencyChart.drawer``) draws them here too, so
        the figure needs no second worker and no second frame."""
        if self.backends is None or self.backends.metrics is None:
            return
        at = self.backends.clock()
        series = tuple(self.backends.metrics.chart(model, WINDOW_SECONDS[window], at,
                                                   service=service))
        self.post_message(ChartUpdated(model, window, series, draw_safely(draw, series),  # type: ignore[attr-defined]
                                       service.key if service else None))

    # -- results -----------------------------------------------------------------------
    def on_backends_ready(self, message: BackendsReady) -> None:
        self.backends = message.backends
        if self.fleet_screen.is_mounted:  # type: ignore[attr-defined]
            self.start_polling()  # else when it is (the app's fleet_mounted)

    def on_source_updated(self, message: SourceUpdated) -> None:
        self.state.succeeded(message.source, message.part, message.at, message.problem)  # type: ignore[attr-defined]
        prepared = message.prepared
        if prepared is not None:
            self.state.adopt_gpus(prepared.cluster.gpus, prepared.part.gpus, prepared.gpus)  # type: ignore[attr-defined]
            self.fleet_screen.prepared = prepared  # type: ignore[attr-defined]
        if message.source == "cluster" and "metrics" in self._pending and not self.paused:  # type: ignore[attr-defined]
            self.poll("metrics")
        self.show_state()  # type: ignore[attr-defined]

    def on_chart_updated(self, message: ChartUpdated) -> None:
        self.fleet_screen.show_chart(message.model, message.window, message.series,  # type: ignore[attr-defined]
                                     message.drawn, message.key)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one error handler: mark the source stale, notify, never exit."""
        worker = event.worker
        group = worker.group
        if event.state == WorkerState.ERROR:
            reason = describe(worker.error)
            if group == "connect" and isinstance(worker.error, ConfigError):
                # Bad kubeconfig/context: retrying cannot help and nothing can be shown.
                self.exit(return_code=2, message=Text(  # type: ignore[attr-defined]
                    f"pitboard: nothing can be shown: {reason}\n"
                    "(pitboard --demo runs the console on an embedded simulated fleet)"))
                return
            if group in SOURCES or group == "connect":
                source = "cluster" if group == "connect" else group
                was_ok = self.state.status.get(source) is None or self.state.status[source].ok  # type: ignore[attr-defined]
                self.state.failed(source, reason, self.clock())  # type: ignore[attr-defined]
                if was_ok:
                    self.notify(safe(reason, 300), title=f"{source} failed", severity="error",  # type: ignore[attr-defined]
                                markup=False)
                self.show_state()  # type: ignore[attr-defined]
            elif group in ("chart", "chart-draw"):
                self.notify(safe(reason, 300), title="chart failed", severity="warning",  # type: ignore[attr-defined]
                            markup=False)
        if event.state in DONE:
            if group in SOURCES:
                self._rearm(group)
            elif group == "connect" and event.state == WorkerState.ERROR:
                self.set_timer(self.settings.refresh, self.connect)  # type: ignore[attr-defined]
