"""Transport to Prometheus: auth, TLS, headers, timeout, bounded retries, error mapping.

Built on ``prometheus_api_client.PrometheusConnect`` (its requests session, no pandas).
Every failure becomes ``BackendError(source="prometheus")`` with a short reason; a query the
server rejects (HTTP 400/422) becomes ``QueryRejected`` so a caller can keep the rest.
"""

from __future__ import annotations

import ast
import json
import math
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from backends.domain.errors import BackendError, ConfigError, ForbiddenError
from backends.domain.files import read_at_most
from backends.domain.redact import redact, strip_userinfo
from backends.prometheus.config import HttpSourceConfig

SOURCE = "prometheus"
_STATUS_RE = re.compile(r"HTTP Status Code (\d{3}) \((.*)\)\Z", re.S)
_RETRY_STATUS = {429, 500, 502, 503, 504}


class QueryRejected(BackendError):
    """The server refused one query (bad PromQL, many-to-many match ...): the query is wrong,
    not the server."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One series of an answer: its labels and its (unix seconds, value|None) points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float | None], ...] = field(default=())

    @property
    def value(self) -> float | None:
        """The last point's value (instant vectors have exactly one)."""
        return self.points[-1][1] if self.points else None


def _num(raw) -> float | None:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


SECRET_MAX_BYTES = 64 << 10
"""A bearer token or password file is read up to this size."""


def read_secret(path: str | None, env: str | None, what: str) -> str | None:
    """A secret from a file or an environment variable (stripped); ConfigError when missing."""
    if path:
        try:
            data = read_at_most(Path(os.path.expanduser(path)), SECRET_MAX_BYTES)
        except OSError as exc:
            raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}",
                              source=SOURCE) from None
        if data is None:
            raise ConfigError(f"{what} file {path} is over {SECRET_MAX_BYTES >> 10} KiB: "
                              "not a secret file", source=SOURCE)
        try:
            return data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(f"{what} file {path} is not UTF-8 text", source=SOURCE) from None
    if env:
        value = os.environ.get(env)
        if not value:
            raise ConfigError(f"{what} env var {env} is not set", source=SOURCE)
        return value.strip()
    return None


