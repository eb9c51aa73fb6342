"""Rows of the alerts view: the order (firing, then pending, then suppressed; critical >
warning > info > other; newest first), the columns for a width, literal cells, the detail
text of one alert, and the table that shows them (no I/O: data in, text out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from backends.domain.models import Alert, ModelService
from widgets.render.cell_cache import CellCachedTable
from widgets.text import MISSING, fmt_age, safe

SEVERITY_RANK = {"critical": 0, "warning": 1, "warn": 1, "info": 2}
STATE_RANK = {"firing": 0, "pending": 1, "suppressed": 2}
SEVERITY_LABEL = {0: ("critical", "CRIT"), 1: ("warning", "WARN"), 2: ("info", "INFO")}
STATE_SHORT = {"firing": "fire", "pending": "pend", "suppressed": "supp"}
WIDE = 120
"""From this width: long severity/state words and a namespace column."""
NO_SOURCE = "no alerts source (--alertmanager URL)"
LIVE_ONLY = ("Alerts are live only: Alertmanager keeps no history, so the alerts firing at "
             "the replayed instant cannot be shown (alerts resolved since then are gone). "
             "T or esc: back to live.")


def severity_rank(alert: Alert) -> int:
    """0 critical, 1 warning, 2 info, 3 anything else (or none)."""
    return SEVERITY_RANK.get((alert.severity or "").strip().lower(), 3)


def state_rank(alert: Alert) -> int:
    """0 firing, 1 pending, 2 suppressed, 3 anything else."""
    return STATE_RANK.get((alert.state or "").strip().lower(), 3)


def sort_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """Firing first, then by severity (critical first), then newest first (no start last)."""
    def key(a: Alert):
        ts = a.starts_at.timestamp() if a.starts_at is not None else float("-inf")
        return (state_rank(a), severity_rank(a), -ts, a.name, a.model or "")
    return sorted(alerts, key=key)


def alert_key(alert: Alert) -> tuple:
    """Identity of an alert across refreshes (Alertmanager's fingerprint: its label set)."""
    return (alert.name, alert.model, alert.gpu_uuid, tuple(sorted(alert.labels.items())))


def join_model(alert: Alert, by_name: dict[str, list[ModelService]]) -> ModelService | None:
    """The model service an alert is about (same namespace preferred), or None."""
    candidates = by_name.get(alert.model or "", [])
    if len(candidates) > 1:
        ns = alert.labels.get("namespace")
        return next((s for s in candidates if s.namespace == ns), candidates[0])
    return candidates[0] if candidates else None


def matches(alert: Alert, words: Sequence[str]) -> bool:
    """Every word occurs (case-insensitively) in the alert's text or label values."""
    hay = " ".join((alert.severity or "", alert.state or "", alert.name, alert.model or "",
                    alert.summary or "", *alert.labels.values())).lower()
    return all(w in hay for w in words)


@dataclass(frozen=True)
class AlertRow:
    """One table row: the alert, its model service key (if joined) and its cells."""

    alert: Alert
    key: tuple
    service_key: str | None
    cells: tuple[tuple[str, str], ...]  # (text, style name) per column


def since(alert: Alert, now: datetime) -> str:
    """Age of the alert by ``now`` ("37m"), or the missing marker."""
    if alert.starts_at is None:
        return MISSING
    return fmt_age(max(0.0, (now - alert.starts_at).total_seconds()))


def columns_for(width: int, with_state: bool, rows: Sequence[Alert]) -> list[tuple[str, int]]:
    """(label, width) per column fitting ``width`` cells; the summary takes what is left."""
    wide = width >= WIDE

    def fit(values, cap: int, floor: int) -> int:
        return max(floor, min(cap, max((cell_len(v) for v in values), default=floor)))
    cols = [("sev", 8 if wide else 4)]
    if with_state:
        cols.append(("state", 10 if wide else 5))
    cols.append(("alert", fit((safe(a.name) for a in rows), 30 if wide else 18, 5)))
    cols.append(("model", fit((safe(a.model) for a in rows), 26 if wide else 14, 5)))
    if wide:
        cols.append(("namespace", fit((safe(a.labels.get("namespace")) for a in rows), 20, 9)))
    cols.append(("since", 5))
    used = sum(w + 2 for _, w in cols) + (4 if wide else 2)  # cell padding, border, scrollbar
    cols.append(("summary", max(10, width - used - 2)))
    return cols


_by_name_cache: list = [None, {}]


def _services_by_name(services: Sequence[ModelService]) -> dict[str, list[ModelService]]:
    """Services by name, made again only for another ``services`` (3,000 services: ~1 ms
    a refresh otherwise)."""
    if _by_name_cache[0] is not services:
        by_name: dict[str, list[ModelService]] = {}
        for s in services:
            by_name.setdefault(s.name, []).append(s)
        _by_name_cache[:] = [services, by_name]
    return _by_name_cache[1]


def make_rows(alerts: Sequence[Alert], services: Sequence[ModelService], now: datetime,
              wide: bool, with_state: bool) -> list[AlertRow]:
    """Sorted table rows for ``alerts`` (every text literal through ``safe``)."""
    by_name = _services_by_name(services)
    out = []
    for a in sort_alerts(alerts):
        rank = severity_rank(a)
        style, short = SEVERITY_LABEL.get(rank, ("other", None))
        long = (a.severity or "none") if rank == 3 else style
        sev = safe(long, 8) if wide else (short or safe(long, 4).upper())
        firing = state_rank(a) == 0
        row_style = "" if firing else "muted"
        svc = join_model(a, by_name)
        cells = [(sev, style if firing else "muted")]
        if with_state:
            state = (a.state or "").lower()
            cells.append((safe(a.state, 10) if wide else STATE_SHORT.get(state, safe(state, 4)),
                          row_style))
        cells.append((safe(a.name, 200), "name" if firing else "muted"))
        cells.append((safe(a.model, 200), row_style if svc is not None else "muted"))
        if wide:
            ns = a.labels.get("namespace") or (svc.namespace if svc is not None else None)
            cells.append((safe(ns, 100), row_style))
        cells.append((since(a, now), row_style))
        cells.append((safe(a.summary, 500), row_style))
        out.append(AlertRow(a, alert_key(a), svc.key if svc is not None else None, tuple(cells)))
    return out


def detail_text(row: AlertRow | None, now: datetime, width: int) -> Text:
    """The selected alert in full: severity, state, start, model, summary, runbook, labels."""
    out = Text(overflow="fold")
    if row is None:
        out.append("no alert selected", "dim")
        return out
    a = row.alert
    out.append(f"{safe(a.severity or 'no severity', 16)} ", "bold")
    out.append(safe(a.state, 12))
    out.append("  ")
    out.append(safe(a.name, 120), "bold")
    if a.starts_at is not None:
        at = a.starts_at.astimezone(timezone.utc)
        out.append(f"  since {at:%Y-%m-%d %H:%M}Z ({since(a, now)})", "dim")
    if a.model:
        out.append("  model ", "dim")
        out.append(safe(a.model, 80))
        if row.service_key is None:
            out.append(" (not on screen)", "dim")
    out.append("\n")
    out.append(safe(a.summary, 600) if a.summary else "no summary annotation",
               "" if a.summary else "dim")
    if a.runbook_url:
        out.append("\nrunbook: ", "dim")
        out.append(safe(a.runbook_url, max(20, width - 10)), "underline")
    if a.labels:
        out.append("\nlabels: ", "dim")
        out.append(" ".join(f"{safe(k, 40)}={safe(v, 80)}" for k, v in sorted(a.labels.items())),
                   "dim")
    return out


class AlertTable(CellCachedTable):
    """The alerts table; severity colours come from theme variables (component classes)."""

    DEFAULT_CSS = """
    AlertTable > .alert-table--critical { color: $error; text-style: bold; }
    AlertTable > .alert-table--warning { color: $warning; }
    AlertTable > .alert-table--info { color: $accent; }
    AlertTable > .alert-table--other { color: $text; }
    AlertTable > .alert-table--name { text-style: bold; }
    AlertTable > .alert-table--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "alert-table--critical", "alert-table--warning", "alert-table--info",
        "alert-table--other", "alert-table--name", "alert-table--muted"}

    BINDINGS = [Binding("enter", "select_cursor", "Model", tooltip="Open the model of the "
                        "selected alert")]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``enter`` follows the screen's rule (dimmed when the alert has no model)."""
        if action == "select_cursor":
            return self.screen.check_action("open_model", parameters)
        return super().check_action(action, parameters)

    def cell(self, text: str, style: str) -> Text:
        """One literal cell (never markup), truncated with an ellipsis."""
        rich = self.get_component_rich_style(f"alert-table--{style}") if style else Style()
        return Text(text, style=rich, no_wrap=True, overflow="ellipsis")
