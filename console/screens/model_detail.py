"""Model detail: health against the SLO, LLM figures, canary vs stable, GPUs, alerts, releases.

Charts (range queries for this one model only): p50/p95/p99 against the latency objective,
rps, error % against the availability objective, and for LLMs TTFT, tokens/s, queue and KV
cache. Releases and pitboard's own actions/notes (audit store) are ticks on the time axis.
"""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from backends.domain.health import assess, gpu_label, gpus_of
from backends.domain.models import FleetSnapshot, GpuDevice, ModelService
from backends.domain.slo import BURN_WINDOWS_S, SloStatus
from backends.domain.slo_config import SloConfig
from console.screens.base import ViewScreen
from console.controllers.series import LLM_FIELDS, from_history, llm_series, slo_status
from widgets.render.cell_cache import CellCachedTable
from widgets.model_panels import (
    Tiles, alerts_text, audit_rows, health_tiles, leg_rows, merge_rows, release_cells,
    revision_rows,
)
from widgets.badges import update_text
from widgets.series_chart import Marker, SeriesChart
from widgets.table_sync import sync_rows
from widgets.text import MISSING, fmt_num, safe
from widgets.titles import set_border_subtitle

CHARTS = (("md-lat", "latency ms"), ("md-rps", "requests/s"), ("md-err", "errors %"))
LLM_CHARTS = (("md-ttft", "TTFT p95 ms"), ("md-tok", "tokens/s"), ("md-kv", "KV cache % · queue"))


def is_llm(service: ModelService | None, snapshot: FleetSnapshot | None) -> bool:
    """vLLM-like services (or any that report tokens/s)."""
    if service is None:
        return False
    if (service.runtime or "").lower() in ("vllm", "tgi", "llm"):
        return True
    h = snapshot.health_of(service) if snapshot else None
    return h is not None and h.tokens_per_s is not None


