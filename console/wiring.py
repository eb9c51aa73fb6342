"""Build the backends named by the settings. Imports are lazy: the kubernetes client and
prometheus-api-client are slow to import, so the console starts building them in a thread
of its own as soon as its settings are read, while Textual and the first screen are still
being imported (:class:`BackendsInAdvance`), and takes them in its connect worker (once,
synchronously, for ``--once``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from backends.domain.ahead import Ahead
from backends.domain.errors import ConfigError, NotFoundError
from console.controllers.state import Backends, as_clock

if TYPE_CHECKING:  # Settings or QuickSettings: only attributes are read
    from backends.demo.fleet import FrozenClock
    from console.config_core import AppSettings


def build_demo(settings: AppSettings, clock: object | None = None,
               start: datetime | None = None) -> Backends:
    """The embedded simulated fleet. ``clock`` (e.g. a FrozenClock) makes it deterministic."""
    from backends.demo.fleet import make_demo  # noqa: PLC0415 - the demo: only with --demo

    kwargs: dict = {"seed": settings.demo.seed, "n_gpus": settings.demo.n_gpus,
                    "n_models": settings.demo.n_models,
                    "hostile": settings.demo.hostile, "read_only": settings.read_only}
    if clock is not None:
        kwargs["clock"] = clock
    fleet = make_demo(**kwargs)
    real_clock = clock if clock is not None else getattr(fleet, "clock", None)
    return Backends(cluster=fleet.cluster, metrics=fleet.metrics,
                    alerts=getattr(fleet, "alerts", None), clock=as_clock(real_clock),
                    extra={"fleet": fleet})


MALLOC_ARENAS = 2
"""glibc's malloc arenas the process may have (its default: 8 per core). Each thread that
allocates while another does gets an arena of its own, and what it frees stays there: the
metrics pool's threads, each decoding a large answer now and then, kept ~20 MB more
resident at 3,000 models (VictoriaMetrics, 20 clusters) than two arenas do; the reads
took no longer with two (6.4-7.0 s a refresh, against 7.4 s before, with the store on
the same two cores)."""


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas from now on (``mallopt(M_ARENA_MAX)``, what
    ``MALLOC_ARENA_MAX`` sets; that variable, when set, wins). False where the C library
    is not glibc, or it refused."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    m_arena_max = -8  # malloc.h
    return bool(mallopt(m_arena_max, arenas))


def release_free_memory() -> bool:
    """Give the pages malloc holds free back to the system (glibc's ``malloc_trim``; the
    call releases the GIL, ~2 ms at 3,000 models). The poller's metrics worker calls it
    after each read: what a read's decoding freed stayed resident otherwise (~13 MB at
    3,000 models against VictoriaMetrics). False where the C library is not glibc."""
    trim = _libc_function("malloc_trim")
    return trim is not None and bool(trim(0))


_LIBC: dict[str, Callable[..., int] | None] = {}


def _libc_function(name: str) -> Callable[..., int] | None:
    """glibc's function ``name`` (cached), None where the C library has none."""
    if name not in _LIBC:
        import ctypes  # noqa: PLC0415 - only on the path to real backends

        try:
            _LIBC[name] = getattr(ctypes.CDLL(None), name)
        except (AttributeError, OSError):  # not glibc (musl, macOS)
            _LIBC[name] = None
    return _LIBC[name]


def frozen_clock(at: datetime) -> FrozenClock:
    """A clock standing still at ``at`` (moved by hand), for benchmarks and tests."""
    from backends.demo.fleet import FrozenClock  # noqa: PLC0415 - the demo: benchmark only

    return FrozenClock(at)


def build_backends(settings: AppSettings, *, warm: bool = False) -> Backends:
    """Backends for ``settings``: the demo, or Kubernetes + Prometheus + Alertmanager.

    With Prometheus and no usable kubeconfig (a common case for on-call), the model
    services are discovered from the serving metrics instead (read-only).
    Raises ConfigError when nothing at all is configured, BackendError when a backend
    cannot be constructed.

    ``warm``: each source begins what its first read waits on as soon as it is built
    (``warm()``: Kubernetes' discovery and first LISTs, Prometheus' probe, the
    Alertmanager client), the cluster first -- its start is the longest wait, and it
    then overlaps the other clients' imports; the console's start does this
    (:class:`BackendsInAdvance`). A source that fails to build closes those built before
    it."""
    if settings.demo.enabled:
        return build_demo(settings)
    cap_malloc_arenas()
    built: list = []

    def started(backend):
        built.append(backend)
        if warm:
            backend.warm()
        return backend

    try:
        return _build_real(settings, started)
    except BaseException:
        for backend in built:
            backend.close()
        raise


