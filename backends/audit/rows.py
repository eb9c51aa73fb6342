"""Stored rows -> domain models, tolerant of rows edited behind the store.

A reader must never crash on what an attacker (or a careless ``sqlite3`` session) left in
the file: such a row still becomes a model, marked ``damaged`` with the reason, so ``audit
log`` can show it marked and ``verify`` names it as the first broken entry.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from backends.actions.identity import printable
from backends.audit.chain import parse_utc
from backends.domain.models import AuditEntry

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""The ``at`` of an entry whose stored time cannot be read (``damaged`` says so)."""


def row_to_entry(row: dict[str, Any]) -> AuditEntry:
    """A stored row as an entry. A row edited behind the store (``detail`` not JSON, ``at``
    not a time, a field of the wrong type) still becomes an entry, marked ``damaged`` with
    the reason, its unreadable values replaced (``detail`` {}, ``at`` :data:`EPOCH`)."""
    data = dict(row)
    problems: list[str] = []
    try:
        data["at"] = parse_utc(data["at"])
    except (TypeError, ValueError, AttributeError):
        problems.append(f"at is not a time ({printable(repr(row.get('at')), max_len=60)})")
        data["at"] = EPOCH
    try:
        detail = json.loads(data["detail"] or "{}")
    except (TypeError, ValueError, RecursionError):
        detail = None
    if not isinstance(detail, dict):
        problems.append("detail is not a JSON object")
        detail = {}
    data["detail"] = detail
    try:
        entry = AuditEntry(**data, damaged="; ".join(problems) or None)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
        problems.append(f"{', '.join(fields) or 'a field'} of the wrong type")
        safe = {k: (v if isinstance(v, str) or v is None else printable(repr(v)))
                for k, v in data.items()
                if k in ("actor", "kind", "action", "target", "reason", "outcome",
                         "prev_hash", "hash")}
        ints = {k: data.get(k) if type(data.get(k)) is int else None
                for k in ("intent_seq", "incident_id")}
        safe = {k: v for k, v in safe.items() if v is not None}
        safe.setdefault("actor", "?")
        safe.setdefault("kind", "?")
        entry = AuditEntry(**{"prev_hash": "", "hash": "", **safe, **ints},
                           seq=int(data["seq"]), at=data["at"], detail=detail,
                           damaged="; ".join(problems))
    return entry
