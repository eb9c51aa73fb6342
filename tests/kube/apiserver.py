"""A Kubernetes API server for tests: real REST paths over HTTP/1.1, in-memory state, a tiny controller.

Use it through the ``apiserver`` / ``apiserver_factory`` fixtures (tests/kube/conftest.py)::

    server.url, server.kubeconfig                  # contexts test-admin, test-viewer (namespace ml-serving)
    server.load(objs) / server.load_yaml(path)     # plain objects plus fixture.pitboard.test/v1 documents
    server.get_object("apps/v1", "deployments", "ml-serving", "llama-chat")
    server.list_objects("v1", "pods", "ml-serving")
    server.requests                                # RequestRecord log
    server.inject("PATCH", r"/deployments/", 409)  # fault injection (status and/or delay_s)
    server.add_user("ana", groups=("ml-release",))  # another identity: context test-ana
    server.self_review_versions = ()               # no SelfSubjectReview (404 on every version)
    server.drop_watches(); server.compact()        # watch resume and 410 Gone
    server.bookmark_interval_s = 0.2               # periodic BOOKMARKs (allowWatchBookmarks; default 60 s)
    server.silence_watches("deployments")          # watches stay open but send nothing ... ("*": all)
    server.silence_watches(None)                   # ... until lifted
"""

from __future__ import annotations

import copy
import re
import sys
import threading
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .apiserver_auth import Policy
from .apiserver_controller import Controller
from .apiserver_errors import REASONS
from .apiserver_fixture import load_documents, write_kubeconfig
from .apiserver_http import Handler
from .apiserver_registry import Registry
from .apiserver_resources import by_group_version
from .apiserver_store import Store

__all__ = ["ApiServer", "Injection", "RequestRecord"]

_LOADED: dict[tuple[str, int], dict[str, Any]] = {}  # fixture file -> loaded state, to clone per test


@dataclass
class RequestRecord:
    """One request as the server saw it (``status`` is filled when the answer is sent)."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any
    user: str | None
    accept: str = ""
    status: int | None = None
    audit_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def mutating(self) -> bool:
        """True for POST/PUT/PATCH/DELETE other than access and subject reviews (which change
        nothing: the API server answers them and stores nothing)."""
        return (self.method in ("POST", "PUT", "PATCH", "DELETE")
                and not self.path.endswith(("accessreviews", "subjectreviews")))

    @property
    def is_watch(self) -> bool:
        """True for a watch request."""
        return self.query.get("watch") in ("true", "1")


@dataclass
class Injection:
    """A fault: answer ``status`` (after ``delay_s``) to requests matching ``method`` and ``path_regex``."""

    method: str
    path_regex: str
    status: int | None
    times: int | None = 1
    delay_s: float = 0.0
    body: dict[str, Any] | None = None
    hits: int = 0
    query: dict[str, str | None] | None = None

    def matches(self, method: str, path: str, full: str) -> bool:
        """Whether a request matches (the regex is searched in the path and in path?query;
        ``query``, when set, must match too: name -> value, or None for "absent")."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", method.upper()):
            return False
        if self.query is not None:
            from urllib.parse import parse_qs

            got = parse_qs(full.partition("?")[2], keep_blank_values=True)
            for name, value in self.query.items():
                if (name in got) if value is None else (value not in got.get(name, ())):
                    return False
        return bool(re.search(self.path_regex, path) or re.search(self.path_regex, full))

    def message(self) -> str:
        """Default Status message for the injected code."""
        return f"injected fault: {REASONS.get(self.status or 0, 'Error')}"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: ApiServer
    port_user: str | None

    def handle_error(self, request, client_address) -> None:
        """A client that went away, or a request cut by ``stop()``: expected, and not
        printed (socketserver would print the traceback into the test output)."""
        if isinstance(sys.exc_info()[1], OSError) or self.api.stopping.is_set():
            return
        super().handle_error(request, client_address)


