"""Approvals mirrored on the approved object: the ``pitboard.io/approvals`` annotation.

Its value is a JSON list, newest last, of ``{"who", "when", "reason", "canary"?}``; only the
newest :data:`MAX_APPROVALS` stay on the object (the audit log keeps every one). Shared by
the Kubernetes backend (a merge patch) and the demo (kept in the simulated state).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from backends.errors import BackendError

APPROVALS = "pitboard.io/approvals"
MAX_APPROVALS = 20
MAX_REASON = 500


def approval_record(approver: str, reason: str, at: datetime,
                    canary: str | None = None) -> dict:
    """One element of the annotation: who, when (UTC, seconds), why, which canary."""
    when = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    reason = reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
    record = {"who": approver, "when": when, "reason": reason}
    if canary is not None:
        record["canary"] = canary
    return record


def parse_approvals(raw: str | None, ref: str, *, source: str = "backend") -> list:
    """The annotation's current list. Raises BackendError when it holds something else:
    it is not ours to overwrite (nothing is lost)."""
    if raw is None or not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise BackendError(f"annotation {APPROVALS} on {ref} is not a JSON list "
                           f"({raw[:80]!r}); left unchanged", source=source)
    return value


def with_approval(current: list, record: dict) -> str:
    """The annotation value once ``record`` is appended (bounded, stable key order)."""
    return json.dumps((current + [record])[-MAX_APPROVALS:], sort_keys=True,
                      ensure_ascii=False)
