"""What a refresh replaces is freed in the poller's thread, not on the UI thread."""

from __future__ import annotations

import threading

from console.app import make_app
from console.config import load_settings
from console.controllers.state import RATE_WINDOW_S
from tests.console.conftest import demo_backends, wait_loaded, workers_idle


async def test_a_refresh_frees_the_previous_one_in_a_worker():
    backends = demo_backends()
    app = make_app(load_settings(refresh=3600), backends)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_loaded(pilot)
        app.paused = True
        await pilot.pause()
        poller = app.poller
        old_snapshot, old_prepared = app.fleet_screen.snapshot, app.fleet_screen.prepared
        at = backends.clock.advance(15)
        part = backends.metrics.read(app.state.cluster.services, RATE_WINDOW_S, at)
        poller.on_source_updated(poller.metrics_update(part, at))
        await pilot.pause()
        assert app.fleet_screen.snapshot is not old_snapshot
        # the UI thread let go of them, but they are still alive: kept for the worker
        assert any(item[1] is old_snapshot and item[2] is old_prepared
                   for item in poller._retired)
        del old_snapshot, old_prepared
        freed_in: list[str] = []
        retired = poller._retired
        poller._retired = _Spy(retired, freed_in)
        poller.poll("metrics")  # paused: nothing runs
        assert freed_in == []
        app.paused = False
        await pilot.pause()
        poller.poll("metrics")
        await workers_idle(pilot)
        assert freed_in and threading.main_thread().name not in freed_in
        assert len(retired) <= 1  # the latest update's (made after the worker freed)


class _Spy:
    """The poller's deque, recording which thread takes from it."""

    def __init__(self, items, seen: list[str]) -> None:
        self.items, self.seen = items, seen

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def append(self, item) -> None:
        self.items.append(item)

    def popleft(self):
        self.seen.append(threading.current_thread().name)
        return self.items.popleft()
