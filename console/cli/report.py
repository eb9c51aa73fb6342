"""``pitboard --once``: take one snapshot synchronously and render it as text or JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from backends.domain.errors import BackendError, StaleError
from backends.domain.figures import figure_reasons
from backends.domain.models import FleetSnapshot, Health, Problem
from backends.domain.health import assess
from backends.domain.slo import fleet_burn
from backends.domain.slo_config import SloConfig
from console.controllers.state import RATE_WINDOW_S, Backends, FleetState
from console.presenters.prepare import history as problem_history
from widgets.cost_panel import budget_ratio
from widgets.levels import TEMP_HOT_C
from widgets.model_rows import COLUMNS, rows_from_snapshot
from widgets.text import MISSING, fmt_money, safe


def take_snapshot(backends: Backends, slo: SloConfig | None = None, *,
                  history: bool = False) -> FleetSnapshot:
    """Read every source once, and each service's health (the one health model, with
    ``slo``'s objectives). Raises BackendError when the cluster cannot be read (nothing to
    show); other sources that fail are marked in ``snapshot.sources``, and so is a cluster
    that listed but whose watch is behind (its data shown). ``history``: each
    problem's ``since`` read from history as the console reads it for a new problem
    (``console.presenters.prepare.history``: a chart per model with errors or latency
    problems, error % per revision per worse canary); unknown stays None."""
    state = FleetState()
    state.expect(backends.sources)
    clock = backends.clock
    try:
        cluster = backends.cluster.read()
        state.succeeded("cluster", cluster, clock())
    except StaleError as exc:  # listed, its watch behind: that data, the source FAILED
        state.failed("cluster", exc, clock())
        held = state.cluster
        if held is None or held is not exc.part:  # no cluster data in it: nothing to show
            raise
        cluster = held
    except BackendError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a client is a source failure
        raise BackendError(f"{type(exc).__name__}: {exc}", source="cluster") from exc
    if backends.metrics is not None:
        at = clock()
        try:
            state.succeeded("metrics", backends.metrics.read(cluster.services, RATE_WINDOW_S, at), at)
        except Exception as exc:  # noqa: BLE001
            state.failed("metrics", exc, clock())
    if backends.alerts is not None:
        try:
            state.succeeded("alerts", backends.alerts.alerts(), clock())
        except Exception as exc:  # noqa: BLE001
            state.failed("alerts", exc, clock())
    snap = state.snapshot(clock())
    objectives = slo or SloConfig()
    status = {s.key: assess(s, snap, objectives) for s in snap.services}
    metrics = backends.metrics
    if history and metrics is not None and state.metrics is not None:
        at = snap.taken_at
        for s in snap.services:
            since = problem_history(
                s, lambda svc: metrics.chart(svc.name, 3600, at, service=svc),
                lambda svc: metrics.revision_error_chart(svc.name, 3600, at, service=svc))
            status[s.key] = _dated(status[s.key], since, at)
    return snap.model_copy(update={"status": status,
                                   "reasons": {s.key: why for s in snap.services
                                               if (why := figure_reasons(snap, s))}})


def _dated(health: Health, since: Callable[[Problem], datetime | None] | None,
           at: datetime) -> Health:
    """``health`` with each problem's since from history where its signal does not say."""
    if since is None or not health.problems:
        return health
    problems = []
    for p in health.problems:
        found = since(p) if p.since is None else None
        problems.append(p.model_copy(update={"since": found})
                        if found is not None and found <= at else p)
    return health.model_copy(update={"problems": tuple(problems)})


def problem_lines(health: Health, limit: int = 3) -> str:
    """The problems as one line, each with since when (HH:MM UTC, as the strip shows it)."""
    if not (health.problems and health.level in ("warn", "bad")):
        return health.reasons(limit)
    return "; ".join(p.text + (f" since {p.since:%H:%M}" if p.since is not None else "")
                     for p in health.problems[:limit])


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def render_text(snap: FleetSnapshot, slo: SloConfig | None = None) -> str:
    """A readable plain-text report (no colours, control characters escaped); ``slo``
    gives the objectives of the burn-rate column (default: the built-in ones)."""
    out = [f"pitboard  {safe(snap.context)} / {safe(snap.namespace or 'all namespaces')}  "
           f"at {snap.taken_at.isoformat(timespec='seconds')}"]
    for name, st in snap.sources.items():
        state = (f"FAILED: {safe(st.error, 200)}" if not st.ok else
                 f"partial: {safe(st.error, 200)}" if st.error else "ok")
        out.append(f"  source {name}: {state}")
    out.append("")
    rows = [[c[0] if i else safe(r.name, 48) for i, c in enumerate(r.cells)]
            for r in rows_from_snapshot(snap, slo=fleet_burn(slo or SloConfig()))]
    out += _table([c[1] for c in COLUMNS], rows)
    if not snap.services and snap.cluster_search:
        out += [""] + [safe(line, 400) for line in snap.cluster_search.splitlines()]
    unlabelled = [s for s in snap.services if s.unlabelled]
    if unlabelled:
        out += ["", "Unlabelled (read-only until adopted):"] + [
            f"  {safe(s.name, 48)} ({s.kind.value}): {safe(s.adopt[0] if s.adopt else '', 200)}"
            for s in unlabelled]
    out.append("")
    nodes: dict[str, list] = {}
    for g in snap.gpus:
        nodes.setdefault(g.node, []).append(g)
    gpu_rows = []
    for node, gs in nodes.items():
        utils = [g.util_percent for g in gs if g.util_percent is not None]
        temps = [g.temperature_c for g in gs if g.temperature_c is not None]
        gpu_rows.append([
            safe(node, 40), str(len(gs)), str(sum(g.allocated for g in gs)),
            f"{sum(utils) / len(utils):.0f}%" if utils else MISSING,
            f"{max(temps):.0f}C" if temps else MISSING,
            str(sum(1 for t in temps if t >= TEMP_HOT_C)),
            ",".join(str(g.last_xid) for g in gs if g.last_xid is not None and g.xid_current)
            or "-",
        ])
    out += _table(["Node", "GPUs", "Used", "Util avg", "Temp max", "Hot", "XID"], gpu_rows)
    c = snap.cost
    ratio = budget_ratio(c)
    out += ["", f"Cost ({safe(c.source)}): {fmt_money(c.hourly)}/h  today {fmt_money(c.today)}  "
                f"month projection {fmt_money(c.month_projection, 0)} / budget "
                f"{fmt_money(c.monthly_budget, 0)}"
                + (f" ({ratio * 100:.0f}%)" if ratio is not None else "")]
    problems = [(s, snap.status[s.key]) for s in snap.services
                if s.key in snap.status and snap.status[s.key].level in ("warn", "bad", "unknown")]
    if problems:
        out += ["", "Problems:"] + [
            f"  {h.status:<9} {safe(s.name, 48)}: {safe(problem_lines(h), 300)}"
            for s, h in sorted(problems, key=lambda x: ["bad", "warn", "unknown"].index(
                x[1].level))]
    if snap.alerts:
        out += ["", "Alerts:"] + [f"  {safe(a.severity or '?')} {safe(a.name)} "
                                   f"{safe(a.model or '')} {safe(a.summary or '', 100)}"
                                   for a in snap.alerts]
    return "\n".join(out) + "\n"


def render_json(snap: FleetSnapshot) -> str:
    """The FleetSnapshot model as JSON (parse back with ``FleetSnapshot.model_validate_json``)."""
    return snap.model_dump_json(indent=2) + "\n"
