"""LIST (selectors, limit/continue) and WATCH (chunked event lines, resourceVersion, 410) for the handler."""

from __future__ import annotations

import base64
import json
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .apiserver_errors import ApiError, expired, status_body
from .apiserver_resources import Resource
from .apiserver_select import parse_field_selector, parse_label_selector

if TYPE_CHECKING:
    from .apiserver import ApiServer
    from .apiserver_http import Handler

MAX_WATCH_S = 1800.0


def make_filter(res: Resource, query: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """Combined label and field selector predicate from the query."""
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(query.get("fieldSelector"), res.plural, res.custom)
    return lambda obj: labels((obj.get("metadata") or {}).get("labels") or {}) and fields(obj)


def _encode_continue(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        return int(data["rv"]), str(data["start"]).rstrip("\x00")
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, f"continue key is not valid: {token}") from None


def list_objects(api: ApiServer, res: Resource, namespace: str | None, query: dict[str, str],
                 shape: Callable[..., dict[str, Any]] | None) -> dict[str, Any]:
    """A LIST answer: filtered items, list resourceVersion, continue token when ``limit`` cuts it."""
    match = make_filter(res, query)
    with api.store.lock:
        list_rv = api.store.rv
        objs = [o for o in api.store.list(res, namespace) if match(o)]
    start = ""
    if query.get("continue"):
        list_rv, start = _decode_continue(query["continue"])
        if list_rv <= api.store.compacted_rv:
            raise expired("The provided continue parameter is too old to display a consistent list result. You "
                          "can start a new list without the continue parameter, or use the continue value from "
                          "the response body.")

    def key(o: dict[str, Any]) -> str:
        return f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"

    objs = [o for o in objs if key(o) > start] if start else objs
    meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
    limit = int(query.get("limit") or 0)
    if limit > 0 and len(objs) > limit:
        meta["continue"] = _encode_continue(list_rv, key(objs[limit - 1]))
        meta["remainingItemCount"] = len(objs) - limit
        objs = objs[:limit]
    if shape is None:
        return {"kind": f"{res.kind}List", "apiVersion": res.group_version, "metadata": meta, "items": objs}
    return shape(res, objs, single=False, list_meta=meta)


def watch_stream(handler: Handler, res: Resource, namespace: str | None) -> None:
    """Stream watch events as JSON lines until timeoutSeconds, a drop, or the server stopping."""
    query = handler.query
    api = handler.api
    match = make_filter(res, query)
    initial = query.get("sendInitialEvents") in ("true", "1")
    try:
        watcher = api.store.watch(res, namespace, match, query.get("resourceVersion"), initial)
    except ApiError as err:
        if err.code != 410:
            raise
        handler.start_stream()
        handler.write_chunk(json.dumps({"type": "ERROR", "object": err.body}).encode() + b"\n")
        handler.end_stream(False)
        return
    timeout = float(query.get("timeoutSeconds") or MAX_WATCH_S)
    deadline = time.monotonic() + timeout
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    interval = api.bookmark_interval_s
    next_bookmark = time.monotonic() + interval if interval else None
    abrupt = False
    last_rv = query.get("resourceVersion") or ""
    try:
        handler.start_stream()
        while True:
            if api.watch_is_silent(res.plural):
                # connected but silent: nothing is sent (no event, no bookmark, no end at
                # timeoutSeconds) until the silence is lifted, the watch dropped or the
                # server stopped; the same stream then delivers what happened meanwhile
                if watcher.closed.is_set() or api.stopping.is_set():
                    abrupt = watcher.abrupt
                    break
                paused = time.monotonic()
                time.sleep(0.05)
                paused = time.monotonic() - paused  # the timeout clock stands still
                deadline += paused
                if next_bookmark is not None:
                    next_bookmark += paused
                continue
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                break
            if bookmarks and next_bookmark is not None and now >= next_bookmark:
                # periodic bookmark (the apiserver's cacher: every minute besides the one
                # right before the deadline): "every change up to this resourceVersion has
                # been sent", so only with nothing queued, at the store's resourceVersion
                with api.store.lock:
                    rv = str(api.store.rv) if watcher.events.empty() else None
                if rv is not None:
                    handler.write_chunk(json.dumps(_bookmark(res, rv)).encode() + b"\n")
                    last_rv = rv
                next_bookmark = now + (api.bookmark_interval_s or interval)
            wait = min(left, 0.25)
            if bookmarks and next_bookmark is not None:
                wait = max(0.0, min(wait, next_bookmark - now))
            try:
                event = watcher.events.get(timeout=wait)
            except queue.Empty:
                if api.stopping.is_set():
                    break
                continue
            if event is None:
                abrupt = watcher.abrupt
                break
            if event["type"] == "BOOKMARK" and not bookmarks and not initial:
                continue
            handler.write_chunk(json.dumps(event).encode() + b"\n")
            last_rv = event["object"]["metadata"].get("resourceVersion") or last_rv
        if bookmarks and not abrupt and last_rv not in ("", "0") and not api.stopping.is_set():
            handler.write_chunk(json.dumps(_bookmark(res, last_rv)).encode() + b"\n")
        handler.end_stream(abrupt)
    except (BrokenPipeError, ConnectionResetError, OSError):
        handler.close_connection = True
    finally:
        api.store.unwatch(watcher)


def _bookmark(res: Resource, rv: str) -> dict[str, Any]:
    """A BOOKMARK event: an object of the watched kind carrying only its resourceVersion."""
    return {"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.group_version,
                                           "metadata": {"resourceVersion": rv}}}


def error_event(code: int, message: str) -> dict[str, Any]:
    """A watch ERROR event carrying a Status."""
    return {"type": "ERROR", "object": status_body(code, message)}