class ModelDetailScreen(ViewScreen):
    """Everything about one model; ``esc`` goes back."""

    DEFAULT_CSS = """
    ModelDetailScreen #md-body { height: 1fr; }
    ModelDetailScreen .row { height: 12; }
    ModelDetailScreen .row > .panel { width: 1fr; }
    ModelDetailScreen #md-llm { display: none; }
    ModelDetailScreen.-llm #md-llm { display: block; }
    ModelDetailScreen #md-tables { height: 9; }
    ModelDetailScreen DataTable.panel { height: 1fr; }
    ModelDetailScreen #md-alerts { height: auto; max-height: 12; padding: 0 1; }
    ModelDetailScreen #md-releases { height: 12; }
    ModelDetailScreen.-narrow .row { layout: vertical; height: auto; }
    ModelDetailScreen.-narrow .row > .panel { width: 1fr; height: 8; }
    ModelDetailScreen.-narrow #md-tables > DataTable { height: 7; }
    """
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

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="md-body"):
            yield Tiles(id="md-tiles")
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
        return next((s for s in snap.services if s.key == self.key or
                     (self.key is None and s.name == self.model_name)), None)

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
        self.query_one(Tiles).show_tiles(health_tiles(
            health, llm, self._slo_dict(), obj.latency_ms))
        self._show_legs(svc, snapshot)
        self._show_gpus(svc, snapshot)
        alerts = [a for a in snapshot.alerts if a.model == svc.name]
        box = self.query_one("#md-alerts", Static)
        update_text(box, alerts_text(alerts, max(20, self.size.width - 4)))
        set_border_subtitle(box, f"{len(alerts)} firing")
        self._show_releases(svc, snapshot)
        self._fetch(svc, llm)

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
        set_border_subtitle(table, f"canary {canary.percent:.0f}%" if canary else "no canary")

    def _show_gpus(self, svc: ModelService, snapshot: FleetSnapshot) -> None:
        gpus = gpus_of(svc, snapshot.gpus)
        health = snapshot.status.get(svc.key) or assess(svc, snapshot, self.slo_config())
        # the GPUs behind a problem of this model (a current XID, heat, full memory)
        flagged = {p.target for p in health.problems if p.signal == "gpu" and p.target}
        rows = [(PROBLEM_MARK if gpu_label(g) in flagged else "", safe(g.node, 24, middle=True),
                 str(g.index), fmt_num(g.util_percent, "{:.0f}", "%"),
                 fmt_num(g.memory_percent, "{:.0f}", "%"),
                 fmt_num(g.temperature_c, "{:.0f}", "°C"), xid_text(g),
                 safe(g.pod, 40, middle=True)) for g in gpus]
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
        table.clear()
        for r in rows:
            style = "bold" if r.current or r.pitboard else ""
            table.add_row(*(Text(c, style=style, no_wrap=True, overflow="ellipsis")
                            for c in release_cells(r, with_model=False)))

    def _markers(self, svc: ModelService) -> list[Marker]:
        snap = self.snapshot
        out = [Marker(r.created, "▲", f"rev {r.number}")
               for r in (snap.revisions.get(svc.key, ()) if snap else ()) if r.created]
        out += [Marker(e.at, "◆", e.action or e.kind) for e in self.audit
                if e.kind in ("outcome", "approval", "note")]
        return out

    # -- range data ------------------------------------------------------------------------------
    def _fetch(self, svc: ModelService, llm: bool) -> None:
        app = self.app
        metrics = app.backends.metrics if app.backends else None
        key = (svc.name, self.window, app.navigator.replay_at)
        window_s, end = app.navigator.window_s(), app.navigator.view_at()
        cfg, name = self.slo_config(), svc.name
        if metrics is not None and self.due("chart", key):
            def chart():
                series = metrics.chart(name, window_s, end, service=svc)
                recent = series if window_s >= BURN_WINDOWS_S[1] else None
                status, extra = slo_status(metrics, name, cfg, end, recent, service=svc)
                return {"series": series, "slo": status, "end": end, "window_s": window_s,
                        "extra_points": extra}
            self.request("chart", chart)
        if metrics is not None and llm and self.due("llm", key):
            services = (svc,)
            self.request("llm", lambda: (end, window_s,
                                         llm_series(metrics, name, window_s, end, services)))
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
            self._draw_main(svc, result["series"], result["end"], result["window_s"])
            if self.snapshot is not None:
                self.query_one(Tiles).show_tiles(health_tiles(
                    self.snapshot.health_of(svc), is_llm(svc, self.snapshot),
                    self._slo_dict(), status.objective.latency_ms))
        elif tag == "llm":
            end, window_s, series = result
            start = end - timedelta(seconds=window_s)
            if series is None:
                series = from_history(self.app.navigator.history.models.get(svc.name, ()),
                                      [n for n, _ in LLM_FIELDS], start)
            by = {s.name: s for s in series}
            markers = self._markers(svc)
            for cid, names in (("md-ttft", ("TTFT p95 ms",)), ("md-tok", ("tokens/s",)),
                               ("md-kv", ("KV cache %", "queue"))):
                self.query_one(f"#{cid}", SeriesChart).show(
                    [by[n] for n in names if n in by], start=start, end=end, markers=markers)
        elif tag == "audit":
            self.audit = list(result)
            if self.snapshot is not None:
                self._show_releases(svc, self.snapshot)

    def _draw_main(self, svc: ModelService, series, end, window_s: int) -> None:
        by = {s.name: s for s in series}
        start = end - timedelta(seconds=window_s)
        obj = self.slo.objective if self.slo else self.slo_config().objective_for(svc.name)
        markers = self._markers(svc)
        err_limit = None if obj.availability is None else (1 - obj.availability) * 100
        self.query_one("#md-lat", SeriesChart).show(
            [by[n] for n in ("p50 ms", "p95 ms", "p99 ms") if n in by], start=start, end=end,
            threshold=obj.latency_ms, markers=markers)
        self.query_one("#md-rps", SeriesChart).show(
            [by[n] for n in ("rps",) if n in by], start=start, end=end, markers=markers)
        self.query_one("#md-err", SeriesChart).show(
            [by[n] for n in ("error %",) if n in by], start=start, end=end,
            threshold=err_limit, markers=markers)
        if obj.latency_ms is not None:
            self.query_one("#md-lat-box").border_title = Text(
                f"latency ms · {obj.latency_quantile} SLO {obj.latency_ms:g}")
        if err_limit is not None:
            self.query_one("#md-err-box").border_title = Text(f"errors % · budget {err_limit:.2g}%")

    def on_window(self) -> None:
        self.forget()
        if self.snapshot is not None:
            self.show(self.snapshot)


PROBLEM_MARK = "▶"
"""Marks the GPU behind a problem of the model (its row is shown bold and reversed)."""


def xid_text(g: GpuDevice) -> str:
    """The last XID: ``79 new`` while current, ``48 old`` once it has cleared, else —."""
    if g.last_xid is None:
        return MISSING
    return f"{g.last_xid} {'new' if g.xid_current else 'old'}"


def _cell(text: str) -> Text:
    """A table cell: literal text on one line, cut with an ellipsis; the problem mark and
    a current XID stand out (bold, reversed: no colour needed to see them)."""
    style = "bold reverse" if text == PROBLEM_MARK or text.endswith(" new") else ""
    return Text(text, no_wrap=True, overflow="ellipsis", style=style)
