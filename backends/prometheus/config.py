"""Settings sections `[prometheus]` and `[alertmanager]` (owned by the Prometheus backend).

Pydantic only. Secrets never live in the config file in clear: a bearer token or a basic-auth
password is read from a file or an environment variable named here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backends.prometheus.profiles import MetricProfile, merge_profiles

_SECRET_KEYS = {"bearer_token", "token", "password", "basic_auth_password", "authorization"}


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class HttpSourceConfig(BaseModel):
    """Transport settings shared by Prometheus and Alertmanager."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    url: str | None = Field(None, description="base URL")
    timeout_s: float = Field(5.0, gt=0, description="per-request timeout")
    retries: int = Field(2, ge=0, le=10, description="retries on connection errors/5xx/429")
    backoff_s: float = Field(0.2, ge=0, description="first retry delay (doubles, with jitter)")
    backoff_max_s: float = Field(2.0, ge=0, description="cap of one retry delay")
    bearer_token_file: str | None = Field(None, description="file holding a bearer token")
    bearer_token_env: str | None = Field(None, description="env var holding a bearer token")
    basic_auth_user: str | None = None
    basic_auth_password_file: str | None = None
    basic_auth_password_env: str | None = None
    ca_file: str | None = Field(None, description="CA bundle (PEM) to verify the server")
    cert_file: str | None = Field(None, description="client certificate (mTLS)")
    key_file: str | None = Field(None, description="client key (mTLS)")
    insecure: bool = Field(False, description="skip TLS verification (explicit opt-in)")
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra headers, e.g. X-Scope-OrgID for Mimir"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_in_clear(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(k for k in data if str(k).lower() in _SECRET_KEYS)
            if bad:
                raise ValueError(
                    f"{bad[0]!r} is not accepted in the config file: put the secret in a file "
                    "(bearer_token_file / basic_auth_password_file) or an environment "
                    "variable (bearer_token_env / basic_auth_password_env)"
                )
        return data

    @field_validator("headers")
    @classmethod
    def _no_auth_header(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            # refused here, not by the HTTP client at every query (which showed an empty
            # name as "cannot connect"): RFC 9110 field names are tokens; a value holds no
            # control character but a tab (a CR or LF would start another header)
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"header name {name!r} is not a valid HTTP field name "
                                 "(letters, digits and !#$%&'*+-.^_`|~ only)")
            if _HEADER_VALUE_BAD.search(text):
                raise ValueError(f"the value of header {name!r} holds a control character "
                                 "(a line break would start another header)")
            if name.lower() in {"authorization", "proxy-authorization"}:
                raise ValueError(
                    f"header {name!r} would hold a secret in clear: use bearer_token_file, "
                    "bearer_token_env or basic auth with a password file/env var"
                )
        return value

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        # (the error shows the value given, secrets masked: console.config.describe_errors)
        if not value.startswith(("http://", "https://")):
            raise ValueError("URL must start with http:// or https://")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if not parts.hostname:
            raise ValueError("URL names no host")
        return value

    @model_validator(mode="after")
    def _auth_consistent(self) -> HttpSourceConfig:
        if self.bearer_token_file and self.bearer_token_env:
            raise ValueError("set bearer_token_file or bearer_token_env, not both")
        has_pw = self.basic_auth_password_file or self.basic_auth_password_env
        if has_pw and not self.basic_auth_user:
            raise ValueError("basic_auth_password_* needs basic_auth_user")
        if self.basic_auth_user and (self.bearer_token_file or self.bearer_token_env):
            raise ValueError("choose bearer token or basic auth, not both")
        if self.insecure and self.ca_file:
            raise ValueError("insecure = true ignores ca_file: set one of them")
        return self


