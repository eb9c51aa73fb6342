"""Schema of the audit store: tables (through sqlite-utils), indexes and the append-only
triggers. Creation is idempotent and runs inside the caller's ``BEGIN IMMEDIATE``."""

from __future__ import annotations

from typing import Any

import sqlite_utils

SCHEMA_VERSION = 2
"""v2 added ``entries.alg`` (how ``hash`` was computed: ``sha256`` or ``hmac-sha256``; NULL
in rows written by v1, which are plain SHA-256) and the ``archives`` table (retention)."""

#: name -> SQL. ``verify`` reports any of these missing (an attacker drops them first).
TRIGGERS = {
    "entries_no_update": "BEFORE UPDATE ON entries BEGIN "
                         "SELECT RAISE(ABORT, 'audit entries are append-only'); END",
    "entries_no_delete": "BEFORE DELETE ON entries BEGIN "
                         "SELECT RAISE(ABORT, 'audit entries are append-only'); END",
    "notes_no_update": "BEFORE UPDATE ON notes BEGIN "
                       "SELECT RAISE(ABORT, 'notes are append-only'); END",
    "notes_no_delete": "BEFORE DELETE ON notes BEGIN "
                       "SELECT RAISE(ABORT, 'notes are append-only'); END",
    "incidents_no_delete": "BEFORE DELETE ON incidents BEGIN "
                           "SELECT RAISE(ABORT, 'incidents are append-only'); END",
    # The only update allowed: closing an open incident (closed_at/closed_by from NULL).
    "incidents_close_only": (
        "BEFORE UPDATE ON incidents WHEN OLD.closed_at IS NOT NULL "
        "OR NEW.id IS NOT OLD.id OR NEW.title IS NOT OLD.title "
        "OR NEW.severity IS NOT OLD.severity OR NEW.opened_at IS NOT OLD.opened_at "
        "OR NEW.opened_by IS NOT OLD.opened_by OR NEW.closed_at IS NULL "
        "BEGIN SELECT RAISE(ABORT, 'an incident can only be closed, once'); END"
    ),
}


def create_schema(db: sqlite_utils.Database) -> None:
    """Create the tables, indexes and triggers that do not exist yet."""
    db.table("entries").create(
        {"seq": int, "at": str, "actor": str, "kind": str, "action": str, "target": str,
         "reason": str, "outcome": str, "detail": str, "intent_seq": int,
         "incident_id": int, "prev_hash": str, "hash": str, "alg": str},
        pk="seq", not_null={"at", "actor", "kind", "detail", "prev_hash", "hash"},
        if_not_exists=True,
    )
    if "alg" not in db.table("entries").columns_dict:  # a v1 store
        db.execute("ALTER TABLE entries ADD COLUMN alg TEXT")
    db.table("incidents").create(
        {"id": int, "title": str, "severity": str, "opened_at": str, "opened_by": str,
         "closed_at": str, "closed_by": str},
        pk="id", not_null={"title", "severity", "opened_at", "opened_by"}, if_not_exists=True,
    )
    db.table("notes").create(
        {"id": int, "incident_id": int, "at": str, "author": str, "text": str,
         "figures": str},
        pk="id", not_null={"at", "author", "text", "figures"}, if_not_exists=True,
    )
    db.table("archives").create(  # sealed files holding the entries a prune moved out
        {"name": str, "first": int, "last": int, "head": str, "sha256": str, "at": str},
        pk="name", not_null={"first", "last", "head", "sha256", "at"}, if_not_exists=True,
    )
    for table, cols in (("entries", ["intent_seq"]), ("entries", ["target"]),
                        ("entries", ["at"]), ("entries", ["incident_id"]),
                        ("entries", ["kind"]), ("notes", ["incident_id"])):
        db.table(table).create_index(cols, if_not_exists=True)
    for name, body in TRIGGERS.items():
        db.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def incident_record(row: dict[str, Any]) -> dict[str, Any]:
    """The fields of an incident row that its audit entries vouch for."""
    return {k: row[k] for k in ("id", "title", "severity", "opened_at", "opened_by",
                                "closed_at", "closed_by")}
