"""The promotion queue's table: literal cells coloured from theme variables by level."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from widgets.render.fresh_widths import FreshWidths

Cells = tuple[tuple[str, str], ...]
"""(text, level) per column; level: ok, warn, bad, unknown, muted, name or ''."""


class PromotionTable(FreshWidths, DataTable):
    """Data in with :meth:`show` (rows of cells); only changed cells are redrawn."""

    DEFAULT_CSS = """
    PromotionTable > .promotion-table--ok { color: $success; }
    PromotionTable > .promotion-table--warn { color: $warning; }
    PromotionTable > .promotion-table--bad { color: $error; text-style: bold; }
    PromotionTable > .promotion-table--unknown { color: $text-muted; text-style: italic; }
    PromotionTable > .promotion-table--muted { color: $text-muted; }
    PromotionTable > .promotion-table--name { text-style: bold; }
    """
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "promotion-table--ok", "promotion-table--warn", "promotion-table--bad",
        "promotion-table--unknown", "promotion-table--muted", "promotion-table--name"}
    BINDINGS = [Binding("enter", "select_cursor", "Model",
                        tooltip="Open the model of the selected canary")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]  # DataTable's keyword arguments, passed through untyped
        self._columns_shown: tuple[object, ...] | None = None
        self._cells: tuple[Cells, ...] | None = None

    def cell(self, text: str, level: str) -> Text:
        """One literal cell (never markup), truncated with an ellipsis."""
        rich = (self.get_component_rich_style(f"promotion-table--{level}", partial=True)
                if level else Style())
        return Text(text, style=rich, no_wrap=True, overflow="ellipsis")

    def show(self, columns: Sequence[tuple[str, int]], rows: Sequence[Cells],
             cursor: int) -> None:
        """Show ``rows`` under ``columns`` (label, width) with the cursor on row ``cursor``."""
        cols = (tuple(columns), self.app.theme)  # a theme change restyles every cell
        if cols != self._columns_shown:
            self._columns_shown, self._cells = cols, None
            self.clear(columns=True)
            for label, width in columns:
                self.add_column(Text(label), width=width)
        cells = tuple(rows)
        if cells != self._cells:
            before = self._cells
            if before is not None and len(before) == len(cells) == self.row_count:
                for y, (new, old) in enumerate(zip(cells, before)):
                    for x, (cell, was) in enumerate(zip(new, old)):
                        if cell != was:
                            self.update_cell_at(Coordinate(y, x), self.cell(*cell))
            else:
                self.clear()
                for row in cells:
                    self.add_row(*(self.cell(*c) for c in row))
            self._cells = cells
        if cells and cursor != self.cursor_row:
            self.move_cursor(row=max(0, min(cursor, len(cells) - 1)), animate=False)
