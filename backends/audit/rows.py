"""Stored rows -> domain models, tolerant of rows edited behind the store.

A reader must never crash on what an insider (or a careless ``sqlite3`` session) left in
the file: such a row still becomes a model. An entry is marked ``damaged`` with the reason
(``detail`` not a JSON object, ``at`` not a time, a field of the wrong type, or content that
no longer matches its own hash), so ``audit log`` shows it marked and nothing trusts it
(an approval in a damaged entry does not count); ``verify`` names it as the first broken
entry. Incidents and notes get readable stand-ins for unreadable values (``verify`` names
those rows; exports say the chain is broken).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from backends.domain.inert import printable
from backends.audit.chain import parse_utc
from backends.domain.models import AuditEntry, Incident, Note

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""The time shown for a stored time that cannot be read."""
_TEXT = ("actor", "kind", "action", "target", "reason", "outcome", "prev_hash", "hash")


def shown(value: Any) -> str:
    """A stored value of the wrong type, as inert text."""
    return printable(repr(value), max_len=60)


def _time(value: Any, name: str, problems: list[str]) -> datetime:
    try:
        return parse_utc(value)
    except (TypeError, ValueError, AttributeError):
        problems.append(f"{name} is not a time ({shown(value)})")
        return EPOCH


def _json_object(value: Any, name: str, problems: list[str]) -> dict:
    try:
        parsed = json.loads(value or "{}")
    except (TypeError, ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        problems.append(f"{name} is not a JSON object")
        return {}
    return parsed


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else shown(value)


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def row_to_entry(row: dict[str, Any],
                 hasher: Callable[[dict[str, Any]], str | None] | None = None) -> AuditEntry:
    """A stored ``entries`` row as an entry. ``hasher`` (the store's, keyed or not; None
    for a keyed row without the key: not checkable) checks the row against its own
    ``hash``; a mismatch marks it damaged. Unreadable values are replaced (``detail`` {},
    ``at`` :data:`EPOCH`, text shown as its repr)."""
    problems: list[str] = []
    at = _time(row.get("at"), "at", problems)
    detail = _json_object(row.get("detail"), "detail", problems)
    if hasher is not None and not problems:
        try:
            want = hasher(dict(row, detail=detail))
            if want is not None and want != row.get("hash"):
                problems.append("content does not match its hash (edited)")
        except (TypeError, ValueError, RecursionError):
            problems.append("cannot be checked against its hash (edited)")
    data = {k: v for k, v in row.items() if k != "alg"}
    data.update(at=at, detail=detail)
    try:
        return AuditEntry(**data, damaged="; ".join(problems) or None)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
        problems.append(f"{', '.join(fields) or 'a field'}: wrong type")
    safe = {k: _text(row.get(k)) for k in _TEXT}
    return AuditEntry(seq=int(row["seq"]), at=at, detail=detail,
                      actor=safe["actor"] or "?", kind=safe["kind"] or "?",
                      action=safe["action"], target=safe["target"], reason=safe["reason"],
                      outcome=safe["outcome"], prev_hash=safe["prev_hash"] or "",
                      hash=safe["hash"] or "", intent_seq=_int(row.get("intent_seq")),
                      incident_id=_int(row.get("incident_id")),
                      damaged="; ".join(problems))


def note_record(row: dict[str, Any]) -> dict[str, Any]:
    """The fields of a note row its audit entry vouches for (``figures`` parsed).
    Raises ValueError/TypeError on a figures column that is not JSON."""
    return {"id": row["id"], "incident_id": row["incident_id"], "at": row["at"],
            "author": row["author"], "text": row["text"],
            "figures": json.loads(row["figures"] or "{}")}


def row_to_note(row: dict[str, Any]) -> Note:
    """A stored ``notes`` row as a note; unreadable values get readable stand-ins."""
    problems: list[str] = []
    return Note(id=int(row["id"]), incident_id=_int(row.get("incident_id")),
                at=_time(row.get("at"), "at", problems),
                author=_text(row.get("author")) or "?", text=_text(row.get("text")) or "",
                figures=_json_object(row.get("figures"), "figures", problems))


def row_to_incident(row: dict[str, Any]) -> Incident:
    """A stored ``incidents`` row as an incident; unreadable values get stand-ins."""
    problems: list[str] = []
    closed = row.get("closed_at")
    return Incident(id=int(row["id"]), title=_text(row.get("title")) or "?",
                    severity=_text(row.get("severity")) or "?",
                    opened_at=_time(row.get("opened_at"), "opened_at", problems),
                    opened_by=_text(row.get("opened_by")) or "?",
                    closed_at=_time(closed, "closed_at", problems) if closed else None,
                    closed_by=_text(row.get("closed_by")))
