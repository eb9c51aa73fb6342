"""What the GPU grid shows for a tuple of GPUs: node and GPU lines, hot and XID counts,
the subtitle. Pure (no Textual): made in the metrics poller's thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backends.domain.models import GpuDevice, GpuScope, GpuSlice, GpuSummary
from widgets.levels import TEMP_HOT_C


def gpu_key(g: GpuDevice) -> str:
    """Stable identity of a GPU across refreshes (its cluster's too: node names may
    repeat across the clusters of one metrics store)."""
    return f"{g.cluster}/{g.node}/{g.index}" if g.cluster else f"{g.node}/{g.index}"


@dataclass(frozen=True)
class GpuPlan:
    """What :class:`GpuGrid` shows for one tuple of GPUs: node and GPU lines, counts."""

    gpus: Sequence[GpuDevice]
    lines: list[GpuDevice | GpuSlice | tuple[str, list[GpuDevice]]]
    hot: int
    xid: int
    subtitle: str


def plan_gpus(gpus: Sequence[GpuDevice], fleet: GpuSummary | None = None,
              page: GpuScope | None = None) -> GpuPlan:
    """Group ``gpus`` by node (in order), each GPU's shares under it, and count hot / XID
    GPUs (pure; any thread). ``fleet``: every GPU's figures when ``gpus`` is only the
    page ``page`` of a larger fleet (a scoped read): the subtitle then tells the fleet's,
    and that the rows are a page of it."""
    nodes: dict[str, list[GpuDevice]] = {}
    hot = xid = 0
    util_sum, util_n = 0.0, 0
    for g in gpus:
        devices = nodes.get(g.node)
        if devices is None:
            devices = nodes[g.node] = []
        devices.append(g)
        temp, util = g.temperature_c, g.util_percent
        if temp is not None and temp >= TEMP_HOT_C:
            hot += 1
        if g.last_xid is not None and g.xid_current:
            xid += 1
        if util is not None:
            util_sum += util
            util_n += 1
    lines: list[GpuDevice | GpuSlice | tuple[str, list[GpuDevice]]] = []
    for node, devices in nodes.items():
        lines.append((node, devices))
        for d in devices:  # a GPU, then each share of it (MIG instance, time-sliced pod)
            lines.append(d)
            lines.extend(d.slices)
    if fleet is not None:
        return GpuPlan(gpus, lines, hot, xid, fleet_subtitle(len(gpus), fleet, page))
    avg = f"avg util {util_sum / util_n:.0f}%" if util_n else "util n/a"
    extra = (f" · {hot} hot" if hot else "") + (f" · {xid} XID" if xid else "")
    return GpuPlan(gpus, lines, hot, xid,
                   f"{len(gpus)} GPUs · {len(nodes)} nodes · {avg}{extra}")


def fleet_subtitle(shown: int, fleet: GpuSummary, page: GpuScope | None) -> str:
    """``busiest 100 of 20,000 · avg util 48% · 12 hot · 10,000 nodes``: the page's size,
    then the fleet's figures (counted by the metrics server), never the page's (the panel
    is titled GPUs; its border holds ~50 columns at 160)."""
    which = "busiest " if page is not None and page.sort in ("util", "node") else ""
    out = f"{which}{shown:,} of {fleet.gpus:,}"
    util = fleet.util_avg_percent
    out += f" · avg util {util:.0f}%" if util is not None else " · util n/a"
    if fleet.hot:
        out += f" · {fleet.hot:,} hot"
    if fleet.xid_current:
        out += f" · {fleet.xid_current:,} XID"
    if fleet.nodes is not None:  # last: what the border cuts first
        out += f" · {fleet.nodes:,} nodes"
    return out
