"""Promotions view (``:promotions``): the release manager's queue.

Every service with a canary, in every context, with its promote gates as the guard will
judge them (canary vs stable error ratio and p95 over the gates' window, canary age,
approvals), its SLO burn, the approvals counted and still missing, and who made the canary
revision. ``s`` cycles the sort, ``A`` approves and ``P`` promotes the selected canary
(through ``app.records`` and ``app.actions``, with the same guard, audit and read-only rule
as on the fleet screen), ``enter`` opens the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backends.actions import catalog
from backends.actions.gates import approvals_since_promote
from backends.domain.models import AuditEntry, FleetSnapshot
from backends.domain.sources import AuditBackend
from backends.domain.slo import FleetBurn, fleet_burn
from backends.actions.gates import ApproverPolicy
from backends.domain.slo_config import SloConfig
from console.controllers.action_keys import ActionKeysMixin
from console.presenters.promotions import (COLUMNS, SORTS, PromotionRow, detail_lines,
                                           next_sort, promotion_rows, row_cells, sort_rows)
from console.screens.base import ViewScreen
from widgets.badges import update_text
from widgets.promotion_table import PromotionTable

if TYPE_CHECKING:
    from backends.domain.models import ModelService
    from console.app import PitboardApp

APPROVALS_EVERY_S = 2.0
"""The audit store's approvals are read again this often (wall clock) while the view is up:
an approval recorded here, or by another console on the same store, shows within it."""


def _key_binding(name: str) -> Binding:
    """The key of the declared action ``name`` (backends.actions.catalog), on this view."""
    spec = catalog.BY_NAME[name]
    return Binding(spec.key, name, spec.label, id=f"promotions_{name}", tooltip=spec.help)


def read_store_approvals(audit: AuditBackend, runner: object | None,
                         canaries: Sequence[tuple[str, str]]
                         ) -> dict[str, list[AuditEntry]]:
    """The audit store's approvals still valid for each ``(service key, canary)``: the
    runner's reading (``ActionRunner.valid_approvals``), else the same rule on the store."""
    valid = getattr(runner, "valid_approvals", None)
    out: dict[str, list[AuditEntry]] = {}
    for key, canary in canaries:
        if callable(valid):
            out[key] = list(valid(key, canary))
        else:
            entries = audit.entries(target=key)
            out[key] = approvals_since_promote(entries, canary)
    return out


