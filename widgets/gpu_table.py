"""Every GPU, one line each, with nvitop-like bars; cursor, sort and filter helpers.

Line API (:class:`ScrollView` + ``render_line``): only visible lines are rendered, so
2,000 GPUs cost what 40 do. Data in via :meth:`GpuTable.show_gpus`; intents out via
:class:`GpuTable.Highlighted` / :class:`GpuTable.Chosen`. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backends.domain.models import GpuDevice, GpuSlice
from widgets.bars import level_for, meter, power_limits, power_percent, temp_percent
from widgets.gpu_plan import gpu_key
from widgets.repaint import ComponentStyles, PrestyledLines, fitted_width
from widgets.series_chart import finite
from widgets.text import fmt_money, safe

__all__ = ["GpuTable", "SORTS", "filter_gpus", "gpu_key", "gpu_owner", "is_idle", "share_owner",
           "sort_gpus", "table_rows"]

SORTS = ("node", "util", "memory", "temp", "power", "cost", "idle")
DEFAULT_IDLE_UTIL = 10.0


def is_idle(g: GpuDevice, idle_util: float = DEFAULT_IDLE_UTIL) -> bool:
    """Allocated to a pod but (nearly) unused: the costly kind of idle."""
    u = finite(g.util_percent)
    return g.allocated and u is not None and u < idle_util


def _num(v: float | None, missing: float = -1.0) -> float:
    f = finite(v)
    return missing if f is None else f


def sort_gpus(gpus: Sequence[GpuDevice], key: str, idle_util: float = DEFAULT_IDLE_UTIL
              ) -> list[GpuDevice]:
    """``gpus`` ordered by ``key`` (node order, or the figure, highest first)."""
    if key == "node":
        return sorted(gpus, key=lambda g: (g.node, g.index))
    if key == "idle":
        return sorted(gpus, key=lambda g: (not is_idle(g, idle_util), -_num(g.hourly_cost),
                                           g.node, g.index))
    field = {"util": lambda g: g.util_percent, "memory": lambda g: g.memory_percent,
             "temp": lambda g: g.temperature_c, "power": lambda g: g.power_watts,
             "cost": lambda g: g.hourly_cost}[key]
    return sorted(gpus, key=lambda g: (-_num(field(g)), g.node, g.index))


def filter_gpus(gpus: Sequence[GpuDevice], text: str, idle_util: float = DEFAULT_IDLE_UTIL
                ) -> list[GpuDevice]:
    """GPUs matching every word of ``text`` (node, model, pod, GPU model, UUID), where the
    words ``idle``, ``xid``, ``hot`` and ``free`` select by state."""
    words = text.lower().split()
    if not words:
        return list(gpus)
    out = []
    for g in gpus:
        hay = " ".join(str(x) for x in (g.node, g.model, g.pod, g.model_name, g.uuid,
                                        g.namespace, *(y for sl in g.slices for y in (
                                            sl.pod, sl.model, sl.mig_profile))) if x).lower()
        ok = True
        for w in words:
            if w == "idle":
                ok = is_idle(g, idle_util)
            elif w == "xid":
                ok = g.last_xid is not None and g.xid_current
            elif w == "hot":
                ok = (finite(g.temperature_c) or 0.0) >= 80.0
            elif w == "free":
                ok = not g.allocated
            else:
                ok = w in hay
            if not ok:
                break
        if ok:
            out.append(g)
    return out


def table_rows(gpus: Sequence[GpuDevice]) -> list[tuple[GpuDevice, GpuSlice | None]]:
    """Each GPU's line, then one line per share of it (MIG instance, time-sliced pod)."""
    return [(g, sl) for g in gpus for sl in (None, *g.slices)]


def share_owner(sl: GpuSlice) -> str:
    """Who holds a share: its model and pod, or "free"."""
    if sl.model and sl.pod:
        return f"{sl.model} · {sl.pod}"
    return sl.model or sl.pod or "free"


def gpu_owner(g: GpuDevice, wide: bool) -> str:
    """The owner cell of a GPU's own line (a shared GPU names how it is shared)."""
    if g.slices:
        held = sum(1 for sl in g.slices if sl.pod)
        return (f"MIG {len(g.slices)} instances, {held} held" if g.mig
                else f"time-sliced by {len(g.slices)} pods")
    owner = g.model or (g.pod if g.pod else "free")
    if g.pod and g.model and wide:
        owner = f"{g.model} · {g.pod}"
    if g.last_xid is not None and not g.xid_current and g.xid_at is not None:
        owner += f" · XID {g.last_xid} at {g.xid_at:%H:%M}, cleared"  # history, not red
    return owner


