"""What the alerts view shows, as data (pure: no Textual, no I/O): the order (firing, then
pending, then suppressed; critical > warning > info > other; newest first), each alert's
literal texts, the columns for a width, the rows and the detail text of one alert.

The work that depends only on the alerts read -- sorting, every ``safe`` text, the
filter's haystack, the columns' fit widths, the title's counts -- is
:func:`prepare_alerts`, run in the alerts poller's thread
(``console.presenters.alerts``); the UI thread joins the rows to the model services on
screen and makes a row's cells only for the rows it draws (the age needs the clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.cells import cell_len
from rich.text import Text

from backends.domain.models import Alert, ModelService
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


def _sort_key(a: Alert) -> tuple:
    ts = a.starts_at.timestamp() if a.starts_at is not None else float("-inf")
    return (state_rank(a), severity_rank(a), -ts, a.name, a.model or "")


def sort_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """Firing first, then by severity (critical first), then newest first (no start last)."""
    return sorted(alerts, key=_sort_key)


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


def _haystack(alert: Alert) -> str:
    return " ".join((alert.severity or "", alert.state or "", alert.name, alert.model or "",
                     alert.summary or "", *alert.labels.values())).lower()


def matches(alert: Alert, words: Sequence[str]) -> bool:
    """Every word occurs (case-insensitively) in the alert's text or label values."""
    hay = _haystack(alert)
    return all(w in hay for w in words)


def since(alert: Alert, now: datetime) -> str:
    """Age of the alert by ``now`` ("37m"), or the missing marker."""
    if alert.starts_at is None:
        return MISSING
    return fmt_age(max(0.0, (now - alert.starts_at).total_seconds()))


@dataclass(frozen=True, slots=True, eq=False)
class AlertFacts:
    """One alert's texts for the table, made once per read (no clock, no services)."""

    alert: Alert
    key: tuple
    state: int
    severity: int
    hay: str
    """Lower-case text the filter's words are looked for in."""
    widths: tuple[int, int, int]
    """Cells of the name, the model and the namespace label (the columns' fit)."""
    sev: tuple[str, str]
    """Severity text (narrow, wide)."""
    sev_style: str
    state_text: tuple[str, str]
    """State text (narrow, wide)."""
    name: str
    model: str
    namespace: str | None
    """The namespace label's text, None without one (then the model's namespace)."""
    summary: str

    @classmethod
    def of(cls, a: Alert) -> "AlertFacts":
        rank, state = severity_rank(a), state_rank(a)
        style, short = SEVERITY_LABEL.get(rank, ("other", None))
        long = (a.severity or "none") if rank == 3 else style
        raw_state = (a.state or "").lower()
        ns = a.labels.get("namespace")
        return cls(
            alert=a, key=alert_key(a), state=state, severity=rank, hay=_haystack(a),
            widths=(cell_len(safe(a.name)), cell_len(safe(a.model)), cell_len(safe(ns))),
            sev=(short or safe(long, 4).upper(), safe(long, 8)),
            sev_style=style if state == 0 else "muted",
            state_text=(STATE_SHORT.get(raw_state, safe(raw_state, 4)), safe(a.state, 10)),
            name=safe(a.name, 200), model=safe(a.model, 200),
            namespace=safe(ns, 100) if ns else None, summary=safe(a.summary, 500))


@dataclass(frozen=True, slots=True)
class PreparedAlerts:
    """Every alert of one read, sorted and formatted, with the title's counts."""

    alerts: tuple[Alert, ...]
    """The very tuple these were made of (the UI thread checks it is the one it shows)."""
    facts: tuple[AlertFacts, ...]
    with_state: bool
    """Some alert is not firing: a state column."""
    critical: int
    """Firing critical alerts."""
    states: tuple[tuple[str, int], ...]
    """(state text, count) in order of first appearance."""
    widths: tuple[int, int, int] | None
    """The widest name, model and namespace label (None: no alert)."""
    services: Sequence[ModelService] | None = None
    """The services ``joined`` is of (None: not joined)."""
    joined: dict[AlertFacts, Joined] | None = None
    """Each alert's model service and its key, (None, None) when not about one."""

    def joined_to(self, services: Sequence[ModelService]) -> dict[AlertFacts, Joined] | None:
        """``joined``, if made of these very ``services``."""
        return self.joined if services is self.services else None


Joined = tuple[ModelService | None, str | None]


def join_services(facts: Sequence[AlertFacts], by_name: dict[str, list[ModelService]]
                  ) -> dict[AlertFacts, Joined]:
    """Each alert's model service and its key (or None, None)."""
    out: dict[AlertFacts, Joined] = {}
    for f in facts:
        svc = join_model(f.alert, by_name)
        out[f] = (svc, svc.key if svc is not None else None)
    return out


