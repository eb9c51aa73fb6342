"""The promotion queue (``:promotions``), as pure rows: every service with a canary, in
every context, with the promote gates' verdicts and the figures they judged.

Nothing is decided here: the checks are :func:`backends.actions.gates.evaluate_promote_gates`
(the same the guard shows before a promote), the figures are the ones those gates read
(:func:`backends.actions.gates.leg_health`), the approvals counted are
:func:`backends.actions.gates.counted_approvers`, and the SLO burn is the fleet table's rule
(:func:`backends.domain.slo.fleet_burn`). No Textual import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from backends.actions import gates as g
from backends.actions.approvals import AnnotationApprovals
from backends.actions.config import PromoteGates
from backends.domain.actions import Check, CheckStatus
from backends.domain.models import AuditEntry, FleetSnapshot, ModelService

SORTS = ("gate", "model", "context", "approvals", "age", "burn")
"""``s`` cycles through these: failing gates first, by name, by context, most approvals
missing first, oldest canary first, highest SLO burn first."""

Burn = Callable[[str, Any], tuple[float | None, str]]
"""``(model name, health sample) -> (1h burn rate, level)`` (backends.domain.slo.FleetBurn)."""


class GatesConfig(Protocol):
    """What is read of the ``[actions]`` settings."""

    def gates_for(self, context: str) -> PromoteGates: ...


@dataclass(frozen=True)
class PromotionRow:
    """One canary waiting for (or blocked from) promotion."""

    key: str
    context: str
    namespace: str
    model: str
    kind: str
    canary: str
    canary_percent: float
    error_canary: float | None
    error_stable: float | None
    p95_canary: float | None
    p95_stable: float | None
    burn: float | None
    burn_level: str
    checks: tuple[Check, ...]
    approvers: tuple[str, ...]
    required: int
    asked_by: str | None
    canary_age_s: float | None
    window_s: int

    def check(self, name: str) -> Check | None:
        """The check called ``name`` (gates.ERRORS, gates.LATENCY, ...), if evaluated."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failing(self) -> tuple[Check, ...]:
        """The blocking checks that failed (what stops a promote now)."""
        return tuple(c for c in self.checks if c.blocking and c.status == CheckStatus.FAILED)

    @property
    def unknown(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == CheckStatus.UNKNOWN)

    @property
    def gate(self) -> str:
        """``blocked`` (a check failed), ``unknown`` (one could not be judged), ``ready``."""
        if self.failing:
            return "blocked"
        return "unknown" if self.unknown else "ready"

    @property
    def missing(self) -> int:
        """Approvals still needed from someone other than the promoter."""
        return max(0, self.required - len(self.approvers))


def _revision_of(snapshot: FleetSnapshot, service: ModelService) -> tuple[str | None,
                                                                          datetime | None]:
    """(who made the canary revision, when) from the service's history."""
    canary = service.canary
    if canary is None:
        return None, None
    rev = g.match_revision(snapshot.revisions.get(service.key, ()), canary.revision,
                           canary.version)
    return (rev.who, rev.created) if rev is not None else (None, None)


def promotion_rows(snapshot: FleetSnapshot, config: GatesConfig, *, promoter: str,
                   approvals: Mapping[str, Sequence[AuditEntry]] | None = None,
                   burn: Burn | None = None, now: datetime | None = None,
                   policy: g.ApproverPolicy = g.STRICT) -> list[PromotionRow]:
    """One row per service with a canary (every context in ``snapshot``), in snapshot
    order. ``approvals``: the audit store's approvals still valid per service key
    (``ActionRunner.valid_approvals``; None: the store is not read, only the objects'
    annotations count); ``promoter``: who would promote (their own approval never counts);
    ``burn``: the SLO rule (None: no burn shown); ``now``: default ``snapshot.taken_at``;
    ``policy``: whose approvals may count (``ActionRunner.approver_policy``, as the guard)."""
    now = now or snapshot.taken_at
    rows: list[PromotionRow] = []
    for service in snapshot.services:
        canary = service.canary
        if canary is None:
            continue
        gates = config.gates_for(service.cluster)
        stored = list((approvals or {}).get(service.key, ()))
        annotated: AnnotationApprovals = g.annotation_approvals(snapshot, service.key, now)
        checks = g.evaluate_promote_gates(snapshot, service.key, gates, stored, promoter, now,
                                          annotated=annotated, policy=policy)
        can, stab, _why = g.leg_health(snapshot, service, now, gates.window_s)
        who, created = _revision_of(snapshot, service)
        rate, level = burn(service.name, snapshot.health_of(service)) if burn else (None,
                                                                                   "unknown")
        rows.append(PromotionRow(
            key=service.key, context=service.cluster, namespace=service.namespace,
            model=service.name, kind=service.kind.value, canary=canary.revision,
            canary_percent=canary.percent,
            error_canary=can.error_ratio if can else None,
            error_stable=stab.error_ratio if stab else None,
            p95_canary=can.p95_ms if can else None, p95_stable=stab.p95_ms if stab else None,
            burn=rate, burn_level=level, checks=tuple(checks),
            approvers=g.counted_approvers(stored, promoter, annotated=annotated,
                                          trusted=gates.trust_annotation_approvals,
                                          policy=policy),
            required=gates.approvals_required, asked_by=who,
            canary_age_s=(now - created).total_seconds() if created else None,
            window_s=gates.window_s))
    return rows


