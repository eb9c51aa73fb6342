"""Alerts view (``:alerts``): every active alert in one table, like Alertmanager's UI.

Firing, then pending, then suppressed; critical > warning > info > other; newest first.
Columns: severity, state (when some alert is not firing), name, model (dim when not a
model on screen), namespace (wide), since (by the app's clock), summary; a pane shows the
selected alert in full. ``enter`` opens its model, ``/`` filters, ``esc`` closes the
prompt, clears the filter, then goes back. The title counts alerts and criticals and
says the source's state (none configured, stale with its error -- the last good rows stay
--, demo). Alerts keep no history: in replay the view says "live only".
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from backends.models import Alert, FleetSnapshot, ModelService
from console.screens.base import ViewScreen
from console.state import answered
from widgets.badges import update_text
from widgets.text import MISSING, fmt_age, safe
from widgets.titles import set_border_subtitle

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


def make_rows(alerts: Sequence[Alert], services: Sequence[ModelService], now: datetime,
              wide: bool, with_state: bool) -> list[AlertRow]:
    """Sorted table rows for ``alerts`` (every text literal through ``safe``)."""
    by_name: dict[str, list[ModelService]] = {}
    for s in services:
        by_name.setdefault(s.name, []).append(s)
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


def source_state(app, snapshot: FleetSnapshot | None) -> str:
    """The alerts source and its freshness, for the title line."""
    backends = getattr(app, "backends", None)
    if backends is None:
        return "connecting…"
    source = backends.alerts
    if source is None:
        return NO_SOURCE
    demo = sys.modules.get("backends.demo_alerts")
    if demo is not None and isinstance(source, demo.DemoAlerts):
        label = "demo alerts"
    else:
        url = getattr(getattr(source, "config", None), "url", None)
        label = f"Alertmanager {safe(urlsplit(url).netloc or url, 40)}" if url else "alerts"
    status = (snapshot.sources.get("alerts") if snapshot is not None else None) \
        or app.state.status.get("alerts")
    if status is None or not answered(status):
        return f"{label}: waiting…"
    age = status.age(app.clock())
    if status.ok:
        return f"{label}, updated {fmt_age(age)} ago"
    error = safe(status.error or "failed", 120)
    if age is None:
        return f"{label} failed: {error}"
    return f"{label} stale {fmt_age(age)}: {error}"


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


class AlertTable(DataTable):
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


class AlertsScreen(ViewScreen):
    """Every active alert; ``enter`` opens the model of the selected alert."""

    DEFAULT_CSS = """
    AlertsScreen #alert-table { height: 1fr; }
    AlertsScreen #alert-detail { height: auto; max-height: 8; padding: 0 1; }
    AlertsScreen.-narrow #alert-detail { max-height: 5; }
    AlertsScreen #alert-replay { height: 1fr; padding: 1 2; color: $text-muted; display: none; }
    AlertsScreen.-replay #alert-replay { display: block; }
    AlertsScreen.-replay #alert-table, AlertsScreen.-replay #alert-detail { display: none; }
    """
    BINDINGS = [
        Binding("enter", "open_model", "Model", id="alert_model",
                tooltip="Open the model of the selected alert"),
        Binding("slash", "filter", "Filter", id="alert_filter",
                tooltip="words: severity, state, name, model, namespace, summary, labels"),
    ]
    FOOTER_PRIORITY = ("escape", "enter", "slash", "question_mark", "q", "colon", "T",
                       "space", "t")
    VIEW_TITLE = "alerts"

    def __init__(self, window: str = "1h", **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self.filter_text = ""
        self.rows: list[AlertRow] = []
        self._columns: tuple | None = None
        self._shown: tuple | None = None
        self._can_open = False

    def compose_body(self) -> ComposeResult:
        table = AlertTable(id="alert-table", classes="panel", cursor_type="row")
        table.border_title = "Active alerts · firing first, most severe, newest"
        yield table
        detail = Static(Text(""), id="alert-detail", classes="panel")
        detail.border_title = "Selected alert"
        yield detail
        yield Static(Text(LIVE_ONLY), id="alert-replay")
        yield Input(placeholder="filter alerts… (words: critical, llm-chat, gpu…)",
                    id="alert-filter", classes="prompt")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#alert-filter", Input).cursor_blink = False
        self.query_one(AlertTable).focus()
        self.set_interval(1.0, self._tick, name="alert-ages")

    def _tick(self) -> None:
        """Ages and the source's freshness follow the clock between refreshes."""
        if self.is_current:
            self._redraw()

    def on_resize(self, event) -> None:  # FooterFitMixin's runs too (Textual walks the MRO)
        self._redraw()

    def _redraw(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)

    # -- data ---------------------------------------------------------------------------
    def show(self, snapshot: FleetSnapshot) -> None:
        app = self.app
        if app.replay_at is not None:
            self.add_class("-replay")
            self.set_title("live only: alerts have no history",
                           f"replaying {app.replay_at.astimezone(timezone.utc):%H:%M}Z",
                           "T or esc: back to live")
            return
        self.remove_class("-replay")
        alerts = snapshot.alerts
        words = self.filter_text.lower().split()
        shown = [a for a in alerts if matches(a, words)] if words else list(alerts)
        width = self.size.width or 80
        wide = width >= WIDE
        with_state = any(state_rank(a) for a in alerts)
        rows = make_rows(shown, snapshot.services, app.clock(), wide, with_state)
        self._show_rows(rows, columns_for(width, with_state, shown))
        self._title(alerts, shown, snapshot)

    def _title(self, alerts: Sequence[Alert], shown: Sequence[Alert],
               snapshot: FleetSnapshot) -> None:
        crit = sum(1 for a in alerts if severity_rank(a) == 0 and state_rank(a) == 0)
        states = Counter(safe(a.state, 12) for a in alerts)
        count = f"{len(alerts)} alert" + ("" if len(alerts) == 1 else "s")
        if self.filter_text.strip():
            count = f"{len(shown)} shown of {count}"
        parts = [count, f"{crit} critical", source_state(self.app, snapshot)]
        if len(states) > 1 or (states and "firing" not in states):
            parts.append(", ".join(f"{n} {s}" for s, n in states.items()))
        self.set_title(*parts)
        set_border_subtitle(self.query_one(AlertTable), Text(f"/{safe(self.filter_text, 30)}")
                            if self.filter_text else None)

    def _show_rows(self, rows: list[AlertRow], columns: list[tuple[str, int]]) -> None:
        table = self.query_one(AlertTable)
        selected, old_index = self._selected(), table.cursor_row
        cols = (tuple(columns), self.app.theme)  # a theme change restyles every cell
        styled = tuple(r.cells for r in rows)
        if cols != self._columns:
            self._columns, self._shown = cols, None
            table.clear(columns=True)
            for label, width in columns:
                table.add_column(Text(label), width=width)
        if styled != self._shown:
            shown = self._shown
            if shown is not None and len(shown) == len(styled) == table.row_count:
                for y, (new, before) in enumerate(zip(styled, shown)):
                    for x, (cell, was) in enumerate(zip(new, before)):
                        if cell != was:
                            table.update_cell_at(Coordinate(y, x), table.cell(*cell))
            else:
                table.clear()
                for cells in styled:
                    table.add_row(*(table.cell(*c) for c in cells))
            self._shown = styled
        self.rows = rows
        if rows:
            keys = [r.key for r in rows]
            index = (keys.index(selected.key) if selected is not None and selected.key in keys
                     else min(max(old_index, 0), len(rows) - 1))
            if index != table.cursor_row:
                table.move_cursor(row=index, animate=False)
        self._show_detail()

    def _selected(self) -> AlertRow | None:
        row = self.query_one(AlertTable).cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _show_detail(self) -> None:
        row = self._selected()
        if not self.rows:
            text = Text("no alert matches the filter" if self.filter_text.strip()
                        else "no active alert", style="dim")
        else:
            text = detail_text(row, self.app.clock(), max(20, self.size.width - 4))
        update_text(self.query_one("#alert-detail", Static), text)
        can_open = row is not None and row.service_key is not None
        if can_open != self._can_open:
            self._can_open = can_open
            self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#alert-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    # -- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``enter`` is dimmed when the selected alert is not about a model on screen;
        ``enter`` and ``/`` are hidden while replaying (no rows then)."""
        if action in ("open_model", "filter") and self.app.replay_at is not None:
            return False
        if action == "open_model":
            row = self._selected() if self.is_mounted else None
            return True if row is not None and row.service_key is not None else None
        return super().check_action(action, parameters)

    def action_open_model(self) -> None:
        """Open the model detail of the selected alert (when joined to a model)."""
        row = self._selected()
        if row is not None and row.service_key is not None and self.app.replay_at is None:
            self.app.open_view("model", key=row.service_key)

    @on(DataTable.RowSelected, "#alert-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_model()

    def action_filter(self) -> None:
        """Show the filter prompt."""
        prompt = self.query_one("#alert-filter", Input)
        prompt.value = self.filter_text
        prompt.add_class("-on")
        prompt.focus()

    @on(Input.Changed, "#alert-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._redraw()

    @on(Input.Submitted, "#alert-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("-on")
        self.query_one(AlertTable).focus()

    def action_back(self) -> None:
        """Close the prompt, then clear the filter, then leave (or leave replay)."""
        prompt = self.query_one("#alert-filter", Input)
        if prompt.has_class("-on"):
            prompt.remove_class("-on")
            self.query_one(AlertTable).focus()
            return
        if self.filter_text and self.app.replay_at is None:
            prompt.value = self.filter_text = ""
            self._redraw()
            return
        super().action_back()
