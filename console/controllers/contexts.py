"""The console's kubeconfig contexts: what each one is (``:ctx`` rows) and narrowing the
console to one of them (k9s's ``:ctx`` + ``enter``).

- :func:`context_rows` describes every context the console reads: server, namespaces,
  models and GPUs in the latest snapshot, its source state and its action policy.
- :class:`ContextFilter` (one per App, ``app.navigator.context_filter``) holds the chosen context
  (``None`` = all) and narrows each snapshot handed to the screens
  (:meth:`ContextFilter.apply`, called by ``Navigator.view_snapshot``): services,
  histories, GPUs, health, drift, alerts and the cost share of that context only, and the
  snapshot's ``context`` names it (the header shows it, the accent follows it).

No Textual import: plain functions over frozen models, cached by object identity so a
refresh at 2,000 GPUs / 300 models costs a few filters, not a re-attribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backends.actions.catalog import ReadOnly, read_only
from backends.domain.index import clusters_of
from backends.domain.models import (Alert, CostBurn, FleetSnapshot, GpuDevice, GpuScope,
                                    GpuSummary, ModelService)
from console.config_core import built_section

ALERT_CONTEXT_LABELS = ("context", "kube_context", "cluster")
"""Alert labels that name the cluster an alert is about (the first one present wins)."""


# -- which contexts ---------------------------------------------------------------------------
def _members(backend: Any) -> dict[str, Any]:
    """context name -> the backend object that reads it (a fleet's clusters, else itself)."""
    clusters = getattr(backend, "clusters", None)
    if isinstance(clusters, Mapping) and clusters:
        return {str(name): c for name, c in clusters.items()}
    name = getattr(backend, "context", "") if backend is not None else ""
    return {str(name): backend} if name else {}


def context_names(backend: Any, snapshot: FleetSnapshot | None) -> list[str]:
    """Every context the console reads, in configured order; contexts only seen on the
    services (a backend that does not list them) come after, sorted."""
    names = list(_members(backend))
    seen = set(names)
    extra = sorted(clusters_of(snapshot.services) - seen) if snapshot else []
    names.extend(extra)
    if not names and snapshot is not None and snapshot.context:
        names.append(snapshot.context)
    return names


def _server(member: Any) -> str | None:
    """The API server of one context (``KubeApi.conn.server``), if the backend knows it."""
    server = getattr(member, "server", None)
    if server is None:
        conn = getattr(getattr(member, "api", None), "conn", None)
        server = getattr(conn, "server", None)
    return str(server) if server else None


def _namespaces(member: Any, services: list[ModelService]) -> str:
    """Namespaces watched: the backend's list ("all" when empty), else those seen."""
    listed = getattr(member, "namespaces", None)
    if isinstance(listed, (list, tuple)):
        return ",".join(listed) if listed else "all"
    ns = getattr(member, "namespace", None)
    if ns:
        return str(ns)
    seen = sorted({s.namespace for s in services})
    return ",".join(seen) if seen else "all"


# -- GPUs per context -----------------------------------------------------------------------
def node_maps(backend: Any) -> dict[str, Mapping]:
    """context -> its cluster's node cache (Kubernetes members expose ``snapshot("nodes")``,
    the same mapping object until a node changes); empty for one context or other
    backends. Never raises."""
    out: dict[str, Mapping] = {}
    members = _members(backend)
    if len(members) < 2:
        return out
    for name, member in members.items():
        snap = getattr(member, "snapshot", None)
        try:
            nodes = snap("nodes") if callable(snap) else None
        except Exception:  # noqa: BLE001 - attribution falls back to the pods
            nodes = None
        if isinstance(nodes, Mapping) and nodes:
            out[name] = nodes
    return out


def node_sets(maps: Mapping[str, Mapping]) -> dict[str, frozenset[str]]:
    """context -> node names, from :func:`node_maps`."""
    return {ctx: frozenset(str(getattr(rec, "name", key)) for key, rec in nodes.items())
            for ctx, nodes in maps.items()}


def gpu_owners(services: tuple[ModelService, ...], gpus: tuple[GpuDevice, ...],
               names: list[str], nodes: Mapping[str, frozenset[str]],
               known: Mapping[tuple[str, int], str] | None = None) -> tuple[str | None, ...]:
    """The context of each GPU (None when it cannot be told): its own ``cluster``, else
    ``known[(node, index)]`` (the cluster part's GPUs, when metrics GPUs replaced them),
    else the cluster of the service its pod serves (namespace + model name), else the one
    cluster listing its node, else the context of the other GPUs on its node; with one
    context, that one."""
    if len(names) == 1:
        return (names[0],) * len(gpus)
    known = known or {}
    by_ns_name: dict[tuple[str, str], set[str]] = {}
    for s in services:
        by_ns_name.setdefault((s.namespace, s.name), set()).add(s.cluster)
    node_owner: dict[str, set[str]] = {}
    for context, members in nodes.items():
        for node in members:
            node_owner.setdefault(node, set()).add(context)
    owners: list[str | None] = []
    inferred: dict[str, set[str]] = {}
    for g in gpus:
        own = getattr(g, "cluster", None)  # GpuDevice.cluster, where the model has it
        ctx: str | None = own if own in names else known.get((g.node, g.index))
        if ctx is None and g.model is not None:
            hit = by_ns_name.get((g.namespace or "", g.model))
            if hit is None and g.namespace is None:
                hit = {s.cluster for s in services if s.name == g.model} or None
            if hit is not None and len(hit) == 1:
                ctx = next(iter(hit))
        if ctx is None:
            listed = node_owner.get(g.node)
            if listed is not None and len(listed) == 1:
                ctx = next(iter(listed))
        if ctx is not None:
            inferred.setdefault(g.node, set()).add(ctx)
        owners.append(ctx)
    for i, g in enumerate(gpus):
        if owners[i] is None:
            on_node = inferred.get(g.node)
            if on_node is not None and len(on_node) == 1:
                owners[i] = next(iter(on_node))
    return tuple(owners)


# -- policy ---------------------------------------------------------------------------------
def context_policy(settings: Any, backend: Any, context: str) -> ReadOnly | None:
    """Why ``context`` takes no mutating action (None: it may): ``--read-only``, the
    ``[actions]`` config (``read_only_contexts`` or ``contexts.<name>.read_only``), or a
    backend (or fleet member) built read-only. The ``[actions]`` section is not built for
    this when it can only be its defaults (which make no context read-only): the footer
    asks before the first frame (console.config_core.built_section)."""
    member = _members(backend).get(context)
    return read_only(context, flag=getattr(settings, "read_only", False),
                     config=built_section(settings, "actions"),
                     backend=getattr(member, "read_only", False)
                     or getattr(backend, "read_only", False))


def read_only_reason(settings: Any, backend: Any, context: str) -> str | None:
    """The cause of :func:`context_policy` (``--read-only``, ``config``, ``backend``) for
    the ``:ctx`` table, None = writable."""
    why = context_policy(settings, backend, context)
    return why.cause if why else None


@dataclass(frozen=True)
class ContextInfo:
    """One row of ``:ctx``. Counts are of the latest snapshot; ``None`` = not known."""

    name: str
    server: str | None
    namespaces: str
    models: int
    gpus: int | None  # None: not known (a page of a large fleet, another context's read)
    gpus_used: int | None
    state: str  # "ok" | "stale" | "unreachable" | "waiting"
    age_s: float | None
    error: str | None
    read_only: str | None  # why (see read_only_reason), None = writable
    protected: bool
    approvals: int


class ContextFilter:
    """The context the console is narrowed to (``None``: all) and the narrowed parts of
    the latest snapshot, plus when each context last read fine (for "stale" vs "not
    reachable"). Main thread only."""

    def __init__(self) -> None:
        self.context: str | None = None
        self.full: FleetSnapshot | None = None  # the latest snapshot before narrowing
        self.last_ok: dict[str, datetime] = {}
        self._owners_key: tuple | None = None
        self._owners: tuple[str | None, ...] = ()
        self._parts_key: tuple | None = None
        self._parts: dict | None = None

    # -- narrowing ------------------------------------------------------------------------
    def apply(self, snapshot: FleetSnapshot, app: Any = None) -> FleetSnapshot:
        """``snapshot`` as the screens should show it: unchanged when showing every
        context, else only the chosen context's part (its name as ``context``). ``app``
        (its ``backends.cluster`` and ``state.cluster``) tells the contexts apart."""
        backend, cluster_gpus = backend_of(app), cluster_gpus_of(app)
        self.full = snapshot
        self.observe(snapshot, backend)
        within = read_within(snapshot, app)
        if self.context is None:
            if within is None:
                return snapshot
            # the read was still within one context (:ctx just left): its cost is that
            # context's, not the fleet's -- missing until the fleet's read, not wrong
            return snapshot.model_copy(update={"cost": CostBurn(source=snapshot.cost.source)})
        parts = self._narrowed(snapshot, backend, self.context, cluster_gpus)
        if parts is None:
            return snapshot
        if within == self.context:  # read within this context: its cost as read, whole
            parts = {**parts, "cost": snapshot.cost}
        return snapshot.model_copy(update=parts)

    def owners(self, snapshot: FleetSnapshot, backend: Any,
               cluster_gpus: tuple[GpuDevice, ...] = ()) -> tuple[str | None, ...]:
        """The context of each of ``snapshot.gpus`` (cached while the inputs stay);
        ``cluster_gpus``: the cluster part's GPUs (they carry ``cluster``)."""
        names = tuple(context_names(backend, snapshot))
        maps = node_maps(backend)
        key = (snapshot.services, snapshot.gpus, cluster_gpus, tuple(maps.values()))
        old = self._owners_key
        if (old is None or old[4] != names or old[5] != tuple(map(id, key[3]))
                or any(a is not b for a, b in zip(old[:3], key[:3]))):
            self._owners_key = (*key, names, tuple(map(id, key[3])))
            self._owners = gpu_owners(snapshot.services, snapshot.gpus, list(names),
                                      node_sets(maps), known_slots(cluster_gpus))
        return self._owners

    def _narrowed(self, snap: FleetSnapshot, backend: Any, ctx: str,
                  cluster_gpus: tuple[GpuDevice, ...]) -> dict | None:
        key = (ctx, snap.services, snap.gpus, snap.revisions, snap.health,
               snap.revision_health, snap.service_health, snap.service_revision_health,
               snap.drift, snap.cost, snap.alerts, cluster_gpus)
        old = self._parts_key
        if old is not None and all(a is b for a, b in zip(old[1:], key[1:])) and old[0] == ctx:
            return self._parts
        self._parts_key = key
        self._parts = narrow_parts(snap, ctx, self.owners(snap, backend, cluster_gpus))
        return self._parts

    # -- freshness per context ------------------------------------------------------------
    def observe(self, snapshot: FleetSnapshot, backend: Any) -> None:
        """Remember when each context last read fine (the cluster source succeeded and
        the backend names no error for it)."""
        status = snapshot.sources.get("cluster")
        if status is None or not status.ok or status.last_success is None:
            return
        errors = _errors(backend)
        for name in context_names(backend, snapshot):
            if name not in errors:
                self.last_ok[name] = status.last_success


def read_within(snapshot: FleetSnapshot, app: Any) -> str | None:
    """The context the live metrics read behind ``snapshot`` was within
    (``GpuScope.cluster``), None when it read every context (or ``snapshot`` is not the
    live one: a replayed instant's cost is not that read's)."""
    part = getattr(getattr(app, "state", None), "metrics", None)
    scope = getattr(part, "gpu_scope", None)
    if scope is None or scope.cluster is None or getattr(part, "cost", None) is not snapshot.cost:
        return None
    return scope.cluster


def told_summary(app: Any, snapshot: FleetSnapshot) -> tuple[GpuSummary, GpuScope] | None:
    """(summary, scope) of the live read when ``snapshot``'s GPUs are a page of it: the
    server's figures a panel showing them tells as their fleet's -- the fleet's while they
    are the live read's rows as read (whole, or narrowed to the one context there is), a
    context's while narrowed to the context the read was within. None when the rows are
    every GPU, or another read's (another context's, a replayed instant's)."""
    state = getattr(app, "state", None)
    part = getattr(state, "metrics", None)
    if state is None or part is None or part.gpu_scope is None:
        return None
    summary = part.page_of(None) if state.live_gpus(snapshot.gpus) else None
    if summary is None:
        context = current_context(app)
        if context is not None and read_within(snapshot, app) == context:
            summary = part.page_of(context)
    return (summary, part.gpu_scope) if summary is not None else None


def backend_of(app: Any) -> Any:
    """The App's cluster backend (None before it connects)."""
    return getattr(getattr(app, "backends", None), "cluster", None)


def cluster_gpus_of(app: Any) -> tuple[GpuDevice, ...]:
    """The GPUs of the App's latest cluster part (tagged with their ``cluster``)."""
    part = getattr(getattr(app, "state", None), "cluster", None)
    return getattr(part, "gpus", ()) or ()


def known_slots(cluster_gpus: tuple[GpuDevice, ...]) -> dict[tuple[str, int], str]:
    """(node, index) -> cluster of the cluster part's GPUs; a slot two clusters share
    (the same node name in both) is left out."""
    out: dict[tuple[str, int], str] = {}
    twice: set[tuple[str, int]] = set()
    for g in cluster_gpus:
        ctx = getattr(g, "cluster", None)
        if ctx is None:
            continue
        slot = (g.node, g.index)
        if slot in out and out[slot] != ctx:
            twice.add(slot)
        out[slot] = ctx
    for slot in twice:
        del out[slot]
    return out


def _errors(backend: Any) -> Mapping[str, str]:
    errors = getattr(backend, "errors", None)
    return errors if isinstance(errors, Mapping) else {}


def narrow_parts(snap: FleetSnapshot, ctx: str, owners: tuple[str | None, ...]) -> dict | None:
    """The snapshot fields of context ``ctx`` (None when it already is all of it)."""
    services = tuple(s for s in snap.services if s.cluster == ctx)
    gpus = tuple(g for g, o in zip(snap.gpus, owners) if o == ctx)
    whole = len(services) == len(snap.services) and len(gpus) == len(snap.gpus)
    if whole and snap.context == ctx:
        return None
    if whole:
        return {"context": ctx}
    names = {s.name for s in services}
    keys = {s.key for s in services}
    return {
        "context": ctx,
        "services": services,
        "revisions": {k: v for k, v in snap.revisions.items() if k in keys},
        "gpus": gpus,
        "health": {k: v for k, v in snap.health.items() if k in names},
        "revision_health": {k: v for k, v in snap.revision_health.items() if k in names},
        "service_health": {k: v for k, v in snap.service_health.items() if k in keys},
        "service_revision_health": {k: v for k, v in snap.service_revision_health.items()
                                    if k in keys},
        "drift": tuple(d for d in snap.drift if d.model in names),
        "alerts": tuple(a for a in snap.alerts if alert_in(a, ctx, names)),
        "cost": cost_share(snap.cost, gpus, names, services),
    }


def alert_in(alert: Alert, ctx: str, names: set[str]) -> bool:
    """Whether ``alert`` concerns context ``ctx``: by its cluster label when it has one,
    else by its model (an alert about no model concerns every context)."""
    for label in ALERT_CONTEXT_LABELS:
        if label in alert.labels:
            return alert.labels[label] == ctx
    return alert.model is None or alert.model in names


def cost_share(cost: CostBurn, gpus: tuple[GpuDevice, ...], names: set[str],
               services: Sequence[ModelService] | None = None) -> CostBurn:
    """The cost figures of one context: $/h of its GPUs (when every one has a price), its
    models' lines; fleet-wide figures that cannot be split (today, month, budget) are
    missing rather than wrong."""
    prices = [g.hourly_cost for g in gpus]
    known = [p for p in prices if p is not None]
    hourly = sum(known) if prices and len(known) == len(prices) else None
    if services is not None and cost.by_service:  # each model's $/h in this context
        by_service: dict[str, float] = {}
        by_model: dict[str, float] = {}
        for svc in services:
            value = cost.by_service.get(svc.key)
            if value is not None:
                by_service[svc.key] = value
                by_model[svc.name] = by_model.get(svc.name, 0.0) + value
    else:  # (a name other contexts serve too counts theirs as well)
        by_service, by_model = {}, {k: v for k, v in cost.by_model.items() if k in names}
    return CostBurn(hourly=hourly, by_model=by_model, by_service=by_service,
                    source=cost.source)


# -- rows of :ctx -----------------------------------------------------------------------------
def context_rows(snapshot: FleetSnapshot, app: Any, flt: ContextFilter,
                 now: datetime) -> list[ContextInfo]:
    """One :class:`ContextInfo` per context ``app`` reads (``snapshot`` unnarrowed)."""
    backend, settings = backend_of(app), getattr(app, "settings", None)
    flt.observe(snapshot, backend)
    members = _members(backend)
    names = context_names(backend, snapshot)
    owners = flt.owners(snapshot, backend, cluster_gpus_of(app))
    status = snapshot.sources.get("cluster")
    errors = _errors(backend)
    actions = getattr(settings, "actions", None)
    rows = []
    for name in names:
        services = [s for s in snapshot.services if s.cluster == name]
        gpus = [g for g, o in zip(snapshot.gpus, owners) if o == name]
        state, age, error = _state(name, status, errors, flt.last_ok, now)
        gates = actions.gates_for(name) if actions is not None else None
        total, used = gpu_counts(app, name, gpus, only=len(names) == 1)
        rows.append(ContextInfo(
            name=name, server=_server(members.get(name)),
            namespaces=_namespaces(members.get(name), services),
            models=len(services), gpus=total, gpus_used=used,
            state=state, age_s=age, error=error,
            read_only=read_only_reason(settings, backend, name),
            protected=bool(actions is not None and actions.is_protected(name)),
            approvals=gates.approvals_required if gates is not None else 0))
    return rows


def gpu_counts(app: Any, context: str | None, rows: Sequence[GpuDevice],
               only: bool = False) -> tuple[int | None, int | None]:
    """(GPUs, allocated GPUs) of ``context`` (None: every context; ``only``: the one
    context read): counted from ``rows`` when they are every GPU; past GPU_ROWS_MAX, when
    they are a page, from the server's summary -- the fleet's tells each context's count
    (not its allocation), a read within one context tells that context's both, and
    nothing of the others."""
    part = getattr(getattr(app, "state", None), "metrics", None)
    if part is None or part.gpu_scope is None or part.gpu_summary is None:
        return len(rows), sum(1 for g in rows if g.allocated)
    fleet = part.page_of(None)
    mine = part.page_of(context) or (fleet if only else None)
    if mine is not None:
        return mine.gpus, mine.allocated
    if fleet is not None and fleet.by_cluster:
        return fleet.by_cluster.get(context or "", 0), None
    return None, None


def _state(name: str, status, errors: Mapping[str, str], last_ok: Mapping[str, datetime],
           now: datetime) -> tuple[str, float | None, str | None]:
    seen = last_ok.get(name)
    age = max(0.0, (now - seen).total_seconds()) if seen is not None else None
    if name in errors:
        return ("stale" if seen is not None else "unreachable"), age, str(errors[name])
    if status is None or (status.last_success is None and status.error is None):
        return "waiting", None, None
    if not status.ok:
        return ("stale" if seen is not None else "unreachable"), age, status.error
    return "ok", age, None


# -- the App side -------------------------------------------------------------------------------
def filter_of(app: Any) -> ContextFilter | None:
    """The App's context filter, None when the console is not wired for narrowing."""
    flt = getattr(getattr(app, "navigator", None), "context_filter", None)
    return flt if isinstance(flt, ContextFilter) else None


def current_context(app: Any) -> str | None:
    """The context the console is narrowed to (None: all)."""
    flt = filter_of(app)
    return flt.context if flt is not None else None


ALL_WORDS = ("all", "*", "-")
"""``:ctx all`` (or ``*``, ``-``): every context again."""


def choose_context(app: Any, word: str) -> tuple[bool, str]:
    """``:ctx NAME`` (as in k9s): narrow the console to the context called ``word``
    (exactly; else the one context it starts, if only one does), or to every context for
    ``all``. (done, what to tell the person)."""
    if word.lower() in ALL_WORDS:
        return (use_context(app, None), "showing all contexts")
    flt = filter_of(app)
    names = context_names(backend_of(app), flt.full if flt is not None else None)
    chosen = word if word in names else None
    if chosen is None:
        starting = [n for n in names if n.startswith(word)]
        chosen = starting[0] if len(starting) == 1 else None
    if chosen is None:
        known = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        return False, f"no context {word!r} (contexts: {known or 'none'})"
    if not use_context(app, chosen):
        return False, "this console cannot narrow to one context"
    return True, f"showing {chosen} (esc on the fleet: all)"


def use_context(app: Any, context: str | None) -> bool:
    """Narrow the console to ``context`` (None: every context) and redraw every screen.
    False (nothing changed) when the App has no context filter."""
    flt = filter_of(app)
    if flt is None:
        return False
    if flt.context != context:
        flt.context = context
        app.show_state()
        poller = getattr(app, "poller", None)
        if poller is not None:  # a fleet read page by page: the new context's page
            poller.rescope()
    return True
