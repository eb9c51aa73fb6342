"""Reaching a Kubernetes API: kubeconfig resolution, contexts, one HTTP helper, error mapping.

The official ``kubernetes`` client is imported lazily (inside the two functions that need
it): it is slow to import and the console must draw its first frame before any backend is
ready.
Every failure leaves this module as a ``backends.domain.errors.BackendError`` subclass with a
message a human can act on (which file, which context, which permission).
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml

from backends.domain.errors import (
    ActionRefused,
    BackendError,
    ConfigError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)

SOURCE = "kubernetes"
IN_CLUSTER = "in-cluster"
_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (its wheels do): the same documents, ~20x
faster. A kubeconfig with 20 contexts and their certificates inline (~100 KB) takes
~65 ms to parse in pure Python, and it used to be parsed four times per context."""
_parsed_lock = threading.Lock()
_documents: dict[tuple, Any] = {}  # (path, mtime, size) -> its document
_merges: dict[tuple, Any] = {}  # ((path, mtime, size), ...) -> the client's merge of them


def _file_key(path: str) -> tuple:
    st = os.stat(path)
    return (path, st.st_mtime_ns, st.st_size)


def read_kubeconfig(path: str) -> Any:
    """``path``'s YAML document, parsed once while the file stays the same (its mtime and
    size); yaml errors and OSError as ``yaml.safe_load`` raises them."""
    key = _file_key(path)
    with _parsed_lock:
        if key in _documents:
            return _documents[key]
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    with _parsed_lock:
        _documents[key] = doc
    return doc


def merged_kubeconfig(kubeconfig: str) -> Any:
    """The kubernetes client's merge of a KUBECONFIG path list (its ``KubeConfigMerger``:
    the first entry of a name wins, each entry keeps its file for relative certificate
    paths), made once per set of unchanged files, each parsed by :func:`read_kubeconfig`.
    Raises what the client's merger raises (``ConfigException`` for an empty file)."""
    from kubernetes.config.kube_config import (  # noqa: PLC0415 - the client, on demand
        ConfigException,
        ConfigNode,
        KubeConfigMerger,
    )

    class Merger(KubeConfigMerger):
        def load_config(self, path: str) -> None:
            # kubernetes 37's KubeConfigMerger.load_config, the document from
            # read_kubeconfig (a copy: the merger keeps it) instead of yaml.safe_load
            config = copy.deepcopy(read_kubeconfig(path))
            if config is None:
                raise ConfigException(f"Invalid kube-config. {path} file is empty")
            if self.config_merged is None:
                config_merged = copy.deepcopy(config)
                for item in ("clusters", "contexts", "users"):
                    config_merged[item] = []
                self.config_merged = ConfigNode(path, config_merged, path)
            for item in ("clusters", "contexts", "users"):
                self._merge(item, config.get(item, []) or [], path)
            if "current-context" in config:
                self.config_merged.value["current-context"] = config["current-context"]
            self.config_files[path] = config

    paths = [os.path.expanduser(p) for p in kubeconfig.split(os.pathsep) if p]
    key = tuple(_file_key(p) for p in paths if os.path.exists(p))
    with _parsed_lock:
        if key in _merges:
            return _merges[key]
    merger = Merger(kubeconfig)
    with _parsed_lock:
        _merges[key] = merger
    return merger


class UnreachableError(BackendError):
    """The API server could not be reached (DNS, refused, TLS, timeout)."""

    unreachable = True  # read by the console and the CLI without importing this module


class GoneError(BackendError):
    """410 Gone: the resourceVersion is too old; the cache must LIST again."""


@dataclass(frozen=True)
class RequestInfo:
    """What an API path means in RBAC terms (for messages and SelfSubjectAccessReview)."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None

    def describe(self) -> str:
        res = self.resource + (f"/{self.subresource}" if self.subresource else "")
        grp = f".{self.group}" if self.group else ""
        where = f" in namespace {self.namespace!r}" if self.namespace else " (cluster-wide)"
        return f"{self.verb} {res}{grp}{where}"


def request_info(method: str, path: str, query: dict | None = None) -> RequestInfo:
    """Parse ``/apis/<g>/<v>/namespaces/<ns>/<res>/<name>/<sub>`` into RBAC attributes."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    group = ""
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[3:]
    else:
        rest = parts
    namespace = None
    if len(rest) > 2 and rest[0] == "namespaces":  # /namespaces/<ns>/<resource>...
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    m = method.upper()
    watch = bool(query and str(query.get("watch", "")).lower() in {"1", "true"})
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(m)
    if verb is None:
        verb = "watch" if watch else ("get" if name else "list")
    return RequestInfo(verb, group, resource, sub, namespace, name)


