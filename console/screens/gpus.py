"""GPU view: every GPU per node with nvitop-like bars, owner, last XID and idle cost.

``s`` cycles the sort (node, util, memory, temp, power, cost, idle first), ``/`` filters
(words match node/model/pod/GPU model/UUID; ``idle``, ``xid``, ``hot``, ``free`` select by
state), ``enter`` charts the selected GPU over the window.
"""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input

from backends.domain.models import FleetSnapshot, GpuDevice, GpuScope
from console.controllers.contexts import told_summary
from console.screens.base import ViewScreen
from console.controllers.series import GPU_FIELDS, from_history, gpu_series
from widgets.bars import power_limits
from widgets.gpu_table import (SORTS, GpuTable, filter_gpus, gpu_key, gpu_owner, is_idle,
                               sort_gpus)
from widgets.series_chart import SeriesChart
from widgets.text import fmt_money, safe
from widgets.titles import set_border_subtitle, set_border_title


STATE_WORDS = ("idle", "xid", "hot", "free")
"""Filter words selecting GPUs by state (``filter_gpus``), read on the server too."""
PAGE_ROWS = 100
"""GPU rows read for this view on a scoped fleet (one query per figure)."""


def idle_summary(gpus, idle_util: float) -> tuple[int, float | None]:
    """(idle-but-allocated GPU count, their $/h; None when no price is known)."""
    idle = [g for g in gpus if is_idle(g, idle_util)]
    prices = [g.hourly_cost for g in idle if g.hourly_cost is not None]
    return len(idle), (sum(prices) if prices else None)


