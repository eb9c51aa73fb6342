"""CellCachedTable draws exactly what Textual's DataTable draws: its direct path for plain
one-line cells next to Rich's, character by character, and its kept lines next to fresh ones."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable

from tests.console.conftest import count_layouts, spy
from widgets.render.cell_cache import CellCachedTable

CELLS = [
    Text("plain", no_wrap=True, overflow="ellipsis"),
    Text("right", no_wrap=True, overflow="ellipsis", justify="right"),
    Text("left", no_wrap=True, overflow="ellipsis", justify="left"),
    Text("a value far wider than its column", no_wrap=True, overflow="ellipsis"),
    Text("cropped value wider than its column", no_wrap=True, overflow="crop",
         justify="right"),
    Text("79 new", no_wrap=True, overflow="ellipsis", style="bold reverse"),
    Text("▶", no_wrap=True, overflow="ellipsis", style="bold reverse"),
    Text("日本語のモデル名", no_wrap=True, overflow="ellipsis"),
    Text("", no_wrap=True, overflow="ellipsis"),
]


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield CellCachedTable(id="t", cursor_type="row")


def chars(lines) -> list[tuple[str, object]]:
    """(character, style) of every cell of rendered lines."""
    return [(ch, seg.style) for line in lines for seg in line for ch in seg.text]


async def test_direct_cells_are_what_rich_draws():
    app = TableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_column("c", width=12)
        table.add_column("d", width=3)
        for cell in CELLS:
            table.add_row(cell, cell)
        await pilot.pause()
        compared = 0
        for focused in (False, True):
            if focused:
                table.focus()
                await pilot.pause()
            table._pseudo_class_state = table.get_pseudo_class_state()
            base = table.rich_style
            for row in range(len(CELLS)):
                for column, width in ((0, 14), (1, 5)):
                    for cursor in (False, True):
                        value = table.get_cell_at((row, column))
                        mine = table._plain_cell(value, row, column, base, width, cursor, False)
                        assert mine is not None, (row, column)
                        theirs = DataTable._render_cell(table, row, column, base, width,
                                                        cursor, False)
                        assert chars(mine) == chars(theirs), (value.plain, column, cursor)
                        compared += 1
        assert compared == len(CELLS) * 2 * 2 * 2


async def test_kept_lines_follow_changed_cells_and_the_cursor():
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_columns("name", "value")
        for i in range(5):
            table.add_row(Text(f"row {i}"), Text(f"{i}%", justify="right"))
        await pilot.pause()

        def line(y: int) -> str:
            return "".join(s.text for s in table.render_line(y))

        before = [line(y) for y in range(6)]
        table.update_cell_at((2, 1), Text("99%", justify="right"))
        await pilot.pause()
        after = [line(y) for y in range(6)]
        assert "99%" in after[3] and "2%" in before[3]
        assert after[:3] == before[:3] and after[4:] == before[4:]
        # the cursor moving restyles both rows, as in DataTable
        table.move_cursor(row=3)
        await pilot.pause()
        fresh = DataTable._render_line(table, 4, 0, table.size.width, table.rich_style)
        assert table._render_line(4, 0, table.size.width, table.rich_style).text == fresh.text
        assert list(table._render_line(4, 0, table.size.width, table.rich_style)) == list(fresh)
        old_row = DataTable._render_line(table, 1, 0, table.size.width, table.rich_style)
        assert list(table._render_line(1, 0, table.size.width, table.rich_style)) == \
            list(old_row)


async def test_truncate_rows_keeps_the_first_rows_and_the_cursor_in_range():
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_columns("name", "value")
        for i in range(8):
            table.add_row(Text(f"row {i}"), Text(f"{i}%"), key=f"k{i}")
        await pilot.pause()
        table.move_cursor(row=6)
        table.truncate_rows(3)
        await pilot.pause()
        assert table.row_count == 3 and table.cursor_row == 2
        assert [str(table.get_row_at(y)[0]) for y in range(3)] == ["row 0", "row 1", "row 2"]
        assert "k5" not in table.rows
        table.add_row(Text("row 9"), Text("9%"), key="k9")  # keys and indices still agree
        await pilot.pause()
        assert table.get_row_index("k9") == 3 and str(table.get_row("k9")[0]) == "row 9"
        lines = ["".join(s.text for s in table.render_line(y)) for y in range(6)]
        assert "row 9" in lines[4] and lines[5].strip() == ""


async def test_row_lines_are_what_datatable_draws():
    app = TableApp()
    async with app.run_test(size=(90, 14)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_column("name")
        table.add_column("value", width=6)
        table.add_column("note")
        for i, cell in enumerate(CELLS):
            table.add_row(cell, Text(f"{i}%", justify="right"), Text(f"note {i}", style="dim"))
        await pilot.pause()
        compared = 0
        for focused in (False, True):
            if focused:
                table.focus()
                await pilot.pause()
            for cursor in (0, 3):
                table.move_cursor(row=cursor)
                await pilot.pause()
                table._pseudo_class_state = table.get_pseudo_class_state()
                width = table.size.width
                for row_index in range(-1, len(CELLS)):
                    for x1, x2 in ((0, width), (2, width - 5)):
                        mine = table._row_line(row_index, x1, x2, table.rich_style)
                        y = row_index + 1  # the header is line 0
                        theirs = DataTable._render_line(table, y, x1, x2, table.rich_style)
                        assert list(mine) == list(theirs), (row_index, cursor, focused, x1)
                        compared += 1
        assert compared == 2 * 2 * (len(CELLS) + 1) * 2


async def test_set_cells_changes_many_cells_with_one_repaint():
    """``set_cells`` leaves the table as ``update_cell_at`` cell by cell would, with one
    repaint; a coordinate outside the table is refused, as ``update_cell_at`` does."""
    import pytest
    from textual.coordinate import Coordinate
    from textual.widgets.data_table import CellDoesNotExist

    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_column("a", width=8)
        table.add_column("b", width=8)
        for i in range(6):
            table.add_row(f"a{i}", f"b{i}")
        await pilot.pause()
        before = [table.render_line(y).text for y in range(1, 7)]
        repaints = spy(table, "refresh")
        table.set_cells((Coordinate(y, 1), f"new{y}") for y in range(0, 6, 2))
        assert len(repaints) == 1
        await pilot.pause()
        after = [table.render_line(y).text for y in range(1, 7)]
        assert [table.get_cell_at(Coordinate(y, 1)) for y in range(6)] == [
            "new0", "b1", "new2", "b3", "new4", "b5"]
        assert "new0" in after[0] and "new2" in after[2] and after[1] == before[1]
        with pytest.raises(CellDoesNotExist):
            table.set_cells([(Coordinate(9, 0), "x")])


class FixedTableApp(App):
    CSS = "#t { height: 8; width: 60; }"

    def compose(self) -> ComposeResult:
        yield CellCachedTable(id="t", cursor_type="row")


async def test_a_widened_column_lays_out_the_screen_only_when_a_scrollbar_comes():
    """A fixed-size table whose widest figure grows (``update_width``) keeps its box:
    the lines are drawn at the new width without a layout of the screen, unless the
    horizontal scrollbar must appear."""
    app = FixedTableApp()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_column("a")
        table.add_column("b")
        for i in range(3):
            table.add_row(Text(f"r{i}"), Text("1%"))
        await pilot.pause()
        layouts = count_layouts(app)
        before = table.virtual_size.width
        table.update_cell_at(Coordinate(0, 1), Text("100%"), update_width=True)
        await pilot.pause()
        assert table.virtual_size.width > before
        assert layouts == [] and not table.show_horizontal_scrollbar
        assert "100%" in table.render_line(1).text  # drawn at the new width
        table.update_cell_at(Coordinate(1, 1), Text("x" * 80), update_width=True)
        await pilot.pause()  # wider than the table: the scrollbar comes, with a layout
        assert layouts and table.show_horizontal_scrollbar
        assert table.horizontal_scrollbar.window_virtual_size == table.virtual_size.width


class BorderedTableApp(App):
    CSS = """
    #t { border: round $primary-muted; height: 7; width: 50; padding: 0 1; }
    #t:focus { border: round $primary; }
    """

    def compose(self) -> ComposeResult:
        yield CellCachedTable(id="t", cursor_type="row")


async def test_styled_lines_are_what_textual_styles():
    """The table's lines served with their border and padding from its own cache are
    Textual's (StylesCache's) lines: unfocused, focused, scrolled, after a change."""
    app = BorderedTableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(CellCachedTable)
        table.add_columns("name", "value")
        for i in range(12):
            table.add_row(Text(f"row {i}", no_wrap=True, overflow="ellipsis"),
                          Text(f"{i * 7}%", no_wrap=True, overflow="ellipsis"))
        await pilot.pause()

        def both() -> tuple[list, list]:
            region = Region(0, 0, table.outer_size.width, table.outer_size.height)
            mine = table.render_lines(region)
            table._styles_cache.clear()
            theirs = DataTable.render_lines(table, region)
            return ([[(s.text, s.style) for s in line] for line in mine],
                    [[(s.text, s.style) for s in line] for line in theirs])

        states = 0
        for step in ("plain", "focus", "scroll", "change"):
            if step == "focus":
                table.focus()
            elif step == "scroll":
                table.move_cursor(row=10, animate=False)
            elif step == "change":
                table.update_cell_at(Coordinate(10, 1), Text("99%", no_wrap=True,
                                                             overflow="ellipsis"))
            await pilot.pause()
            mine, theirs = both()
            assert mine == theirs, step
            assert len(mine) == 7
            states += 1
        assert states == 4 and table.scroll_y > 0
        # a repaint styles through Textual only the border rows: the content rows come
        # from the table's own cache
        table.refresh()
        styled = spy(table._styles_cache, "render_line")
        table.render_lines(Region(0, 0, table.outer_size.width, table.outer_size.height))
        assert len(styled) == 2