class PrometheusConfig(HttpSourceConfig):
    """`[prometheus]`: the server (Prometheus, Thanos, Mimir) and the metric profiles."""

    max_concurrency: int = Field(4, ge=1, le=32, description="queries in flight per refresh")
    probe_interval_s: float = Field(
        300.0, ge=0, description="re-probe profiles this often (0 = every read)"
    )
    min_rate_window_s: int = Field(60, ge=1, description="smallest rate() window")
    profiles: dict[str, MetricProfile] = Field(
        default_factory=lambda: merge_profiles(None),
        description="metric profiles; a table overrides single queries of a default profile",
    )
    quantiles: tuple[float, float, float] = Field((0.5, 0.95, 0.99), description="p50/p95/p99")
    gpu_prices: dict[str, float] = Field(
        default_factory=dict,
        description="$/h per GPU by model name (exact or substring, e.g. 'H100' = 4.1); "
                    "used where OpenCost has no price",
    )
    default_gpu_price: float | None = Field(None, ge=0, description="$/h for unlisted GPUs")
    monthly_budget: float | None = Field(None, ge=0)
    idle_util_percent: float = Field(10.0, ge=0, le=100, description="allocated + below = idle")
    xid_lookback_s: int = Field(
        21600, ge=300, le=7 * 86400,
        description="how far back the first appearance of a GPU's last XID is looked for "
                    "(older: 'when' unknown, and not current)")
    xid_current_s: int = Field(
        3600, ge=60, le=7 * 86400,
        description="a GPU's XID is current (red, a problem) while it appeared within this "
                    "many seconds; older, it stays shown, dimmed")
    drift_history_s: int = Field(
        3600, ge=300, le=7 * 86400,
        description="how much drift history is read: when a feature crossed its threshold "
                    "is found in it")
    drift_threshold: float = Field(0.2, gt=0, description="default drift threshold")
    drift_thresholds: dict[str, float] = Field(
        default_factory=lambda: {"psi": 0.2, "ks": 0.1, "js": 0.1, "wasserstein": 0.1,
                                 "1-p_value": 0.95},
        description="threshold per drift method",
    )
    context_name: str = Field("prometheus", description="cluster name in Prometheus-only mode")
    cluster_label: str | None = Field(
        None, description="label naming the cluster on every series (one Prometheus, Thanos or "
                          "Mimir behind several contexts, e.g. 'cluster'): same-named models "
                          "in several contexts then get each their own figures")
    cluster_values: dict[str, str] = Field(
        default_factory=dict,
        description="kubeconfig context -> its value of cluster_label (default: the context's "
                    "name)",
    )

    @field_validator("profiles", mode="before")
    @classmethod
    def _merge_profiles(cls, value: Any) -> Any:
        if value is None:
            return merge_profiles(None)
        if not isinstance(value, dict):
            raise ValueError("profiles must be a table of profile tables")
        return merge_profiles(value)

    @field_validator("cluster_label")
    @classmethod
    def _label_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", value):
            raise ValueError(f"{value!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
        return value

    def cluster_of(self, context: str) -> str:
        """The value of ``cluster_label`` on the series of kubeconfig context ``context``."""
        return self.cluster_values.get(context, context)

    def context_for(self, value: str, contexts: Iterable[str] = ()) -> str:
        """The kubeconfig context whose series carry ``cluster_label=value``: the one
        ``cluster_values`` maps to it, else one of ``contexts`` (the services' own) whose
        value it is, else the value itself (a context named as its cluster)."""
        for context, v in self.cluster_values.items():
            if v == value:
                return context
        for context in contexts:
            if self.cluster_of(context) == value:
                return context
        return value

    @field_validator("gpu_prices")
    @classmethod
    def _prices_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for name, price in value.items():
            if price < 0:
                raise ValueError(f"gpu_prices[{name!r}] must be >= 0 (got {price})")
        return value

    @field_validator("quantiles")
    @classmethod
    def _quantiles_in_range(cls, value: tuple[float, float, float]) -> tuple:
        if not all(0 < q < 1 for q in value):
            raise ValueError("quantiles must be between 0 and 1")
        return value


class AlertmanagerConfig(HttpSourceConfig):
    """`[alertmanager]`: active alerts from /api/v2/alerts."""

    model_labels: list[str] = Field(
        default_factory=lambda: ["model", "model_name", "service", "inference_service"],
        description="alert labels naming a model (first present wins)",
    )
    gpu_labels: list[str] = Field(
        default_factory=lambda: ["UUID", "gpu_uuid", "uuid"],
        description="alert labels holding a GPU UUID",
    )
    include_silenced: bool = False
    include_inhibited: bool = False
