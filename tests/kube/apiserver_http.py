"""HTTP layer of the test API server: authentication, routing, fault injection, the request log."""

from __future__ import annotations

import json
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import apiserver_resources as resources
from .apiserver_errors import ApiError, status_body
from .apiserver_protobuf import PROTOBUF, decode_ssar, decode_ssr
from .apiserver_reads import list_objects, watch_stream

if TYPE_CHECKING:
    from .apiserver import ApiServer

_DISCOVERY = re.compile(r"^/(version|api|apis|healthz|livez|readyz|openapi)(/|$)")
VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class Target:
    """A parsed resource URL."""

    def __init__(self, res: resources.Resource, namespace: str | None, name: str | None, sub: str) -> None:
        self.res, self.namespace, self.name, self.sub = res, namespace, name, sub


def parse_resource_path(path: str) -> Target | None:
    """``/apis/apps/v1/namespaces/ns/deployments/x/status`` -> Target; None if not a resource URL."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and resources.find(group, version, rest[2]) is not None:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    res = resources.find(group, version, rest[0])
    if res is None or (namespace is not None and not res.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    return Target(res, namespace, name, sub)


class Handler(BaseHTTPRequestHandler):
    """One request of the test API server (HTTP/1.1, keep-alive, chunked watches)."""

    protocol_version = "HTTP/1.1"
    server_version = "pitboard-test-apiserver"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the default stderr access log (``server.requests`` is the log)."""

    @property
    def api(self) -> ApiServer:
        return self.server.api  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.api.stopping.is_set():
            # a stopped server: a keep-alive connection opened before is cut, as a dead
            # API server's would be (its handler thread would otherwise go on serving)
            self.drop_connection()
            return
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # ------------------------------------------------------------ responses
    def send_json(self, code: int, body: Any) -> None:
        """Write a complete JSON response."""
        data = json.dumps(body).encode()
        self.record.status = code
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", self.record.audit_id)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def start_stream(self) -> None:
        """Begin a chunked 200 response (a watch)."""
        self.record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Audit-Id", self.record.audit_id)
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        """Write one chunk and flush it."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def drop_connection(self) -> None:
        """Cut the connection (no response, no chunk terminator), as a dying server does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def end_stream(self, abrupt: bool) -> None:
        """Finish a chunked response, or drop the connection mid-stream."""
        if abrupt:
            self.drop_connection()
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ------------------------------------------------------------ dispatch
    def _handle(self) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        body: Any = None
        if raw and ctype == PROTOBUF and url.path.endswith("/selfsubjectaccessreviews"):
            try:
                body = decode_ssar(raw)
            except ApiError:
                body = raw.decode("utf-8", "replace")
        elif raw and ctype == PROTOBUF and url.path.endswith("/selfsubjectreviews"):
            try:  # `kubectl auth whoami` sends protobuf; its object has no spec
                body = decode_ssr(raw)
            except ApiError:
                body = raw.decode("utf-8", "replace")
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        auth = self.headers.get("Authorization")
        user = self.api.policy.authenticate(auth)
        port_user = getattr(self.server, "port_user", None)
        if auth is None and port_user is not None:
            user = self.api.policy.by_name(port_user)
        self.record = self.api.log_request(self.command, url.path, self.query, ctype, body,
                                           user.name if user else None, self.headers.get("Accept") or "")
        try:
            if self._injected(url):
                return
            if user is None:
                raise ApiError(401, "Unauthorized")
            if isinstance(body, str):
                raise ApiError(400, "the body of the request was in an unknown format - accepted media types "
                                    "include: application/json, application/yaml, application/vnd.kubernetes.protobuf")
            target = parse_resource_path(url.path)
            if target is not None:
                self._resource(target, user, body, ctype)
            elif _DISCOVERY.match(url.path):
                self._discovery(url.path)
            else:
                raise ApiError(404, "the server could not find the requested resource", details={})
        except ApiError as err:
            self.send_json(err.code, err.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hung client
            self.send_json(500, status_body(500, f"Internal error occurred: {type(exc).__name__}: {exc}"))

    def _injected(self, url: Any) -> bool:
        rule = self.api.take_injection(self.command, url.path, url.path + ("?" + url.query if url.query else ""))
        if rule is None:
            return False
        if rule.delay_s:
            time.sleep(rule.delay_s)
        if not rule.status:
            return False
        body = rule.body or status_body(rule.status, rule.message())
        if rule.status == 410 and self.query.get("watch") in ("true", "1"):
            self.start_stream()
            self.write_chunk(json.dumps({"type": "ERROR", "object": body}).encode() + b"\n")
            self.end_stream(False)
        else:
            self.send_json(rule.status, body)
        return True

    def _discovery(self, path: str) -> None:
        path = path.rstrip("/")
        doc: Any = None
        if path == "/version":
            doc = resources.version_doc()
        elif path in ("/healthz", "/livez", "/readyz"):
            data = b"ok"
            self.record.status = 200
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(data)
            return
        elif path == "/api":
            doc = resources.api_versions(self.api.url.removeprefix("http://"))
        elif path == "/apis":
            doc = resources.api_group_list()
        elif path == "/api/v1":
            doc = resources.resource_list("", "v1")
        elif path.startswith("/apis/"):
            parts = path.split("/")[2:]
            doc = resources.api_group(parts[0]) if len(parts) == 1 else \
                resources.resource_list(parts[0], parts[1]) if len(parts) == 2 else None
        if doc is None:
            raise ApiError(404, "the server could not find the requested resource", details={})
        self.send_json(200, doc)

    def _verb(self, target: Target) -> str:
        if self.command == "GET":
            if target.name:
                return "get"
            return "watch" if self.query.get("watch") in ("true", "1") else "list"
        if self.command == "DELETE" and not target.name:
            return "deletecollection"
        return VERBS.get(self.command, self.command.lower())

    def _resource(self, target: Target, user: Any, body: Any, ctype: str) -> None:
        res, verb = target.res, self._verb(target)
        if verb not in res.verbs and not (target.sub in ("status", "scale") and verb in ("get", "update", "patch")):
            raise ApiError(405, "the server does not allow this method on the requested resource",
                           reason="MethodNotAllowed")
        scalable = res.plural in ("deployments", "replicasets", "rollouts")
        if target.sub and not (target.sub == "status" and res.status_subresource) and \
                not (target.sub == "scale" and scalable):
            raise ApiError(404, "the server could not find the requested resource", details={})
        if res.plural == "selfsubjectaccessreviews":
            if not isinstance(body, dict):
                raise ApiError(400, "the body of the request was in an unknown format")
            self.send_json(201, self.api.policy.review(user, body))
            return
        if res.plural == "selfsubjectreviews":  # who am I: any authenticated user may ask
            if res.version not in self.api.self_review_versions:
                raise ApiError(404, "the server could not find the requested resource", details={})
            self.send_json(201, self.api.policy.self_review(user, res.version))
            return
        if not self.api.policy.allowed(user, verb, res.group, res.plural, target.sub, target.namespace, target.name):
            from .apiserver_errors import forbidden

            raise forbidden(user.name, verb, res.group, res.plural, target.sub, target.namespace, target.name)
        dry = self.query.get("dryRun")
        if dry is not None and dry != "All":
            raise ApiError(400, f'dryRun: Unsupported value: "{dry}": supported values: "All"', reason="BadRequest")
        dry_run = dry == "All"
        reg = self.api.registry
        if target.sub == "scale":
            from .apiserver_scale import scale

            self.send_json(200, scale(self.api, res, target.namespace, target.name or "", verb, body, ctype, dry_run))
            return
        if verb == "get":
            obj = self.api.store.get(res, target.namespace, target.name)
            if obj is None:
                from .apiserver_errors import not_found

                raise not_found(res.group, res.plural, target.name or "")
            self.send_json(200, self._shape(res, [obj], single=True))
        elif verb == "list":
            self.send_json(200, list_objects(self.api, res, target.namespace, self.query, self._shape))
        elif verb == "watch":
            watch_stream(self, res, target.namespace)
        elif verb == "create":
            if target.name:
                raise ApiError(405, "the server does not allow this method on the requested resource",
                               reason="MethodNotAllowed")
            self.send_json(201, reg.create(res, target.namespace, body, dry_run))
        elif verb == "update":
            self.send_json(200, reg.update(res, target.namespace, target.name, body, dry_run, target.sub))
        elif verb == "patch":
            self.send_json(200, reg.patch(res, target.namespace, target.name, body, ctype, dry_run, target.sub))
        elif verb == "delete":
            self.send_json(200, reg.delete(res, target.namespace, target.name, dry_run, body))
        elif verb == "deletecollection":
            listing = list_objects(self.api, res, target.namespace, {**self.query, "limit": ""}, None)
            for item in listing["items"]:
                reg.delete(res, item["metadata"].get("namespace"), item["metadata"]["name"], dry_run)
            self.send_json(200, listing)
        else:
            raise ApiError(405, "the server does not allow this method on the requested resource",
                           reason="MethodNotAllowed")

    def _shape(self, res: resources.Resource, objs: list[dict[str, Any]], single: bool = False,
               list_meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """Object, List or Table, as the Accept header asks."""
        from .apiserver_tables import table

        accept = self.headers.get("Accept") or ""
        if "as=Table" in accept:
            meta = list_meta if list_meta is not None else {"resourceVersion": objs[0]["metadata"]["resourceVersion"]}
            doc = table(res, objs, self.query.get("includeObject", "Metadata"), meta)
            if "v=v1;" not in accept + ";" and "v=v1," not in accept + "," and "v1beta1" in accept:
                doc["apiVersion"] = "meta.k8s.io/v1beta1"
            return doc
        if "as=PartialObjectMetadata" in accept:
            partial = [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
                       for o in objs]
            if single:
                return partial[0]
            return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                    "metadata": list_meta or {}, "items": partial}
        if single:
            return objs[0]
        items = objs if res.custom else [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
                                         for o in objs]
        return {"kind": f"{res.kind}List", "apiVersion": res.group_version, "metadata": list_meta or {},
                "items": items}
