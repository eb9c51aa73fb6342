"""Release history of one model: revisions newest first (number, version, when, who, why)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from backends.domain.models import Revision
from widgets.render.fresh_widths import FreshWidths
from widgets.text import MISSING, fmt_num, safe


LABELS = ("Rev", "Version", "Created", "Traffic", "Who", "Change cause")


def revision_cells(rev: Revision) -> tuple[str, ...]:
    """Display strings for one revision (missing values as the marker, never 0)."""
    when = rev.created.strftime("%m-%d %H:%M") if rev.created else MISSING
    mark = "▶" if rev.current else " "
    traffic = MISSING if rev.traffic_percent is None else fmt_num(rev.traffic_percent, "{:.0f}", "%")
    return (f"{mark}{rev.number}", safe(rev.version, 16), when, traffic, safe(rev.who, 16),
            safe(rev.change_cause, 60))


class ReleaseHistory(FreshWidths, DataTable):
    """Revisions of the selected model; :meth:`show_history` replaces them when changed.
    The highlighted row (:attr:`highlighted_revision`) is what the rollback keys pick."""

    DEFAULT_CSS = """
    ReleaseHistory { height: 1fr; }
    ReleaseHistory > .release-history--current { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES = {"release-history--current"}

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", show_cursor=True, **kwargs)
        self._shown: tuple[Revision, ...] | None = None
        self._note: str | None = None
        self._owner: str | None = None

    def on_mount(self) -> None:
        for label in LABELS:  # Text: a str would be parsed as markup
            self.add_column(Text(label), key=label.lower(), width=cell_len(label))

    def show_history(self, revisions: Sequence[Revision] | None, owner: str | None = None,
                     traffic_note: str | None = None) -> None:
        """Show ``revisions`` (newest first) of ``owner`` (a model's key); None = nothing
        selected / not read yet. The highlighted revision stays highlighted while the same
        owner's history changes. ``traffic_note``: why the traffic column is "—"
        (``ModelService.traffic_note``), said in the subtitle."""
        revisions = tuple(revisions or ())
        same_owner, self._owner = owner == self._owner, owner
        if (revisions, traffic_note) == (self._shown, self._note):
            return
        before = self.highlighted_revision if same_owner else None
        self._shown, self._note = revisions, traffic_note
        self.clear(columns=False)
        current = self.get_component_rich_style("release-history--current", partial=True)
        rows = [revision_cells(rev) for rev in revisions]
        # each column as wide as its label and cells, set before any row is drawn: the
        # panel is in the fleet screen's first frame, and DataTable's auto width measures
        # rows only when it is next idle (FreshWidths then redraws them, after a frame of
        # label-wide columns with every cell cut to "…")
        for column, label, cells in zip(self.columns.values(), LABELS,
                                        zip(*rows) if rows else ((),) * len(LABELS)):
            column.width = max([cell_len(label), *map(cell_len, cells)])
        for rev, cells in zip(revisions, rows):
            style = current if rev.current else ""
            self.add_row(*(Text(c, style=style, no_wrap=True, overflow="ellipsis")
                           for c in cells), key=str(rev.number))
        said = f"{len(revisions)} revisions" if revisions else "no history"
        if traffic_note:  # first: a narrow panel cuts the count, not the reason
            said = f"{MISSING} {safe(traffic_note, 80)} · {said}"
        self.border_subtitle = said
        if before is not None:  # the same revision stays highlighted (what R / U pick)
            row = next((i for i, r in enumerate(revisions) if r.number == before.number), 0)
            self.move_cursor(row=row, animate=False)

    @property
    def highlighted_revision(self) -> Revision | None:
        """The revision of the highlighted row (None: no history shown)."""
        shown, row = self._shown or (), self.cursor_row
        return shown[row] if 0 <= row < len(shown) else None
