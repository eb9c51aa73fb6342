"""Plain data for the action screens: note figures, export paths, audit and incident views.

No Textual here: these functions run in thread workers (they read the audit store and
the cluster) and return frozen data that the screens only display.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from backends.audit.chain import iso_utc
from backends.domain.errors import BackendError
from backends.audit.export import build_report
from backends.actions.gates import find_service
from backends.actions.guard import ActionRunner, PendingIntent
from backends.domain.health import assess
from backends.domain.slo_config import SloConfig
from backends.domain.models import Alert, AuditEntry, FleetSnapshot, Incident

ENTRY_LIMIT = 500
"""The audit view shows the newest entries only (the CLI reads them all)."""


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def cluster_identity(cluster: object) -> str | None:
    """Who ``cluster`` knows us as: its ``whoami()`` (may ask the API server: call from a
    thread) when it has one, else its ``identity`` attribute; None when unknown. A failing
    ``whoami`` falls back to ``identity``: the actor is never blocked by it."""
    whoami = getattr(cluster, "whoami", None)
    if callable(whoami):
        try:
            found = whoami()
            if isinstance(found, str) and found.strip():
                return found
        except Exception:  # noqa: BLE001 - best effort: the local identity still stands
            pass
    found = getattr(cluster, "identity", None)
    return found if isinstance(found, str) and found.strip() else None


def traffic_text(snapshot: FleetSnapshot, key: str) -> str | None:
    """``stable 3 90% / canary 4 10%`` for one service (None when it has no split)."""
    svc = find_service(snapshot, key)
    if svc is None or not svc.traffic:
        return None
    return " / ".join(f"{t.role} {t.revision} {t.percent:g}%" for t in svc.traffic)


def note_figures(snapshot: FleetSnapshot | None, service_key: str | None) -> dict[str, Any]:
    """The figures on screen at this instant: the selected model's and the fleet's.

    Missing figures stay ``None`` (never 0). ``service_key`` becomes the note's target."""
    if snapshot is None:
        return {}
    out: dict[str, Any] = {"taken_at": iso_utc(snapshot.taken_at),
                           "context": snapshot.context, "namespace": snapshot.namespace}
    svc = find_service(snapshot, service_key) if service_key else None
    if svc is not None:
        health = snapshot.health_of(svc)
        drift = snapshot.worst_drift(svc.name)
        out["service_key"] = svc.key
        out["model"] = {
            "name": svc.name, "kind": svc.kind.value, "version": svc.version,
            "replicas_ready": svc.replicas_ready, "replicas_desired": svc.replicas_desired,
            "traffic": traffic_text(snapshot, svc.key),
            "rps": _round(health.rps if health else None, 2),
            "error_pct": _round(health.error_ratio * 100 if health and health.error_ratio
                                is not None else None, 3),
            "p95_ms": _round(health.p95_ms if health else None, 1),
            "p99_ms": _round(health.p99_ms if health else None, 1),
            "drift_feature": drift.feature if drift else None,
            "drift": _round(drift.latest if drift else None),
            "alerts_firing": sum(1 for a in snapshot.alerts if a.model == svc.name),
        }
        shown = snapshot.status.get(svc.key) or assess(svc, snapshot, SloConfig())
        out["model"]["status"] = shown.status  # the health model's word and why
        out["model"]["reasons"] = shown.reasons()
        # each problem as the strip shows it: what, level, since when (from history)
        out["model"]["problems"] = [
            {"signal": p.signal, "level": p.level, "text": p.text,
             "since": iso_utc(p.since) if p.since is not None else None}
            for p in shown.problems if p.level in ("warn", "bad")][:5]
    utils = [g.util_percent for g in snapshot.gpus if g.util_percent is not None]
    cost = snapshot.cost
    out["fleet"] = {
        "models": len(snapshot.services),
        "rollouts_in_flight": sum(1 for s in snapshot.services if s.rollout_in_progress),
        "gpus": len(snapshot.gpus),
        "gpus_allocated": sum(1 for g in snapshot.gpus if g.allocated),
        "gpu_util_avg_pct": _round(sum(utils) / len(utils), 1) if utils else None,
        "cost_hourly": _round(cost.hourly, 2),
        "cost_month_projection": _round(cost.month_projection, 0),
        "alerts_firing": len(snapshot.alerts),
    }
    return out