class GpuScreen(ViewScreen):
    """Every GPU, sortable and filterable; a chart of the selected one on ``enter``."""

    DEFAULT_CSS = """
    GpuScreen #gpu-table { height: 1fr; }
    GpuScreen #gpu-charts { height: 12; display: none; }
    GpuScreen.-chart #gpu-charts { display: block; }
    GpuScreen #gpu-load-box { width: 2fr; }
    GpuScreen #gpu-power-box { width: 1fr; }
    GpuScreen.-narrow #gpu-charts { height: 9; }
    GpuScreen.-narrow #gpu-power-box { display: none; }
    """
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", id="gpu_sort", tooltip=" → ".join(SORTS)),
        Binding("slash", "filter", "Filter", id="gpu_filter",
                tooltip="words, or: idle xid hot free"),
    ]
    VIEW_TITLE = "GPUs"

    def __init__(self, window: str = "1h", idle_util: float | None = None, **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self.sort = "node"
        self.filter_text = ""
        self.idle_util = idle_util
        self.charted: str | None = None
        self._shown_key: tuple | None = None

    def compose_body(self) -> ComposeResult:
        idle = self._idle_util()
        table = GpuTable(idle_util=idle, id="gpu-table", classes="panel")
        table.border_title = "GPUs"
        yield table
        with Horizontal(id="gpu-charts"):
            with Vertical(id="gpu-load-box", classes="panel") as box:
                box.border_title = "util % · mem % · temp C"
                yield SeriesChart(id="gpu-load")
            with Vertical(id="gpu-power-box", classes="panel") as box:
                box.border_title = "power W"
                yield SeriesChart(id="gpu-power")
        yield Input(placeholder="filter GPUs… (idle xid hot free)", id="gpu-filter",
                    classes="prompt")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#gpu-filter", Input).cursor_blink = False
        self.query_one(GpuTable).focus()
        self._repoll()

    def _idle_util(self) -> float:
        if self.idle_util is not None:
            return self.idle_util
        prom = getattr(self.app.settings, "prometheus", None)
        return getattr(prom, "idle_util_percent", 10.0)

    # -- data --------------------------------------------------------------------------------
    def gpu_scope(self) -> GpuScope:
        """The page a metrics read gives rows for while this view is on (a fleet past
        ``GPU_ROWS_MAX`` GPUs): this sort, this filter (state words and the rest)."""
        words = self.filter_text.lower().split()
        state = next((w for w in words if w in STATE_WORDS), None)
        text = " ".join(w for w in words if w not in STATE_WORDS) or None
        return GpuScope(sort=self.sort if self.sort in SORTS else "util", limit=PAGE_ROWS,
                        state=state, text=text)

    def _repoll(self) -> None:
        """A scoped fleet: read the page of the new sort or filter now."""
        self.app.poller.rescope()

    def show(self, snapshot: FleetSnapshot) -> None:
        key = (id(snapshot.gpus), self.sort, self.filter_text)
        table = self.query_one(GpuTable)
        idle_util = table.idle_util
        if key != self._shown_key:
            self._shown_key = key
            gpus = sort_gpus(filter_gpus(snapshot.gpus, self.filter_text, idle_util), self.sort,
                             idle_util)
            table.show_gpus(gpus, power_limits(snapshot.gpus))
        told = told_summary(self.app, snapshot)
        if told is not None:  # a page of a large fleet
            summary, scope = told
            total, nodes = summary.gpus, summary.nodes
            count = summary.idle_allocated or 0
            cost = snapshot.cost.idle_hourly
            of = summary.matching if summary.matching is not None else total
            more = f" of {of}" if of > len(table.gpus) else ""
            set_border_title(table, Text(f"GPUs {len(table.gpus)}{more} · top by "
                                         f"{scope.sort}"))
        else:
            total, nodes = len(snapshot.gpus), len({g.node for g in snapshot.gpus})
            count, cost = idle_summary(snapshot.gpus, idle_util)
            set_border_title(table, Text(f"GPUs {len(table.gpus)}/{len(snapshot.gpus)}"))
        set_border_subtitle(table, Text(f"sort: {self.sort}" + (
            f" · /{safe(self.filter_text, 20)}" if self.filter_text else "")))
        idle = (f"{count} idle-allocated {fmt_money(cost)}/h" if count
                else "no idle-allocated GPU")
        on = f" on {nodes} nodes" if nodes is not None else ""
        self.set_title(f"{total} GPUs{on}", idle, f"window {self.window}")
        self._maybe_chart()

    def _gpu(self, key: str) -> GpuDevice | None:
        if self.snapshot is None:
            return None
        return next((g for g in self.snapshot.gpus if gpu_key(g) == key), None)

    def _maybe_chart(self, force: bool = False) -> None:
        if force:
            self.forget("gpu")
        if self.charted is not None and self.due("gpu", (self.charted, self.window,
                                                         self.app.navigator.replay_at)):
            self._request_chart()

    def _request_chart(self) -> None:
        gpu = self._gpu(self.charted) if self.charted else None
        metrics = self.app.backends.metrics if self.app.backends else None
        if gpu is None or metrics is None:
            return
        window_s, end = self.app.navigator.window_s(), self.app.navigator.view_at()
        self.request("gpu", lambda: (gpu, window_s, end, gpu_series(metrics, gpu, window_s, end)))

    def receive(self, tag: str, result, error: str | None) -> None:
        if tag != "gpu":
            return
        if error is not None:
            self.notify_error("GPU chart", error)
            return
        gpu, window_s, end, series = result
        start = end - timedelta(seconds=window_s)
        if series is None:  # no range data from this backend: what this session saw
            rows = self.app.navigator.history.gpus.get(gpu_key(gpu), ())
            series = from_history(rows, [n for n, _ in GPU_FIELDS], start)
        load = [s for s in series if s.name != "power W"]
        power = [s for s in series if s.name == "power W"]
        self.query_one("#gpu-load", SeriesChart).show(load, start=start, end=end)
        self.query_one("#gpu-power", SeriesChart).show(power, start=start, end=end)
        owner = gpu_owner(gpu, False)
        set_border_title(self.query_one("#gpu-load-box"), Text(
            f"{safe(gpu.node, 30)} GPU {gpu.index} · {safe(owner, 30)} · {self.window}"))

    def on_window(self) -> None:
        self._maybe_chart(force=True)

    # -- intents -------------------------------------------------------------------------------
    @on(GpuTable.Chosen)
    def _chosen(self, event: GpuTable.Chosen) -> None:
        event.stop()
        if self.charted == event.key and self.has_class("-chart"):
            self.charted = None
            self.remove_class("-chart")
            return
        self.charted = event.key
        self.add_class("-chart")
        self._maybe_chart(force=True)

    @on(GpuTable.Highlighted)
    def _highlighted(self, event: GpuTable.Highlighted) -> None:
        if isinstance(event, GpuTable.Chosen):
            return
        if self.charted is not None and self.charted != event.key:
            self.charted = event.key
            self._maybe_chart(force=True)

    def action_cycle_sort(self) -> None:
        """Next sort order."""
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        if self.snapshot is not None:
            self.show(self.snapshot)
        self._repoll()

    def action_filter(self) -> None:
        """Show the filter prompt."""
        prompt = self.query_one("#gpu-filter", Input)
        prompt.add_class("-on")
        self.set_focus(prompt)  # at once: the keys typed after it go to the prompt

    @on(Input.Changed, "#gpu-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        if self.snapshot is not None:
            self.show(self.snapshot)

    @on(Input.Submitted, "#gpu-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("-on")
        self.query_one(GpuTable).focus()
        self._repoll()  # the page of the filter (as typed: on enter, not every key)

    def action_back(self) -> None:
        """Close a prompt, then the chart, then clear the filter, then leave."""
        prompt = self.query_one("#gpu-filter", Input)
        if prompt.has_class("-on"):
            prompt.remove_class("-on")
            self.query_one(GpuTable).focus()
            return
        if self.has_class("-chart") and self.app.navigator.replay_at is None:
            self.charted = None
            self.remove_class("-chart")
            return
        super().action_back()
