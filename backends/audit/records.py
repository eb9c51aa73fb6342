"""Incidents and notes of the audit store: the writes (each also appends the audit entry
that vouches for the record, with its SHA-256, in the same transaction)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from backends.audit.chain import canonical, iso_utc, jsonable, parse_utc, scrub_text, sha256_hex
from backends.audit.rows import note_record, row_to_incident
from backends.audit.schema import incident_record
from backends.domain.errors import ActionRefused, BackendError, NotFoundError
from backends.domain.models import Incident, Note

if TYPE_CHECKING:
    from backends.audit.store import SqliteAudit

SOURCE = "audit"
MAX_TEXT = 100_000


def open_incident(store: SqliteAudit, title: str, severity: str, actor: str) -> Incident:
    title = (title or "").strip()
    if not title:
        raise BackendError("an incident needs a title", source=SOURCE)
    title = store._text("title", title, 500) or ""
    severity = store._text("severity", (severity or "SEV3").strip() or "SEV3", 32) or ""
    at = iso_utc(store.clock())
    try:
        with store._write() as cur:
            cur.execute("INSERT INTO incidents (title, severity, opened_at, opened_by) "
                        "VALUES (?, ?, ?, ?)", [title, severity, at, actor])
            row = {"id": cur.lastrowid, "title": title, "severity": severity,
                   "opened_at": at, "opened_by": actor, "closed_at": None,
                   "closed_by": None}
            store._insert_entry(cur, "incident", actor, {
                "action": "open", "reason": title, "incident_id": row["id"],
                "detail": {"incident_id": row["id"], "severity": severity,
                           "record_sha256": sha256_hex(canonical(incident_record(row)))}})
    except sqlite3.Error as exc:
        raise BackendError(f"cannot open incident: {exc}", source=SOURCE) from exc
    return row_to_incident(row)


def close_incident(store: SqliteAudit, incident_id: int, actor: str) -> Incident:
    at = iso_utc(store.clock())
    try:
        with store._write() as cur:
            found = cur.execute("SELECT closed_at FROM incidents WHERE id = ?",
                                [incident_id]).fetchone()
            if found is None:
                raise NotFoundError(f"no incident {incident_id}", source=SOURCE)
            if found[0] is not None:
                raise ActionRefused(f"incident {incident_id} is already closed",
                                    source=SOURCE)
            cur.execute("UPDATE incidents SET closed_at = ?, closed_by = ? WHERE id = ?",
                        [at, actor, incident_id])
            cols = [d[0] for d in cur.execute("SELECT * FROM incidents WHERE id = ?",
                                              [incident_id]).description]
            row = dict(zip(cols, cur.fetchone()))
            store._insert_entry(cur, "incident", actor, {
                "action": "close", "reason": row["title"], "incident_id": incident_id,
                "detail": {"incident_id": incident_id,
                           "record_sha256": sha256_hex(canonical(incident_record(row)))}})
    except sqlite3.Error as exc:
        raise BackendError(f"cannot close incident: {exc}", source=SOURCE) from exc
    return row_to_incident(row)


def add_note(store: SqliteAudit, text: str, actor: str, figures: dict | None = None,
             incident_id: int | None = None) -> Note:
    """A note (author, UTC time, text, figures on screen). ``incident_id`` None = the
    open incident, if any. Text is stored verbatim (exports escape it), but for
    secrets, masked by their shape (:func:`backends.domain.redact.redact`)."""
    if not isinstance(text, str) or not text.strip():
        raise BackendError("a note needs some text", source=SOURCE)
    if len(text) > MAX_TEXT:
        raise BackendError(f"note is too long ({len(text)} > {MAX_TEXT} characters)",
                           source=SOURCE)
    figures_clean = jsonable(figures or {})
    at = iso_utc(store.clock())
    try:
        with store._write() as cur:
            if incident_id is None:
                found = cur.execute("SELECT id FROM incidents WHERE closed_at IS NULL "
                                    "ORDER BY id DESC LIMIT 1").fetchone()
                incident_id = found[0] if found else None
            text = scrub_text(text)
            cur.execute("INSERT INTO notes (incident_id, at, author, text, figures) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [incident_id, at, actor, text, canonical(figures_clean)])
            row = {"id": cur.lastrowid, "incident_id": incident_id, "at": at,
                   "author": actor, "text": text, "figures": canonical(figures_clean)}
            store._insert_entry(cur, "note", actor, {
                "action": "add", "incident_id": incident_id,
                "target": figures_clean.get("service_key") or None,
                "detail": {"note_id": row["id"],
                           "record_sha256": sha256_hex(canonical(note_record(row)))}})
    except sqlite3.Error as exc:
        raise BackendError(f"cannot add note: {exc}", source=SOURCE) from exc
    return Note(id=row["id"], incident_id=incident_id, at=parse_utc(at), author=actor,
                text=text, figures=figures_clean)
