"""Alertmanager /api/v2/alerts against a tiny local HTTP server."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backends.alertmanager import AlertmanagerAlerts, parse_time
from backends.domain.errors import BackendError, ForbiddenError
from backends.prometheus.config import AlertmanagerConfig
from tests.prometheus.generators import EVIL

ALERTS = [
    {"labels": {"alertname": "GPUXidError", "severity": "critical", "UUID": "GPU-a-0",
                "Hostname": "gpu-node-a"},
     "annotations": {"summary": "XID 79 on GPU-a-0", "runbook_url": "https://runbooks/xid"},
     "startsAt": "2026-11-21T10:00:00.123456789Z", "endsAt": "2026-11-21T11:00:00Z",
     "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
     "fingerprint": "a1"},
    {"labels": {"alertname": "HighErrorRatio", "severity": "warning",
                "service": "fraud-predictor"},
     "annotations": {"description": "5xx above 5 %"},
     "startsAt": "2026-11-21T09:00:00Z", "status": {"state": "active"}},
    {"labels": {"alertname": "Drift", "model_name": EVIL},
     "annotations": {"summary": EVIL}, "startsAt": "0001-01-01T00:00:00Z",
     "status": {"state": "suppressed"}},
    "not an alert",
]


class FakeAM:
    def __init__(self):
        self.mode = "ok"
        self.seen: list[tuple[str, dict]] = []
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                fake.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                body, status, ctype = json.dumps(ALERTS).encode(), 200, "application/json"
                if fake.mode == "500":
                    body, status, ctype = b"oops", 500, "text/plain"
                elif fake.mode == "html":
                    body, ctype = b"<html>login</html>", "text/html"
                elif fake.mode == "truncated":
                    body = body[:40]
                elif fake.mode == "deny":
                    body, status = b"no", 403
                elif fake.mode == "slow":
                    fake.release.wait(5)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def am(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeAM()
    yield fake
    fake.close()


def make(url: str, **extra) -> AlertmanagerAlerts:
    cfg = dict(url=url, timeout_s=0.5, retries=1, backoff_s=0.01, backoff_max_s=0.02)
    return AlertmanagerAlerts(AlertmanagerConfig(**(cfg | extra)))


def test_alerts_joined_to_models_and_gpus(am, tmp_path):
    token = tmp_path / "tok"
    token.write_text("am-token", encoding="utf-8")
    backend = make(am.url, bearer_token_file=str(token), headers={"X-Scope-OrgID": "t1"})
    try:
        alerts = backend.alerts()
    finally:
        backend.close()
    assert [a.name for a in alerts] == ["HighErrorRatio", "GPUXidError", "Drift"]
    xid = alerts[1]
    assert (xid.gpu_uuid, xid.severity, xid.state) == ("GPU-a-0", "critical", "firing")
    assert xid.summary == "XID 79 on GPU-a-0" and xid.runbook_url == "https://runbooks/xid"
    assert xid.starts_at == datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert alerts[0].model == "fraud" and alerts[0].summary == "5xx above 5 %"
    drift = alerts[2]
    assert drift.model == EVIL and drift.summary == EVIL  # markup stays literal
    assert drift.starts_at is None and drift.state == "suppressed"
    path, headers = am.seen[-1]
    assert path.startswith("/api/v2/alerts?active=true&silenced=false&inhibited=false")
    assert headers["authorization"] == "Bearer am-token" and headers["x-scope-orgid"] == "t1"


@pytest.mark.parametrize(("mode", "kind", "reason"), [
    ("500", BackendError, "HTTP 500 from Alertmanager"),
    ("html", BackendError, "HTML page"),
    ("truncated", BackendError, "invalid or truncated JSON"),
    ("deny", ForbiddenError, "refused access"),
    ("slow", BackendError, "timeout"),
])
def test_faults_give_a_short_reason(am, mode, kind, reason):
    am.mode = mode
    backend = make(am.url)
    try:
        with pytest.raises(kind, match=reason) as err:
            backend.alerts()
        assert err.value.source == "alertmanager"
        am.release.set()
        am.mode = "ok"
        assert len(backend.alerts()) == 3  # recovers
    finally:
        backend.close()


def test_down_alertmanager():
    backend = make("http://127.0.0.1:9", retries=0)
    with pytest.raises(BackendError, match="cannot connect") as err:
        backend.alerts()
    assert err.value.source == "alertmanager"


def test_parse_time_variants():
    assert parse_time("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5,
                                                          tzinfo=timezone.utc)
    assert parse_time("2026-01-02T04:04:05.5+01:00").hour == 3
    assert parse_time("garbage") is None and parse_time(None) is None
