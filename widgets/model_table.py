"""The model table: one row per model service, updated cell by cell.

Data in: :meth:`ModelTable.show_rows` with :class:`ModelRow` values (build them from a
snapshot with :func:`rows_from_snapshot`). Intents out: :class:`ModelTable.ModelHighlighted`
and :class:`ModelTable.ModelChosen`. Only changed cells are redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from backends.models import DriftSeries, FleetSnapshot
from widgets.badges import Level, drift_level, error_level, model_status
from widgets.text import MISSING, fmt_money, fmt_num, safe

Cell = tuple[str, Level]

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Model", 22),
    ("status", "Status", 8),
    ("version", "Version", 9),
    ("traffic", "Traffic", 7),
    ("ready", "Ready", 5),
    ("rps", "RPS", 7),
    ("err", "Err %", 6),
    ("p95", "p95 ms", 6),
    ("drift", "Drift", 9),
    ("cost", "$/h", 8),
)


@dataclass(frozen=True, slots=True)
class ModelRow:
    """Display values of one model (already formatted, with a level per cell)."""

    key: str
    name: str
    cells: tuple[Cell, ...]

    def matches(self, needle: str) -> bool:
        """Case-insensitive substring match on name, version and status."""
        if not needle:
            return True
        needle = needle.lower()
        return needle in self.name.lower() or any(
            needle in self.cells[i][0].lower() for i in (1, 2)
        )


def _traffic(service) -> str:
    if not service.traffic:
        return MISSING
    if len(service.traffic) == 1:
        return f"{service.traffic[0].percent:.0f}"
    return "/".join(f"{t.percent:.0f}" for t in service.traffic)


def worst_drift_by_model(drift) -> dict[str, DriftSeries]:
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


def rows_from_snapshot(snapshot: FleetSnapshot) -> list[ModelRow]:
    """One :class:`ModelRow` per service of ``snapshot`` (pure; no widget needed)."""
    rows: list[ModelRow] = []
    worst = worst_drift_by_model(snapshot.drift)
    for s in snapshot.services:
        h = snapshot.health.get(s.name)
        d = worst.get(s.name)
        ready = (
            MISSING if s.replicas_ready is None and s.replicas_desired is None
            else f"{fmt_num(s.replicas_ready, '{:d}')}/{fmt_num(s.replicas_desired, '{:d}')}"
        )
        ready_level = Level.OK
        if s.replicas_ready is not None and s.replicas_desired is not None:
            if s.replicas_ready < s.replicas_desired:
                ready_level = Level.BAD if s.replicas_ready == 0 else Level.WARN
        err = h.error_ratio if h else None
        drift_text = MISSING if d is None or d.latest is None else f"{d.latest:.2f}/{d.threshold:g}"
        cost = snapshot.cost.by_model.get(s.name)
        cells: tuple[Cell, ...] = (
            (safe(s.name), Level.OK),
            model_status(s, h, d),
            (safe(s.version, 16), Level.OK),
            (_traffic(s), Level.INFO if s.canary else Level.OK),
            (ready, ready_level),
            (fmt_num(h.rps if h else None, "{:,.1f}"), Level.OK),
            (fmt_num(None if err is None else err * 100, "{:.2f}"), error_level(err)),
            (fmt_num(h.p95_ms if h else None, "{:,.0f}"), Level.OK),
            (drift_text, drift_level(d)),
            (fmt_money(cost), Level.OK),
        )
        rows.append(ModelRow(key=s.key, name=s.name, cells=cells))
    return rows


class ModelTable(DataTable):
    """DataTable of models with filtering and per-cell updates."""

    DEFAULT_CSS = """
    ModelTable { height: 1fr; }
    ModelTable > .model-table--warn { color: $warning; }
    ModelTable > .model-table--bad { color: $error; text-style: bold; }
    ModelTable > .model-table--info { color: $accent; }
    ModelTable > .model-table--unknown { color: $text-muted; }
    ModelTable > .model-table--ok { }
    """
    COMPONENT_CLASSES = {f"model-table--{lv.value}" for lv in Level}

    filter_text: reactive[str] = reactive("")

    class ModelHighlighted(Message):
        """The cursor moved to a model (``key`` = ModelService.key)."""

        def __init__(self, table: "ModelTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "ModelTable":
            return self.table

    class ModelChosen(ModelHighlighted):
        """Enter was pressed on a model: open its detail."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._rows: dict[str, ModelRow] = {}
        self._shown: dict[str, ModelRow] = {}
        self._styles: dict[Level, object] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def selected_key(self) -> str | None:
        """Key of the model under the cursor, if any."""
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - empty/changing table
            return None

    def _text(self, cell: Cell, column: int) -> Text:
        if not self._styles:
            self._styles = {
                lv: self.get_component_rich_style(f"model-table--{lv.value}", partial=True)
                for lv in Level
            }
        text, level = cell
        limit = COLUMNS[column][2]
        if limit is not None and len(text) > limit:
            text = text[: limit - 1] + "…"
        return Text(text, style=self._styles[level], no_wrap=True, overflow="ellipsis")

    def _add(self, row: ModelRow) -> None:
        self.add_row(*(self._text(c, i) for i, c in enumerate(row.cells)), key=row.key)
        self._shown[row.key] = row

    def show_rows(self, rows: list[ModelRow]) -> None:
        """Show ``rows``: update changed cells, add new rows, remove vanished ones."""
        self._rows = {r.key: r for r in rows}
        wanted = [r for r in rows if r.matches(self.filter_text)]
        wanted_keys = {r.key for r in wanted}
        for key in [k for k in self._shown if k not in wanted_keys]:
            self.remove_row(key)
            del self._shown[key]
        for row in wanted:
            old = self._shown.get(row.key)
            if old is None:
                self._add(row)
                continue
            if old.cells != row.cells:
                for i, (a, b) in enumerate(zip(old.cells, row.cells)):
                    if a != b:
                        self.update_cell(row.key, COLUMNS[i][0], self._text(b, i))
                self._shown[row.key] = row

    def watch_filter_text(self, _old: str, _new: str) -> None:
        """Rebuild the visible rows for the new filter, keeping the selection if shown."""
        selected = self.selected_key
        self.clear(columns=False)
        self._shown.clear()
        for row in self._rows.values():
            if row.matches(self.filter_text):
                self._add(row)
        if selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key is not None and event.row_key.value is not None:
            self.post_message(self.ModelHighlighted(self, event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key is not None and event.row_key.value is not None:
            self.post_message(self.ModelChosen(self, event.row_key.value))
