"""Model detail: health against the SLO, LLM figures, canary vs stable, GPUs, alerts, releases.

Charts (range queries for this one model only): p50/p95/p99 against the latency objective,
rps, error % against the availability objective, and for LLMs TTFT, tokens/s, queue and KV
cache. Releases and pitboard's own actions/notes (audit store) are ticks on the time axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from backends.domain.figures import figure_reasons
from backends.domain.health import assess, gpu_label, gpus_of
from backends.domain.models import FleetSnapshot, GpuDevice, ModelService, Revision, Series
from backends.domain.slo import BURN_WINDOWS_S, SloStatus
from backends.domain.slo_config import Objective, SloConfig
from console.controllers.action_keys import ActionKeysMixin, revision_binding
from console.screens.base import ViewScreen
from console.controllers.series import LLM_FIELDS, from_history, llm_series, slo_status
from widgets.render.cell_cache import CellCachedTable
from widgets.model_panels import (
    ReleaseRow, Tiles, alerts_text, audit_rows, figures_note, health_tiles, leg_rows, merge_rows,
    release_cells, revision_rows,
)
from widgets.badges import update_text
from widgets.series_chart import ChartPainter, DrawnChart, Marker, SeriesChart
from widgets.table_sync import sync_rows
from widgets.text import MISSING, fmt_num, safe
from widgets.titles import set_border_subtitle, set_border_title

CHARTS = (("md-lat", "latency ms"), ("md-rps", "requests/s"), ("md-err", "errors %"))
LLM_CHARTS = (("md-ttft", "TTFT p95 ms"), ("md-tok", "tokens/s"), ("md-kv", "KV cache % · queue"))
LLM_PLOTS = (("md-ttft", ("TTFT p95 ms",)), ("md-tok", ("tokens/s",)),
             ("md-kv", ("KV cache %", "queue")))
"""Each LLM chart and the series it plots."""

Plot = tuple[str, list[Series], float | None]
"""One chart's content: its id, the series it plots, its threshold."""


def error_limit(obj: Objective) -> float | None:
    """The error budget in % (the error chart's threshold), None without one."""
    return None if obj.availability is None else (1 - obj.availability) * 100


def main_plots(series: Sequence[Series], obj: Objective) -> list[Plot]:
    """What the latency, rps and error charts plot of the model's ``series``."""
    by = {s.name: s for s in series}
    return [("md-lat", [by[n] for n in ("p50 ms", "p95 ms", "p99 ms") if n in by],
             obj.latency_ms),
            ("md-rps", [by[n] for n in ("rps",) if n in by], None),
            ("md-err", [by[n] for n in ("error %",) if n in by], error_limit(obj))]


def llm_plots(series: Sequence[Series]) -> list[Plot]:
    """What the TTFT, tokens/s and KV cache charts plot of the model's LLM ``series``."""
    by = {s.name: s for s in series}
    return [(cid, [by[n] for n in names if n in by], None) for cid, names in LLM_PLOTS]


def draw_ahead(plots: list[Plot], painters: dict[str, ChartPainter], start: datetime,
               end: datetime, markers: Sequence[Marker]) -> dict[str, DrawnChart]:
    """The charts of ``plots`` drawn with their ``painters`` (in the worker that fetched
    them: the UI thread then only swaps the lines in); a chart without one is left to
    its widget."""
    return {cid: painters[cid].draw(series, start=start, end=end, threshold=threshold,
                                    markers=markers)
            for cid, series, threshold in plots if cid in painters}


def is_llm(service: ModelService | None, snapshot: FleetSnapshot | None) -> bool:
    """vLLM-like services (or any that report tokens/s)."""
    if service is None:
        return False
    if (service.runtime or "").lower() in ("vllm", "tgi", "llm"):
        return True
    h = snapshot.health_of(service) if snapshot else None
    return h is not None and h.tokens_per_s is not None