_GATE_ORDER = {"blocked": 0, "unknown": 1, "ready": 2}


def sort_rows(rows: Sequence[PromotionRow], sort: str) -> list[PromotionRow]:
    """``rows`` in the order ``sort`` names (one of :data:`SORTS`); ties by context and
    model, so the order is stable between refreshes."""
    def name(r: PromotionRow) -> tuple[str, str, str]:
        return r.model, r.context, r.namespace

    keys: dict[str, Callable[[PromotionRow], Any]] = {
        "gate": lambda r: (_GATE_ORDER[r.gate], -len(r.failing), name(r)),
        "model": name,
        "context": lambda r: (r.context, r.model, r.namespace),
        "approvals": lambda r: (-r.missing, name(r)),
        "age": lambda r: (r.canary_age_s is None, -(r.canary_age_s or 0.0), name(r)),
        "burn": lambda r: (r.burn is None, -(r.burn or 0.0), name(r)),
    }
    if sort not in keys:
        raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
    return sorted(rows, key=keys[sort])


def next_sort(sort: str) -> str:
    """The sort after ``sort`` (wraps around)."""
    return SORTS[(SORTS.index(sort) + 1) % len(SORTS)] if sort in SORTS else SORTS[0]


# -- cells -----------------------------------------------------------------------------------
MISSING = "—"


def pct(ratio: float | None) -> str:
    """An error ratio (0..1) as ``0.42%``; missing -> ``—``."""
    return MISSING if ratio is None else f"{ratio * 100:.2f}%"


def ms(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0f}"


def duration(seconds: float | None) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``; missing -> ``—``."""
    if seconds is None:
        return MISSING
    return g.human_duration(int(seconds))


def status_level(check: Check | None) -> str:
    """A check's colour: ``ok``, ``bad`` (failed and blocking), ``warn`` (failed, not
    blocking), ``unknown``."""
    if check is None:
        return "unknown"
    if check.status == CheckStatus.PASSED:
        return "ok"
    if check.status == CheckStatus.FAILED:
        return "bad" if check.blocking else "warn"
    return "unknown"


COLUMNS: tuple[tuple[str, int], ...] = (
    ("model", 14), ("gate", 9), ("errors c/s", 13), ("p95 ms c/s", 10), ("burn", 6),
    ("approvals", 12), ("canary", 18), ("context", 10), ("asked by", 16), ("age", 6),
)
"""Column labels and widths, most important first (the table scrolls sideways at 80)."""


def row_cells(row: PromotionRow) -> tuple[tuple[str, str], ...]:
    """(text, level) per column of :data:`COLUMNS`; texts are raw (the table renders them
    literally), levels are ``ok``/``warn``/``bad``/``unknown``/``muted``/``""``."""
    from backends.actions.identity import printable  # noqa: PLC0415 - light

    errors, latency = row.check(g.ERRORS), row.check(g.LATENCY)
    approvals = row.check(g.APPROVALS)
    gate_text = {"blocked": f"✗ {len(row.failing)} fail", "unknown": "? unknown",
                 "ready": "✓ ready"}[row.gate]
    gate_level = {"blocked": "bad", "unknown": "unknown", "ready": "ok"}[row.gate]
    counted = f"{len(row.approvers)}/{row.required}" if row.required else "none needed"
    if row.missing:
        counted += f" need {row.missing}"
    burn = MISSING if row.burn is None else (f"{row.burn:.2f}x" if row.burn < 9.995
                                             else f"{row.burn:.1f}x")
    return (
        (printable(row.model, max_len=60), "name"),
        (gate_text, gate_level),
        (f"{pct(row.error_canary)}/{pct(row.error_stable)}", status_level(errors)),
        (f"{ms(row.p95_canary)}/{ms(row.p95_stable)}", status_level(latency)),
        (burn, {"bad": "bad", "warn": "warn", "ok": ""}.get(row.burn_level, "muted")),
        (counted, status_level(approvals) if row.required else "muted"),
        (f"{printable(row.canary, max_len=40)} @{row.canary_percent:g}%", ""),
        (printable(row.context, max_len=40), "muted"),
        (printable(row.asked_by or MISSING, max_len=60), ""),
        (duration(row.canary_age_s), status_level(row.check(g.AGE))),
    )


def detail_lines(row: PromotionRow) -> list[tuple[str, str]]:
    """The selected row's checks in full: (line, level), the guard's wording."""
    from backends.actions.identity import printable  # noqa: PLC0415

    head = (f"{printable(row.model, max_len=60)} · {printable(row.context, max_len=40)}/"
            f"{printable(row.namespace, max_len=40)} · {row.kind} · canary "
            f"{printable(row.canary, max_len=40)} at {row.canary_percent:g}% · "
            f"window {g.human_duration(row.window_s)}")
    lines = [(head, "name")]
    for check in row.checks:
        mark = {"ok": "✓", "bad": "✗", "warn": "!", "unknown": "?"}[status_level(check)]
        lines.append((f"{mark} {check.name}: {printable(check.reason, max_len=400)}",
                      status_level(check)))
    return lines
