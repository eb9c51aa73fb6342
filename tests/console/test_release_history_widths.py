"""The release history's columns fit what it shows from the first frame it is drawn in:
never as wide as their labels with every cell cut to "…" (a busy machine drew it before
DataTable measured its rows), and no wider than the history now shown."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from backends.domain.models import Revision
from widgets.release_history import ReleaseHistory

AT = datetime(2026, 11, 20, 14, 4, tzinfo=timezone.utc)


def revs(cause: str, who: str) -> list[Revision]:
    return [Revision(number=2, version="v1.4.2", created=AT, change_cause=cause, who=who,
                     current=True, traffic_percent=100),
            Revision(number=1, version="v1.4.0", created=AT, change_cause="first", who=who)]


class Host(App):
    def compose(self) -> ComposeResult:
        yield ReleaseHistory()


async def test_columns_fit_the_rows_at_once_and_shrink_with_them():
    app = Host()
    async with app.run_test(size=(140, 12)) as pilot:
        table = app.query_one(ReleaseHistory)
        table.show_history(revs("vLLM 0.11.2 upgrade with prefix caching", "j.mensah"), "a")
        widths = {k.value: c.get_render_width(table) - 2 * table.cell_padding
                  for k, c in table.columns.items()}
        # before any idle: "11-20 14:04", "j.mensah", the cause in full
        assert widths["created"] == 11 and widths["who"] == 8
        assert widths["change cause"] == len("vLLM 0.11.2 upgrade with prefix caching")
        await pilot.pause()
        assert "11-20 14:04" in table.get_row_at(0)[2].plain
        table.show_history(revs("short", "ab"), "b")  # another model's, shorter
        widths = {k.value: c.get_render_width(table) - 2 * table.cell_padding
                  for k, c in table.columns.items()}
        assert widths["who"] == 3 and widths["change cause"] == len("Change cause")
