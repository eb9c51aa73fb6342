"""``verify`` of the audit store: recompute the chain and cross-check incidents and notes.

Reported in this order, first problem only:
1. the chain: ``seq`` must run 1, 2, 3 ...; each ``prev_hash`` must equal the previous
   entry's hash; each ``hash`` must equal the SHA-256 of the row's canonical JSON;
2. incidents and notes: each row must match the ``record_sha256`` of its audit entry, and
   every entry's record must still exist;
3. the append-only triggers must all be present.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from backends.audit.chain import GENESIS, canonical, entry_hash, sha256_hex
from backends.audit.rows import row_to_entry
from backends.audit.schema import TRIGGERS, incident_record

_COLS = ("seq", "at", "actor", "kind", "action", "target", "reason", "outcome", "detail",
         "intent_seq", "incident_id", "prev_hash", "hash")


def _check_chain(conn: sqlite3.Connection, notes: dict[int, str],
                 opens: dict[int, str], closes: dict[int, str]) -> tuple[str | None, int, str]:
    expected_seq, prev_hash = 1, GENESIS
    cur = conn.execute(f"SELECT {', '.join(_COLS)} FROM entries ORDER BY seq")
    for values in cur:
        row = dict(zip(_COLS, values))
        seq = row["seq"]
        if seq != expected_seq:
            missing = (f"#{expected_seq}" if seq == expected_seq + 1
                       else f"#{expected_seq}..#{seq - 1}")
            return (f"entry #{seq}: entry {missing} is missing (deleted); "
                    f"the chain breaks after #{expected_seq - 1}"), seq, prev_hash
        try:
            detail = json.loads(row["detail"])
        except (TypeError, ValueError, RecursionError):
            return f"entry #{seq}: detail is not valid JSON (the row was edited)", seq, prev_hash
        if not isinstance(detail, dict):
            return (f"entry #{seq}: detail is not a JSON object (the row was edited)", seq,
                    prev_hash)
        if row["prev_hash"] != prev_hash:
            return (f"entry #{seq}: prev_hash does not match entry #{seq - 1} "
                    f"(entries reordered, inserted or replaced)"), seq, prev_hash
        try:
            computed = entry_hash(dict(row, detail=detail))
        except (TypeError, ValueError, RecursionError):
            return (f"entry #{seq}: holds values that cannot be hashed (the row was edited)",
                    seq, prev_hash)
        if computed != row["hash"]:
            return (f"entry #{seq}: content does not match its hash (the row was edited)",
                    seq, prev_hash)
        damaged = row_to_entry(row).damaged
        if damaged:
            return f"entry #{seq}: {damaged} (hash recomputed after an edit?)", seq, prev_hash
        if row["kind"] == "note" and isinstance(detail.get("note_id"), int):
            notes[detail["note_id"]] = str(detail.get("record_sha256"))
        elif row["kind"] == "incident" and isinstance(detail.get("incident_id"), int):
            target = opens if row["action"] == "open" else closes
            target[detail["incident_id"]] = str(detail.get("record_sha256"))
        prev_hash, expected_seq = row["hash"], seq + 1
    return None, expected_seq - 1, prev_hash


def _digest(record: dict[str, Any]) -> str | None:
    """SHA-256 of a record's canonical JSON; None when it holds what JSON cannot (an edited
    row: bytes, infinities), which then matches no audit entry."""
    try:
        return sha256_hex(canonical(record))
    except (TypeError, ValueError, RecursionError):
        return None


def _check_records(conn: sqlite3.Connection, notes: dict[int, str],
                   opens: dict[int, str], closes: dict[int, str]) -> str | None:
    cols = ("id", "incident_id", "at", "author", "text", "figures")
    seen: set[int] = set()
    for values in conn.execute(f"SELECT {', '.join(cols)} FROM notes ORDER BY id"):
        row: dict[str, Any] = dict(zip(cols, values))
        seen.add(row["id"])
        try:
            row["figures"] = json.loads(row["figures"] or "{}")
        except (TypeError, ValueError, RecursionError):
            return f"note #{row['id']}: figures are not valid JSON (the row was edited)"
        want = notes.get(row["id"])
        if want is None:
            return f"note #{row['id']}: no audit entry records it (inserted behind the log)"
        if _digest(row) != want:
            return f"note #{row['id']}: does not match its audit entry (the row was edited)"
    for note_id in sorted(set(notes) - seen):
        return f"note #{note_id}: recorded in the audit log but missing (deleted)"
    icols = ("id", "title", "severity", "opened_at", "opened_by", "closed_at", "closed_by")
    seen = set()
    for values in conn.execute(f"SELECT {', '.join(icols)} FROM incidents ORDER BY id"):
        row = dict(zip(icols, values))
        seen.add(row["id"])
        opened = dict(incident_record(row), closed_at=None, closed_by=None)
        if opens.get(row["id"]) != _digest(opened):
            return f"incident #{row['id']}: does not match its audit entry (edited or forged)"
        closed = closes.get(row["id"])
        if row["closed_at"] is None and closed is not None:
            return f"incident #{row['id']}: closed in the audit log but open in the table"
        if row["closed_at"] is not None and closed != _digest(incident_record(row)):
            return f"incident #{row['id']}: closing does not match its audit entry"
    for incident_id in sorted(set(opens) - seen):
        return f"incident #{incident_id}: recorded in the audit log but missing (deleted)"
    return None


def verify_store(conn: sqlite3.Connection) -> tuple[bool, str]:
    """``(ok, message)`` for the store behind ``conn`` (read in one snapshot)."""
    conn.execute("BEGIN")
    try:
        notes: dict[int, str] = {}
        opens: dict[int, str] = {}
        closes: dict[int, str] = {}
        problem, count, head = _check_chain(conn, notes, opens, closes)
        if problem:
            return False, problem
        problem = _check_records(conn, notes, opens, closes)
        if problem:
            return False, problem
        present = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        missing = sorted(set(TRIGGERS) - present)
        if missing:
            return False, (f"append-only triggers missing: {', '.join(missing)} "
                           f"(dropped; the store may have been tampered with)")
    finally:
        conn.execute("ROLLBACK")
    if count == 0:
        return True, "ok: the audit log is empty"
    return True, f"ok: {count} entries, chain intact, head #{count} {head[:16]}"
