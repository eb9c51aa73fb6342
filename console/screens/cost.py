"""Cost view: $/h now by model, namespace and node; today and month-to-date; projection
against the budget; idle GPU cost (allocated, low util) as its own line; unit cost per
model ($ per 1k generated tokens for LLMs, $ per 1k requests for the others)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from backends.domain.models import CostBurn, FleetSnapshot
from console.presenters.cost import (LLM_RUNTIMES, MAX_GROUP_ROWS, MAX_MODEL_ROWS, CostRows,
                                     cost_rows, group_cost, idle_util_of, services_by_name,
                                     unit_cost)
from console.controllers.contexts import told_summary
from console.screens.base import ViewScreen
from widgets.badges import update_text
from widgets.bars import meter
from widgets.cost_panel import budget_ratio
from widgets.row_table import RowTable
from widgets.text import MISSING, fmt_money, safe
from widgets.titles import set_border_subtitle

__all__ = ["LLM_RUNTIMES", "MAX_GROUP_ROWS", "MAX_MODEL_ROWS", "CostScreen", "group_cost",
           "summary_text", "unit_cost"]


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


class CostScreen(ViewScreen):
    """Cost burn of the fleet, broken down three ways, with unit costs. The rows come
    grouped, sorted and formatted (console.presenters.cost), made by the metrics poller
    when it can; the tables draw only their visible lines (widgets.row_table)."""

    DEFAULT_CSS = """
    CostScreen #cost-body { height: 1fr; }
    CostScreen #cost-summary { height: auto; padding: 0 1; }
    CostScreen #cost-models { height: auto; max-height: 24; min-height: 6; }
    CostScreen #cost-groups { height: 14; }
    CostScreen #cost-groups > RowTable { width: 1fr; height: 1fr; }
    CostScreen.-narrow #cost-groups { layout: vertical; height: auto; }
    CostScreen.-narrow #cost-groups > RowTable { height: auto; max-height: 12; }
    """
    VIEW_TITLE = "cost"

    def __init__(self, window: str = "1h", **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self._services_key: object = None
        self._services: dict = {}

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="cost-body"):
            box = Static(Text("waiting for data…"), id="cost-summary", classes="panel")
            box.border_title = "Burn"
            yield box
            models = RowTable("model", "$/h", "share", "GPUs", "unit cost", "$/day",
                              id="cost-models", classes="panel")
            models.border_title = "By model"
            yield models
            with Horizontal(id="cost-groups"):
                ns = RowTable("namespace", "$/h", "GPUs", "idle $/h", id="cost-ns",
                              classes="panel")
                ns.border_title = "By namespace"
                yield ns
                nodes = RowTable("node", "$/h", "GPUs", "idle $/h", id="cost-nodes",
                                 classes="panel")
                nodes.border_title = "By node"
                yield nodes

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#cost-models").focus()

    def _services_by_name(self, snapshot: FleetSnapshot) -> dict:
        """Services by name (made again only when the services change)."""
        if self._services_key is not snapshot.services:
            self._services_key = snapshot.services
            self._services = services_by_name(snapshot.services)
        return self._services

    def rows_for(self, snapshot: FleetSnapshot) -> CostRows:
        """The tables' rows: the metrics poller's when made of exactly this snapshot's
        figures (console.presenters.prepare), else made here."""
        idle_util = idle_util_of(self.app.settings)
        part = self.app.state.metrics
        prepared = getattr(self.app.fleet_screen, "prepared", None)
        rows = prepared.cost_for(snapshot, part, idle_util) if prepared is not None else None
        if rows is not None:
            return rows
        # a fleet past GPU_ROWS_MAX: rows for a page only, every GPU counted by the server
        # (a read within the context the console is narrowed to: that context's)
        told = told_summary(self.app, snapshot)
        return cost_rows(snapshot, told[0] if told else None, idle_util,
                         self._services_by_name(snapshot))

    def show(self, snapshot: FleetSnapshot) -> None:
        cost = snapshot.cost
        rows = self.rows_for(snapshot)
        update_text(self.query_one("#cost-summary", Static),
                    summary_text(cost, rows.idle, self.size.width or 80))
        self.set_title(f"{fmt_money(cost.hourly)}/h", f"month → {fmt_money(cost.month_projection, 0)}"
                       f" of {fmt_money(cost.monthly_budget, 0)}")
        for table_id, table_rows in (("cost-models", rows.models), ("cost-ns", rows.namespaces),
                                     ("cost-nodes", rows.nodes)):
            table = self.query_one(f"#{table_id}", RowTable)
            table.show_rows(table_rows.rows)
            set_border_subtitle(table, table_rows.subtitle)