def short(text: object, limit: int = 160) -> str:
    """One line, at most ``limit`` characters (for reasons shown in a status bar), secrets
    masked (a URL's password, a token a server echoes: :func:`redact`)."""
    text = redact(" ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason_from_body(body: str) -> str:
    """Prometheus error JSON -> its ``error``; HTML -> 'an HTML page'; else the text."""
    stripped = body.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
            if isinstance(data, dict) and data.get("error"):
                return short(f"{data.get('errorType', 'error')}: {data['error']}")
        except ValueError:
            pass
    if stripped[:1] == "<":
        return "an HTML page (is the URL the Prometheus API?)"
    return short(stripped) or "empty body"  # short() masks a token the server echoes


class Tally:
    """Queries and response bytes of one piece of work (a refresh's read), counted apart
    from whatever else shares the client at the same time (a chart read in another
    worker): see :meth:`PromClient.tally`. Tallies nest: a query counts in every tally
    open on its thread (a read's, and one around a part of it)."""

    __slots__ = ("queries", "bytes_read")

    def __init__(self) -> None:
        self.queries = 0
        self.bytes_read = 0


class PromClient:
    """Blocking, thread-safe query client. ``queries`` counts logical queries sent (by
    everyone); a :class:`Tally` counts one piece of work's own."""

    def __init__(self, config: HttpSourceConfig):
        if not config.url:
            raise ConfigError("no Prometheus URL configured (--prometheus URL)", source=SOURCE)
        # Credentials in the URL (http://user:pass@host) are sent as basic auth and the
        # URL is kept (and shown) without them.
        url, self._url_user, self._url_password = strip_userinfo(config.url)
        self.config = config = config.model_copy(update={"url": url})
        # Our own retry loop (backoff + jitter); the adapter must not retry on its own.
        self._pc = PrometheusConnect(
            url=config.url,
            headers=dict(config.headers),
            disable_ssl=config.insecure,
            retry=Retry(total=0, read=False, raise_on_status=False),
            timeout=config.timeout_s,
            method="GET",
        )
        session = self._pc._session  # noqa: SLF001 - the client exposes no setter
        if config.ca_file and not config.insecure:
            session.verify = config.ca_file
        if config.cert_file:
            session.cert = (config.cert_file, config.key_file) if config.key_file \
                else config.cert_file
        self._lock = threading.Lock()
        self._local = threading.local()  # .tallies: the Tallies this thread's queries go to
        self.queries = 0
        #: response body bytes read (decoded JSON, every query and retry)
        self.bytes_read = 0
        session.hooks["response"].append(self._count_bytes)
        self._sleep = time.sleep

    def _count_bytes(self, response, *args, **kwargs) -> None:
        size = len(response.content or b"")
        with self._lock:
            self.bytes_read += size
            for tally in getattr(self._local, "tallies", ()):
                tally.bytes_read += size

    # -- auth ------------------------------------------------------------------------
    def _refresh_auth(self) -> None:
        """Re-read token/password each refresh (projected tokens rotate)."""
        c = self.config
        headers = dict(c.headers)
        token = read_secret(c.bearer_token_file, c.bearer_token_env, "bearer token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._pc.headers = headers
        if c.basic_auth_user:
            pw = read_secret(c.basic_auth_password_file, c.basic_auth_password_env,
                             "basic-auth password") or ""
            self._pc.auth = (c.basic_auth_user, pw)
        elif self._url_user is not None:
            self._pc.auth = (unquote(self._url_user), unquote(self._url_password or ""))

    def prepare(self) -> None:
        """Call once per refresh before queries (reads rotating secrets)."""
        self._refresh_auth()

    # -- queries -----------------------------------------------------------------------
    def query(self, promql: str, at: datetime | None = None) -> list[Sample]:
        """Instant query; vector, matrix (range selector/sub-query) or scalar answers."""
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        return self._run(lambda: self._get("/api/v1/query", params), promql)

    def query_range(self, promql: str, start: datetime, end: datetime,
                    step_s: float) -> list[Sample]:
        """Range query with ``step_s`` seconds resolution."""
        params = {"query": promql, "start": str(round(start.timestamp())),
                  "end": str(round(end.timestamp())), "step": f"{step_s:g}"}
        return self._run(lambda: self._get("/api/v1/query_range", params), promql)

    def _get(self, path: str, params: dict[str, str]) -> list[Sample]:
        """One request as ``PrometheusConnect.custom_query`` sends it (its session, URL,
        headers, auth, TLS and timeout; its exception for a status other than 200), the
        answer read by :func:`decode_result`: the library's ``response.json()`` held the
        whole answer as dicts and lists beside the samples made from them (a 6 MB
        histogram answer -- 3,000 models -- peaked at 42 MB under tracemalloc, against
        23 MB now; a process keeps much of its peak resident)."""
        pc = self._pc
        session = pc._session  # noqa: SLF001 - the client exposes no setter
        response = session.request(method=pc._method, url=f"{pc.url}{path}",  # noqa: SLF001
                                   params=params, verify=session.verify, headers=pc.headers,
                                   auth=pc.auth, cert=session.cert,
                                   timeout=pc._timeout)  # noqa: SLF001
        if response.status_code != 200:
            raise PrometheusApiClientException(
                f"HTTP Status Code {response.status_code} ({response.content!r})")
        return decode_result(response.content)

    # -- per-work counts -------------------------------------------------------------------
    def current_tallies(self) -> tuple[Tally, ...]:
        """The tallies this thread counts into (to hand to the threads doing its queries)."""
        return getattr(self._local, "tallies", ())

    @contextmanager
    def counting_into(self, tallies: tuple[Tally, ...]) -> Iterator[None]:
        """Count this thread's queries and bytes into ``tallies`` (only), for the block."""
        previous = getattr(self._local, "tallies", ())
        self._local.tallies = tallies
        try:
            yield
        finally:
            self._local.tallies = previous

    @contextmanager
    def tally(self) -> Iterator[Tally]:
        """A new :class:`Tally` for this thread's queries (and those run for it), beside
        the tallies already open on it."""
        tally = Tally()
        with self.counting_into((*self.current_tallies(), tally)):
            yield tally

    def _run(self, call, promql: str) -> list[Sample]:
        with self._lock:
            self.queries += 1
            for tally in getattr(self._local, "tallies", ()):
                tally.queries += 1
        attempt = 0
        while True:
            try:
                return call()
            except BackendError as exc:
                retry = exc.status in _RETRY_STATUS or exc.status == -1
                if not retry or attempt >= self.config.retries:
                    raise
            except Exception as exc:  # noqa: BLE001 - every library error is mapped
                err = map_exception(exc, promql)
                retry = err.status in _RETRY_STATUS or err.status == -1
                if not retry or attempt >= self.config.retries:
                    raise err from None
            delay = min(self.config.backoff_max_s, self.config.backoff_s * (2 ** attempt))
            self._sleep(delay * random.uniform(0.5, 1.0))
            attempt += 1

    def close(self) -> None:
        """Release pooled connections."""
        self._pc.close()


def map_exception(exc: Exception, promql: str = "") -> BackendError:
    """A library/transport exception -> BackendError with a short reason.

    ``status`` is the HTTP status, -1 for a connection failure (retryable), None otherwise.
    """
    if isinstance(exc, PrometheusApiClientException):
        m = _STATUS_RE.match(str(exc))
        status = int(m.group(1)) if m else None
        body = ""
        if m:
            try:
                raw = ast.literal_eval(m.group(2))
                body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            except (ValueError, SyntaxError):
                body = m.group(2)
        reason = _reason_from_body(body)
        if status in (401, 403):
            return ForbiddenError(f"Prometheus refused access (HTTP {status}): {reason}",
                                  source=SOURCE, status=status)
        if status in (400, 422):
            return QueryRejected(f"query rejected: {reason} [{short(promql, 80)}]",
                                 source=SOURCE, status=status)
        return BackendError(f"HTTP {status} from Prometheus: {reason}", source=SOURCE,
                            status=status)
    if isinstance(exc, requests.exceptions.Timeout):
        return BackendError("Prometheus did not answer in time (timeout)", source=SOURCE)
    if isinstance(exc, requests.exceptions.SSLError):
        return BackendError(f"TLS error talking to Prometheus: {short(exc, 120)}",
                            source=SOURCE)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return BackendError("cannot connect to Prometheus (connection refused or reset)",
                            source=SOURCE, status=-1)
    if isinstance(exc, requests.exceptions.JSONDecodeError | json.JSONDecodeError):
        doc = str(getattr(exc, "doc", "") or "").lstrip()
        if doc[:1] == "<":
            return BackendError("Prometheus answered an HTML page, not JSON (is the URL the "
                                "Prometheus API, or a login page?)", source=SOURCE)
        return BackendError("Prometheus answered invalid or truncated JSON", source=SOURCE)
    if isinstance(exc, requests.exceptions.RequestException):
        return BackendError(f"request to Prometheus failed: {short(exc, 120)}", source=SOURCE)
    if isinstance(exc, KeyError | TypeError | IndexError | ValueError | AttributeError):
        return BackendError("Prometheus answered JSON of an unexpected shape", source=SOURCE)
    return BackendError(f"Prometheus query failed: {type(exc).__name__}", source=SOURCE)


def decode_result(body: bytes | str) -> list[Sample]:
    """A query answer's body -> the samples of its ``data.result``, each series made a
    :class:`Sample` as soon as the JSON decoder has read it (its dicts and lists dropped
    at once, not held beside the samples), label values and timestamps shared between
    series (an answer repeats them: ``le`` buckets, model names, every series' instant)."""
    strings: dict[str, str] = {}
    stamps: dict[object, float] = {}

    def series(obj: dict):
        if len(obj) == 2 and isinstance(obj.get("metric"), dict) \
                and ("value" in obj or "values" in obj):
            return _sample(obj, strings, stamps)
        return obj

    # as requests' response.json() reads an answer with no charset: UTF-8, bad bytes replaced
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    answer = json.loads(text, object_hook=series)
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        raise BackendError("Prometheus answered JSON of an unexpected shape", source=SOURCE)
    return parse_result(answer["data"].get("result"))


def _sample(item: dict, strings: dict[str, str] | None = None,
            stamps: dict[object, float] | None = None) -> Sample:
    """One series of an answer (``{"metric": ..., "value"|"values": ...}``) -> a Sample;
    NaN/±Inf values become None."""
    labels = item.get("metric") or {}
    if not isinstance(labels, dict):
        raise BackendError("Prometheus answered JSON of an unexpected shape", source=SOURCE)
    if any(type(v) is not str for v in labels.values()):  # JSON keys are str already
        labels = {k: str(v) for k, v in labels.items()}
    if strings is not None:
        for k, v in labels.items():
            labels[k] = strings.setdefault(v, v)
    stamps = {} if stamps is None else stamps
    points: tuple[tuple[float, float | None], ...]
    try:
        if "value" in item:
            ts, raw = item["value"]
            points = ((stamps.get(ts) or stamps.setdefault(ts, float(ts)), _num(raw)),)
        else:
            points = tuple((stamps.get(ts) or stamps.setdefault(ts, float(ts)), _num(raw))
                           for ts, raw in item.get("values") or ())
    except (TypeError, ValueError):
        raise BackendError("Prometheus answered a malformed sample", source=SOURCE) from None
    return Sample(labels, points)


def parse_result(result) -> list[Sample]:
    """``data.result`` of a query answer -> samples (series already made samples by
    :func:`decode_result` are taken as they are)."""
    if not isinstance(result, list):
        raise BackendError("Prometheus answered JSON of an unexpected shape", source=SOURCE)
    # A scalar/string result is [ts, "value"].
    if len(result) == 2 and not isinstance(result[0], dict | Sample):
        try:
            return [Sample({}, ((float(result[0]), _num(result[1])),))]
        except (TypeError, ValueError):
            raise BackendError("Prometheus answered a malformed sample",
                               source=SOURCE) from None
    out: list[Sample] = []
    for item in result:
        if isinstance(item, Sample):
            out.append(item)
        elif isinstance(item, dict):
            out.append(_sample(item))
        else:
            raise BackendError("Prometheus answered JSON of an unexpected shape", source=SOURCE)
    return out