def figures_preview(figures: dict[str, Any]) -> str:
    """One line saying what a note will carry (shown in the note modal)."""
    if not figures:
        return "no figures yet (no data on screen)"
    parts = []
    model = figures.get("model")
    if model:
        err = model.get("error_pct")
        parts.append(f"{model['name']}: rps {_fmt(model.get('rps'))}, errors "
                     f"{_fmt(err)}{'%' if err is not None else ''}, p95 "
                     f"{_fmt(model.get('p95_ms'))} ms")
    fleet = figures.get("fleet", {})
    parts.append(f"fleet: {fleet.get('models', 0)} models, {fleet.get('gpus', 0)} GPUs, "
                 f"{fleet.get('alerts_firing', 0)} alerts")
    return " · ".join(parts)


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def data_dir() -> Path:
    """``$XDG_DATA_HOME/pitboard`` (``~/.local/share/pitboard``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "pitboard"


def export_path(incident_id: int, fmt: str = "md", cwd: Path | None = None) -> Path:
    """Where ``e`` writes: the current directory when writable, else the XDG data dir's
    ``exports/``. Never overwrites an existing draft (``-2``, ``-3`` ... suffixes)."""
    here = cwd or Path.cwd()
    folder = here if os.access(here, os.W_OK) else data_dir() / "exports"
    stem = f"pitboard-incident-{incident_id}"
    path = folder / f"{stem}.{fmt}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.{fmt}"
        n += 1
    return path


def write_new(path: Path, text: str) -> Path:
    """Create ``path`` (exclusive, mode 0600) with ``text``; creates the folder (0700) if
    needed."""
    from backends.audit.export import write_private  # noqa: PLC0415

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(path, text, exclusive=True)
    return path


@dataclass(frozen=True)
class AuditView:
    """What the audit screen shows; ``error`` set when the store could not be read."""

    path: str = ""
    entries: tuple[AuditEntry, ...] = ()  # newest first
    outcomes: dict[int, str] = field(default_factory=dict)  # intent seq -> its outcome
    pending: tuple[PendingIntent, ...] = ()
    verified: tuple[bool, str] | None = None
    total: int = 0
    error: str = ""


def load_audit_view(audit: Any, runner: ActionRunner | None) -> AuditView:
    """Read the newest entries, the pending intents (with the objects' state now) and the
    chain's verification. Blocking: call from a thread worker."""
    if audit is None:
        return AuditView(error="no audit store is open")
    path = str(getattr(audit, "path", ""))
    try:
        entries = audit.entries(limit=ENTRY_LIMIT)
        head = audit.head() if hasattr(audit, "head") else (entries[-1] if entries else None)
        if runner is not None:
            pending = tuple(runner.unknown_outcomes())
        else:
            pending = tuple(PendingIntent(intent=i) for i in audit.pending_intents())
        verified = audit.verify()
    except BackendError as exc:
        return AuditView(path=path, error=f"{exc.source}: {exc}")
    outcomes = {e.intent_seq: e.outcome or "?" for e in entries
                if e.kind == "outcome" and e.intent_seq is not None}
    return AuditView(path=path, entries=tuple(reversed(entries)), outcomes=outcomes,
                     pending=pending, verified=verified, total=head.seq if head else 0)


def chain_warning(audit: Any) -> str | None:
    """The red banner to show at start when the audit chain does not verify (None when it
    does, or when there is no store): "Audit log BROKEN: chain broken at entry N: why".
    Blocking (reads the whole chain): call from a thread worker once the app is up."""
    if audit is None:
        return None
    check = getattr(audit, "chain_state", None)
    if check is not None:
        state = check()
        if state.ok:
            return None
        what = "NOT VERIFIED" if state.needs_key else "BROKEN"
        return f"Audit log {what}: {state.summary()} (pitboard audit verify)"
    try:
        ok, message = audit.verify()
    except BackendError as exc:
        ok, message = False, f"{exc.source}: {exc}"
    return None if ok else f"Audit log BROKEN: {message} (pitboard audit verify)"


@dataclass(frozen=True)
class IncidentView:
    """One incident and its timeline (oldest first) for the incident screen."""

    incident: Incident | None = None
    timeline: tuple[dict[str, Any], ...] = ()
    notes: int = 0
    actions: int = 0
    error: str = ""


def load_incident_view(audit: Any, incident_id: int | None, *, alerts: tuple[Alert, ...] = (),
                       now: datetime | None = None) -> IncidentView:
    """The incident (the open one, else the latest, when ``incident_id`` is None)."""
    if audit is None:
        return IncidentView(error="no audit store is open")
    try:
        if incident_id is None:
            current = audit.current_incident()
            if current is None:
                every = audit.incidents()
                current = every[-1] if every else None
            if current is None:
                return IncidentView(error="no incident yet: press i to open one")
            incident_id = current.id
        report = build_report(audit, incident_id, alerts=alerts, now=now, verify=False)
        incident = audit.incident(incident_id)
    except BackendError as exc:
        return IncidentView(error=f"{exc.source}: {exc}")
    return IncidentView(incident=incident, timeline=tuple(report["timeline"]),
                        notes=report["summary"]["notes"], actions=report["summary"]["actions"])


def latest_incident(audit: Any) -> tuple[Incident | None, int | None]:
    """(the open incident or None, the id of the newest incident or None)."""
    current = audit.current_incident()
    every = audit.incidents()
    return current, (every[-1].id if every else None)
