"""Cost view: $/h now by model, namespace and node; today and month-to-date; projection
against the budget; idle GPU cost (allocated, low util) as its own line; unit cost per
model ($ per 1k generated tokens for LLMs, $ per 1k requests for the others)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from backends.domain.models import CostBurn, FleetSnapshot, GpuDevice, HealthSample
from console.screens.base import ViewScreen
from widgets.render.cell_cache import CellCachedTable
from widgets.badges import update_text
from widgets.bars import meter
from widgets.cost_panel import budget_ratio
from widgets.gpu_table import is_idle
from widgets.text import MISSING, fmt_money, safe
from widgets.titles import set_border_subtitle


def unit_cost(hourly: float | None, health: HealthSample | None, llm: bool
              ) -> tuple[float | None, str]:
    """($ per 1k units, unit): generated tokens for LLMs, requests otherwise. None when
    the cost or the throughput is unknown or zero."""
    unit = "1k tok" if llm else "1k req"
    if hourly is None or health is None:
        return None, unit
    rate = health.tokens_per_s if llm else health.rps
    if rate is None or rate <= 0:
        return None, unit
    return hourly / (rate * 3.6), unit  # per hour: rate * 3600 / 1000 thousands


def group_cost(gpus: Sequence[GpuDevice], key, idle_util: float
               ) -> list[tuple[str, float | None, int, float | None]]:
    """(group, $/h, GPUs, idle $/h) per group, most expensive first."""
    acc: dict[str, list] = {}
    for g in gpus:
        name = key(g)
        row = acc.setdefault(name, [None, 0, None])
        if g.hourly_cost is not None:
            row[0] = (row[0] or 0.0) + g.hourly_cost
            if is_idle(g, idle_util):
                row[2] = (row[2] or 0.0) + g.hourly_cost
        row[1] += 1
    out = [(k, v[0], v[1], v[2]) for k, v in acc.items()]
    out.sort(key=lambda r: (-(r[1] or 0.0), r[0]))
    return out


def summary_text(cost: CostBurn, idle_count: int, width: int) -> Text:
    """Headline figures; every missing one shows as the missing marker."""
    out = Text(overflow="ellipsis")

    def pair(label: str, value: str) -> None:
        out.append(f"{label} ", "dim")
        out.append(f"{value}   ", "bold")

    if cost.total_hourly is not None:  # OpenCost's node costs: the whole fleet, and GPUs
        pair("all nodes", f"{fmt_money(cost.total_hourly)}/h")
        pair("GPUs", f"{fmt_money(cost.hourly)}/h")
    else:
        pair("now (GPUs)", f"{fmt_money(cost.hourly)}/h")
    pair("today", fmt_money(cost.today))
    pair("month to date", fmt_money(cost.month_to_date, 0))
    if cost.spend_basis:
        out.append(f"({cost.spend_basis})", "dim")
    out.append("\n")
    pair("projection", fmt_money(cost.month_projection, 0))
    pair("budget", fmt_money(cost.monthly_budget, 0))
    ratio = budget_ratio(cost)
    if ratio is None:
        out.append(MISSING, "dim")
    else:
        state = "OVER budget" if ratio > 1 else "near budget" if ratio >= 0.9 else "under budget"
        out.append(meter(min(ratio, 1.0) * 100, max(6, min(30, width - 66))))
        out.append(f" {ratio * 100:.0f}% {state}", "bold")
    out.append("\n")
    out.append("idle GPUs (allocated, low util) ", "dim")
    if cost.idle_hourly is None:
        out.append(MISSING)
    else:
        idle = cost.idle_gpus if cost.idle_gpus is not None else idle_count
        out.append(f"{idle} GPUs · {fmt_money(cost.idle_hourly)}/h · "
                   f"{fmt_money(cost.idle_hourly * 24)}/day", "bold")
    if cost.unallocated_hourly is not None:
        out.append("\nunallocated GPUs (no pod) ", "dim")
        out.append(f"{cost.unallocated_gpus or 0} GPUs · "
                   f"{fmt_money(cost.unallocated_hourly)}/h", "bold")
    out.append(f"\nsource: {safe(cost.source, 40)}", "dim")
    return out


def _cell(text: str, column: int) -> Text:
    return Text(text, no_wrap=True, overflow="ellipsis", justify="left" if column == 0 else "right")


MAX_MODEL_ROWS = 50
"""Models listed (the costliest): every refresh changes most rows' unit cost, and each
changed cell is a table update; past a couple of screenfuls nobody reads them here."""
MAX_GROUP_ROWS = 20
"""Namespaces and nodes listed (the costliest)."""
LLM_RUNTIMES = ("vllm", "tgi", "llm")
"""Runtimes whose unit is the generated token (``model_detail.is_llm``'s list)."""


class CostScreen(ViewScreen):
    """Cost burn of the fleet, broken down three ways, with unit costs."""

    DEFAULT_CSS = """
    CostScreen #cost-body { height: 1fr; }
    CostScreen #cost-summary { height: auto; padding: 0 1; }
    CostScreen #cost-models { height: auto; max-height: 24; min-height: 6; }
    CostScreen #cost-groups { height: 14; }
    CostScreen #cost-groups > DataTable { width: 1fr; height: 1fr; }
    CostScreen.-narrow #cost-groups { layout: vertical; height: auto; }
    CostScreen.-narrow #cost-groups > DataTable { height: auto; max-height: 12; }
    """
    VIEW_TITLE = "cost"

    def __init__(self, window: str = "1h", **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self._shown: dict[str, tuple] = {}
        self._keys: dict[str, list[str]] = {}
        self._cells: dict[str, list[tuple[str, ...]]] = {}
        self._services_key: object = None
        self._services: dict = {}

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="cost-body"):
            box = Static(Text("waiting for data…"), id="cost-summary", classes="panel")
            box.border_title = "Burn"
            yield box
            models: DataTable[Text] = CellCachedTable(id="cost-models", classes="panel", cursor_type="row")
            models.border_title = "By model"
            yield models
            with Horizontal(id="cost-groups"):
                ns: DataTable[Text] = CellCachedTable(id="cost-ns", classes="panel", cursor_type="row")
                ns.border_title = "By namespace"
                yield ns
                nodes: DataTable[Text] = CellCachedTable(id="cost-nodes", classes="panel", cursor_type="row")
                nodes.border_title = "By node"
                yield nodes

    def on_mount(self) -> None:
        self.query_one("#cost-models", DataTable).add_columns(
            "model", "$/h", "share", "GPUs", "unit cost", "$/day")
        self.query_one("#cost-ns", DataTable).add_columns("namespace", "$/h", "GPUs", "idle $/h")
        self.query_one("#cost-nodes", DataTable).add_columns("node", "$/h", "GPUs", "idle $/h")
        super().on_mount()
        self.query_one("#cost-models").focus()

    def _services_by_name(self, snapshot: FleetSnapshot) -> dict:
        """Services by name (made again only when the services change)."""
        if self._services_key is not snapshot.services:
            self._services_key = snapshot.services
            self._services = {s.name: s for s in snapshot.services}
        return self._services

    def _idle_util(self) -> float:
        prom = getattr(self.app.settings, "prometheus", None)
        return getattr(prom, "idle_util_percent", 10.0)

    def show(self, snapshot: FleetSnapshot) -> None:
        cost, idle_util = snapshot.cost, self._idle_util()
        part = self.app.state.metrics
        # a fleet past GPU_ROWS_MAX: rows for a page only, every GPU counted by the server
        summary = part.gpu_summary if part is not None and part.gpu_scope is not None else None
        idle = (summary.idle_allocated or 0) if summary is not None else sum(
            1 for g in snapshot.gpus if is_idle(g, idle_util))
        update_text(self.query_one("#cost-summary", Static),
                    summary_text(cost, idle, self.size.width or 80))
        self.set_title(f"{fmt_money(cost.hourly)}/h", f"month → {fmt_money(cost.month_projection, 0)}"
                       f" of {fmt_money(cost.monthly_budget, 0)}")
        by_model = dict(cost.by_model) or {
            k: v for k, v, _, _ in group_cost(snapshot.gpus, lambda g: g.model or "(free)",
                                              idle_util) if v is not None}
        gpu_count: dict[str, int] = dict(summary.by_model) if summary is not None else {}
        for g in snapshot.gpus if summary is None else ():
            if g.model:
                gpu_count[g.model] = gpu_count.get(g.model, 0) + 1
        services = self._services_by_name(snapshot)
        total = sum(by_model.values()) or None
        rows: list[tuple[str, ...]] = []
        ranked = sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))
        for name, hourly in ranked[:MAX_MODEL_ROWS]:
            health = snapshot.health.get(name)
            svc = services.get(name)
            # is_llm's test on the figures unit_cost reads (by model name): O(1) a row
            llm = svc is not None and ((svc.runtime or "").lower() in LLM_RUNTIMES or (
                health is not None and health.tokens_per_s is not None))
            unit, label = unit_cost(hourly, health, llm)
            rows.append((safe(name, 40), fmt_money(hourly), MISSING if not total else
                         f"{100 * hourly / total:.0f}%", str(gpu_count.get(name, 0)),
                         MISSING if unit is None else f"{fmt_money(unit, 4)}/{label}",
                         fmt_money(hourly * 24, 0)))
        self._fill("cost-models", rows)
        if len(ranked) > MAX_MODEL_ROWS:
            set_border_subtitle(self.query_one("#cost-models", DataTable),
                                f"the {MAX_MODEL_ROWS} costliest of {len(ranked)} models")
        for table_id, key in (("cost-ns", lambda g: g.namespace or "(no namespace)"),
                              ("cost-nodes", lambda g: g.node)):
            groups = group_cost(snapshot.gpus, key, idle_util)
            self._fill(table_id, [(safe(k, 40), fmt_money(v), str(n), fmt_money(i))
                                  for k, v, n, i in groups[:MAX_GROUP_ROWS]])
            table = self.query_one(f"#{table_id}", DataTable)
            if summary is not None:  # not every GPU's: say whose
                set_border_subtitle(table, f"of the {len(snapshot.gpus)} GPUs read "
                                           f"(of {summary.gpus})")
            elif len(groups) > MAX_GROUP_ROWS:
                set_border_subtitle(table, f"the {MAX_GROUP_ROWS} costliest of {len(groups)}")

    def _fill(self, table_id: str, rows: list[tuple[str, ...]]) -> None:
        """Show ``rows`` (first cell: the row's name, its key); the cursor stays on its
        row. The same rows again cost nothing; the same names -- in any order: the
        tables are sorted by $/h, which reorders them on most refreshes -- update only the
        changed cells and re-sort, as long as every value fits its column; else the
        table is rebuilt (clearing it would also send the cursor back to the top)."""
        key = tuple(rows)
        if self._shown.get(table_id) == key:
            return
        self._shown[table_id] = key
        table = self.query_one(f"#{table_id}", DataTable)
        old = self._keys.get(table_id)
        keys = [r[0] for r in rows]
        unique = len(set(keys)) == len(keys)  # names cut to 40 cells may collide
        selected = None  # the name under the cursor (rows are keyed by name when unique)
        if table.is_valid_row_index(table.cursor_row):
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        columns = table.ordered_columns
        same_names = old is not None and unique and sorted(old) == sorted(keys)
        if same_names and old is not None and all(cell_len(c) <= columns[x].content_width
                              for r in rows for x, c in enumerate(r)):
            prev = dict(zip(old, self._cells.get(table_id, [])))
            for r in rows:
                for x, (c, pc) in enumerate(zip(r, prev.get(r[0], ()))):
                    if c != pc:
                        table.update_cell(r[0], columns[x].key, _cell(c, x))
            if old != keys:
                order = {k: i for i, k in enumerate(keys)}
                table.sort(key=lambda values: order[values[0].plain])
        else:
            table.clear()
            for r in rows:
                table.add_row(*(_cell(c, i) for i, c in enumerate(r)),
                              key=r[0] if unique else None)
        if selected is not None and selected in keys:
            table.move_cursor(row=table.get_row_index(selected), scroll=False)
        self._keys[table_id] = keys
        self._cells[table_id] = rows
        set_border_subtitle(table, f"{len(rows)} rows")
