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

from collections.abc import Sequence
from datetime import timezone

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from backends.domain.models import Alert, FleetSnapshot, ModelService
from console.screens.base import ViewScreen
from console.controllers.state import answered
from widgets.alert_rows import (LIVE_ONLY, NO_SOURCE, WIDE, AlertRow, AlertTable,
                               PreparedAlerts, columns_fit, detail_text, filter_facts,
                               join_services, max_widths, prepare_alerts, services_by_name)
from widgets.badges import update_text
from widgets.text import fmt_age, safe
from widgets.titles import set_border_subtitle

def source_state(app, snapshot: FleetSnapshot | None) -> str:
    """The alerts source and its freshness, for the title line."""
    backends = getattr(app, "backends", None)
    if backends is None:
        return "connecting…"
    source = backends.alerts
    if source is None:
        return NO_SOURCE
    label = safe(str(getattr(source, "label", "alerts")), 60)
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
        self._prepared: PreparedAlerts | None = None  # made here (not by the poller)
        self._joined: tuple = (None, None, [])  # (prepared, services, service per alert)
        self._can_open = False

    def compose_body(self) -> ComposeResult:
        table = AlertTable(id="alert-table", classes="panel")
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
        if app.navigator.replay_at is not None:
            self.add_class("-replay")
            self.set_title("live only: alerts have no history",
                           f"replaying {app.navigator.replay_at.astimezone(timezone.utc):%H:%M}Z",
                           "T or esc: back to live")
            return
        self.remove_class("-replay")
        prepared = self._prepared_for(snapshot.alerts)
        words = self.filter_text.lower().split()
        width = self.size.width or 80
        wide = width >= WIDE
        with_state = prepared.with_state
        now = app.clock()
        services = self._services(prepared, snapshot.services)
        shown = filter_facts(prepared.facts, words) if words else prepared.facts
        widths = max_widths(shown) if words else prepared.widths
        rows = [AlertRow(f, *services[f], now=now, wide=wide, with_state=with_state)
                for f in shown]
        self._show_rows(rows, columns_fit(width, with_state, widths))
        self._title(prepared, len(rows), snapshot)

    def _prepared_for(self, alerts: Sequence[Alert]) -> PreparedAlerts:
        """The alerts sorted and formatted: the poller's (made in its thread) when they are
        of these very alerts, else made here once per alerts tuple."""
        for prepared in (getattr(self.app.poller, "alerts_prepared", None), self._prepared):
            if prepared is not None and prepared.alerts is alerts:
                return prepared
        self._prepared = prepare_alerts(alerts)
        if self._prepared.alerts is not alerts:  # not a tuple: made again each time
            self._prepared = None
            return prepare_alerts(alerts)
        return self._prepared

    def _services(self, prepared: PreparedAlerts, services: Sequence[ModelService]) -> dict:
        """Each alert's model service and its key (or None, None): the poller's join when
        made of these services, else joined here once per alerts and services."""
        joined = prepared.joined_to(services)
        if joined is not None:
            return joined
        if self._joined[0] is not prepared or self._joined[1] is not services:
            self._joined = (prepared, services,
                            join_services(prepared.facts, services_by_name(services)))
        return self._joined[2]

    def _title(self, prepared: PreparedAlerts, shown: int, snapshot: FleetSnapshot) -> None:
        total = len(prepared.alerts)
        states = dict(prepared.states)
        count = f"{total} alert" + ("" if total == 1 else "s")
        if self.filter_text.strip():
            count = f"{shown} shown of {count}"
        parts = [count, f"{prepared.critical} critical", source_state(self.app, snapshot)]
        if len(states) > 1 or (states and "firing" not in states):
            parts.append(", ".join(f"{n} {s}" for s, n in states.items()))
        self.set_title(*parts)
        set_border_subtitle(self.query_one(AlertTable), Text(f"/{safe(self.filter_text, 30)}")
                            if self.filter_text else None)

    def _show_rows(self, rows: list[AlertRow], columns: list[tuple[str, int]]) -> None:
        table = self.query_one(AlertTable)
        selected, old_index = self._selected(), table.cursor_row
        index = 0
        if rows:
            index = min(max(old_index, 0), len(rows) - 1)
            if selected is not None:
                key = selected.key
                index = next((i for i, r in enumerate(rows) if r.key == key), index)
        self.rows = rows
        table.show_rows(rows, columns)  # only the lines on screen that changed are drawn
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

    @on(AlertTable.RowHighlighted, "#alert-table")
    def _highlighted(self, event: AlertTable.RowHighlighted) -> None:
        self._show_detail()

    # -- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``enter`` is dimmed when the selected alert is not about a model on screen;
        ``enter`` and ``/`` are hidden while replaying (no rows then)."""
        if action in ("open_model", "filter") and self.app.navigator.replay_at is not None:
            return False
        if action == "open_model":
            row = self._selected() if self.is_mounted else None
            return True if row is not None and row.service_key is not None else None
        return super().check_action(action, parameters)

    def action_open_model(self) -> None:
        """Open the model detail of the selected alert (when joined to a model)."""
        row = self._selected()
        if row is not None and row.service_key is not None and self.app.navigator.replay_at is None:
            self.app.navigator.open_view("model", key=row.service_key)

    @on(AlertTable.RowSelected, "#alert-table")
    def _chosen(self, event: AlertTable.RowSelected) -> None:
        event.stop()
        self.action_open_model()

    def action_filter(self) -> None:
        """Show the filter prompt."""
        prompt = self.query_one("#alert-filter", Input)
        prompt.value = self.filter_text
        prompt.add_class("-on")
        self.set_focus(prompt)  # at once: the keys typed after it go to the prompt

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
        if self.filter_text and self.app.navigator.replay_at is None:
            prompt.value = self.filter_text = ""
            self._redraw()
            return
        super().action_back()
