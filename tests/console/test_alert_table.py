"""AlertTable (line API) draws what the DataTable it replaced drew, character by character
and style by style (cursor, hover, focus, cut cells, wide characters); it draws only the
rows on screen, a row that only moved costs no drawing, and it keeps DataTable's keys,
clicks and messages. The alerts' preparation off the UI thread (Poller.alerts_update) is
what the view shows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable

from backends.domain.models import Alert
from tests.console.conftest import spy
from widgets.alert_data import (columns_fit, make_rows, prepare_alerts)
from widgets.alert_rows import HEADER, AlertTable

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def alert(name: str, severity: str | None = "warning", minutes: float = 10,
          state: str = "firing", model: str | None = "llm-chat", summary: str | None = None,
          **labels: str) -> Alert:
    return Alert(name=name, severity=severity, state=state, model=model,
                 starts_at=NOW - timedelta(minutes=minutes),
                 summary=summary if summary is not None else f"{name} summary",
                 labels={"alertname": name, **labels})


ALERTS = [
    alert("GpuXidError", "critical", 37, summary="XID 79 (GPU fell off the bus) " * 4),
    alert("CanaryErrorRateHigh", "warning", 30, namespace="ml-serving"),
    alert("AVeryLongAlertNameThatIsCutWithAnEllipsisInItsColumn", "info", 52),
    alert("Odd", "page", 1, model=None, summary=""),
    alert("モデルが遅い", "warning", 0.5, model="日本語のモデル名", summary="🔥 hot 🔥"),
    alert("Pending", "critical", 3, state="pending"),
    alert("Silenced", "warning", 200, state="suppressed", summary="quiet"),
    Alert(name="NoStart", severity="critical"),
]


class Reference(DataTable):
    """The DataTable-based alerts table this one replaced (its CSS and its cells)."""

    DEFAULT_CSS = """
    Reference > .alert-table--critical { color: $error; text-style: bold; }
    Reference > .alert-table--warning { color: $warning; }
    Reference > .alert-table--info { color: $accent; }
    Reference > .alert-table--other { color: $text; }
    Reference > .alert-table--name { text-style: bold; }
    Reference > .alert-table--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "alert-table--critical", "alert-table--warning", "alert-table--info",
        "alert-table--other", "alert-table--name", "alert-table--muted"}

    def cell(self, text: str, style: str) -> Text:
        rich = self.get_component_rich_style(f"alert-table--{style}") if style else Style()
        return Text(text, style=rich, no_wrap=True, overflow="ellipsis")


class SideBySide(App):
    CSS = "Horizontal { height: 1fr; } Horizontal > * { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Reference(id="ref", cursor_type="row")
            yield AlertTable(id="new")


def runs(strips) -> list[tuple[str, Style]]:
    """(character, style without meta) of every cell of ``strips``."""
    return [(ch, seg.style.clear_meta_and_links() if seg.style else Style())
            for strip in strips for seg in strip for ch in seg.text]


async def test_draws_what_the_datatable_drew():
    app = SideBySide()
    async with app.run_test(size=(200, 14)) as pilot:
        ref, new = app.query_one(Reference), app.query_one(AlertTable)
        for wide, with_state in ((True, True), (False, True), (True, False)):
            rows = make_rows(ALERTS, (), NOW, wide, with_state)
            columns = columns_fit(120 if wide else 80, with_state, (16, 10, 9))
            new.show_rows(rows, columns)
            await pilot.pause()
            compared = 0
            for focused in (False, True):  # each drawn unfocused, or with the focus
                for cursor, hover in ((0, None), (3, 1), (4, HEADER), (7, 7)):
                    drawn = []
                    for table in (ref, new):
                        app.set_focus(table if focused else None)
                        await pilot.pause()
                        if table is ref:
                            # its cells take their colours when made: made in this focus
                            ref.clear(columns=True)
                            for label, width in columns:
                                ref.add_column(Text(label), width=width)
                            for row in rows:
                                ref.add_row(*(ref.cell(*c) for c in row.cells))
                            await pilot.pause()
                            ref.move_cursor(row=cursor)
                            ref._set_hover_cursor(hover is not None)
                            ref.hover_coordinate = Coordinate(
                                hover if hover is not None else 0, 0)
                            ref.refresh()  # DataTable repaints no header line for a hover
                            await pilot.pause()
                            ref._pseudo_class_state = ref.get_pseudo_class_state()
                        else:
                            new.move_cursor(row=cursor)
                            new._set_hover(hover is not None,
                                           hover if hover is not None else 0)
                            await pilot.pause()
                        assert table.has_focus == focused and ref.size == new.size
                        drawn.append(table.render_lines(
                            Region(0, 0, table.size.width, len(rows) + 2)))
                    assert runs(drawn[1]) == runs(drawn[0]), (wide, with_state, focused,
                                                              cursor, hover)
                    compared += 1
            assert compared == 8 and new.size.width == 100


class OneTable(App):
    CSS = "AlertTable { height: 1fr; }"  # as in the alerts view

    def compose(self) -> ComposeResult:
        yield AlertTable(id="t")


