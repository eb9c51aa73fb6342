"""A password in a Prometheus or Alertmanager URL, or a token a server echoes, never shows:
not in an error built by the clients, not in the URL the console shows, not in `--once`."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backends.alertmanager import AlertmanagerAlerts
from backends.domain.errors import BackendError, ForbiddenError
from backends.prometheus.client import PromClient
from backends.prometheus.config import AlertmanagerConfig, PrometheusConfig
from console.cli import main as cli

PASSWORD = "hunter2-Secret"
TOKEN = "tok-0123456789abcdefXYZ"


class EchoServer:
    """Answers every GET with ``status`` and a body echoing the request's Authorization
    header (what misconfigured proxies and some servers do on 401)."""

    def __init__(self, status: int, *, json_body: bool = False):
        self.auth: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                auth = self.headers.get("Authorization")
                owner.auth.append(auth)
                text = f"unauthorized: got Authorization: {auth}"
                body = (f'{{"status":"error","errorType":"auth","error":"{text}"}}'
                        if json_body else text).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if json_body
                                 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def _prom(url: str, **extra) -> PromClient:
    return PromClient(PrometheusConfig(url=url, timeout_s=2, retries=0, **extra))


@pytest.mark.parametrize("json_body", [False, True], ids=["text", "prometheus-json"])
def test_prometheus_401_echoing_the_bearer_token_is_masked(monkeypatch, json_body):
    server = EchoServer(401, json_body=json_body)
    monkeypatch.setenv("PROM_TOKEN", TOKEN)
    client = _prom(f"http://127.0.0.1:{server.port}", bearer_token_env="PROM_TOKEN")
    try:
        client.prepare()
        with pytest.raises(ForbiddenError) as exc:
            client.query("up")
    finally:
        client.close()
        server.close()
    assert server.auth == [f"Bearer {TOKEN}"]  # it was sent ...
    assert TOKEN not in str(exc.value) and "[redacted]" in str(exc.value)  # ... not shown


def test_prometheus_url_password_is_sent_as_basic_auth_never_shown():
    server = EchoServer(500)
    client = _prom(f"http://alice:{PASSWORD}@127.0.0.1:{server.port}/")
    try:
        client.prepare()
        with pytest.raises(BackendError) as exc:
            client.query("up")
    finally:
        client.close()
        server.close()
    sent = base64.b64decode(server.auth[0].split()[1]).decode()
    assert sent == f"alice:{PASSWORD}"
    assert PASSWORD not in str(exc.value)
    assert PASSWORD not in client.config.url and "alice" not in client.config.url


def test_alertmanager_url_password_never_shown():
    server = EchoServer(500)
    backend = AlertmanagerAlerts(AlertmanagerConfig(
        url=f"http://bob:{PASSWORD}@127.0.0.1:{server.port}", timeout_s=2, retries=0))
    try:
        assert PASSWORD not in backend.config.url  # the :alerts header shows this URL
        with pytest.raises(BackendError) as exc:
            backend.alerts()
    finally:
        backend.close()
        server.close()
    assert base64.b64decode(server.auth[0].split()[1]).decode() == f"bob:{PASSWORD}"
    assert PASSWORD not in str(exc.value) and "[redacted]" in str(exc.value)


@pytest.mark.parametrize("url", [
    f"htp://alice:{PASSWORD}@127.0.0.1:9",           # a bad scheme, echoed in the message
    f"http://alice:{PASSWORD}@127.0.0.1:port/",       # a bad port
    f"http://alice:{PASSWORD}@[::1",                  # a bad IPv6 literal
    f"http://alice:{PASSWORD}@127.0.0.1:9/",          # nothing listens there
])
def test_once_never_prints_the_password(url, capsys):
    code = cli.main(["--once", "--prometheus", url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert PASSWORD not in err and "Traceback" not in err
    assert "prometheus" in err