class PromotionsScreen(ActionKeysMixin, ViewScreen):
    """Every canary in every context with its gates; approve and promote from here."""

    DEFAULT_CSS = """
    PromotionsScreen #promo-table { height: 1fr; }
    PromotionsScreen #promo-detail { height: auto; max-height: 9; padding: 0 1; }
    PromotionsScreen.-narrow #promo-detail { max-height: 6; }
    """
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", id="promotions_sort", tooltip=" → ".join(SORTS)),
        _key_binding("approve"),
        _key_binding("promote"),
        Binding("enter", "open_model", "Model", id="promotions_model",
                tooltip="Open the model of the selected canary"),
    ]
    FOOTER_PRIORITY = ("escape", "A", "P", "s", "question_mark", "colon", "enter", "q",
                       "t", "T")
    VIEW_TITLE = "promotions"

    def __init__(self, window: str = "1h", **kwargs: object) -> None:
        super().__init__(window=window, **kwargs)
        self.sort = SORTS[0]
        self.rows: list[PromotionRow] = []
        self.store_approvals: Mapping[str, Sequence[AuditEntry]] | None = None
        self.store_state = "audit store not read yet"
        self._burn: FleetBurn | None = None
        self._approvals_for: tuple[tuple[str, str], ...] | None = None

    def compose_body(self) -> ComposeResult:
        table = PromotionTable(id="promo-table", classes="panel")
        table.border_title = "Canaries · gates as the guard judges them"
        yield table
        detail = Static(Text(""), id="promo-detail", classes="panel")
        detail.border_title = "Gates of the selected canary"
        yield detail

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(PromotionTable).focus()
        self.set_interval(APPROVALS_EVERY_S, self._read_approvals, name="promo-approvals")

    @property
    def console(self) -> PitboardApp:
        """The app, typed (its controllers and settings)."""
        return self.app

    # -- data in ------------------------------------------------------------------------
    @property
    def selected(self) -> str | None:
        """The selected row's service key (what ``A`` and ``P`` act on)."""
        table = self.query_one(PromotionTable)
        row = table.cursor_row
        return self.rows[row].key if 0 <= row < len(self.rows) else None

    def _burn_rule(self) -> FleetBurn:
        if self._burn is None:
            cfg = getattr(self.console.settings, "slo", None) or SloConfig()
            self._burn = fleet_burn(cfg)
        return self._burn

    def show(self, snapshot: FleetSnapshot) -> None:
        selected = self.selected
        runner = self.console.actions.runner
        rows = promotion_rows(snapshot, self.console.settings.actions,
                              promoter=self.console.actions.actor, approvals=self.store_approvals,
                              burn=self._burn_rule(),
                              policy=runner.approver_policy() if runner else ApproverPolicy())
        self.rows = sort_rows(rows, self.sort)
        keys = [r.key for r in self.rows]
        cursor = keys.index(selected) if selected in keys else 0
        self.query_one(PromotionTable).show(COLUMNS, [row_cells(r) for r in self.rows],
                                            cursor)
        self._show_title()
        self._show_detail()
        self.sync_action_keys()
        canaries = tuple((r.key, r.canary) for r in self.rows)
        if canaries != self._approvals_for:
            self._read_approvals()

    def _show_title(self) -> None:
        ready = sum(1 for r in self.rows if r.gate == "ready")
        blocked = sum(1 for r in self.rows if r.gate == "blocked")
        parts = [f"{len(self.rows)} canaries", f"{ready} ready", f"{blocked} blocked",
                 f"sort: {self.sort}", self.store_state]
        why = self.console.actions.read_only_reason()
        if why:
            parts.append(f"A/P off: {why}")
        self.set_title(*parts)

    def _show_detail(self) -> None:
        detail = self.query_one("#promo-detail", Static)
        table = self.query_one(PromotionTable)
        row = table.cursor_row
        if not 0 <= row < len(self.rows):
            update_text(detail, Text("no canary in any context: nothing waits for promotion",
                                     style="dim"))
            return
        text = Text(no_wrap=False)
        for i, (line, level) in enumerate(detail_lines(self.rows[row])):
            if i:
                text.append("\n")
            text.append_text(table.cell(line, level))
        update_text(detail, text)

    def _read_approvals(self) -> None:
        """Ask the audit store for the approvals of the canaries shown (thread)."""
        audit = getattr(self.console.backends, "audit", None) if self.console.backends else None
        if audit is None or self.snapshot is None:
            self.store_state = self.console.actions.audit_error or "no audit store"
            return
        canaries = tuple((r.key, r.canary) for r in self.rows)
        self._approvals_for = canaries
        runner = self.console.actions.runner
        self.request("approvals", lambda: read_store_approvals(audit, runner, canaries))

    def receive(self, tag: str, result: object, error: str | None) -> None:
        if tag != "approvals":
            return
        if error is not None:
            self.store_state = "audit store unreadable"
            self.notify_error("approvals", error)
            return
        assert isinstance(result, dict)
        count = sum(len(v) for v in result.values())
        state = f"audit: {count} approval{'s' if count != 1 else ''}"
        if result == self.store_approvals and state == self.store_state:
            return
        self.store_approvals, self.store_state = result, state
        if self.snapshot is not None:
            self.show(self.snapshot)

    # -- keys ---------------------------------------------------------------------------
    def action_cycle_sort(self) -> None:
        """Next sort: gate, model, context, approvals missing, age, burn."""
        self.sort = next_sort(self.sort)
        if self.snapshot is not None:
            self.show(self.snapshot)

    def action_open_model(self) -> None:
        """Open the model detail of the selected canary."""
        key = self.selected
        if key is not None:
            self.console.navigator.open_view("model", key=key)

    def _selected_model(self) -> ModelService | None:
        key, snap = self.selected, self.snapshot
        if key is None or snap is None:
            return None
        return next((s for s in snap.services if s.key == key), None)

    @on(DataTable.RowHighlighted, "#promo-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        self.sync_action_keys()

    @on(DataTable.RowSelected, "#promo-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_model()
