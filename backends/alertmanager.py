"""Active alerts from Alertmanager's ``/api/v2/alerts`` on ``httpx``, joined to models/GPUs.

A model is named by the first of ``AlertmanagerConfig.model_labels`` present (``model``,
``model_name``, ``service`` ...; KServe's ``<isvc>-predictor`` is reduced to ``<isvc>``), a
GPU by its UUID label. ``summary`` (or ``description``) and ``runbook_url`` come from the
annotations. Failures raise ``BackendError(source="alertmanager")`` with a short reason.
"""

from __future__ import annotations

import random
import re
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import unquote

# httpx imports its command-line client (click, pygments' lexers, rich's progress and
# syntax: ~25 ms of CPU, in the start's critical path beside Textual's imports) whenever
# click and rich are installed -- they are here (sqlite-utils, Textual). pitboard never
# runs it: a None entry makes that one import fail, and httpx then defines its stub
# ``main`` instead (its own fallback for an install without the CLI's extras).
_modules: dict[str, Any] = sys.modules
_modules.setdefault("httpx._main", None)

import httpx  # noqa: E402 - after the line above

from backends.domain.ahead import Ahead
from backends.domain.sources import AlertsBackend
from backends.domain.errors import BackendError, ConfigError, ForbiddenError
from backends.domain.redact import strip_userinfo
from backends.domain.models import Alert
from backends.prometheus.client import read_secret, short
from backends.prometheus.config import AlertmanagerConfig

SOURCE = "alertmanager"
_RETRY = {429, 500, 502, 503, 504}
_PREDICTOR = re.compile(r"^(?P<m>.+?)-predictor(?:-default)?$")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_STATES = {"active": "firing", "suppressed": "suppressed", "unprocessed": "pending"}