class ModelDetailScreen(ActionKeysMixin, ViewScreen):
    """Everything about one model; ``esc`` goes back. ``R`` / ``U`` roll it back: with its
    releases focused, to the highlighted revision."""

    DEFAULT_CSS = """
    ModelDetailScreen #md-body { height: 1fr; }
    ModelDetailScreen .row { height: 12; }
    ModelDetailScreen .row > .panel { width: 1fr; }
    ModelDetailScreen #md-llm { display: none; }
    ModelDetailScreen.-llm #md-llm { display: block; }
    ModelDetailScreen #md-tables { height: 9; }
    ModelDetailScreen DataTable.panel { height: 1fr; }
    ModelDetailScreen #md-why { height: auto; padding: 0 1; color: $text-muted; }
    ModelDetailScreen #md-alerts { height: auto; max-height: 12; padding: 0 1; }
    ModelDetailScreen #md-notes { height: auto; max-height: 12; padding: 0 1; }
    ModelDetailScreen #md-releases { height: 12; }
    ModelDetailScreen.-narrow .row { layout: vertical; height: auto; }
    ModelDetailScreen.-narrow .row > .panel { width: 1fr; height: 8; }
    ModelDetailScreen.-narrow #md-tables { height: auto; }
    ModelDetailScreen.-narrow #md-tables > DataTable { height: 7; }
    """
    BINDINGS = [revision_binding("rollback", "model"), revision_binding("rollback_to", "model")]
    FOOTER_PRIORITY = ("escape", "question_mark", "q", "colon", "enter", "R", "U", "t",
                       "slash", "s", "T", "space")
    VIEW_TITLE = "model"

    def __init__(self, window: str = "1h", key: str | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self.key, self.model_name = key, name
        self.slo: SloStatus | None = None
        self.audit: list = []
        self._legs_shown: tuple | None = None
        self._gpus_shown: tuple | None = None
        self._rel_shown: tuple | None = None
        self._rel_rows: tuple[ReleaseRow, ...] = ()
        self._service_found: tuple[tuple, ModelService | None] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="md-body"):
            yield Tiles(id="md-tiles")
            yield Static(Text(""), id="md-why")
            for row_id, charts in (("md-charts", CHARTS), ("md-llm", LLM_CHARTS)):
                with Horizontal(id=row_id, classes="row"):
                    for cid, title in charts:
                        with Vertical(id=f"{cid}-box", classes="panel") as box:
                            box.border_title = title
                            yield SeriesChart(id=cid)
            with Horizontal(id="md-tables", classes="row"):
                legs: DataTable[Text] = CellCachedTable(id="md-legs", classes="panel", cursor_type="row")
                legs.border_title = "Canary vs stable"
                yield legs
                gpus: DataTable[Text] = CellCachedTable(id="md-gpus", classes="panel", cursor_type="row")
                gpus.border_title = "Pods / GPUs"
                yield gpus
            notes = Static(Text(""), id="md-notes", classes="panel")
            notes.border_title = "How it was read"
            yield notes
            alerts = Static(Text(""), id="md-alerts", classes="panel")
            alerts.border_title = "Alerts"
            yield alerts
            releases: DataTable[Text] = CellCachedTable(id="md-releases", classes="panel", cursor_type="row")
            releases.border_title = "Releases · ◆ = pitboard"
            yield releases

    def on_mount(self) -> None:
        self.query_one("#md-legs", DataTable).add_columns(
            "leg", "revision", "version", "traffic", "rps", "errors", "p95", "TTFT")
        self.query_one("#md-gpus", DataTable).add_columns(
            "", "node", "gpu", "util", "mem", "temp", "XID", "pod")
        self.query_one("#md-releases", DataTable).add_columns(
            "when", "what", "version", "who", "why")
        super().on_mount()
        self.query_one("#md-body").focus()

    # -- data --------------------------------------------------------------------------------
    def service(self) -> ModelService | None:
        snap = self.snapshot
        if snap is None:
            return None
        # asked several times a refresh (title, keys, tables): a scan of 3,000 services
        # once per services tuple (snapshots share it while the cluster is unchanged)
        asked = (snap.services, self.key, self.model_name)
        found = self._service_found
        if found is not None and found[0][0] is asked[0] and found[0][1:] == asked[1:]:
            return found[1]
        svc = next((s for s in snap.services if s.key == self.key or
                    (self.key is None and s.name == self.model_name)), None)
        self._service_found = (asked, svc)
        return svc

    @property
    def selected(self) -> str | None:
        """The model's service key (what ``R`` / ``U`` act on)."""
        svc = self.service()
        return svc.key if svc is not None else None

    def picked_revision(self) -> Revision | str | None:
        """With the releases focused: the highlighted row's revision, or why it gives none;
        None otherwise (``R`` then rolls back to the previous revision, ``U`` asks)."""
        table = self.query_one("#md-releases", DataTable)
        if self.focused is not table:
            return None
        row = table.cursor_row
        picked = self._rel_rows[row] if 0 <= row < len(self._rel_rows) else None
        if picked is None:
            return "no release to pick"
        if picked.revision is None:
            return "the highlighted row is a pitboard record, not a revision: highlight a rev row"
        svc, snap = self.service(), self.snapshot
        revisions = snap.revisions.get(svc.key, ()) if svc is not None and snap else ()
        found = next((r for r in revisions if r.number == picked.revision), None)
        return found or f"revision {picked.revision} is no longer in the history"

    @on(DataTable.RowHighlighted, "#md-releases")
    def _release_highlighted(self) -> None:
        self.refresh_bindings()  # the footer's and help's R / U name the highlighted one

    def slo_config(self) -> SloConfig:
        return getattr(self.app.settings, "slo", None) or SloConfig()

    def show(self, snapshot: FleetSnapshot) -> None:
        svc = self.service()
        if svc is None:
            self.set_title(safe(self.model_name or self.key or MISSING, 60), "not in this snapshot")
            return
        self.model_name = svc.name
        llm = is_llm(svc, snapshot)
        self.set_class(llm, "-llm")
        obj = self.slo_config().objective_for(svc.name)
        ready = f"{fmt_num(svc.replicas_ready, '{:.0f}')}/{fmt_num(svc.replicas_desired, '{:.0f}')}"
        slo = []
        if obj.availability is not None:
            slo.append(f"SLO {obj.availability * 100:g}%")
        if obj.latency_ms is not None:
            slo.append(f"{obj.latency_quantile} ≤ {obj.latency_ms:g}ms")
        health = snapshot.health_of(svc)
        twin = snapshot.metrics_twin(svc) if health is None else None
        shared = () if twin is None else (
            f"no figures: metrics not told apart from {safe(twin.key, 60)}",)
        status = snapshot.status.get(svc.key) or assess(svc, snapshot, self.slo_config())
        said = status.reasons(2)
        self.set_title(safe(svc.name, 50), f"{status.status}" + (f": {safe(said, 120)}" if said
                                                                  else ""),
                       safe(svc.namespace, 30), svc.kind.value,
                       safe(svc.version, 20), f"ready {ready}", " ".join(slo) or "no SLO",
                       f"window {self.window}", *shared)
        self._show_tiles(health_tiles(health, llm, self._slo_dict(), obj.latency_ms),
                         svc, snapshot)
        self._show_legs(svc, snapshot)
        self._show_gpus(svc, snapshot)
        notes = self.query_one("#md-notes", Static)
        lines = ([f"unlabelled: read-only until adopted. Adopt it: {svc.adopt[0]}"] if svc.adopt
                 else []) + [f"  or: {a}" for a in svc.adopt[1:]] + list(svc.notes)
        update_text(notes, Text("\n".join(safe(line, 300) for line in lines)))
        notes.display = bool(lines)
        alerts = [a for a in snapshot.alerts if a.model == svc.name]
        box = self.query_one("#md-alerts", Static)
        update_text(box, alerts_text(alerts, max(20, self.size.width - 4)))
        set_border_subtitle(box, f"{len(alerts)} firing")
        self._show_releases(svc, snapshot)
        self._fetch(svc, llm)
        self.sync_action_keys()

    def _show_tiles(self, tiles: list, svc: ModelService, snapshot: FleetSnapshot) -> None:
        """The figure tiles, and under them the engine and profile they came from and
        why each "—" is so (also the tiles' tooltip)."""
        box = self.query_one(Tiles)
        box.show_tiles(tiles)
        note = figures_note(snapshot.health_of(svc), tiles, figure_reasons(snapshot, svc))
        why = self.query_one("#md-why", Static)
        update_text(why, Text(note))
        why.display = bool(note)
        if box.tooltip != (note or None):
            box.tooltip = note or None

    def _slo_dict(self) -> dict | None:
        if self.slo is None:
            return None
        return {"budget_left": self.slo.budget_left, "burn_1h": self.slo.burn_1h,
                "burn_6h": self.slo.burn_6h, "level": self.slo.level}

    def _show_legs(self, svc: ModelService, snapshot: FleetSnapshot) -> None:
        rows = leg_rows(svc, snapshot.revision_health_of(svc))
        table = self.query_one("#md-legs", DataTable)
        self._legs_shown = sync_rows(table, rows, self._legs_shown, _cell)
        canary = svc.canary
        set_border_subtitle(table, f"canary {canary.percent:.0f}%" if canary else
                            f"traffic {MISSING}: {safe(svc.traffic_note, 60)}"
                            if svc.traffic_note and not svc.traffic else "no canary")

    def _show_gpus(self, svc: ModelService, snapshot: FleetSnapshot) -> None:
        gpus = gpus_of(svc, snapshot.gpus)
        health = snapshot.status.get(svc.key) or assess(svc, snapshot, self.slo_config())
        # the GPUs behind a problem of this model (a current XID, heat, full memory)
        flagged = {p.target for p in health.problems if p.signal == "gpu" and p.target}
        rows = [row for g in gpus for row in gpu_rows(g, svc, gpu_label(g) in flagged)]
        table = self.query_one("#md-gpus", DataTable)
        self._gpus_shown = sync_rows(table, rows, self._gpus_shown, _cell)
        set_border_subtitle(table, f"{len(gpus)} GPUs" + (
            f" · {len(flagged)} with a problem" if flagged else ""))

    def _show_releases(self, svc: ModelService, snapshot: FleetSnapshot) -> None:
        rows = merge_rows(revision_rows(svc.name, snapshot.revisions.get(svc.key, ())),
                          audit_rows(svc.name, self.audit))
        key = tuple(rows)
        if key == self._rel_shown:
            return
        self._rel_shown = key
        table = self.query_one("#md-releases", DataTable)
        row = table.cursor_row
        before = self._rel_rows[row] if 0 <= row < len(self._rel_rows) else None
        self._rel_rows = key
        table.clear()
        for r in rows:
            style = "bold" if r.current or r.pitboard else ""
            table.add_row(*(Text(c, style=style, no_wrap=True, overflow="ellipsis")
                            for c in release_cells(r, with_model=False)))
        if before is not None and before.revision is not None:
            # the same revision stays highlighted (what R / U pick)
            row = next((i for i, r in enumerate(rows) if r.revision == before.revision), 0)
            table.move_cursor(row=row, animate=False)

    def _markers(self, svc: ModelService) -> list[Marker]:
        snap = self.snapshot
        out = [Marker(r.created, "▲", f"rev {r.number}")
               for r in (snap.revisions.get(svc.key, ()) if snap else ()) if r.created]
        out += [Marker(e.at, "◆", e.action or e.kind) for e in self.audit
                if e.kind in ("outcome", "approval", "note")]
        return out

    # -- range data ------------------------------------------------------------------------------
    def _painters(self, ids: Sequence[str]) -> dict[str, ChartPainter]:
        """The painters of the charts ``ids`` laid out (for a worker to draw them ahead)."""
        out = {}
        for cid in ids:
            painter = self.query_one(f"#{cid}", SeriesChart).painter()
            if painter is not None:
                out[cid] = painter
        return out

    def _fetch(self, svc: ModelService, llm: bool) -> None:
        app = self.app
        metrics = app.backends.metrics if app.backends else None
        key = (svc.name, self.window, app.navigator.replay_at)
        window_s, end = app.navigator.window_s(), app.navigator.view_at()
        start = end - timedelta(seconds=window_s)
        cfg, name = self.slo_config(), svc.name
        # the charts are drawn in the worker at their size and colours of now, with the
        # markers of now; one that no longer fits when the answer comes is drawn again
        due_chart = metrics is not None and self.due("chart", key)
        due_llm = metrics is not None and llm and self.due("llm", key)
        markers = self._markers(svc) if due_chart or due_llm else []
        if due_chart and metrics is not None:
            painters = self._painters([cid for cid, _ in CHARTS])

            def chart():
                series = metrics.chart(name, window_s, end, service=svc)
                recent = series if window_s >= BURN_WINDOWS_S[1] else None
                status, extra = slo_status(metrics, name, cfg, end, recent, service=svc)
                obj = status.objective if status else cfg.objective_for(name)
                return {"series": series, "slo": status, "end": end, "window_s": window_s,
                        "extra_points": extra,
                        "drawn": draw_ahead(main_plots(series, obj), painters, start, end,
                                            markers)}
            self.request("chart", chart)
        if due_llm and metrics is not None:
            services = (svc,)
            llm_painters = self._painters([cid for cid, _ in LLM_PLOTS])

            def llm_chart():
                series = llm_series(metrics, name, window_s, end, services)
                drawn = {} if series is None else draw_ahead(llm_plots(series), llm_painters,
                                                              start, end, markers)
                return end, window_s, series, drawn
            self.request("llm", llm_chart)
        audit = getattr(app.backends, "audit", None) if app.backends else None
        if audit is not None and self.due("audit", svc.key):
            target = svc.key
            self.request("audit", lambda: tuple(audit.entries(target=target, limit=200)))

    def receive(self, tag: str, result, error: str | None) -> None:
        svc = self.service()
        if error is not None:
            self.notify_error(tag, error)
            return
        if svc is None:
            return
        if tag == "chart":
            self.app.navigator.view_points["slo"] += result["extra_points"]
            status: SloStatus = result["slo"]
            self.slo = status
            self._draw_main(svc, result["series"], result["end"], result["window_s"],
                            result["drawn"])
            if self.snapshot is not None:
                self._show_tiles(health_tiles(
                    self.snapshot.health_of(svc), is_llm(svc, self.snapshot),
                    self._slo_dict(), status.objective.latency_ms), svc, self.snapshot)
        elif tag == "llm":
            end, window_s, series, drawn = result
            start = end - timedelta(seconds=window_s)
            if series is None:
                series = from_history(self.app.navigator.history.models.get(svc.name, ()),
                                      [n for n, _ in LLM_FIELDS], start)
            markers = self._markers(svc)
            for cid, plotted, _ in llm_plots(series):
                self.query_one(f"#{cid}", SeriesChart).show(
                    plotted, start=start, end=end, markers=markers, drawn=drawn.get(cid))
        elif tag == "audit":
            self.audit = list(result)
            if self.snapshot is not None:
                self._show_releases(svc, self.snapshot)

    def _draw_main(self, svc: ModelService, series, end, window_s: int,
                   drawn: dict[str, DrawnChart]) -> None:
        start = end - timedelta(seconds=window_s)
        obj = self.slo.objective if self.slo else self.slo_config().objective_for(svc.name)
        markers = self._markers(svc)
        for cid, plotted, threshold in main_plots(series, obj):
            self.query_one(f"#{cid}", SeriesChart).show(
                plotted, start=start, end=end, threshold=threshold, markers=markers,
                drawn=drawn.get(cid))
        err_limit = error_limit(obj)
        # (set only when it changed: an assignment repaints the box and its chart)
        if obj.latency_ms is not None:
            set_border_title(self.query_one("#md-lat-box"), Text(
                f"latency ms · {obj.latency_quantile} SLO {obj.latency_ms:g}"))
        if err_limit is not None:
            set_border_title(self.query_one("#md-err-box"),
                             Text(f"errors % · budget {err_limit:.2g}%"))

    def on_window(self) -> None:
        self.forget()
        if self.snapshot is not None:
            self.show(self.snapshot)


