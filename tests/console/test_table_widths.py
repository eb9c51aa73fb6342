"""Every table pitboard shows draws its cells at their columns' current widths: a frame
drawn before the table measured its new rows is not kept, and ``clear()`` lets columns
shrink back (widgets/render/fresh_widths.py)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from console.screens.contexts import ContextTable
from console.screens.releases import ReleaseTable
from widgets.promotion_table import PromotionTable
from widgets.render.cell_cache import CellCachedTable
from widgets.render.fresh_widths import Table

from widgets.release_history import ReleaseHistory

# every DataTable pitboard shows (its LineTable-based tables draw their own lines)
TABLES = [Table, CellCachedTable, ContextTable, ReleaseTable, PromotionTable, ReleaseHistory]


class One(App):
    def __init__(self, cls) -> None:
        super().__init__()
        self.cls = cls

    def compose(self) -> ComposeResult:
        yield self.cls(id="t")


def _fresh(table, y: int) -> str:
    """Line ``y`` drawn from nothing (every render cache dropped, CellCachedTable's too)."""
    table._clear_caches()
    for own in ("_pb_lines", "_pb_cells"):
        getattr(table, own, {}).clear()
    return table.render_line(y).text


async def _drawn_early(cls, first, second):
    """Rows ``first``, then (after clear) ``second``, each drawn once before the table's
    idle; -> (what it shows after the idle, drawn from nothing, column widths)."""
    app = One(cls)
    async with app.run_test(size=(72, 10)) as pilot:
        table = app.query_one("#t", DataTable)
        table.clear(columns=True)
        table.add_column("A", key="a")
        table.add_column("B", key="b")
        table.add_row(*first)
        table.render_line(1)  # a frame drawn before the table's idle
        await pilot.pause()
        await pilot.pause()
        table.clear()
        table.add_row(*second)
        table.render_line(1)
        await pilot.pause()
        await pilot.pause()
        shown = table.render_line(1).text
        return shown, _fresh(table, 1), [c.content_width for c in table.columns.values()]


async def test_textual_datatable_keeps_an_early_narrow_frame():
    """Why the mixin exists: Textual's own table keeps drawing the early, narrow render
    (should Textual fix it, this fails and the mixin can go)."""
    shown, fresh, widths = await _drawn_early(DataTable, ("a much longer cell", "x"),
                                              ("short", "second column, long text"))
    assert "second column, long text" in fresh
    assert "second column, long text" not in shown and widths[0] == len("a much longer cell")


@pytest.mark.parametrize("cls", TABLES, ids=lambda c: c.__name__)
async def test_cells_drawn_at_current_widths(cls):
    shown, fresh, widths = await _drawn_early(cls, ("a much longer cell", "x"),
                                              ("short", "second column, long text"))
    assert shown == fresh
    assert "second column, long text" in shown
    # the first column shrank back to what it shows now
    assert widths == [len("short"), len("second column, long text")]
    assert shown.index("second") < len("a much longer cell")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_pitboard_datatable_has_fresh_widths():
    """Every DataTable class of console/ and widgets/ carries the fix, and no screen
    makes a plain one (a new table cannot forget it)."""
    import importlib
    import pkgutil
    import re
    from pathlib import Path

    import console
    import widgets
    from widgets.render.fresh_widths import FreshWidths

    root = Path(console.__file__).parent.parent
    for package in (console, widgets):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.rsplit(".", 1)[-1].startswith("_"):
                importlib.import_module(info.name)
    ours = {c for c in _subclasses(DataTable) if c.__module__.split(".")[0] in ("console", "widgets")}
    assert set(TABLES) - {Table} <= ours and len(ours) >= 5
    assert all(issubclass(c, FreshWidths) for c in ours), \
        [c.__name__ for c in ours if not issubclass(c, FreshWidths)]
    plain = [f"{path.relative_to(root)}:{n}" for d in ("console", "widgets")
             for path in (root / d).rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"(?<![\w.])DataTable\(", line) and "class " not in line]
    assert plain == []
