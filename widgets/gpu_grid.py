"""GPU panel: one header line per node, one line per GPU (nvitop-like thresholds).

Uses Textual's line API (:class:`ScrollView` + :meth:`render_line`) so only the visible
lines are rendered: 2,000 GPUs cost nothing until scrolled into view. Data in via
:meth:`GpuGrid.show_gpus`; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backends.domain.models import GpuDevice, GpuSlice
from widgets.gpu_plan import GpuPlan, plan_gpus
from widgets.levels import (MEMORY_THRESHOLDS, UTIL_THRESHOLDS, Level,
                            bar, load_level, temp_level)
from widgets.text import safe
from widgets.repaint import (ComponentStyles, PrestyledLines, fitted_width, refresh_runs,
                             set_virtual_size)
from widgets.render.scrollbars import set_length_quietly
from widgets.render.settled_sizes import SettledScrollbars
from widgets.titles import set_border_subtitle

def _pct(value: float | None) -> str:
    return " n/a" if value is None else f"{value:>3.0f}%"


def _product(kind: str, room: int) -> str:
    """The GPU product name in at most ``room`` cells: whole, else without the vendor
    ("H100 80GB HBM3"), else cut with an ellipsis; empty below 5 cells."""
    for text in (kind, kind.removeprefix("NVIDIA ").removeprefix("AMD ")):
        if len(text) <= room:
            return text
    return safe(kind.removeprefix("NVIDIA ").removeprefix("AMD "), room) if room >= 5 else ""


def node_heading(node: str, devices: Sequence[GpuDevice], width: int) -> str:
    """A node's line in the GPU panel, at most ``width`` cells: its name (what an on-call
    engineer cordons or drains: kept whole while it fits), the GPUs allocated of its
    count, and their product name in the room left (shortened, then dropped, first)."""
    names = {d.model_name for d in devices if d.model_name}
    kind = safe(next(iter(names)), 24) if len(names) == 1 else ("mixed" if names else "n/a")
    alloc = sum(d.allocated for d in devices)
    count = f" ×{len(devices)} · {alloc}/{len(devices)} used"
    name = safe(node, max(4, width - len(count)))
    product = _product(kind, width - len(name) - len(count) - 1)
    text = name + (f" {product}" if product else "") + count
    return text if len(text) <= width else text[: width - 1] + "…"


class GpuGrid(PrestyledLines, ComponentStyles, SettledScrollbars, ScrollView, can_focus=True):
    """Per-node GPU lines with util/memory bars, temperature, power, XID and owner."""

    COMPONENT_PREFIX = "gpu-grid"

    DEFAULT_CSS = """
    GpuGrid { height: 1fr; }
    GpuGrid > .gpu-grid--node { color: $text; text-style: bold; background: $boost; }
    GpuGrid > .gpu-grid--ok { color: $success; }
    GpuGrid > .gpu-grid--warn { color: $warning; }
    GpuGrid > .gpu-grid--bad { color: $error; text-style: bold; }
    GpuGrid > .gpu-grid--info { color: $accent; }
    GpuGrid > .gpu-grid--unknown { color: $text-muted; }
    GpuGrid > .gpu-grid--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"gpu-grid--node", "gpu-grid--dim"} | {
        f"gpu-grid--{lv.value}" for lv in Level
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[GpuDevice | GpuSlice | tuple[str, list[GpuDevice]]] = []
        self._cache: dict[tuple, Strip] = {}
        self._shown: dict[int, tuple] = {}
        self._gpus: Sequence[GpuDevice] | None = None
        self._frame = (0, 0, 0, 0)
        self.hot_count = 0
        self.xid_count = 0
        self._styles: dict[str, Style] = {}

    def show_gpus(self, gpus: Sequence[GpuDevice], plan: GpuPlan | None = None) -> None:
        """Display ``gpus`` (grouped by node, in order). Same object again = no work; only
        the visible lines whose figures changed are redrawn. ``plan``: the grouping, made
        ahead (off the UI thread) by :func:`plan_gpus` for these very ``gpus``."""
        if gpus is self._gpus:
            return
        if plan is None or plan.gpus is not gpus:
            plan = plan_gpus(gpus)
        self._gpus = gpus
        relayout = False
        if len(plan.lines) != len(self._lines):
            size = Size(fitted_width(self), len(plan.lines))
            # the scrollbar repainted only if its thumb moves; the lines by _refresh_changed
            relayout = not set_length_quietly(self, size)
            if relayout:
                set_virtual_size(self, size)
        self._lines = plan.lines
        self.hot_count, self.xid_count = plan.hot, plan.xid
        set_border_subtitle(self, plan.subtitle)
        if relayout:
            self.refresh()
        else:
            self._refresh_changed()

    def _refresh_changed(self) -> None:
        """Repaint the visible lines whose content changed (not the border or scrollbar),
        and the lines past a shortened end (blank now)."""
        top, height = int(self.scroll_offset.y), self.scrollable_content_region.height
        lines, shown = self._lines, self._shown
        end = len(lines)
        changed = [y for y in range(top, top + height)
                   if shown.get(y) != (_line_key(lines[y]) if y < end else None)]
        refresh_runs(self, changed)

    def on_resize(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(fitted_width(self), len(self._lines))

    def render_lines(self, crop):
        # geometry once per frame rather than once per line
        offset, region = self.scroll_offset, self.scrollable_content_region
        self._frame = (offset.x, offset.y, region.width, region.height)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        sx, sy, width, _height = self._frame
        index = y + sy
        if index >= len(self._lines):
            self._shown.pop(index, None)
            return Strip.blank(width, self._style("base"))
        item = self._lines[index]
        line_key = _line_key(item)
        self._shown[index] = line_key
        key = (line_key, width)
        strip = self._cache.get(key)
        if strip is None:
            if isinstance(item, tuple):
                strip = Strip(self._node_line(*item, width)).crop_extend(0, width, self._style("base"))
            else:
                segs = (self._share_line(item, width) if isinstance(item, GpuSlice)
                        else self._gpu_line(item, width))
                strip = (Strip(segs, width) if sum(len(x.text) for x in segs) == width else
                         Strip(segs).crop_extend(0, width, self._style("base")))
            if len(self._cache) > 4 * self._frame[3] + 64:  # old figures never come back
                self._cache.clear()
            self._cache[key] = strip
        return strip.crop(sx, sx + width) if sx else strip

    def _node_line(self, node: str, devices: list[GpuDevice], width: int) -> list[Segment]:
        return [Segment(node_heading(node, devices, width).ljust(width), self._style("node"))]

    def _gpu_line(self, g: GpuDevice, width: int) -> list[Segment]:
        dim = self._style("dim")
        mem = g.memory_percent
        # fixed cells: idx 3, util pct 5, mem pct 5, temp 5, power 6, separators 4
        bar_w = max(3, min(12, (width - 28) // 3))
        segs = [
            Segment(f"{g.index:>2} ", dim),
            Segment(bar(g.util_percent, bar_w), self._style(load_level(g.util_percent, UTIL_THRESHOLDS).value)),
            Segment(_pct(g.util_percent) + " "),
            Segment(bar(mem, bar_w), self._style(load_level(mem, MEMORY_THRESHOLDS).value)),
            Segment(_pct(mem) + " "),
            Segment(" n/a" if g.temperature_c is None else f"{g.temperature_c:>3.0f}C",
                    self._style(temp_level(g.temperature_c).value)),
            Segment(" n/a " if g.power_watts is None else f"{g.power_watts:>5.0f}W", dim),
        ]
        used = sum(len(s.text) for s in segs)
        if g.last_xid is not None and g.xid_current:  # new within the window (dcgm keeps it)
            xid = f" XID {g.last_xid}"
            segs.append(Segment(xid, self._style("bad")))
            used += len(xid)
        room = width - used - 1
        if room >= 4:
            if g.slices:
                text = f"MIG ×{len(g.slices)}" if g.mig else f"shared ×{len(g.slices)}"
            else:
                text = g.model or ("idle" if g.pod is None else g.pod)
            owner = " " + safe(text, room)
            segs.append(Segment(owner, dim))
            used += cell_len(owner)
        if used < width:  # pad here: the strip is then exactly ``width`` cells
            segs.append(Segment(" " * (width - used), self._style("base")))
        return segs

    def _share_line(self, sl: GpuSlice, width: int) -> list[Segment]:
        """A MIG instance (its profile and own utilisation) or a time-sliced pod, under its
        GPU; temperature and power are the GPU's line's."""
        dim = self._style("dim")
        bar_w = max(3, min(12, (width - 28) // 3))
        util = sl.util_percent
        if sl.mig_profile is not None:
            segs = [Segment(f" └ {safe(sl.mig_profile, bar_w):<{bar_w}}", dim),
                    Segment(_pct(util) + " ")]
        else:  # the utilisation is the GPU's (dcgm-exporter copies it per pod)
            segs = [Segment(f" └ {'shared':<{bar_w}}", dim), Segment("     ")]
        used = sum(cell_len(x.text) for x in segs)
        room = width - used - 1
        if room >= 4:
            owner = " " + safe(sl.model or sl.pod or "free", room)
            segs.append(Segment(owner, dim))
            used += cell_len(owner)
        if used < width:
            segs.append(Segment(" " * (width - used), self._style("base")))
        return segs


def _line_key(item: GpuDevice | GpuSlice | tuple[str, list[GpuDevice]]) -> tuple:
    """Everything one line shows (lines with equal keys render the same)."""
    if isinstance(item, GpuSlice):
        return ("share", item.mig_profile, item.instance, item.util_percent, item.model,
                item.pod)
    if isinstance(item, tuple):
        node, devices = item
        return (node, len(devices), sum(d.allocated for d in devices),
                frozenset(d.model_name for d in devices if d.model_name))
    g = item
    return (g.index, g.util_percent, g.memory_percent, g.temperature_c, g.power_watts,
            g.last_xid, g.xid_current, g.model, g.pod, len(g.slices), g.mig)