class GpuTable(PrestyledLines, ComponentStyles, ScrollView, can_focus=True):
    """One line per GPU: node/index, util, memory, temperature, power bars, XID, owner, idle $;
    a MIG or time-sliced GPU's shares each on an indented line under it."""

    DEFAULT_CSS = """
    GpuTable { height: 1fr; }
    GpuTable > .gpu-table--header { color: $text-muted; text-style: bold; }
    GpuTable > .gpu-table--cursor { background: $boost; text-style: bold; }
    GpuTable > .gpu-table--idle { color: $warning; text-style: bold; }
    GpuTable > .gpu-table--ok { color: $success; }
    GpuTable > .gpu-table--warn { color: $warning; }
    GpuTable > .gpu-table--bad { color: $error; text-style: bold; }
    GpuTable > .gpu-table--info { color: $accent; }
    GpuTable > .gpu-table--unknown { color: $text-muted; }
    GpuTable > .gpu-table--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"gpu-table--header", "gpu-table--cursor", "gpu-table--idle",
                         "gpu-table--dim", "gpu-table--ok", "gpu-table--warn",
                         "gpu-table--bad", "gpu-table--info", "gpu-table--unknown"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
        Binding("enter", "choose", "Chart", id="gpu_chart", tooltip="Chart the selected GPU"),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    class Highlighted(Message):
        """The cursor moved to GPU ``key``."""

        def __init__(self, table: GpuTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> GpuTable:
            return self.table

    class Chosen(Highlighted):
        """``enter`` on GPU ``key``."""

    COMPONENT_PREFIX = "gpu-table"

    def __init__(self, idle_util: float = DEFAULT_IDLE_UTIL, **kwargs) -> None:
        super().__init__(**kwargs)
        self.idle_util = idle_util
        self._gpus: list[GpuDevice] = []
        self._rows: list[tuple[GpuDevice, GpuSlice | None]] = []
        self._limits: dict[str | None, float] = {}
        # strips keyed by what they show (the GPU's figures, width, cursor): a GPU whose
        # figures did not change is not drawn again; styles cached per theme
        self._cache: dict[tuple, Strip] = {}
        self._styles: dict[str, Style] = {}

    @property
    def gpus(self) -> list[GpuDevice]:
        return self._gpus

    @property
    def selected(self) -> GpuDevice | None:
        return self._rows[self.cursor][0] if 0 <= self.cursor < len(self._rows) else None

    def show_gpus(self, gpus: Sequence[GpuDevice], limits: dict[str | None, float] | None = None
                  ) -> None:
        """Display ``gpus`` in this order; the cursor stays on the same GPU when it can."""
        keep = gpu_key(self.selected) if self.selected is not None else None
        old = self._rows[self.cursor][1] if 0 <= self.cursor < len(self._rows) else None
        self._gpus = list(gpus)
        self._rows = table_rows(self._gpus)
        limits = limits if limits is not None else power_limits(self._gpus)
        if limits != self._limits or len(self._cache) > 4 * max(64, len(self._rows)):
            self._cache.clear()
        self._limits = limits
        self.virtual_size = Size(fitted_width(self), len(self._rows) + 1)
        index = next((i for i, (g, sl) in enumerate(self._rows)
                      if gpu_key(g) == keep and sl == old), None)
        if index is None:
            index = next((i for i, (g, _) in enumerate(self._rows) if gpu_key(g) == keep), 0)
        self.set_reactive(GpuTable.cursor, min(index, max(0, len(self._rows) - 1)))
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        if self._rows:
            self.cursor = max(0, min(len(self._rows) - 1, self.cursor + delta))

    def action_choose(self) -> None:
        if self.selected is not None:
            self.post_message(self.Chosen(self, gpu_key(self.selected)))

    def watch_cursor(self, old: int, new: int) -> None:
        top, rows = self.scroll_offset.y, max(1, self.scrollable_content_region.height - 1)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + rows:
            self.scroll_to(y=new - rows + 1, animate=False)
        self.refresh()
        if self.selected is not None:
            self.post_message(self.Highlighted(self, gpu_key(self.selected)))

    def on_resize(self) -> None:
        self.virtual_size = Size(fitted_width(self), len(self._rows) + 1)

    def on_click(self, event) -> None:
        row = event.y + self.scroll_offset.y - 1
        if 0 <= row < len(self._rows):
            self.cursor = row

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._style("base")
        if y == 0:
            key: tuple = ("header", width)
            strip = self._cache.get(key)
            if strip is None:
                strip = self._cache[key] = Strip(
                    [Segment(self._header(width), self._style("header"))]).crop_extend(
                        0, width, base)
            return strip
        index = y - 1 + self.scroll_offset.y
        if index >= len(self._rows):
            return Strip.blank(width, base)
        g, sl = self._rows[index]
        key = (g, sl, width, index == self.cursor)
        strip = self._cache.get(key)
        if strip is None:
            segs = self._gpu_line(g, width) if sl is None else self._share_line(sl, width)
            strip = Strip(segs).crop_extend(0, width, base)
            if index == self.cursor:
                strip = strip.apply_style(self._style("cursor"))
            self._cache[key] = strip
        return strip

    @staticmethod
    def _widths(width: int) -> tuple[int, int, bool]:
        """(name cells, bar cells, show temp/power bars) for a line ``width`` wide."""
        if width >= 150:
            return 24, 12, True
        if width >= 110:
            return 20, 8, True
        return max(8, min(16, width - 58)), 5, False

    def _header(self, width: int) -> str:
        name_w, bar_w, full = self._widths(width)
        cols = [f"{'NODE':<{name_w}} GPU", f"{'UTIL':<{bar_w + 5}}", f"{'MEM':<{bar_w + 5}}"]
        if full:
            cols += [f"{'TEMP':<{bar_w + 5}}", f"{'POWER':<{bar_w + 6}}"]
        else:
            cols += ["TEMP", " POWER"]
        cols += ["XID ", "MODEL / POD"]
        return " ".join(cols)

    def _gpu_line(self, g: GpuDevice, width: int) -> list[Segment]:
        name_w, bar_w, full = self._widths(width)
        dim = self._style("dim")
        idle = is_idle(g, self.idle_util)
        util, mem = finite(g.util_percent), g.memory_percent
        temp, power = finite(g.temperature_c), finite(g.power_watts)
        segs = [Segment(f"{safe(g.node, name_w):<{name_w}} {g.index:>3} ", dim),
                Segment(meter(util, bar_w), self._style(level_for("util", util).value)),
                Segment(" n/a " if util is None else f"{util:>3.0f}% "),
                Segment(meter(mem, bar_w), self._style(level_for("memory", mem).value)),
                Segment(" n/a " if mem is None else f"{mem:>3.0f}% ")]
        temp_text = " n/a" if temp is None else f"{temp:>3.0f}C"
        power_text = "  n/a" if power is None else f"{power:>4.0f}W"
        if full:
            pp = power_percent(g, self._limits)
            segs += [Segment(meter(temp_percent(g), bar_w), self._style(level_for("temp", temp).value)),
                     Segment(temp_text + " ", self._style(level_for("temp", temp).value)),
                     Segment(meter(pp, bar_w), self._style(level_for("power", pp).value)),
                     Segment(power_text + " ", dim)]
        else:
            segs += [Segment(temp_text + " ", self._style(level_for("temp", temp).value)),
                     Segment(power_text + " ", dim)]
        # the last XID stays on screen, red only while new within the window
        segs.append(Segment(f"{g.last_xid:>4} " if g.last_xid is not None else "   — ",
                            self._style("bad") if g.last_xid is not None and g.xid_current
                            else dim))
        used = sum(len(s.text) for s in segs)
        tail = ""
        if idle:
            tail = f" IDLE {fmt_money(g.hourly_cost)}/h"
        room = width - used - len(tail) - 1
        if room >= 4:
            owner = gpu_owner(g, width >= 150)
            segs.append(Segment(" " + safe(owner, room).ljust(room), dim))
        if tail:
            segs.append(Segment(tail, self._style("idle")))
        return segs

    def _share_line(self, sl: GpuSlice, width: int) -> list[Segment]:
        """A share under its GPU: what it is, its own utilisation (a MIG instance's; a
        time-sliced pod has none of its own: the GPU's line holds it) and memory, owner."""
        name_w, bar_w, full = self._widths(width)
        dim = self._style("dim")
        util, mem = finite(sl.util_percent), sl.memory_percent
        segs = [Segment(f"  └ {safe(sl.label, name_w):<{name_w}} ", dim)]
        if sl.mig_profile is None:
            segs.append(Segment(" " * (bar_w + 5)))
        else:
            segs += [Segment(meter(util, bar_w), self._style(level_for("util", util).value)),
                     Segment(" n/a " if util is None else f"{util:>3.0f}% ")]
        if mem is None:
            segs.append(Segment(" " * (bar_w + 5)))
        else:
            segs += [Segment(meter(mem, bar_w), self._style(level_for("memory", mem).value)),
                     Segment(f"{mem:>3.0f}% ")]
        # temperature, power and XID are the GPU's: blank here
        segs.append(Segment(" " * ((2 * bar_w + 11) if full else 11) + "     "))
        used = sum(len(x.text) for x in segs)
        room = width - used - 1
        if room >= 4:
            segs.append(Segment(" " + safe(share_owner(sl), room).ljust(room), dim))
        return segs