class AlertmanagerAlerts(AlertsBackend):
    """Active alerts; construction is cheap (the HTTP client is created on first use)."""

    def __init__(self, config: AlertmanagerConfig):
        if not config.url:
            raise ConfigError("no Alertmanager URL configured (--alertmanager URL)",
                              source=SOURCE)
        # Credentials in the URL (http://user:pass@host) are sent as basic auth; the URL
        # is kept -- and shown, e.g. in the :alerts header -- without them.
        url, self._url_user, self._url_password = strip_userinfo(config.url)
        self.config = config.model_copy(update={"url": url})
        self._url: str = url
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._sleep = time.sleep

    @property
    def label(self) -> str:
        """What the console calls this source: host and port, never the URL's userinfo."""
        parts = urlsplit(self.config.url or "")
        host = parts.hostname or self.config.url or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"Alertmanager {host}"

    def warm(self) -> None:
        """Make the HTTP client (its TLS context: ~15 ms of CPU) in a thread now, while
        the other sources are built; a client that cannot be made is made, and its error
        raised, by the first read, as before."""
        if self._client is None:
            Ahead(self._http, "alertmanager-client")

    def _http(self) -> httpx.Client:
        with self._client_lock:
            return self._client if self._client is not None else self._new_client()

    def _new_client(self) -> httpx.Client:
        c = self.config
        verify: bool | str = False if c.insecure else (c.ca_file or True)
        cert = (c.cert_file, c.key_file) if c.cert_file and c.key_file else c.cert_file
        self._client = httpx.Client(base_url=self._url, timeout=c.timeout_s, verify=verify,
                                    cert=cert, headers=dict(c.headers), trust_env=True)
        return self._client

    def _auth(self) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        c = self.config
        token = read_secret(c.bearer_token_file, c.bearer_token_env, "bearer token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        auth = None
        if c.basic_auth_user:
            pw = read_secret(c.basic_auth_password_file, c.basic_auth_password_env,
                             "basic-auth password") or ""
            auth = httpx.BasicAuth(c.basic_auth_user, pw)
        elif self._url_user is not None:
            auth = httpx.BasicAuth(unquote(self._url_user), unquote(self._url_password or ""))
        return headers, auth

    def alerts(self) -> tuple[Alert, ...]:
        """Active alerts, firing first then by start time. Raises BackendError."""
        try:
            headers, auth = self._auth()
        except BackendError as exc:
            exc.source = SOURCE
            raise
        params = {"active": "true", "silenced": str(self.config.include_silenced).lower(),
                  "inhibited": str(self.config.include_inhibited).lower()}
        data = self._get("/api/v2/alerts", params, headers, auth)
        if not isinstance(data, list):
            raise BackendError("Alertmanager answered JSON of an unexpected shape",
                               source=SOURCE)
        out = [a for a in (self._alert(item) for item in data) if a is not None]
        far = datetime.max.replace(tzinfo=timezone.utc)
        out.sort(key=lambda a: (a.state != "firing", a.starts_at or far, a.name))
        return tuple(out)

    def _get(self, path: str, params: dict, headers: dict, auth) -> object:
        attempt = 0
        while True:
            try:
                r = self._http().get(path, params=params, headers=headers, auth=auth)
                status = r.status_code
                if status in (401, 403):
                    raise ForbiddenError(f"Alertmanager refused access (HTTP {status})",
                                         source=SOURCE, status=status)
                if status != 200:
                    err = BackendError(f"HTTP {status} from Alertmanager: "
                                       f"{short(r.text, 100) or 'empty body'}",
                                       source=SOURCE, status=status)
                    if status not in _RETRY or attempt >= self.config.retries:
                        raise err
                else:
                    text = r.text
                    if text.lstrip()[:1] == "<":
                        raise BackendError("Alertmanager answered an HTML page, not JSON",
                                           source=SOURCE)
                    try:
                        return r.json()
                    except ValueError:
                        raise BackendError("Alertmanager answered invalid or truncated JSON",
                                           source=SOURCE) from None
            except httpx.TimeoutException:
                raise BackendError("Alertmanager did not answer in time (timeout)",
                                   source=SOURCE) from None
            except httpx.TransportError:
                if attempt >= self.config.retries:
                    raise BackendError("cannot connect to Alertmanager", source=SOURCE,
                                       status=-1) from None
            delay = min(self.config.backoff_max_s, self.config.backoff_s * (2 ** attempt))
            self._sleep(delay * random.uniform(0.5, 1.0))
            attempt += 1

    def _alert(self, item: object) -> Alert | None:
        if not isinstance(item, dict):
            return None
        labels = {str(k): str(v) for k, v in (item.get("labels") or {}).items()}
        ann = {str(k): str(v) for k, v in (item.get("annotations") or {}).items()}
        state = (item.get("status") or {}).get("state") if isinstance(item.get("status"),
                                                                       dict) else None
        model = next((labels[k] for k in self.config.model_labels if labels.get(k)), None)
        if model:
            m = _PREDICTOR.match(model)
            model = m.group("m") if m else model
        gpu = next((labels[k] for k in self.config.gpu_labels if labels.get(k)), None)
        return Alert(
            name=labels.get("alertname") or "(unnamed alert)",
            severity=labels.get("severity"),
            state=_STATES.get(str(state), str(state or "firing")),
            starts_at=parse_time(item.get("startsAt")),
            summary=ann.get("summary") or ann.get("description") or ann.get("message"),
            runbook_url=ann.get("runbook_url") or ann.get("runbook"),
            model=model, gpu_uuid=gpu, labels=labels,
        )

    @property
    def model_labels(self) -> tuple[str, ...]:  # type: ignore[override]  # the protocol's class default, read from config here
        return tuple(self.config.model_labels)

    def create_silence(self, matchers: list[dict], starts: datetime, ends: datetime,
                       created_by: str, comment: str) -> str:
        """``POST /api/v2/silences``; the new silence's id. Sent once (a retry could
        silence twice): a failure raises BackendError, the caller records it."""
        try:
            headers, auth = self._auth()
        except BackendError as exc:
            exc.source = SOURCE
            raise
        body = {"matchers": matchers, "startsAt": rfc3339(starts), "endsAt": rfc3339(ends),
                "createdBy": created_by, "comment": comment}
        try:
            r = self._http().post("/api/v2/silences", json=body, headers=headers,
                                  auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT)
        except httpx.TimeoutException:
            raise BackendError("Alertmanager did not answer in time (timeout): the silence "
                               "may or may not exist", source=SOURCE) from None
        except httpx.TransportError:
            raise BackendError("cannot connect to Alertmanager", source=SOURCE,
                               status=-1) from None
        if r.status_code in (401, 403):
            raise ForbiddenError(f"Alertmanager refused the silence (HTTP {r.status_code})",
                                 source=SOURCE, status=r.status_code)
        if r.status_code != 200:
            raise BackendError(f"HTTP {r.status_code} from Alertmanager: "
                               f"{short(r.text, 200) or 'empty body'}", source=SOURCE,
                               status=r.status_code)
        try:
            return str(r.json()["silenceID"])
        except (ValueError, KeyError, TypeError):
            raise BackendError("Alertmanager answered the silence without its id",
                               source=SOURCE) from None

    def silence(self, silence_id: str) -> dict:
        """``GET /api/v2/silence/{id}``."""
        headers, auth = self._auth()
        data = self._get(f"/api/v2/silence/{silence_id}", {}, headers, auth)
        if not isinstance(data, dict):
            raise BackendError("Alertmanager answered JSON of an unexpected shape",
                               source=SOURCE)
        return data

    def close(self) -> None:
        """Close the HTTP client."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def rfc3339(at: datetime) -> str:
    """An aware datetime as Alertmanager takes it (UTC, milliseconds, 'Z')."""
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def parse_time(raw: object) -> datetime | None:
    """Alertmanager RFC 3339 (nanoseconds, 'Z') -> aware UTC datetime; Go's zero -> None."""
    if not isinstance(raw, str) or not raw or raw.startswith("0001-"):
        return None
    text = _FRACTION.sub(r"\1", raw.strip()).replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
