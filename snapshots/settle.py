"""Shared by the snapshot tests: wait until what a frame shows no longer depends on timing."""

from __future__ import annotations

import time


async def tables_settled(pilot, timeout: float = 10.0) -> None:
    """Until every DataTable on every screen has sized its columns for the rows it was
    given. A DataTable does that when it is next idle, so a frame taken before (the
    machine busy) shows auto-width columns only as wide as their labels."""
    from textual.widgets import DataTable  # noqa: PLC0415

    def pending() -> bool:
        return any(table._require_update_dimensions or table._new_rows
                   for screen in pilot.app.screen_stack for table in screen.query(DataTable))

    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 5:  # settled on five checks in a row: a later message may refill a table
        assert time.monotonic() < deadline, "a table did not lay out its rows before the deadline"
        calm = 0 if pending() else calm + 1
        await pilot.pause(0.02)
    await pilot.pause()