PROBLEM_MARK = "▶"
"""Marks the GPU behind a problem of the model (its row is shown bold and reversed)."""


def xid_text(g: GpuDevice) -> str:
    """The last XID: ``79 new`` while current, ``48 old 21:04`` (when it appeared, UTC)
    once it has cleared, else —."""
    if g.last_xid is None:
        return MISSING
    if g.xid_current:
        return f"{g.last_xid} new"
    return f"{g.last_xid} old" + (f" {g.xid_at:%H:%M}" if g.xid_at is not None else "")


def gpu_rows(g: GpuDevice, svc: ModelService, flagged: bool) -> list[tuple[str, ...]]:
    """The model's lines for one GPU: the GPU itself (temperature and XID are the GPU's),
    then each share of it this model holds (a MIG instance: its profile and id, its own
    utilisation and memory; a time-sliced pod), indented under it."""
    mine = [sl for sl in g.slices if sl.model == svc.name
            and (sl.namespace is None or sl.namespace == svc.namespace)]
    pod = (("MIG" if g.mig else "shared") + f" ×{len(g.slices)}") if g.slices else (g.pod or "")
    rows: list[tuple[str, ...]] = [(
             PROBLEM_MARK if flagged else "", safe(g.node, 24, middle=True), str(g.index),
             fmt_num(g.util_percent, "{:.0f}", "%"), fmt_num(g.memory_percent, "{:.0f}", "%"),
             fmt_num(g.temperature_c, "{:.0f}", "°C"), xid_text(g),
             safe(pod, 40, middle=True))]
    for sl in mine:
        # a time-sliced pod has no utilisation of its own (dcgm copies the GPU's)
        util = fmt_num(sl.util_percent, "{:.0f}", "%") if sl.mig_profile else MISSING
        rows.append(("", f" └ {sl.label}", "", util, fmt_num(sl.memory_percent, "{:.0f}", "%"),
                     "", "", safe(sl.pod or "", 40, middle=True)))
    return rows


def _cell(text: str) -> Text:
    """A table cell: literal text on one line, cut with an ellipsis; the problem mark and
    a current XID stand out (bold, reversed: no colour needed to see them)."""
    style = "bold reverse" if text == PROBLEM_MARK or text.endswith(" new") else ""
    return Text(text, no_wrap=True, overflow="ellipsis", style=style)