def many(n: int) -> list[Alert]:
    return [alert(f"Alert{i:04d}", ("critical", "warning", "info")[i % 3], minutes=i + 1)
            for i in range(n)]


async def test_only_visible_rows_are_drawn_and_a_moved_row_is_not_drawn_again():
    app = OneTable()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(AlertTable)
        columns = columns_fit(120, False, (10, 8, 9))
        rows = make_rows(many(500), (), NOW, True, False)
        drawn = spy(table, "_draw")
        table.show_rows(rows, columns)
        await pilot.pause()
        assert 1 <= len(drawn) <= 20  # the header and the 19 rows on screen, not 500
        # a new alert on top moves every row down by one: only it (and the cursor's row,
        # which now shows another alert) is drawn
        drawn.clear()
        table.show_rows(make_rows([alert("New", "critical", 0.1)] + many(500), (), NOW,
                                  True, False), columns)
        await pilot.pause()
        assert len(drawn) == 2, [call[0][1][2] for call in drawn]


async def test_keys_clicks_and_messages_as_the_datatable():
    seen: list[tuple[str, int]] = []

    class Watching(OneTable):
        def on_alert_table_row_highlighted(self, event: AlertTable.RowHighlighted) -> None:
            seen.append(("highlighted", event.cursor_row))

        def on_alert_table_row_selected(self, event: AlertTable.RowSelected) -> None:
            seen.append(("selected", event.cursor_row))

    app = Watching()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(AlertTable)
        table.show_rows(make_rows(many(100), (), NOW, True, False),
                        columns_fit(120, False, (10, 8, 9)))
        table.focus()
        await pilot.pause()
        page = table.scrollable_content_region.height - 1
        await pilot.press("down", "down", "up")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + page and table.scroll_y == page
        await pilot.press("pageup")
        assert table.cursor_row == 1 and table.scroll_y == 0
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert table.cursor_row == 99 and table.scroll_y == table.max_scroll_y
        await pilot.press("ctrl+home")
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0
        seen.clear()
        await pilot.press("enter")
        await pilot.pause()
        assert seen == [("selected", 0)]
        seen.clear()
        await pilot.click(AlertTable, offset=(5, 3))  # line 3: the third row
        await pilot.pause()
        assert table.cursor_row == 2 and seen == [("highlighted", 2)]
        await pilot.click(AlertTable, offset=(5, 3))  # again on the selected row: chosen
        await pilot.pause()
        assert seen == [("highlighted", 2), ("selected", 2)]
        await pilot.click(AlertTable, offset=(5, 0))  # the header: nothing
        await pilot.pause()
        assert table.cursor_row == 2 and len(seen) == 2
        await pilot.hover(AlertTable, offset=(5, 5))  # the hover row, until a key
        await pilot.pause()
        assert table._show_hover and table._hover == 4
        await pilot.press("down")
        assert not table._show_hover and table.cursor_row == 3


async def test_a_changing_row_count_repaints_the_scrollbar_only_when_its_thumb_moves():
    app = OneTable()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(AlertTable)
        columns = columns_fit(120, False, (10, 8, 9))
        table.show_rows(make_rows(many(400), (), NOW, True, False), columns)
        await pilot.pause()
        bar = table.vertical_scrollbar
        repaints = spy(bar, "refresh")
        whole = spy(table, "refresh")
        table.show_rows(make_rows(many(401), (), NOW, True, False), columns)
        await pilot.pause()
        assert repaints == [] and table.virtual_size.height == 402  # the same thumb
        assert not [c for c in whole if not c[0]]  # lines, never the whole table
        table.show_rows(make_rows(many(200), (), NOW, True, False), columns)
        await pilot.pause()
        assert repaints and bar.window_virtual_size == 201  # a thumb twice as long
        table.show_rows(make_rows(many(5), (), NOW, True, False), columns)
        await pilot.pause()
        assert not table.show_vertical_scrollbar  # gone: Textual's layout


async def test_the_poller_prepares_what_the_view_shows(monkeypatch):
    """Sorted, formatted and joined in the poller's thread: the view then sorts nothing."""
    from console.app import make_app
    from console.config import load_settings
    from console.screens.alerts import AlertsScreen
    from tests.console.conftest import demo_backends, wait_for, wait_loaded, workers_idle
    import console.screens.alerts as screen_module

    app = make_app(load_settings(refresh=3600), demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_loaded(pilot)
        app.navigator.open_view("alerts")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await workers_idle(pilot)
        screen = app.screen
        made_here = spy(screen_module, "prepare_alerts")
        joined_here = spy(screen_module, "join_services")
        fresh = (alert("Fresh", "critical", 1, model="recommender"),) + app.state.alerts
        update = app.poller.alerts_update(fresh, NOW)
        assert update.part is update.prepared.alerts
        app.poller.on_source_updated(update)
        await pilot.pause()
        assert made_here == [] and joined_here == []
        assert [r.alert.name for r in screen.rows][0] == "Fresh"
        expected = make_rows(fresh, app.state.cluster.services, app.clock(), True, True)
        assert [(r.key, r.service_key, r.cells) for r in screen.rows] == [
            (r.key, r.service_key, r.cells) for r in expected]
        assert prepare_alerts(fresh).facts[0].name == "Fresh"
