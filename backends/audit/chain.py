"""Canonical JSON, hashing and scrubbing for the audit chain (no I/O).

Each entry's hash is SHA-256 over the canonical JSON of all its fields except ``hash``
(``seq`` and ``prev_hash`` included): sorted keys, compact separators, UTF-8, times as
UTC ISO-8601 with microseconds and a ``Z``. The first entry's ``prev_hash`` is 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any

GENESIS = "0" * 64
ENTRY_FIELDS = ("seq", "at", "actor", "kind", "action", "target", "reason", "outcome",
                "detail", "intent_seq", "incident_id", "prev_hash")
REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(token|passw|secret|authori[sz]ation|api[-_]?key|bearer|cookie|credential|"
    r"private[-_]?key|client[-_]?key|cert[-_]?data|session[-_]?id)",
    re.IGNORECASE,
)
_SECRET_VALUE = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # JWT
)


def iso_utc(value: datetime) -> str:
    """``value`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (naive = already UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """Inverse of :func:`iso_utc` (accepts any ISO form; naive = UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def scrub_text(text: str) -> str:
    """Replace bearer/basic credentials and JWTs inside free text."""
    for pattern in _SECRET_VALUE:
        text = pattern.sub(REDACTED, text)
    return text


def jsonable(value: Any, *, scrub: bool = True) -> Any:
    """A JSON-safe copy of ``value``: secrets redacted (by key and by shape), datetimes as
    UTC ISO, enums by value, models dumped, non-finite floats as ``None``, other objects as
    ``str``. Round-trips through ``json`` unchanged, so the stored row hashes the same."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = str(key.value if isinstance(key, Enum) else key)
            if scrub and _SECRET_KEY.search(skey):
                out[skey] = REDACTED
            else:
                out[skey] = jsonable(item, scrub=scrub)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, scrub=scrub) for v in items]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value, scrub=scrub)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return scrub_text(value) if scrub else value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return jsonable(dump(mode="json"), scrub=scrub)
    return scrub_text(str(value)) if scrub else str(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)


def canonical(record: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, compact separators, no NaN, non-ASCII kept."""
    return _CANONICAL.encode(record)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(record: dict[str, Any]) -> str:
    """Hash of one entry given its fields (``detail`` as a dict, ``at`` as ISO text)."""
    return sha256_hex(canonical({k: record.get(k) for k in ENTRY_FIELDS}))