# -- kubeconfig -----------------------------------------------------------------------------


def resolve_kubeconfig(explicit: str | None = None) -> str | None:
    """The kubeconfig to load: explicit path, else $KUBECONFIG (a path list), else
    ~/.kube/config; ``None`` means in-cluster config. Raises ConfigError."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ConfigError(f"kubeconfig {path} does not exist", source=SOURCE)
        return path
    env = os.environ.get("KUBECONFIG", "")
    if env.strip():
        paths = [os.path.expanduser(p) for p in env.split(os.pathsep) if p.strip()]
        existing = [p for p in paths if os.path.isfile(p)]
        if not existing:
            raise ConfigError(f"KUBECONFIG names no existing file: {env}", source=SOURCE)
        return os.pathsep.join(existing)
    default = os.path.expanduser("~/.kube/config")
    if os.path.isfile(default):
        return default
    if os.environ.get("KUBERNETES_SERVICE_HOST") and os.path.isfile(_TOKEN_FILE):
        return None
    raise ConfigError(
        "no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or run inside a cluster",
        source=SOURCE,
    )


_SECTIONS = (("clusters", "cluster", ("server", "certificate-authority",
                                       "certificate-authority-data", "proxy-url",
                                       "tls-server-name")),
             ("users", "user", ("token", "tokenFile", "username", "password",
                                "client-certificate", "client-certificate-data",
                                "client-key", "client-key-data")),
             ("contexts", "context", ("cluster", "user", "namespace")))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "empty"}.get(type(value),
                                                                       type(value).__name__)


def validate_kubeconfig(path: str, context: str | None = None) -> None:
    """Check a kubeconfig file's shape before the client reads it, so a malformed one is
    named with its file and field (``contexts[1].context.user: expected a string, got a
    list``) instead of the client's internals. ``context``: also check that the entries
    it names exist. Raises ConfigError."""
    try:
        doc = read_kubeconfig(path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"kubeconfig {path} is not valid YAML ({where.strip()}): "
                          f"{exc.problem or exc}", source=SOURCE) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc}", source=SOURCE) from None

    def bad(field_path: str, what: str) -> ConfigError:
        return ConfigError(f"invalid kubeconfig {path}: field {field_path}: {what}",
                           source=SOURCE)

    if doc is None:
        return  # empty: no contexts (said later, with the names available)
    if not isinstance(doc, dict):
        raise bad("(top level)", f"expected a mapping, got {_kind(doc)}")
    names: dict[str, set[str]] = {}
    for section, inner, strings in _SECTIONS:
        entries = doc.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise bad(section, f"expected a list, got {_kind(entries)}")
        seen = names.setdefault(section, set())
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict):
                raise bad(where, f"expected a mapping, got {_kind(entry)}")
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                raise bad(f"{where}.name", "missing" if name is None else
                          f"expected a string, got {_kind(name)}")
            seen.add(name)
            body = entry.get(inner)
            if body is None:
                raise bad(f"{where}.{inner}", f"missing (the {inner} of {name!r})")
            if not isinstance(body, dict):
                raise bad(f"{where}.{inner}", f"expected a mapping, got {_kind(body)}")
            for key in strings:
                if key in body and not isinstance(body[key], str):
                    raise bad(f"{where}.{inner}.{key}",
                              f"expected a string, got {_kind(body[key])}")
    current = doc.get("current-context")
    if current is not None and not isinstance(current, str):
        raise bad("current-context", f"expected a string, got {_kind(current)}")
    wanted = context or current
    for i, entry in enumerate(doc.get("contexts") or []):
        if entry.get("name") != wanted:
            continue
        body = entry["context"]
        for ref, section in (("cluster", "clusters"), ("user", "users")):
            target = body.get(ref)
            if ref == "cluster" and target is None:
                raise bad(f"contexts[{i}].context.cluster", f"missing (context {wanted!r} "
                                                            f"names no cluster)")
            if target is not None and target not in names.get(section, set()):
                raise bad(f"contexts[{i}].context.{ref}",
                          f"{target!r} is not the name of any {section}[] entry")


def context_details(kubeconfig: str | None) -> tuple[list[str], str | None,
                                                     dict[str, str | None],
                                                     dict[str, str | None]]:
    """(context names, current context, default namespace and kubeconfig user entry name
    per context). Raises ConfigError."""
    if kubeconfig is None:
        return [IN_CLUSTER], IN_CLUSTER, {IN_CLUSTER: None}, {IN_CLUSTER: None}
    for path in kubeconfig.split(os.pathsep):
        validate_kubeconfig(path)
    # here, not at the top: the kubernetes client takes ~0.3 s to import, off the start-up path
    from kubernetes.config.kube_config import ConfigException  # noqa: PLC0415

    try:
        # the client's list_kube_config_contexts, on the merge made once (merged_kubeconfig)
        loader = _loader(kubeconfig)
        contexts, active = loader.list_contexts(), loader.current_context
    except ConfigException as exc:
        if "current-context" in str(exc):
            contexts, active = _contexts_without_current(kubeconfig)
        else:
            raise ConfigError(f"invalid kubeconfig {kubeconfig}: {exc}", source=SOURCE) from None
    except Exception as exc:  # yaml errors, unreadable files
        raise ConfigError(f"cannot read kubeconfig {kubeconfig}: {exc}", source=SOURCE) from None
    names = [c.get("name") for c in contexts or [] if c.get("name")]
    ns = {c["name"]: (c.get("context") or {}).get("namespace") for c in contexts or []
          if c.get("name")}
    users = {c["name"]: _text_or_none((c.get("context") or {}).get("user"))
             for c in contexts or [] if c.get("name")}
    return names, (active or {}).get("name"), ns, users


def _loader(kubeconfig: str, context: str | None = None) -> Any:
    """The client's ``KubeConfigLoader`` for ``context`` (None: the current one) of the
    merged ``kubeconfig``, as its ``_get_kube_config_loader`` makes it."""
    from kubernetes.config.kube_config import (  # noqa: PLC0415 - the client, on demand
        ConfigException,
        KubeConfigLoader,
    )

    merger = merged_kubeconfig(kubeconfig)
    if merger.config is None:
        raise ConfigException("Invalid kube-config file. No configuration found.")
    return KubeConfigLoader(config_dict=merger.config, config_base_path=None,
                            active_context=context)


def _text_or_none(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _contexts_without_current(kubeconfig: str) -> tuple[list[dict], dict | None]:
    merged: list[dict] = []
    for path in kubeconfig.split(os.pathsep):
        doc = read_kubeconfig(path) or {}
        merged.extend(doc.get("contexts") or [])
    return merged, None


@dataclass
class Connection:
    """A resolved (kubeconfig, context) pair with its API client; no network yet."""

    context: str
    kubeconfig: str | None
    server: str
    default_namespace: str | None
    api_client: Any = field(repr=False)
    #: The kubeconfig ``users[].name`` of the context (None in-cluster / not set).
    user: str | None = None


def connect(kubeconfig: str | None, context: str | None, *, pool_size: int = 32) -> Connection:
    """Build an ``ApiClient`` for ``context`` (default: the current one). Local only:
    raises ConfigError for a missing file or an unknown context (listing the known ones)."""
    path = resolve_kubeconfig(kubeconfig)
    names, current, namespaces, users = context_details(path)
    if path is None:
        if context not in (None, IN_CLUSTER):
            raise ConfigError(f"unknown context {context!r}: running in-cluster with no "
                              "kubeconfig", source=SOURCE)
        context = IN_CLUSTER
    elif context is None:
        if current is None:
            raise ConfigError(f"kubeconfig {path} has no current-context; pass --context "
                              f"(available: {', '.join(names) or 'none'})", source=SOURCE)
        context = current
    elif context not in names:
        raise ConfigError(f"unknown context {context!r} in {path}; available: "
                          f"{', '.join(names) or 'none'}", source=SOURCE)
    if path is not None and os.pathsep not in path:
        validate_kubeconfig(path, context)  # the entries the context names exist
    # here, not at the top: the kubernetes client takes ~0.3 s to import, off the start-up path
    from kubernetes import client, config

    cfg = client.Configuration()
    try:
        if path is None:
            config.load_incluster_config(client_configuration=cfg)
        else:
            # the client's load_kube_config(persist_config=False), on the merge made once
            _loader(path, context).load_and_set(cfg)
    except Exception as exc:
        raise ConfigError(f"cannot use context {context!r} from {path or 'in-cluster'}: {exc}",
                          source=SOURCE) from None
    cfg.connection_pool_maxsize = pool_size
    api = client.ApiClient(configuration=cfg)
    return Connection(context, path, cfg.host, namespaces.get(context), api,
                      user=users.get(context))


# -- HTTP -----------------------------------------------------------------------------------


def _status_message(data: bytes) -> str:
    try:
        doc = json.loads(data)
        if isinstance(doc, dict) and doc.get("message"):
            return str(doc["message"])
    except (ValueError, UnicodeDecodeError):
        pass
    text = data[:300].decode("utf-8", "replace").strip()
    return text


def map_status(status: int, data: bytes, method: str, path: str, query: dict | None,
               context: str) -> BackendError:
    """Turn an HTTP error answer into the matching BackendError subclass."""
    info = request_info(method, path, query)
    msg = _status_message(data)
    if status == 401:
        return ForbiddenError(f"unauthorized (401): the credentials of context {context!r} "
                              f"were rejected: {msg}", source=SOURCE, status=401)
    if status == 403:
        return ForbiddenError(f"forbidden (403): missing permission to {info.describe()} "
                              f"(context {context!r}): {msg}", source=SOURCE, status=403)
    if status == 404:
        return NotFoundError(f"not found (404): {info.resource}"
                             f"{'/' + info.name if info.name else ''}"
                             f"{' in namespace ' + repr(info.namespace) if info.namespace else ''}"
                             f": {msg}", source=SOURCE, status=404)
    if status == 409:
        return ConflictError(f"conflict (409) on {info.resource}/{info.name}: {msg}",
                             source=SOURCE, status=409)
    if status == 410:
        return GoneError(f"gone (410): {msg}", source=SOURCE, status=410)
    return BackendError(f"{method} {path} failed ({status}): {msg}", source=SOURCE, status=status)


class KubeApi:
    """Thin JSON-over-HTTP helper on the official client's ApiClient (auth, TLS, proxies).

    ``request`` returns the decoded JSON body; ``open_stream`` returns the raw urllib3
    response for a watch. ``read_only`` makes every mutating call fail before it is sent.
    """

    def __init__(self, conn: Connection, *, timeout_s: float = 10.0, read_only: bool = False):
        self.conn = conn
        self.context = conn.context
        self.timeout_s = timeout_s
        self.read_only = read_only

    def _send(self, method: str, path: str, query: dict | None, body: Any,
              content_type: str | None, timeout: Any):
        if self.read_only and method.upper() in MUTATING:
            raise ActionRefused(f"read-only: {method} {path} not sent", source=SOURCE)
        api = self.conn.api_client
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        try:
            m, url, hdrs, payload, _ = api.param_serialize(
                method, path, query_params=params or None, header_params=headers, body=body,
                auth_settings=["BearerToken"],
            )
            return api.call_api(m, url, header_params=hdrs, body=payload,
                                _request_timeout=timeout)
        except BackendError:
            raise
        except Exception as exc:
            raise UnreachableError(
                f"cannot reach the Kubernetes API at {self.conn.server} (context "
                f"{self.context!r}): {_short(exc)}", source=SOURCE) from None

    def request(self, method: str, path: str, *, query: dict | None = None, body: Any = None,
                content_type: str | None = None, timeout: float | None = None) -> Any:
        """One call; the decoded JSON answer (None when empty). Raises BackendError."""
        t = timeout or self.timeout_s
        resp = self._send(method, path, query, body, content_type, (min(t, 5.0), t))
        try:
            data = resp.read()
        except Exception as exc:
            raise UnreachableError(f"connection to {self.conn.server} lost: {_short(exc)}",
                                   source=SOURCE) from None
        if resp.status >= 400:
            raise map_status(resp.status, data, method, path, query, self.context)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise BackendError(f"{method} {path}: the server answered with invalid JSON",
                               source=SOURCE) from None

    def open_stream(self, path: str, query: dict, read_timeout: float):
        """Start a watch; the raw urllib3 response, status already checked."""
        resp = self._send("GET", path, query, None, None, (min(self.timeout_s, 5.0),
                                                          read_timeout))
        if resp.status >= 400:
            data = resp.read()
            raise map_status(resp.status, data, "GET", path, query, self.context)
        return resp.response

    def close(self) -> None:
        try:
            self.conn.api_client.rest_client.pool_manager.clear()
        except Exception:  # pragma: no cover - best effort
            pass


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    reason = getattr(exc, "reason", None)
    if reason is not None and str(reason):
        text = str(reason)
    text = re.sub(r"<urllib3[^>]*>:?\s*", "", text)
    return text[:300]
