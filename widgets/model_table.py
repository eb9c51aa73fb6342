"""The model table: one row per model service, drawn with the line API.

Data in: :meth:`ModelTable.show_rows` with :class:`ModelRow` values (build them from a
snapshot with :func:`rows_from_snapshot`). Intents out: :class:`ModelTable.ModelHighlighted`
(cursor moved) and :class:`ModelTable.ModelChosen` (enter / click on the selected row).

Only visible rows are rendered, and a row is re-rendered only when one of its cells (or
the cursor) changed: a 300-model refresh costs a few milliseconds, where a DataTable
re-renders every visible cell on any update.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from backends.domain.health import AttentionKey
from widgets.levels import Level
from widgets.line_table import LineTable
from widgets.text import cut_middle
from widgets.model_rows import COLUMNS, Cell, ModelRow, rows_from_snapshot

__all__ = ["COLUMNS", "Cell", "ModelRow", "ModelTable", "rows_from_snapshot"]

SEP = 1
NAME_MIN, NAME_MAX = 16, 40
#: Columns left out first when the table is narrower than all of them (80x24 keeps name,
#: status, traffic, RPS, errors, burn rate, p95 and drift).
DROP_ORDER = ("version", "cost", "ready", "drift", "traffic", "p95", "rps")
RIGHT = frozenset({"rps", "err", "burn", "p95", "cost"})


def layout(width: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(indices of the columns shown, their widths) for a table ``width`` cells wide:
    columns in :data:`DROP_ORDER` go until the rest fits with a name of ``NAME_MIN``;
    the name column takes what is left, up to ``NAME_MAX``."""
    keys = [k for k, _, _ in COLUMNS]
    shown = list(range(len(COLUMNS)))

    def fixed() -> int:
        return sum(COLUMNS[i][2] for i in shown[1:]) + SEP * len(shown)

    for key in DROP_ORDER:
        if fixed() + NAME_MIN <= width:
            break
        if key in keys:
            shown.remove(keys.index(key))
    name = max(NAME_MIN, min(NAME_MAX, width - fixed()))
    return tuple(shown), tuple(name if i == 0 else COLUMNS[i][2] for i in shown)


def fit(text: str, width: int, right: bool = False, middle: bool = False) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with an ellipsis (``middle``:
    in the middle, so names that differ only at the end stay apart)."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        if middle and len(text) == cell_len(text):
            return cut_middle(text, width)
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


def _attention(row: ModelRow) -> AttentionKey:
    return row.attention  # a stable sort: rows of equal place keep the snapshot's order


def _by_name(row: ModelRow) -> tuple[str, str]:
    return row.name.casefold(), row.key


