"""List-then-watch caches, one worker thread per (kind, namespace).

Protocol (as client-go's reflector): LIST (paged with limit/continue) -> remember the
list's resourceVersion -> WATCH from it (bookmarks on) -> apply events and advance the
resourceVersion -> when the watch ends, WATCH again from the last resourceVersion (no LIST)
-> on 410 Gone (HTTP status or an ERROR event), LIST again -> on errors, reconnect with
exponential backoff and jitter. In steady state no LIST is sent.

Freshness: a watch that is down (ended, failing, reconnecting) says since when
(``down_for``); a watch connected but silent says how long it has delivered neither an
event nor a bookmark (``silent_for``) -- counted only once the server has shown that it
sends bookmarks (the apiserver: every minute), since a quiet namespace on a server that
sends none is silent and fine. A stream silent twice that long is given up
(``give_up_if_silent``, asked at each read) and watched again from the last resourceVersion.

Readers get ``snapshot()``: a read-only mapping of immutable slim records, rebuilt only
when something changed; the worker never mutates a mapping a reader holds.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from backends.domain.errors import BackendError, ForbiddenError
from backends.kube.connect import SOURCE, GoneError, KubeApi


@dataclass(frozen=True)
class KindSpec:
    """One resource kind a cache follows."""

    name: str
    group_version: str
    plural: str
    slim: Callable[[dict], Any]
    namespaced: bool = True
    label_selector: str | None = None
    optional: bool = False  # the console works without it (nodes, events)

    def path(self, namespace: str | None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def _key(obj: dict) -> str:
    m = obj.get("metadata") or {}
    ns = m.get("namespace")
    return f"{ns}/{m.get('name')}" if ns else str(m.get("name"))


class WatchCache:
    """Follows one kind in one namespace (None = all) in a daemon thread."""

    def __init__(self, api: KubeApi, spec: KindSpec, namespace: str | None = None, *,
                 watch_timeout_s: int = 300, backoff_initial_s: float = 0.5,
                 backoff_max_s: float = 30.0, page_size: int = 500,
                 max_items: int | None = None, on_change: Callable[[], None] | None = None,
                 bookmark_interval_s: float = 60.0, silent_intervals: int = 3):
        self.api, self.spec, self.namespace = api, spec, namespace
        self.watch_timeout_s = watch_timeout_s
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.page_size, self.max_items, self.on_change = page_size, max_items, on_change
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._snapshot: Mapping[str, Any] = MappingProxyType({})
        self._snap_version = 0
        self.version = 0  # bumps on every applied change
        self.resource_version: str | None = None
        self.synced = threading.Event()
        self.error: BackendError | None = None
        self.lists = 0  # LIST requests sent (pages count once per page)
        self.watches = 0
        self.relists = 0
        self._stop = threading.Event()
        self._resp = None
        self._thread: threading.Thread | None = None
        # freshness: since when no watch stream is open (None: one is), and why
        self.down_since: float | None = None
        self.down_reason = ""
        # freshness of an open stream: when it last delivered anything (an event, a
        # bookmark; the LIST before it), and whether the server sends bookmarks at all
        self.silent_after_s = bookmark_interval_s * silent_intervals
        self.last_heard: float | None = None
        self.bookmarks_seen = False
        self.bookmarks = 0
        self._giving_up = False  # give_up_if_silent ended the stream
        self._opened = 0.0  # when the open stream was opened

    # -- public ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            name = f"kube-cache-{self.spec.name}-{self.namespace or 'all'}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        resp = self._resp
        if resp is not None:
            try:
                resp.shutdown()
            except Exception:  # pragma: no cover - best effort
                pass
            try:
                resp.close()
            except Exception:  # pragma: no cover
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_synced(self, timeout: float) -> bool:
        """Wait for the first LIST; returns early (False) when it failed."""
        deadline = time.monotonic() + timeout
        while not self.synced.is_set():
            if self.error is not None and self.lists_failed:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.synced.wait(min(left, 0.05))
        return True

    def down_for(self, now: float | None = None) -> float:
        """Seconds since the last watch stream ended or failed without a new one open
        (0 while one is open, or before the first): how far behind the cache may be."""
        since = self.down_since
        return 0.0 if since is None else max(0.0, (now or time.monotonic()) - since)

    def silent_for(self, now: float | None = None) -> float:
        """Seconds the open watch stream has delivered neither an event nor a bookmark
        (0 while none is open, or while the server has not shown it sends bookmarks)."""
        heard = self.last_heard
        if self.down_since is not None or heard is None or not self.bookmarks_seen:
            return 0.0
        return max(0.0, (now or time.monotonic()) - heard)

    @property
    def silent(self) -> bool:
        """Whether the open stream has been silent for ``silent_after_s`` or longer."""
        return self.silent_for() >= self.silent_after_s

    def give_up_if_silent(self, now: float | None = None) -> bool:
        """End the open stream when it has been silent twice ``silent_after_s`` (a hung
        connection, a proxy that stopped forwarding): the worker watches again from the last
        resourceVersion. True when it was ended."""
        resp, opened = self._resp, self._opened
        now = now or time.monotonic()
        quiet_since = max(self.last_heard or opened, opened)  # this stream's own silence
        if resp is None or self.silent_for(now) < 2 * self.silent_after_s or \
                now - quiet_since < 2 * self.silent_after_s:
            return False
        self._giving_up = True
        try:
            resp.shutdown()
        except Exception:  # pragma: no cover - best effort; the read timeout remains
            return False
        return True

    def _down(self, reason: str, since: float | None = None) -> None:
        if self.down_since is None:
            self.down_since = since if since is not None else time.monotonic()
        self.down_reason = reason

    @property
    def lists_failed(self) -> bool:
        return not self.synced.is_set() and self.error is not None

    def snapshot(self) -> Mapping[str, Any]:
        """Read-only mapping key -> slim record; the same object until the next change."""
        with self._lock:
            if self._snap_version != self.version:
                self._snapshot = MappingProxyType(dict(self._items))
                self._snap_version = self.version
            return self._snapshot

    # -- worker ---------------------------------------------------------------------------
    def _changed(self) -> None:
        self.version += 1
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # pragma: no cover - a listener must not kill the cache
                pass

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _run(self) -> None:
        backoff = self.backoff_initial_s
        need_list = True
        while not self._stop.is_set():
            try:
                if need_list:
                    self._list()
                    need_list = False
                opened = time.monotonic()
                delivered = self._watch()
                self.error = None
                if delivered or time.monotonic() - opened >= 1.0:  # a quiet, healthy watch
                    backoff = self.backoff_initial_s
                else:  # an empty watch that ended at once: do not spin
                    self._sleep(backoff)
                    backoff = min(backoff * 2, self.backoff_max_s)
            except GoneError:
                self.relists += 1
                need_list = True
            except BackendError as exc:
                if self._stop.is_set():
                    break
                self.error = exc
                self._down(str(exc))
                if isinstance(exc, ForbiddenError):
                    backoff = self.backoff_max_s
                self._sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, self.backoff_max_s)
            except Exception as exc:  # noqa: BLE001 - a cache thread must never die
                if self._stop.is_set():
                    break
                self.error = BackendError(f"{self.spec.name} watch failed: {exc}",
                                          source=SOURCE)
                self._down(str(self.error))
                self._sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
        self._resp = None

    def _list(self) -> None:
        items: dict[str, Any] = {}
        cont: str | None = None
        path = self.spec.path(self.namespace)
        while True:
            query = {"limit": self.page_size, "continue": cont,
                     "labelSelector": self.spec.label_selector}
            self.lists += 1
            try:
                doc = self.api.request("GET", path, query=query)
            except GoneError:
                if cont is None:
                    raise
                items, cont = {}, None  # continue token expired: restart the list
                continue
            for obj in (doc or {}).get("items") or []:
                if isinstance(obj, dict):
                    items[_key(obj)] = self.spec.slim(obj)
            meta = (doc or {}).get("metadata") or {}
            cont = meta.get("continue") or None
            if cont is None:
                rv = meta.get("resourceVersion")
                break
        if self.max_items is not None and len(items) > self.max_items:
            items = _newest(items, self.max_items)
        with self._lock:
            self._items = items
            self.resource_version = rv
            self._changed()
        self.last_heard = time.monotonic()
        self.error = None
        self._down("listed; the watch is not streaming yet")  # until it is (_watch)
        self.synced.set()

    def _watch(self) -> bool:
        """One watch connection; True when it delivered at least one event."""
        query = {"watch": "true", "resourceVersion": self.resource_version,
                 "allowWatchBookmarks": "true", "timeoutSeconds": self.watch_timeout_s,
                 "labelSelector": self.spec.label_selector}
        self.watches += 1
        if self.down_since is not None:
            self.down_reason = f"reconnecting the watch (last: {self.down_reason})"
        resp = self.api.open_stream(self.spec.path(self.namespace), query,
                                    read_timeout=self.watch_timeout_s + 30)
        self._resp, self._opened = resp, time.monotonic()
        self.down_since, self.down_reason = None, ""  # streaming again: fresh
        self.error = None
        delivered = False
        if self._stop.is_set():  # stop() ran before the stream was known
            resp.shutdown()
        try:
            for line in _lines(resp):
                if self._stop.is_set():
                    break
                self._apply(line)
                delivered = True
        except (GoneError, BackendError):
            raise
        except Exception as exc:  # noqa: BLE001 - connection cut mid-stream: resume like a clean end
            self._ended(f"the watch connection was cut: {type(exc).__name__}")
            return delivered
        finally:
            self._resp = None
            if self.down_since is None and not self._stop.is_set():
                self._ended("the watch ended")
            self._giving_up = False
            try:
                resp.release_conn()
            except Exception:  # pragma: no cover
                pass
        return delivered

    def _ended(self, reason: str) -> None:
        """The stream ended (``reason``), or was given up for its silence: then the cache is
        behind since it last heard anything, not since now."""
        heard, silent = self.last_heard, self.silent_for()
        if self._giving_up and heard is not None:
            self._down(f"silent for {silent:.0f}s (neither an event nor a bookmark); "
                       f"watching again", since=heard)
        else:
            self._down(reason)

    def _apply(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            raise BackendError(f"{self.spec.name} watch sent invalid JSON",
                               source=SOURCE) from None
        etype = event.get("type")
        obj = event.get("object") or {}
        self.last_heard = time.monotonic()
        if etype == "BOOKMARK":
            self.bookmarks += 1
            self.bookmarks_seen = True
        if etype == "ERROR":
            code = obj.get("code")
            msg = obj.get("message") or "watch error"
            if code == 410:
                raise GoneError(f"gone (410): {msg}", source=SOURCE, status=410)
            raise BackendError(f"{self.spec.name} watch error {code}: {msg}", source=SOURCE,
                               status=code if isinstance(code, int) else None)
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        with self._lock:
            if etype in ("ADDED", "MODIFIED"):
                self._items[_key(obj)] = self.spec.slim(obj)
                if self.max_items is not None and len(self._items) > self.max_items:
                    self._items.pop(next(iter(self._items)))
                self._changed()
            elif etype == "DELETED":
                if self._items.pop(_key(obj), None) is not None:
                    self._changed()
            if rv:
                self.resource_version = rv


def _newest(items: dict[str, Any], n: int) -> dict[str, Any]:
    ordered = sorted(items.items(), key=lambda kv: (getattr(kv[1], "last", None) is not None,
                                                   getattr(kv[1], "last", None) or 0))
    return dict(ordered[-n:])


def _lines(resp) -> Any:
    """Yield complete newline-terminated lines from a streaming HTTP response."""
    buf = b""
    if getattr(resp, "chunked", False):
        chunks = resp.read_chunked(decode_content=True)
    else:
        chunks = iter(lambda: resp.read1(65536), b"")
    for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line
    if buf.strip():
        yield buf
