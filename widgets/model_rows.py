"""Display rows of the model table, computed from a snapshot (pure; no widget needed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from backends.domain.models import ordered_traffic, DriftSeries, FleetSnapshot, HealthSample, ModelService
from backends.domain.health import CALM, AttentionKey, assess, attention, canary_legs
from backends.domain.slo_config import SloConfig
from widgets.levels import Level, drift_level, error_level
from widgets.text import MISSING, fmt_money, fmt_num, safe

Cell = tuple[str, Level]

#: (key, header, width); the name column flexes with the terminal width.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "Model", 22),
    ("status", "Status", 8),
    ("version", "Version", 9),
    ("traffic", "Traffic", 7),
    ("ready", "Ready", 5),
    ("rps", "RPS", 8),
    ("err", "Err %", 9),
    ("burn", "Burn", 6),
    ("p95", "p95 ms", 7),
    ("drift", "Drift", 9),
    ("cost", "$/h", 8),
)


SloRule = Callable[[str, HealthSample | None], tuple[float | None, str]]
"""``(model, health) -> (1h error-budget burn rate, level name)``; the console builds it
from its SLO config (``backends.domain.slo.fleet_burn``), so this module needs no SLO math."""


def fmt_burn(burn: float | None) -> str:
    """A burn rate in at most 6 cells: ``0.53x``, ``14.4x``, ``120x``; missing -> ``—``."""
    if burn is None:
        return MISSING
    if burn < 9.995:
        return f"{burn:.2f}x"
    if burn < 99.95:
        return f"{burn:.1f}x"
    return f"{burn:.0f}x" if burn < 99_999.5 else ">1e5x"


def burn_cell(rule: SloRule | None, model: str, health: HealthSample | None) -> Cell:
    """The SLO cell: 1h burn rate coloured by the rule's level (fast/slow burn)."""
    if rule is None:
        return MISSING, Level.UNKNOWN
    burn, level = rule(model, health)
    try:
        lv = Level(level)
    except ValueError:
        lv = Level.UNKNOWN
    return fmt_burn(burn), Level.UNKNOWN if burn is None else lv


@dataclass(frozen=True, slots=True)
class ModelRow:
    """Display values of one model (already formatted, with a level per cell)."""

    key: str
    name: str
    cells: tuple[Cell, ...]
    attention: AttentionKey = CALM
    """Its place in the problems-first order (:func:`backends.domain.health.attention`)."""

    def matches(self, needle: str) -> bool:
        """Case-insensitive substring match on the name as shown (with its context when
        there are several), status and version."""
        if not needle:
            return True
        needle = needle.lower()
        return needle in self.name.lower() or any(
            needle in self.cells[i][0].lower() for i in (0, 1, 2)
        )


def worst_drift_by_model(drift: Iterable[DriftSeries]) -> dict[str, DriftSeries]:
    """Per model, the feature with the highest latest/threshold ratio (one pass)."""
    best: dict[str, tuple[float, DriftSeries]] = {}
    for d in drift:
        latest = d.latest
        if latest is None or d.threshold <= 0:
            continue
        ratio = latest / d.threshold
        if d.model not in best or ratio > best[d.model][0]:
            best[d.model] = (ratio, d)
    return {m: d for m, (_, d) in best.items()}


def traffic_text(service: ModelService) -> str:
    """``100``, ``90/10`` (stable first, for every kind, as ``ModelService.traffic_text``
    names them) ... or the missing marker."""
    if not service.traffic:
        return MISSING
    return "/".join(f"{t.percent:.0f}" for t in ordered_traffic(service.traffic))


def version_cell(service: ModelService) -> str:
    """What runs (the image tag); ``*`` after it when the version label says otherwise
    (the model detail shows both)."""
    if service.version_label and service.version_label != service.version:
        return f"{safe(service.version, 15)}*"
    return safe(service.version, 16)


def ready_cell(service: ModelService) -> Cell:
    """``ready/desired`` with WARN when short and BAD when none is ready."""
    ready, desired = service.replicas_ready, service.replicas_desired
    if ready is None and desired is None:
        return MISSING, Level.UNKNOWN
    text = f"{fmt_num(ready, '{:d}')}/{fmt_num(desired, '{:d}')}"
    if ready is not None and desired is not None and ready < desired:
        return text, Level.BAD if ready == 0 else Level.WARN
    return text, Level.OK


