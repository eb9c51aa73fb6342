"""backends.domain.ahead.Ahead: work begun in a thread (or a pool) and taken once -- its
result, or its error raised where it is taken."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from backends.domain.ahead import Ahead


def test_the_error_is_handed_over_once():
    seen: list[str] = []

    def work() -> None:
        seen.append(threading.current_thread().name)
        raise ValueError("boom")

    ahead = Ahead(work, "test-ahead")
    with pytest.raises(ValueError, match="boom"):
        ahead.take()
    assert ahead.take() is None  # taken: nothing more to raise
    assert seen == ["test-ahead"]  # in its own thread, once


def test_the_result_is_handed_over_once_and_a_pool_runs_the_work():
    with ThreadPoolExecutor(1, thread_name_prefix="fleet") as pool:
        ahead = Ahead(lambda: threading.current_thread().name, "unused", pool)
        assert ahead.take().startswith("fleet")
        assert ahead.take() is None


def test_work_a_shut_down_pool_never_ran_is_not_waited_for():
    gate = threading.Event()
    pool = ThreadPoolExecutor(1)
    pool.submit(gate.wait, 10)  # the only worker is busy
    ahead = Ahead(lambda: "never", "unused", pool)
    pool.shutdown(wait=False, cancel_futures=True)
    assert ahead.take() is None
    gate.set()
