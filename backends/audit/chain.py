"""Canonical JSON, hashing and scrubbing for the audit chain (no I/O but the key file).

Each entry's hash is SHA-256 over the canonical JSON of all its fields except ``hash`` and
``alg`` (``seq`` and ``prev_hash`` included): sorted keys, compact separators, UTF-8, times
as UTC ISO-8601 with microseconds and a ``Z``. The first entry's ``prev_hash`` is 64 zeros.

Keyed chains: with a key (config ``audit.key_file``) the hash is HMAC-SHA256 with that key
over the same text, and the entry's ``alg`` column says ``hmac-sha256`` (``sha256``, or
NULL in stores written before v2, for plain SHA-256). ``alg`` is not hashed itself: a
verifier holding the key accepts plain entries only *before* the first keyed entry and
requires the chain to end keyed (:mod:`backends.audit.verify`), so relabelling and
re-hashing keyed entries without the key is caught.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import json
import math
from datetime import date, datetime, timezone
from pathlib import Path
from enum import Enum
from typing import Any

from backends.domain.files import read_at_most
from backends.domain.redact import REDACTED, is_secret_key, redact

GENESIS = "0" * 64
ENTRY_FIELDS = ("seq", "at", "actor", "kind", "action", "target", "reason", "outcome",
                "detail", "intent_seq", "incident_id", "prev_hash")


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
    """``text`` with secrets masked by their shape (:func:`backends.domain.redact.redact`):
    URL passwords, Authorization values, token formats; never ordinary words."""
    return redact(text)


def jsonable(value: Any, *, scrub: bool = True) -> Any:
    """A JSON-safe copy of ``value``: secrets redacted (by key and by shape), datetimes as
    UTC ISO, enums by value, models dumped, non-finite floats as ``None``, other objects as
    ``str``. Round-trips through ``json`` unchanged, so the stored row hashes the same."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = str(key.value if isinstance(key, Enum) else key)
            if scrub and is_secret_key(skey):
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


def entry_hash(record: dict[str, Any], key: bytes | None = None) -> str:
    """Hash of one entry given its fields (``detail`` as a dict, ``at`` as ISO text):
    SHA-256, or HMAC-SHA256 with ``key``."""
    text = canonical({k: record.get(k) for k in ENTRY_FIELDS})
    if key is None:
        return sha256_hex(text)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


ALG_PLAIN = "sha256"
ALG_KEYED = "hmac-sha256"
MIN_KEY = 16


def row_alg(row: dict[str, Any]) -> str:
    """How a stored row's hash was computed (NULL: a v1 row, plain SHA-256)."""
    alg = row.get("alg")
    return ALG_PLAIN if alg is None else str(alg)


def expected_hash(row: dict[str, Any], key: bytes | None) -> str | None:
    """The hash a stored row should carry, by its ``alg``; None when it is keyed and no
    key is given (it cannot be checked). ValueError for an unknown ``alg``."""
    alg = row_alg(row)
    if alg == ALG_PLAIN:
        return entry_hash(row)
    if alg == ALG_KEYED:
        return entry_hash(row, key) if key is not None else None
    raise ValueError(f"unknown hash algorithm {alg!r}")


def key_id(key: bytes) -> str:
    """A public name of a key (16 hex digits): tells which key a store was written with
    without revealing it."""
    return hmac.new(key, b"pitboard audit key id", hashlib.sha256).hexdigest()[:16]


MAX_KEY_FILE = 64 << 10
"""A key file is read up to this size (a device that never ends is refused, not read)."""


class KeyFileError(ValueError):
    """The key file cannot be used (missing, unreadable, too short, readable by others)."""


def read_key(path: str | os.PathLike) -> bytes:
    """The key in ``path``: its bytes without a trailing newline, at least 16 of them. A key
    readable by group or others is refused (anyone who reads it can forge the chain)."""
    file = Path(os.path.expanduser(path))
    try:
        mode = file.stat().st_mode
        if mode & 0o077:
            raise KeyFileError(f"the audit key file {file} is readable by others "
                               f"(mode {mode & 0o777:o}): chmod 600 it")
        data = read_at_most(file, MAX_KEY_FILE)
    except OSError as exc:
        raise KeyFileError(f"cannot read the audit key file {file}: "
                           f"{exc.strerror or exc}") from None
    if data is None:
        raise KeyFileError(f"the audit key file {file} is over {MAX_KEY_FILE >> 10} KiB: "
                           "not a key file")
    key = data.rstrip(b"\r\n")
    if len(key) < MIN_KEY:
        raise KeyFileError(f"the audit key file {file} holds {len(key)} bytes; a key needs "
                           f"at least {MIN_KEY} (e.g. head -c 32 /dev/urandom > {file.name})")
    return key