def _static_cells(s: ModelService, with_context: bool) -> tuple[Cell, Cell, Cell, Cell]:
    """Cells that depend on the service only (name, version, traffic, ready); the name
    as ``context/name`` when the table holds several contexts (the same model name may
    run in each)."""
    name = f"{safe(s.cluster, 24)}/{safe(s.name)}" if with_context else safe(s.name)
    return ((name, Level.OK), (version_cell(s), Level.OK),
            (traffic_text(s), Level.INFO if s.canary else Level.OK), ready_cell(s))


_DEFAULT_SLO = SloConfig()
"""For a snapshot that carries no status yet (assessed with the default objectives)."""


def err_cell(service: ModelService, snapshot: FleetSnapshot, err: float | None) -> Cell:
    """The error ratio in %; in a canary rollout whose legs differ (another level, or at
    least 0.5 points apart), canary and stable side by side (``7.0c/0.3s``), coloured by the
    canary's level when it is the worse."""
    if service.canary is not None:
        c, st = canary_legs(service, snapshot.revision_health_of(service))
        ce = c.error_ratio if c else None
        se = st.error_ratio if st else None
        # side by side when they differ enough to matter: another level, or 0.5 points
        if ce is not None and se is not None and (
                error_level(ce) != error_level(se) or abs(ce - se) >= 0.005):
            level = error_level(ce) if ce > se else error_level(err)
            return f"{ce * 100:.1f}c/{se * 100:.1f}s", level
    return fmt_num(None if err is None else err * 100, "{:.2f}"), error_level(err)


def rows_from_snapshot(snapshot: FleetSnapshot,
                       cache: dict[str, tuple[ModelService, bool, tuple]] | None = None,
                       slo: SloRule | None = None) -> list[ModelRow]:
    """One :class:`ModelRow` per service of ``snapshot``. Pass the same ``cache`` dict on
    every call to reuse the service-only cells while the cluster part is unchanged.
    ``slo`` fills the burn-rate column (without it the column shows the missing marker)."""
    rows: list[ModelRow] = []
    services = snapshot.services
    with_context = bool(services) and any(s.cluster != services[0].cluster for s in services)
    worst = worst_drift_by_model(snapshot.drift)
    by_model, cost_of_service = snapshot.cost.by_model, snapshot.cost.by_service
    health, by_service = snapshot.health, snapshot.service_health
    named = Counter(s.name for s in services)
    for s in snapshot.services:
        key = s.key
        hit = cache.get(key) if cache is not None else None
        if hit is not None and hit[0] is s and hit[1] is with_context:
            static = hit[2]
        else:
            static = _static_cells(s, with_context)
            if cache is not None:
                cache[key] = (s, with_context, static)
        # only figures that are this service's (a name several services share)
        h = by_service.get(key) if by_service else (
            snapshot.health_of(s) if named[s.name] > 1 else health.get(s.name))
        d = worst.get(s.name)
        err = h.error_ratio if h else None
        shown = snapshot.status.get(key) or assess(s, snapshot, _DEFAULT_SLO)
        drift_text = MISSING if d is None else f"{d.latest:.2f}/{d.threshold:g}"
        name, version, traffic, ready = static
        cells: tuple[Cell, ...] = (
            name,
            (shown.status, Level(shown.level)),
            version,
            traffic,
            ready,
            (fmt_num(h.rps if h else None, "{:,.1f}"), Level.OK),
            err_cell(s, snapshot, err),
            burn_cell(slo, s.name, h),
            (fmt_num(h.p95_ms if h else None, "{:,.0f}"), Level.OK),
            (drift_text, drift_level(d)),
            # a name several services share: this one's $/h, where told (not their sum)
            (fmt_money(by_model.get(s.name) if named[s.name] == 1
                       else cost_of_service.get(key)), Level.OK),
        )
        rows.append(ModelRow(key=key, name=s.name, cells=cells, attention=attention(shown)))
    if cache is not None and len(cache) > 2 * len(rows) + 64:
        live = {r.key for r in rows}
        for k in [k for k in cache if k not in live]:
            del cache[k]
    return rows
