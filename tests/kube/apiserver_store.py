"""In-memory object storage with resourceVersions, an event log, compaction and watchers."""

from __future__ import annotations

import copy
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .apiserver_errors import expired
from .apiserver_resources import Resource

Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster scoped), name
Filter = Callable[[dict[str, Any]], bool]
_UID_NS = uuid.UUID("6f1c2f3e-0000-4000-8000-00000000a11c")


def key_of(res: Resource, obj: dict[str, Any]) -> Key:
    """Storage key of an object of ``res``."""
    meta = obj.get("metadata") or {}
    return (res.group, res.plural, meta.get("namespace", "") if res.namespaced else "", meta.get("name", ""))


@dataclass
class LogEntry:
    """One change: the object after it (and before, for MODIFIED/DELETED)."""

    rv: int
    res: Resource
    type: str
    obj: dict[str, Any]
    old: dict[str, Any] | None


@dataclass(eq=False)
class Watcher:
    """A live watch: events matching its filter are queued for the HTTP handler to stream."""

    res: Resource
    namespace: str | None
    match: Filter
    events: queue.Queue = field(default_factory=queue.Queue)
    closed: threading.Event = field(default_factory=threading.Event)
    abrupt: bool = False

    def offer(self, entry: LogEntry) -> None:
        """Queue ``entry`` as ADDED/MODIFIED/DELETED as seen through the filter."""
        if entry.res != self.res:
            return
        ns = (entry.obj.get("metadata") or {}).get("namespace")
        if self.namespace is not None and ns != self.namespace:
            return
        new_ok = entry.type != "DELETED" and self.match(entry.obj)
        old_ok = entry.old is not None and self.match(entry.old)
        if entry.type == "DELETED":
            kind = "DELETED" if old_ok or self.match(entry.obj) else None
        elif new_ok and old_ok:
            kind = "MODIFIED"
        elif new_ok:
            kind = "ADDED"
        elif old_ok:
            kind = "DELETED"
        else:
            kind = None
        if kind:
            self.events.put({"type": kind, "object": copy.deepcopy(entry.obj)})

    def close(self, abrupt: bool = False) -> None:
        """End the watch: cleanly (final chunk) or by dropping the connection."""
        self.abrupt = abrupt
        self.closed.set()
        self.events.put(None)


class Store:
    """Objects by key, a global resourceVersion counter, the change log and live watchers."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[Key, dict[str, Any]] = {}
        self.rv = 1000
        self.log: list[LogEntry] = []
        self.compacted_rv = 0
        self.watchers: set[Watcher] = set()
        self._uids = 0
        self.clock_offset = timedelta(0)

    # ------------------------------------------------------------ time and ids
    def now(self) -> datetime:
        """The server's clock (shifted into the past while fixture history is built)."""
        return datetime.now(timezone.utc).replace(microsecond=0) + self.clock_offset

    def timestamp(self) -> str:
        """``2026-01-01T00:00:00Z``."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def new_uid(self) -> str:
        """A deterministic UID (two servers loaded the same way give the same UIDs)."""
        self._uids += 1
        return str(uuid.uuid5(_UID_NS, str(self._uids)))

    # ------------------------------------------------------------ reads
    def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A copy of the stored object, or None."""
        with self.lock:
            obj = self.objects.get((res.group, res.plural, (namespace or "") if res.namespaced else "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, res: Resource, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the objects of ``res`` (in ``namespace`` if given), in etcd key order."""
        with self.lock:
            keys = sorted(k for k in self.objects if k[0] == res.group and k[1] == res.plural
                          and (namespace is None or not res.namespaced or k[2] == namespace))
            return [copy.deepcopy(self.objects[k]) for k in keys]

    # ------------------------------------------------------------ writes
    def commit(self, res: Resource, obj: dict[str, Any], deleted: bool = False) -> dict[str, Any]:
        """Store (or delete) ``obj`` under a new resourceVersion, log it and notify watchers."""
        with self.lock:
            key = key_of(res, obj)
            old = self.objects.get(key)
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            if deleted:
                self.objects.pop(key, None)
                kind = "DELETED"
            else:
                self.objects[key] = obj
                kind = "MODIFIED" if old is not None else "ADDED"
            entry = LogEntry(self.rv, res, kind, obj, copy.deepcopy(old) if old is not None else None)
            self.log.append(entry)
            for watcher in list(self.watchers):
                watcher.offer(entry)
            return copy.deepcopy(obj)

    def save(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Commit ``obj`` only if it differs from what is stored (no spurious resourceVersions)."""
        with self.lock:
            current = self.objects.get(key_of(res, obj))
            if current is not None:
                a = {**current, "metadata": {k: v for k, v in current["metadata"].items() if k != "resourceVersion"}}
                b = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}
                if a == b:
                    return copy.deepcopy(current)
            return self.commit(res, obj)

    # ------------------------------------------------------------ watch
    def watch(self, res: Resource, namespace: str | None, match: Filter, rv: str | None,
              initial: bool | None = None) -> Watcher:
        """Register a watcher from ``rv``: replays later changes, or ADDED for all when rv is ""/"0".

        Raises 410 Expired when ``rv`` is at or before the last compaction.
        """
        with self.lock:
            watcher = Watcher(res, namespace, match)
            if rv in (None, "", "0") or initial:
                for obj in self.list(res, namespace):
                    if match(obj):
                        watcher.events.put({"type": "ADDED", "object": obj})
                if initial:
                    watcher.events.put({"type": "BOOKMARK", "object": {
                        "kind": res.kind, "apiVersion": res.group_version,
                        "metadata": {"resourceVersion": str(self.rv),
                                     "annotations": {"k8s.io/initial-events-end": "true"}}}})
            else:
                try:
                    start = int(rv)
                except ValueError:
                    from .apiserver_errors import ApiError

                    raise ApiError(400, f'invalid resource version "{rv}"') from None
                if start <= self.compacted_rv:
                    raise expired(f"too old resource version: {start} ({self.compacted_rv + 1})")
                for entry in self.log:
                    if entry.rv > start:
                        watcher.offer(entry)
            self.watchers.add(watcher)
            return watcher

    def unwatch(self, watcher: Watcher) -> None:
        """Forget a watcher (its connection ended)."""
        with self.lock:
            self.watchers.discard(watcher)

    def drop_watches(self, abrupt: bool = True) -> int:
        """Close every live watch; returns how many were open."""
        with self.lock:
            watchers = list(self.watchers)
            self.watchers.clear()
        for watcher in watchers:
            watcher.close(abrupt)
        return len(watchers)

    def compact(self) -> int:
        """Forget the change log: any resourceVersion up to now becomes too old (410) to watch from."""
        with self.lock:
            self.compacted_rv = self.rv
            self.log.clear()
            return self.rv
