"""A tiny fault-injecting HTTP proxy in front of Prometheus (127.0.0.1 only)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class FaultProxy:
    """``mode``: pass | 500 | html | slow | truncated | nan | reject | deny | flaky:<n>."""

    def __init__(self, upstream: str | None = None):
        self.upstream = upstream
        self.mode = "pass"
        self.requests: list[dict[str, str]] = []
        self.release = threading.Event()
        self._flaky_left = 0
        self._client = httpx.Client(timeout=10)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                proxy._handle(self)

            do_POST = do_GET  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode.startswith("flaky:"):
            self._flaky_left = int(mode.split(":")[1])

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._client.close()

    # -- answers ------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        self.requests.append({k.lower(): v for k, v in h.headers.items()})
        mode = self.mode
        if mode.startswith("flaky:"):
            if self._flaky_left > 0:
                self._flaky_left -= 1
                return self._send(h, 503, b"upstream unavailable", "text/plain")
            mode = "pass"
        if mode == "500":
            return self._send(h, 500, b"internal server error", "text/plain")
        if mode == "html":
            return self._send(h, 200, b"<!DOCTYPE html><html><body>Sign in</body></html>",
                              "text/html")
        if mode == "slow":
            self.release.wait(5)
            return self._send(h, 200, b'{"status":"success","data":{"resultType":"vector",'
                                      b'"result":[]}}', "application/json")
        if mode == "deny":
            return self._send(h, 401, b"Unauthorized", "text/plain")
        if mode == "reject":
            body = {"status": "error", "errorType": "bad_data",
                    "error": "parse error: unexpected <EOF>"}
            return self._send(h, 400, json.dumps(body).encode(), "application/json")
        if mode == "nan":
            labels = {"UUID": "GPU-nan", "gpu": "0", "Hostname": "n1", "model_name": "m",
                      "le": "+Inf", "node": "n1", "model": "m", "feature": "f"}
            result = [{"metric": labels, "value": [1.0, "NaN"]},
                      {"metric": {**labels, "le": "1", "UUID": "GPU-inf"}, "value": [1.0, "+Inf"]}]
            body = {"status": "success", "data": {"resultType": "vector", "result": result}}
            return self._send(h, 200, json.dumps(body).encode(), "application/json")
        status, body, ctype = self._forward(h)
        if mode == "truncated":
            body = body[: max(1, len(body) // 2)]
        return self._send(h, status, body, ctype)

    def _forward(self, h: BaseHTTPRequestHandler) -> tuple[int, bytes, str]:
        length = int(h.headers.get("Content-Length") or 0)
        data = h.rfile.read(length) if length else None
        r = self._client.request(h.command, f"{self.upstream}{h.path}", content=data,
                          headers={"Content-Type": h.headers.get("Content-Type", "")})
        return r.status_code, r.content, r.headers.get("content-type", "application/json")

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
