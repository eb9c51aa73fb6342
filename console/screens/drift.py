"""Drift view: models drifting (fleet summary) and the selected model's features, worst
first, each with its series over the window, its threshold line and when it crossed."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from backends.domain.models import FleetSnapshot
from console.screens.base import ViewScreen
from widgets.render.cell_cache import CellCachedTable
from widgets.drift_chart import DriftPanel, crossed_at, drift_ratio, model_summary, worst_first
from widgets.text import MISSING, safe
from widgets.titles import set_border_subtitle, set_border_title

MAX_PANELS = 24
"""Feature charts mounted at once (the worst ones)."""


class DriftScreen(ViewScreen):
    """Fleet drift summary (left) and per-feature charts of the selected model (right)."""

    DEFAULT_CSS = """
    DriftScreen #drift-body { height: 1fr; }
    DriftScreen #drift-models { width: 2fr; height: 1fr; }
    DriftScreen #drift-features { width: 3fr; height: 1fr; }
    DriftScreen #drift-empty { color: $text-muted; padding: 1; }
    DriftScreen.-narrow #drift-body { layout: vertical; }
    DriftScreen.-narrow #drift-models { width: 1fr; height: 8; }
    DriftScreen.-narrow #drift-features { width: 1fr; }
    DriftScreen.-narrow DriftPanel { height: 7; }
    """
    VIEW_TITLE = "drift"

    def __init__(self, window: str = "1h", model: str | None = None, **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self.model = model
        self._rows: tuple | None = None
        self._panels_key: tuple | None = None
        self._summary_for: object = None
        self._summary: tuple[tuple, int, int] = ((), 0, 0)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="drift-body"):
            table: DataTable[Text] = CellCachedTable(id="drift-models", classes="panel", cursor_type="row")
            table.border_title = "Models"
            yield table
            with VerticalScroll(id="drift-features", classes="panel") as box:
                box.border_title = "Features, worst first"
                yield Static(Text("waiting for data…"), id="drift-empty")

    def on_mount(self) -> None:
        self.query_one("#drift-models", DataTable).add_columns(
            "model", "over", "worst feature", "latest/limit", "since")
        super().on_mount()
        self.query_one("#drift-models").focus()

    def _summary_rows(self, snapshot: FleetSnapshot) -> tuple[tuple, int, int]:
        """(table rows, models drifting, models) of ``snapshot.drift``: made again only for
        other drift series (3,000 models: ~10 ms a refresh otherwise)."""
        if self._summary_for is not snapshot.drift:
            summary = model_summary(snapshot.drift)
            rows = []
            for model, over, total, worst in summary:
                ratio = drift_ratio(worst) if worst else None
                since = crossed_at(worst.points, worst.threshold) if worst else None
                rows.append((model, f"{over}/{total}",
                             safe(worst.feature, 30) if worst else MISSING,
                             MISSING if ratio is None else f"{ratio:.2f}×",
                             since.strftime("%H:%M") if since else MISSING, over > 0))
            drifting = sum(1 for _, over, _, _ in summary if over)
            self._summary = (tuple(rows), drifting, len(summary))
            self._summary_for = snapshot.drift
        return self._summary

    def show(self, snapshot: FleetSnapshot) -> None:
        rows, drifting, models = self._summary_rows(snapshot)
        self.set_title(f"{drifting} of {models} models drifting",
                       f"{len(snapshot.drift)} features", f"window {self.window}")
        table = self.query_one("#drift-models", DataTable)
        if rows is not self._rows and rows != self._rows:
            self._rows = rows
            keep = self.model
            table.clear()
            for r in rows:
                style = "bold" if r[5] else ""
                table.add_row(Text(safe(r[0], 40), style=style, no_wrap=True, overflow="ellipsis"),
                              *(Text(c, style=style, no_wrap=True) for c in r[1:5]), key=r[0])
            if keep is None and rows:
                self.model = rows[0][0]
            if self.model is not None:
                try:
                    table.move_cursor(row=table.get_row_index(self.model), animate=False)
                except Exception:  # noqa: BLE001 - the model left the fleet
                    self.model = rows[0][0] if rows else None
        set_border_subtitle(table, f"{drifting} drifting")
        self._show_features(snapshot)

    def _show_features(self, snapshot: FleetSnapshot) -> None:
        box = self.query_one("#drift-features", VerticalScroll)
        feats = worst_first([d for d in snapshot.drift if d.model == self.model])[:MAX_PANELS]
        window_s = self.app.navigator.window_s()
        # the axis moves in steps of 1/60 of the window (a chart column or less), so the
        # panels are not redrawn on every refresh for a shift nobody could see; the end is
        # rounded up: the newest point stays on the chart
        step = max(1.0, window_s / 60)
        ts = snapshot.taken_at.timestamp()
        end = datetime.fromtimestamp(math.ceil(ts / step) * step, timezone.utc)
        start = end - timedelta(seconds=window_s)
        key = (self.model, tuple((d.feature, id(d)) for d in feats), start)
        if key == self._panels_key:
            return
        self._panels_key = key
        set_border_title(box, Text(f"{safe(self.model or MISSING, 40)} · features, worst first"))
        panels = list(box.query(DriftPanel))
        if [p.drift.feature for p in panels] == [d.feature for d in feats]:
            for panel, d in zip(panels, feats):
                panel.update(d, start, end)
            return
        box.remove_children()
        if not feats:
            # the metrics matched no drift series at all: say what was looked for and how
            # to set it, instead of waiting for data that will not come
            why = snapshot.drift_reason if not snapshot.drift else None
            box.mount(Static(Text(safe(why, 600) if why else "no drift series for this model"),
                             id="drift-empty"))
            return
        box.mount_all(DriftPanel(d, start, end) for d in feats)

    @on(DataTable.RowHighlighted, "#drift-models")
    def _row(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value if event.row_key is not None else None
        if name is not None and name != self.model:
            self.model = name
            if self.snapshot is not None:
                self._show_features(self.snapshot)

    def on_window(self) -> None:
        self._panels_key = None
        if self.snapshot is not None:
            self._show_features(self.snapshot)