def prepare_alerts(alerts: Sequence[Alert], services: Sequence[ModelService] | None = None
                   ) -> PreparedAlerts:
    """Sort and format ``alerts`` and, given the ``services`` on screen, join them to
    those (what needs no clock: off the UI thread)."""
    alerts = tuple(alerts)
    facts = tuple(AlertFacts.of(a) for a in sort_alerts(alerts))
    joined = None
    if services is not None:
        by_name: dict[str, list[ModelService]] = {}  # this thread's own (not the cache's)
        for s in services:
            by_name.setdefault(s.name, []).append(s)
        joined = join_services(facts, by_name)
    return PreparedAlerts(alerts, facts, with_state=any(f.state for f in facts),
                          critical=sum(1 for f in facts if f.severity == 0 and f.state == 0),
                          states=tuple(Counter(safe(a.state, 12) for a in alerts).items()),
                          widths=max_widths(facts), services=services, joined=joined)


def max_widths(facts: Sequence[AlertFacts]) -> tuple[int, int, int] | None:
    """The widest name, model and namespace label of ``facts`` (None when empty)."""
    if not facts:
        return None
    return (max(f.widths[0] for f in facts), max(f.widths[1] for f in facts),
            max(f.widths[2] for f in facts))


def filter_facts(facts: Sequence[AlertFacts], words: Sequence[str]) -> list[AlertFacts]:
    """The alerts in which every word occurs (case-insensitively), in order."""
    return [f for f in facts if all(w in f.hay for w in words)] if words else list(facts)


class AlertRow:
    """One table row: the alert, its model service key (if joined) and its cells, made when
    first read (the table reads them for the rows it draws)."""

    __slots__ = ("facts", "service_key", "_service", "_now", "_wide", "_with_state", "_cells")

    def __init__(self, facts: AlertFacts, service: ModelService | None,
                 service_key: str | None = None, *, now: datetime, wide: bool,
                 with_state: bool) -> None:
        self.facts = facts
        self.service_key: str | None = service_key if service_key is not None or \
            service is None else service.key
        self._service = service
        self._now, self._wide, self._with_state = now, wide, with_state
        self._cells: tuple[tuple[str, str], ...] | None = None

    @property
    def alert(self) -> Alert:
        return self.facts.alert

    @property
    def key(self) -> tuple:
        return self.facts.key

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        """(text, style name) per column."""
        cells = self._cells
        if cells is None:
            cells = self._cells = self._make_cells()
        return cells

    def _make_cells(self) -> tuple[tuple[str, str], ...]:
        f, svc, wide = self.facts, self._service, int(self._wide)
        row_style = "" if f.state == 0 else "muted"
        cells = [(f.sev[wide], f.sev_style)]
        if self._with_state:
            cells.append((f.state_text[wide], row_style))
        cells.append((f.name, "name" if f.state == 0 else "muted"))
        cells.append((f.model, row_style if svc is not None else "muted"))
        if wide:
            ns = f.namespace if f.namespace is not None else (
                safe(svc.namespace, 100) if svc is not None else MISSING)
            cells.append((ns, row_style))
        cells.append((since(f.alert, self._now), row_style))
        cells.append((f.summary, row_style))
        return tuple(cells)


def columns_fit(width: int, with_state: bool, widths: tuple[int, int, int] | None
                ) -> list[tuple[str, int]]:
    """(label, width) per column fitting ``width`` cells, ``widths`` the widest name,
    model and namespace label shown (None: no row); the summary takes what is left."""
    wide = width >= WIDE

    def fit(longest: int | None, cap: int, floor: int) -> int:
        return max(floor, min(cap, floor if longest is None else longest))
    name, model, ns = widths if widths is not None else (None, None, None)
    cols = [("sev", 8 if wide else 4)]
    if with_state:
        cols.append(("state", 10 if wide else 5))
    cols.append(("alert", fit(name, 30 if wide else 18, 5)))
    cols.append(("model", fit(model, 26 if wide else 14, 5)))
    if wide:
        cols.append(("namespace", fit(ns, 20, 9)))
    cols.append(("since", 5))
    used = sum(w + 2 for _, w in cols) + (4 if wide else 2)  # cell padding, border, scrollbar
    cols.append(("summary", max(10, width - used - 2)))
    return cols


def columns_for(width: int, with_state: bool, rows: Sequence[Alert]) -> list[tuple[str, int]]:
    """(label, width) per column fitting ``width`` cells for ``rows``."""
    return columns_fit(width, with_state, max_widths([AlertFacts.of(a) for a in rows]))


_by_name_cache: list = [None, {}]


def services_by_name(services: Sequence[ModelService]) -> dict[str, list[ModelService]]:
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
    by_name = services_by_name(services)
    return [AlertRow(f, join_model(f.alert, by_name), now=now, wide=wide,
                     with_state=with_state) for f in prepare_alerts(alerts).facts]


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