class ApiServer:
    """The test API server. ``start()`` binds 127.0.0.1 on free ports; ``stop()`` ends everything.

    ``url`` requires a bearer token (401 without). kubectl never sends credentials over plain HTTP
    (client-go only attaches them to TLS connections), so every user also gets a port of its own
    (``user_urls``) where a request without a token runs as that user; the kubeconfig contexts
    ``test-<user>`` point there and still carry the user's token for clients that send it.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.store = Store()
        self.controller = Controller(self.store)
        self.registry = Registry(self.store, self.controller)
        self.policy = Policy()
        self.requests: list[RequestRecord] = []
        self.injections: list[Injection] = []
        self.stopping = threading.Event()
        self.bookmark_interval_s: float | None = 60.0
        """How often a watch with ``allowWatchBookmarks`` gets a BOOKMARK (the apiserver's
        cacher: every minute, plus one right before the deadline); None: only that last one."""
        self.silent_watches: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._listeners: dict[str | None, _HTTPServer] = {}
        self.user_urls: dict[str, str] = {}
        #: the SelfSubjectReview versions served (``()``: none, every POST is a 404, as on a
        #: server older than 1.26 or with the API disabled); 1.28+ serve v1 only
        self.self_review_versions: tuple[str, ...] = ("v1",)
        self.url = ""
        self.kubeconfig = self.workdir / "kubeconfig"

    # ------------------------------------------------------------ lifecycle
    def start(self) -> ApiServer:
        """Listen on 127.0.0.1 (a free port per user too) and write the kubeconfig."""
        self.url = self._listen(None)
        self._listen_users()
        return self

    def _listen(self, user: str | None) -> str:
        http = _HTTPServer(("127.0.0.1", 0), Handler)
        http.api = self
        http.port_user = user
        thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"test-apiserver-{user or 'main'}", daemon=True)
        thread.start()
        self._listeners[user] = http
        return f"http://127.0.0.1:{http.server_address[1]}"

    def _listen_users(self) -> None:
        for user in {u.name for u in self.policy.users.values()}:
            if user not in self._listeners:
                self.user_urls[user] = self._listen(user)
        write_kubeconfig(self)

    def stop(self) -> None:
        """Stop serving: end watches, stop timers, close the sockets."""
        self.stopping.set()
        self.store.drop_watches(abrupt=False)
        self.controller.stop()
        for http in self._listeners.values():
            http.shutdown()
            http.server_close()
        self._listeners.clear()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ state
    def load(self, objs: list[dict[str, Any]]) -> None:
        """Create objects (status kept) and apply fixture documents, running the controller."""
        load_documents(self, objs)
        if self.url:
            self._listen_users()

    def load_yaml(self, path: str | Path) -> None:
        """Load a multi-document YAML fixture (a fresh server reuses a cached load of the same file)."""
        import yaml

        path = Path(path).resolve()
        key = (str(path), path.stat().st_mtime_ns)
        fresh = not self.store.objects and not self.store.log
        if fresh and key in _LOADED:
            self._restore(_LOADED[key])
            return
        with open(path, encoding="utf-8") as fh:
            self.load([d for d in yaml.safe_load_all(fh) if d])
        if fresh:
            _LOADED[key] = self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        store, pods = self.store, self.controller.pods
        return copy.deepcopy({"objects": store.objects, "rv": store.rv, "log": store.log, "uids": store._uids,
                              "users": self.policy.users, "rng": pods.rng.getstate(), "ips": pods._ips,
                              "kserve": self.controller.kserve._templates})

    def _restore(self, snap: dict[str, Any]) -> None:
        snap = copy.deepcopy(snap)
        store, pods = self.store, self.controller.pods
        store.objects, store.rv, store.log, store._uids = snap["objects"], snap["rv"], snap["log"], snap["uids"]
        self.policy.users = snap["users"]
        pods.rng.setstate(snap["rng"])
        pods._ips = snap["ips"]
        self.controller.kserve._templates = snap["kserve"]
        if self.url:
            self._listen_users()

    def add_user(self, name: str, *, token: str | None = None, groups: tuple[str, ...] = (),
                 verbs: tuple[str, ...] = ("*",), uid: str = "") -> str:
        """Add (or replace) a user allowed ``verbs`` everywhere, with a ``test-<name>``
        context in the kubeconfig; returns that context's name."""
        from .apiserver_auth import Rule

        self.policy.set_user(name, token or f"{name}-token", [Rule(verbs=verbs)], groups, uid)
        if self.url:
            self._listen_users()
        return f"test-{name}"

    def get_object(self, group_version: str, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A copy of a stored object, or None when it does not exist."""
        return self.store.get(by_group_version(group_version, plural), namespace, name)

    def list_objects(self, group_version: str, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of a type (one namespace or all), in key order."""
        return self.store.list(by_group_version(group_version, plural), namespace)

    # ------------------------------------------------------------ faults and log
    def inject(self, method: str, path_regex: str, status: int | None, times: int | None = 1,
               delay_s: float = 0.0, body: dict[str, Any] | None = None,
               query: dict[str, str | None] | None = None) -> Injection:
        """Answer the next ``times`` matching requests (None: all) with ``status`` after ``delay_s``.

        ``status`` None or 0 only delays. A 410 on a watch arrives as an ERROR event in a 200 stream,
        like the real server. ``body`` replaces the default Status body. ``query`` also requires
        query parameters: ``{"dryRun": "All"}`` only the dry run, ``{"dryRun": None}`` only the real call.
        """
        rule = Injection(method.upper(), path_regex, status, times, delay_s, body, query=query)
        with self._lock:
            self.injections.append(rule)
        return rule

    def remove_injection(self, rule: Injection) -> None:
        """Stop ``rule`` (one :meth:`inject` returned) before its ``times`` ran out."""
        with self._lock:
            self.injections[:] = [r for r in self.injections if r is not rule]

    def take_injection(self, method: str, path: str, full: str) -> Injection | None:
        """The first live injection matching a request (its use is counted)."""
        with self._lock:
            for rule in self.injections:
                if rule.matches(method, path, full):
                    rule.hits += 1
                    return rule
        return None

    def log_request(self, method: str, path: str, query: dict[str, str], content_type: str, body: Any,
                    user: str | None, accept: str) -> RequestRecord:
        """Append a record to ``requests``."""
        record = RequestRecord(method, path, query, content_type, body, user, accept)
        with self._lock:
            self.requests.append(record)
        return record

    def silence_watches(self, *plurals: str | None) -> None:
        """Keep the watches of ``plurals`` (``"*"``: every resource) connected but silent: no
        event, no bookmark, no end at timeoutSeconds -- a hung server or a proxy that stopped
        forwarding. ``silence_watches(None)`` (or no argument) lifts it; what happened
        meanwhile is then delivered."""
        self.silent_watches = frozenset(p for p in plurals if p)

    def watch_is_silent(self, plural: str) -> bool:
        """Whether watches of ``plural`` are kept silent now."""
        silent = self.silent_watches
        return bool(silent) and ("*" in silent or plural in silent)

    def drop_watches(self, abrupt: bool = True) -> int:
        """Cut every open watch (abruptly by default, like a lost connection); returns how many."""
        return self.store.drop_watches(abrupt)

    def compact(self) -> int:
        """Compact history: watching or continuing from any resourceVersion seen so far gives 410."""
        return self.store.compact()

    @property
    def open_watches(self) -> int:
        """Number of watches currently streaming."""
        return len(self.store.watchers)

    @property
    def rollout_delay_s(self) -> float:
        """Seconds a Deployment rollout stays in progress (0: instant)."""
        return self.controller.rollout_delay_s

    @rollout_delay_s.setter
    def rollout_delay_s(self, value: float) -> None:
        self.controller.rollout_delay_s = value

    def finish_rollouts(self) -> None:
        """Complete delayed rollouts now."""
        self.controller.finish_rollouts()

    # ------------------------------------------------------------ stepping a rollout
    def hold(self, name: str, namespace: str = "ml-serving") -> None:
        """The controller does not see changes of this object (its observedGeneration lags)
        until :meth:`release`."""
        self.controller.held.add((namespace, name))

    def release(self, name: str, namespace: str = "ml-serving") -> None:
        """The controller sees the object again and reconciles it now."""
        self.controller.held.discard((namespace, name))
        self.controller.resync(namespace, name)

    def step(self, name: str, ready: int | None, namespace: str = "ml-serving") -> None:
        """Hold a Deployment's rolling update at ``ready`` pods of the new revision ready
        (one more starting); None: let it finish."""
        if ready is None:
            self.controller.stepped.pop((namespace, name), None)
        else:
            self.controller.stepped[(namespace, name)] = ready
        self.controller.resync(namespace, name)

    def exceed_deadline(self, name: str, namespace: str = "ml-serving") -> None:
        """As if the Deployment's progressDeadlineSeconds passed without progress: its
        controller reports Progressing=False, ProgressDeadlineExceeded."""
        self.controller.stuck.add((namespace, name))
        self.controller.resync(namespace, name)
