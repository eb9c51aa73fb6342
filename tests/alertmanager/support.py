"""Helpers for tests that talk to a real Alertmanager (0.25, API v2) and wait on it.

``create_silence`` / ``expire_silence`` / ``get_silence`` speak Alertmanager's own HTTP API
(``/api/v2/silences``, ``/api/v2/silence/{id}``) and nothing of pitboard's, so a test of
pitboard's guarded "silence" action can check what the action did against them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import httpx

T = TypeVar("T")
Matchers = Mapping[str, str] | Sequence[Mapping[str, object]]


def wait_for(probe: Callable[[], T], what: str, deadline_s: float = 20.0,
             interval_s: float = 0.1) -> T:
    """``probe()``'s first truthy answer, polled until ``deadline_s``; else fail with the
    last answer (an exception from ``probe`` counts as a falsy answer until the end)."""
    end = time.monotonic() + deadline_s
    last: object = None
    while True:
        try:
            last = probe()
        except Exception as exc:  # noqa: BLE001 - the server may not answer yet
            last = exc
        if last and not isinstance(last, Exception):
            return last  # type: ignore[return-value]
        if time.monotonic() >= end:
            raise AssertionError(f"{what}: not within {deadline_s}s (last: {last!r})")
        time.sleep(interval_s)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _matchers(matchers: Matchers) -> list[dict[str, object]]:
    """``{"name": "value"}`` -> equality matchers; full matcher dicts pass unchanged."""
    if isinstance(matchers, Mapping):
        return [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in matchers.items()]
    return [{"isRegex": False, "isEqual": True, **m} for m in matchers]


def create_silence(url: str, matchers: Matchers, minutes: float, created_by: str,
                   comment: str) -> str:
    """POST a silence starting now and lasting ``minutes`` (a fraction is fine: 0.05 =
    3 s); returns its id."""
    now = datetime.now(timezone.utc)
    body = {"matchers": _matchers(matchers), "startsAt": _rfc3339(now),
            "endsAt": _rfc3339(now + timedelta(minutes=minutes)),
            "createdBy": created_by, "comment": comment}
    r = httpx.post(f"{url}/api/v2/silences", json=body, timeout=5, trust_env=False)
    r.raise_for_status()
    return str(r.json()["silenceID"])


def get_silence(url: str, silence_id: str) -> dict:
    """One silence as Alertmanager holds it (``status.state``: active/pending/expired)."""
    r = httpx.get(f"{url}/api/v2/silence/{silence_id}", timeout=5, trust_env=False)
    r.raise_for_status()
    return r.json()


def list_silences(url: str) -> list[dict]:
    """Every silence Alertmanager holds (expired ones too, until they are collected)."""
    r = httpx.get(f"{url}/api/v2/silences", timeout=5, trust_env=False)
    r.raise_for_status()
    return r.json()


def expire_silence(url: str, silence_id: str) -> None:
    """Expire a silence now (``DELETE /api/v2/silence/{id}``)."""
    r = httpx.delete(f"{url}/api/v2/silence/{silence_id}", timeout=5, trust_env=False)
    r.raise_for_status()


def raw_alerts(url: str, **filters: str) -> list[dict]:
    """``GET /api/v2/alerts`` as Alertmanager answers it (filters: active, silenced, ...)."""
    r = httpx.get(f"{url}/api/v2/alerts", params=filters, timeout=5, trust_env=False)
    r.raise_for_status()
    return r.json()
