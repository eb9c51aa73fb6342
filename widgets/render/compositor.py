"""A screen's partial update renders only what is dirty.

Textual's ``Compositor.render_partial_update`` crops to the *bounding box* of every dirty
region and, in ``_get_renders``, renders each widget overlapping that box in full (all its
lines, whatever the box). A refresh on the fleet screen dirties the header at the top and
the GPU panel at the bottom, so each refresh rendered every line of every widget on the
screen (~50), then cut each line into chops, for the few hundred cells that changed.

``DirtyOnlyCompositor.render_partial_update`` renders, for each widget, only the lines
that a dirty region touches inside it (``Widget.render_lines`` with a crop, as the
compositor already does for a clipped widget), and skips the widgets no dirty region
touches. The update writes the same cells: ``ChopsUpdate`` writes only the spans of the
dirty regions, and a chop inside a span belongs to the topmost widget covering it, which
overlaps that dirty region and so is rendered, on that line, as before (chops are filled
front to back, the first one winning). Only chops outside every span, which the update
never writes, may now be left empty. Mirrors ``textual/_compositor.py``
(``Compositor.render_partial_update``, ``_render_chops``, ``_get_renders``), textual 8.2.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip

__all__ = ["DirtyOnlyCompositor", "render_dirty_only"]


class DirtyOnlyCompositor(Compositor):
    """Textual's compositor, its partial updates rendering only the dirty lines."""

    def render_partial_update(self) -> ChopsUpdate | None:
        screen_region = self.size.region
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        spans = list(self._regions_to_spans(update_regions))
        dirty = [r for r in (region.intersection(screen_region) for region in update_regions)
                 if r]
        chops = self._render_dirty_chops(dirty)
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return ChopsUpdate(chops, spans, chop_ends)

    def _render_dirty_chops(self, dirty: Collection[Region]
                            ) -> Sequence[Mapping[int, Strip | None]]:
        """``_render_chops`` over the lines of each widget that ``dirty`` touches."""
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        if not dirty:
            return chops
        crop = Region.from_union(list(dirty))
        crop_overlaps = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():
            if not crop_overlaps(clip):
                continue
            render_region = region.intersection(clip)
            if not render_region:
                continue
            overlap = render_region.intersection
            hits = sorted((hit.y, hit.bottom) for hit in map(overlap, dirty) if hit)
            if not hits:
                continue
            render_x = render_region.x
            first_cut, last_cut = render_region.column_span
            x, width = render_x - region.x, render_region.width
            top, bottom = hits[0]
            runs = []
            for y0, y1 in hits[1:]:  # the rows a dirty region touches, in runs
                if y0 > bottom:
                    runs.append((top, bottom))
                    top = y0
                bottom = max(bottom, y1)
            runs.append((top, bottom))
            for top, bottom in runs:
                strips = widget.render_lines(Region(x, top - region.y, width, bottom - top))
                for y, strip in zip(range(top, bottom), strips):
                    chops_line = chops[y]
                    final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                    get = chops_line.get
                    for cut, piece in zip(final_cuts, strip.divide(
                            [cut - render_x for cut in final_cuts[1:]])):
                        if get(cut) is None:
                            chops_line[cut] = piece
        return chops


def render_dirty_only(screen: Screen) -> None:
    """Give ``screen`` the compositor that renders only dirty lines (before or after it
    is mounted: the compositor's state is kept, only its class changes)."""
    compositor = screen._compositor
    if type(compositor) is Compositor:
        compositor.__class__ = DirtyOnlyCompositor
