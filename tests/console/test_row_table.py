"""RowTable draws what Textual's DataTable (row cursor) draws for the same rows, and moves
its cursor with the same keys; a refresh repaints only the lines that changed."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widgets import DataTable

from tests.console.conftest import spy
from widgets.row_table import RowTable

LABELS = ("model", "$/h", "GPUs", "unit cost")
ROWS = [("llm-chat", "$32.80", "8", "$0.0012/1k tok"),
        ("code-assist", "$16.40", "4", "$0.0012/1k tok"),
        ("日本語のモデル", "$1.24", "12", "—"),
        ("tiny", "$0.10", "1", "—")]


class Pair(App):
    CSS = "Horizontal > * { width: 1fr; height: 1fr; border: round $primary; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="dt", cursor_type="row")
            yield RowTable(*LABELS, id="rt")


def cells(widget) -> list[list[tuple[str, object]]]:
    """(character, style without meta) of every cell of every line the widget shows."""
    lines = widget.render_lines(Region(0, 0, widget.outer_size.width, widget.outer_size.height))
    return [[(ch, seg.style.clear_meta_and_links() if seg.style else None)
             for seg in line for ch in seg.text] for line in lines]


async def test_lines_are_what_datatable_draws():
    app = Pair()
    async with app.run_test(size=(140, 12)) as pilot:
        dt, rt = app.query_one(DataTable), app.query_one(RowTable)
        dt.add_columns(*LABELS)
        for row in ROWS:
            dt.add_row(*(Text(c, no_wrap=True, overflow="ellipsis",
                              justify="left" if x == 0 else "right") for x, c in enumerate(row)))
        rt.show_rows(ROWS)
        await pilot.pause()
        assert dt.outer_size == rt.outer_size
        dt.move_cursor(row=1)
        rt.move_cursor(row=1)
        compared = 0
        for focused in (False, True):  # both blurred, then each drawn while focused
            app.set_focus(rt if focused else None)
            await pilot.pause()
            mine = cells(rt)
            app.set_focus(dt if focused else None)
            await pilot.pause()
            theirs = cells(dt)
            assert len(mine) == len(theirs) == rt.outer_size.height
            for y, (a, b) in enumerate(zip(mine, theirs)):
                assert a == b, (focused, y, "".join(c for c, _ in a), "".join(c for c, _ in b))
                compared += 1
        assert compared == 2 * 12


class One(App):
    def __init__(self, rows) -> None:
        super().__init__()
        self.rows = rows
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield RowTable(*LABELS)

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.show_rows(self.rows)
        table.focus()

    def on_row_table_row_selected(self, message: RowTable.RowSelected) -> None:
        self.selected.append(message.key)


async def test_keys_click_and_enter_as_datatable():
    rows = [(f"m{i:02}", f"${i}.00", "1", "—") for i in range(40)]
    app = One(rows)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("pagedown")  # a page: the lines under the header
        page = table.scrollable_content_region.height - 1
        assert table.cursor_row == 2 + page and table.scroll_y > 0
        await pilot.press("ctrl+end")
        assert table.cursor_row == 39 and table.selected_key == "m39"
        assert int(table.scroll_y) == table.max_scroll_y
        await pilot.press("ctrl+home")
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("up")  # stays on the first row
        assert table.cursor_row == 0
        await pilot.click(RowTable, offset=(3, 4))  # line 4: the fourth row
        assert table.cursor_row == 3
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == ["m03"]


async def test_reordered_rows_keep_the_cursor_and_repaint_only_changed_lines():
    rows = [("a-model", "$3.00", "2", "—"), ("b-model", "$2.00", "1", "—"),
            ("c-model", "$1.00", "1", "—")]
    app = One(rows)
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(RowTable)
        table.move_cursor(row=1)  # on b-model
        await pilot.pause()
        widths = table.widths
        calls = spy(table, "refresh")
        # b-model now costs most: a new order, one changed figure
        table.show_rows([("b-model", "$9.50", "1", "—"), rows[0], rows[2]])
        assert [r[0] for r in table.rows] == ["b-model", "a-model", "c-model"]
        assert table.cursor_row == 0 and table.selected_key == "b-model"
        assert table.widths == widths  # same names, every value fits: columns stay
        repainted = [args[0] for args, _ in calls if args]
        assert calls and all(args for args, _ in calls)  # never the whole table
        assert {y for r in repainted for y in range(r.y, r.bottom)} == {1, 2}  # c-model's line kept
        await pilot.pause()
        line = "".join(s.text for s in table.render_line(1))
        assert line.split() == ["b-model", "$9.50", "1", "—"]
        # the same rows again: nothing to do
        calls.clear()
        table.show_rows(list(table.rows))
        assert calls == []
        # a value wider than its column: the columns fit again, the cursor stays
        table.show_rows([("a-model", "$12,345.00", "2", "—"), ("b-model", "$9.50", "1", "—"),
                         rows[2]])
        assert table.widths[1] == len("$12,345.00") and table.selected_key == "b-model"
        # other names: the cursor goes back to the top
        table.show_rows([("z-model", "$1.00", "1", "—")])
        assert table.row_count == 1 and table.cursor_row == 0
