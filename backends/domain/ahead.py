"""Work a backend starts ahead of its first read (``warm()``), in a thread of its own.

A source's first read waits on the network before it has anything to parse: Kubernetes'
discovery and the watch caches' first LIST, Prometheus' probe of which exporters have
data. Started while the console still builds the other sources and imports Textual, that
wait overlaps work the process has to do anyway, instead of following it.

The first read then *takes* what was started (:meth:`Ahead.take`): it waits for it, and
an error it ran into is raised there, once -- so the first read reports exactly what its
own attempt would have (an unreachable cluster is one timeout, not two), and later reads
try afresh as before."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future
from typing import Generic, TypeVar

T = TypeVar("T")


class Ahead(Generic[T]):
    """``work()`` running from construction on: in a daemon thread of its own, or in
    ``pool`` (a fleet's contexts share its pool, so as many start at once as it reads at
    once); see the module."""

    def __init__(self, work: Callable[[], T], name: str,
                 pool: Executor | None = None) -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._future: Future | None = None
        if pool is not None:
            self._future = pool.submit(self._run, work)
        else:
            self._thread = threading.Thread(target=self._run, args=(work,), name=name,
                                            daemon=True)
            self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._result = work()
        except BaseException as exc:  # noqa: BLE001 - the taker raises it (take)
            self._error = exc

    def take(self) -> T | None:
        """Wait for the work: its result, or its error raised -- once (a second take
        returns None). Work a pool shut down before it ran is not waited for."""
        if self._thread is not None:
            self._thread.join()
        elif self._future is not None:
            try:
                self._future.result()
            except CancelledError:
                pass
        error, self._error = self._error, None
        result, self._result = self._result, None
        if error is not None:
            raise error
        return result
