"""Shared helpers of the Kubernetes backend tests (not a test module)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backends.kube.backend import KubernetesCluster
from backends.kube.config import KubernetesConfig

NS = "ml-serving"


def config(server, **kw) -> KubernetesConfig:
    """Fast reconnects for tests."""
    opts = dict(kubeconfig=str(server.kubeconfig), backoff_initial_s=0.05, backoff_max_s=0.3,
                sync_timeout_s=10, request_timeout_s=5)
    opts.update(kw)
    return KubernetesConfig(**opts)


def cluster(server, context: str = "test-admin", namespaces=(NS,), **kw) -> KubernetesCluster:
    read_only = kw.pop("read_only", False)
    return KubernetesCluster(config(server, **kw), context, list(namespaces),
                             read_only=read_only, actor="tester@example")


def eventually(fn: Callable[[], Any], timeout: float = 8.0, interval: float = 0.02) -> Any:
    """Poll ``fn`` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except AssertionError as exc:  # pragma: no cover - kept for the message
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s" + (f": {last_exc}" if last_exc else ""))


def lists(server) -> list:
    """LIST requests the caches sent (they always page: ``limit`` is set)."""
    return [r for r in list(server.requests)
            if r.method == "GET" and not r.is_watch and "limit" in r.query]


def mutations(server, since: int = 0) -> list:
    return [r for r in list(server.requests)[since:] if r.mutating]


def service(part, kind: str, name: str):
    return next(s for s in part.services if s.kind.value == kind and s.name == name)


def merge_patch(server, path: str, body: dict, token: str = "admin-token") -> dict:
    """Change an object from outside pitboard (another client) with a merge patch."""
    import json
    import urllib.request

    req = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), method="PATCH",
                                 headers={"Content-Type": "application/merge-patch+json",
                                          "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def label_deployment(server, name: str, key: str, value: str) -> None:
    merge_patch(server, f"/apis/apps/v1/namespaces/{NS}/deployments/{name}",
                {"metadata": {"labels": {key: value}}})