def _build_real(settings: AppSettings, started: Callable) -> Backends:
    from backends.kube.backend import make_cluster_backend  # noqa: PLC0415 - kubernetes client

    k8s = settings.kubernetes
    cluster = no_cluster = None
    try:
        cluster = started(make_cluster_backend(
            k8s, k8s.contexts, k8s.namespaces or None, read_only=settings.read_only,
            read_only_contexts=settings.actions.read_only_names(),
        ))
    except ConfigError as exc:
        # No kubeconfig at all and no context asked for: Prometheus alone still shows
        # the fleet. An explicit --context that fails is an error, not a fallback.
        if not settings.prometheus.url or k8s.contexts:
            raise
        no_cluster = exc
    metrics = alerts = None
    if settings.prometheus.url:
        from backends.prometheus.backend import PrometheusMetrics  # noqa: PLC0415 - its client

        metrics = started(PrometheusMetrics(settings.prometheus))
    alert_cfg = getattr(settings, "alertmanager", None)
    if alert_cfg is not None and getattr(alert_cfg, "url", None):
        from backends.alertmanager import AlertmanagerAlerts  # noqa: PLC0415 - httpx

        alerts = started(AlertmanagerAlerts(alert_cfg))
    if cluster is None:
        from backends.prometheus.backend import PrometheusDiscovery  # noqa: PLC0415 - its client

        assert metrics is not None  # noqa: S101 - the fallback needs a Prometheus URL
        return Backends(cluster=PrometheusDiscovery(settings.prometheus, metrics),
                        metrics=metrics, alerts=alerts,
                        extra={"cluster_note": f"no cluster access ({no_cluster}); "
                                               "models discovered from metrics"})
    return Backends(cluster=cluster, metrics=metrics, alerts=alerts)


def audit_trust(settings: AppSettings) -> dict:
    """``key`` and ``forward`` for :class:`SqliteAudit` from ``settings.audit``. A key file
    that cannot be used raises ConfigError (the message says why)."""
    from backends.audit.chain import KeyFileError, read_key  # noqa: PLC0415 - lazy
    from backends.domain.errors import ConfigError  # noqa: PLC0415

    audit = getattr(settings, "audit", None)
    key_file = getattr(audit, "key_file", None)
    try:
        key = read_key(key_file) if key_file else None
    except KeyFileError as exc:
        raise ConfigError(str(exc), source="audit") from None
    return {"key": key, "forward": getattr(audit, "forward", None)}


def open_audit(settings: AppSettings, clock: object | None = None, *, create: bool = True):
    """The audit store named by ``settings.audit`` (default: the XDG data dir), on the
    backends' clock. ``create=False`` (read-only) returns None when it does not exist yet.
    Raises BackendError when it cannot be opened."""
    from backends.audit.store import SqliteAudit, default_audit_path  # noqa: PLC0415 - sqlite-utils

    path = settings.audit.path or default_audit_path()
    kwargs: dict = {"busy_timeout_ms": settings.audit.busy_timeout_ms, "create": create,
                    **audit_trust(settings)}
    if clock is not None:
        kwargs["clock"] = clock
    try:
        return SqliteAudit(path, **kwargs)
    except NotFoundError:
        if create:
            raise
        return None


class BackendsInAdvance:
    """The backends for ``settings``, built in a thread started at once.

    ``pitboard`` starts this as soon as it has its settings, before it imports Textual
    and the first screen (~150 ms on the main thread): the backends' own imports (the
    demo; the kubernetes client, prometheus-api-client, httpx) and their construction
    then run while the main thread imports, instead of after the screen has mounted.
    The demo's are then ready when the screen has mounted, and the main thread no longer
    waits for them (its first full frame 15-20 ms sooner); real clients' imports share
    the interpreter's lock with Textual's either way (measured even: docs/ARCHITECTURE).

    Built with ``warm=True`` (:func:`build_backends`): each real source begins what its
    first read waits on (Kubernetes' discovery and first LISTs, Prometheus' probe) as
    soon as it exists, so those waits overlap the other clients' imports and Textual's.

    The app's connect worker takes them (:meth:`take`): the result, or the very error
    ``build_backends`` raised, re-raised there so it is handled as before. Taken once:
    a later connect (a retry after an error) builds afresh."""

    def __init__(self, settings: AppSettings) -> None:
        self._settings = settings
        self._ahead: Ahead[Backends] | None = Ahead(
            lambda: build_backends(settings, warm=True), "backends-in-advance")

    def take(self) -> Backends:
        """The backends (waiting for the thread); raises what building them raised. A
        second call builds afresh (``build_backends``), as a retry should."""
        ahead, self._ahead = self._ahead, None  # the taker owns them now
        if ahead is None:
            return build_backends(self._settings)
        backends = ahead.take()
        assert backends is not None  # noqa: S101 - built, or its error was raised
        return backends