class ModelTable(LineTable):
    """Models with a fixed header line, a row cursor, filtering and per-row caching."""

    COMPONENT_PREFIX = "model-table"
    COLUMN_GAP = SEP

    DEFAULT_CSS = """
    ModelTable { height: 1fr; }
    ModelTable > .model-table--header { color: $text-muted; text-style: bold; background: $boost; }
    ModelTable > .model-table--cursor { background: $block-cursor-blurred-background; }
    ModelTable:focus > .model-table--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: $block-cursor-text-style; }
    ModelTable > .model-table--warn { color: $warning; }
    ModelTable > .model-table--bad { color: $error; text-style: bold; }
    ModelTable > .model-table--info { color: $accent; }
    ModelTable > .model-table--unknown { color: $text-muted; }
    ModelTable > .model-table--ok { }
    """
    COMPONENT_CLASSES = {"model-table--header", "model-table--cursor"} | {
        f"model-table--{lv.value}" for lv in Level
    }
    BINDINGS = [  # the cursor keys of LineTable, named as the help lists them here
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "choose", "Detail", show=False),
    ]

    filter_text: reactive[str] = reactive("")
    cursor_row: reactive[int] = reactive(0)
    order: reactive[str] = reactive("problems")
    """``problems``: problems first (:attr:`ModelRow.attention`, the problem strip's order),
    rows of equal place in the snapshot's order; ``name``: by name (then key: cluster,
    namespace, kind)."""

    class ModelHighlighted(Message):
        """The cursor moved to a model (``key`` = ModelService.key)."""

        def __init__(self, table: "ModelTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "ModelTable":
            return self.table

    class ModelChosen(ModelHighlighted):
        """Enter was pressed on a model: open its detail."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: list[ModelRow] = []
        self._shown: list[ModelRow] = []
        self._index: dict[str, int] = {}
        self._widths = tuple(w for _, _, w in COLUMNS)
        self._shown_cols: tuple[int, ...] = tuple(range(len(COLUMNS)))
        self._last_key: str | None = None

    # -- data -----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._shown)

    @property
    def keys(self) -> list[str]:
        """Keys of the rows shown, in their order."""
        return [r.key for r in self._shown]

    @property
    def selected_key(self) -> str | None:
        """Key of the model under the cursor, if any."""
        if 0 <= self.cursor_row < len(self._shown):
            return self._shown[self.cursor_row].key
        return None

    def get_row_index(self, key: str) -> int:
        """Index of ``key`` among the shown rows (KeyError when filtered out/absent)."""
        return self._index[key]

    def get_cell(self, key: str, column: str) -> str:
        """Displayed text of one cell."""
        col = [c for c, _, _ in COLUMNS].index(column)
        return self._shown[self._index[key]].cells[col][0]

    def get_cell_at(self, coordinate: tuple[int, int]) -> str:
        """Displayed text at (row, column)."""
        row, col = coordinate
        return self._shown[row].cells[col][0]

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        self.cursor_row = max(0, min(row, len(self._shown) - 1)) if self._shown else 0

    def show_rows(self, rows: list[ModelRow]) -> None:
        """Show ``rows``; unchanged rows keep their rendered lines."""
        self._rows = rows
        self._apply_filter()

    def _apply_filter(self) -> None:
        keep = self.selected_key
        needle = self.filter_text
        rows = sorted(self._rows, key=_attention if self.order == "problems" else _by_name)
        self._shown = [r for r in rows if r.matches(needle)] if needle else rows
        self._index = {r.key: i for i, r in enumerate(self._shown)}
        if len(self._cache) > 4 * len(self._shown) + 64:
            self._cache.clear()
        self._sync_size()
        if keep in self._index:
            self.cursor_row = self._index[keep]
        else:
            self.cursor_row = min(self.cursor_row, max(0, len(self._shown) - 1))
            self._announce()
        self._refresh_changed()

    def _line_key(self, index: int) -> tuple:
        row = self._shown[index]
        return (row.key, row.cells, index == self.cursor_row)

    def watch_filter_text(self) -> None:
        self._apply_filter()

    def watch_order(self) -> None:
        self._apply_filter()
        self.refresh()  # the header's marker

    def watch_cursor_row(self, _old: int, row: int) -> None:
        self._scroll_to_row(row)
        self._announce()
        self.refresh()

    def _announce(self) -> None:
        key = self.selected_key
        if key is not None and key != self._last_key:
            self._last_key = key
            self.post_message(self.ModelHighlighted(self, key))

    # -- actions --------------------------------------------------------------------------
    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(1, self.size.height - 2))

    def action_choose(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.ModelChosen(self, key))

    def _clicked(self, event: events.Click) -> None:
        if event.chain > 1 and self._row_at_line(event.y) == self.cursor_row:
            self.action_choose()  # a double click on the selected row opens it
        super()._clicked(event)

    # -- rendering ------------------------------------------------------------------------
    @property
    def visible_columns(self) -> tuple[str, ...]:
        """Keys of the columns drawn at the current width."""
        return tuple(COLUMNS[i][0] for i in self._shown_cols)

    def on_resize(self) -> None:
        self._fit_columns()

    def watch_show_vertical_scrollbar(self) -> None:
        # the scrollbar appearing (more rows than lines) narrows the content: the
        # columns are fitted again, as on a resize, so a frame never depends on timing
        self.call_later(self._fit_columns)

    def _fit_columns(self) -> None:
        """Columns for the current content width; every line repainted."""
        self._shown_cols, self._widths = layout(self.scrollable_content_region.width)
        self._cache.clear()
        self._styles.clear()
        self._apply_filter()
        self.refresh()  # the columns may have changed: every line

    def _line(self, cells, base: Style) -> list[Segment]:
        segs: list[Segment] = []
        for i, width in zip(self._shown_cols, self._widths):
            text, level = cells[i]
            right = COLUMNS[i][0] in RIGHT
            style = base + self._style(level.value) if level is not Level.OK else base
            text = " " + fit(text, width, right, middle=i == 0)
            if segs and segs[-1].style is style:  # one segment per run of a style: fewer
                segs[-1] = Segment(segs[-1].text + text, style)  # to filter and cut
            else:
                segs.append(Segment(text, style))
        return segs

    def _render_header(self) -> Strip:
        sx, _, width, _ = self._frame
        head_key = ("header", self._widths, self._shown_cols, self.order)
        strip = self._cache.get(head_key)
        if strip is None:
            # the column the rows are ordered by is marked (k9s's habit)
            mark = "status" if self.order == "problems" else "name"
            head = tuple((f"{label}↓" if key == mark else label, Level.OK)
                         for key, label, _ in COLUMNS)
            style = self._style("header")
            strip = Strip(self._line(head, style)).extend_cell_length(self.virtual_size.width, style)
            self._cache[head_key] = strip
        return strip.crop_extend(sx, sx + width, self._style("header"))

    def _render_row(self, index: int, shown: tuple) -> Strip:
        sx, _, width, focus = self._frame
        row, cursor = self._shown[index], shown[2]
        key = (row.key, row.cells, cursor, focus, self._widths, self._shown_cols, width)
        strip = self._cache.get(key)
        if strip is None:
            base = self._style("base") + self._style("cursor") if cursor else self._style("base")
            segs = self._line(row.cells, base)
            # fit() makes every cell exactly its width: the length is known, and the line
            # is padded to the view once here rather than on every paint
            length = self._line_length()
            if width > length:
                segs.append(Segment(" " * (width - length), self._style("base")))
                length = width
            strip = self._cache[key] = Strip(segs, length)
        if sx == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(sx, sx + width, self._style("base"))
