"""Append-only, hash-chained audit store on SQLite (through sqlite-utils).

Layout: one SQLite file (default ``$XDG_DATA_HOME/pitboard/audit.db``; parent created
0700, file 0600; SQLite gives its ``-wal``/``-shm`` files the same mode), WAL journal,
``synchronous=FULL`` (a committed append survives a power cut), a busy timeout so
several consoles can write at once. Tables:

- ``entries``: the chain. Triggers refuse UPDATE and DELETE. Each row holds the SHA-256
  of its canonical JSON (see :mod:`backends.audit.chain`) and the previous row's hash.
  An append runs ``BEGIN IMMEDIATE`` -> read the last hash -> insert -> ``COMMIT``, so
  concurrent writers (threads or processes) serialise and never fork the chain.
- ``incidents`` and ``notes``: readable records; each open/close/note also appends an
  entry carrying the record's SHA-256, so ``verify`` catches edits there too.

Readers (``audit verify``, ``audit log``, ``export``) open it with ``read_only=True``
(:mod:`backends.audit.connect`): nothing on disk changes, and a read-only copy works.

Secrets never enter it: ``detail`` values under keys that name a secret (``password``,
``api_key``...) are redacted, and in every text secrets are masked by their shape (URL
passwords, ``Authorization`` values, known token formats: :mod:`backends.domain.redact`),
never ordinary words: "Basic functionality works" is stored as written.

Limits (documented, not hidden; README "What the audit chain can prove"): the chain
proves the *order and content* of what is there; cutting entries off the *end*, or a
rewrite that re-hashes everything after it, is only detectable against a witness: an
anchor (``chain_state(anchors=...)``, ``pitboard audit anchor``), a key (``key=``: an
HMAC chain, see :mod:`backends.audit.chain`) or forwarded copies (``forward=``, see
:mod:`backends.audit.forward`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from backends.audit import records
from backends.audit.rows import row_to_entry, row_to_incident, row_to_note
from backends.audit.connect import ReadOnlyFile, default_audit_path, journal_wal, prepare_file
from backends.audit.chain import (ALG_KEYED, ALG_PLAIN, GENESIS, canonical, entry_hash,
                                  expected_hash, iso_utc, jsonable, key_id, row_alg, scrub_text)
from backends.audit.forward import Forwarder, make_forwarder
from backends.audit.verify import Anchor, ChainState, check_store
from backends.audit.archive import PruneResult, archive_checker, last_archived, prune
from backends.audit.schema import SCHEMA_VERSION, TRIGGERS, create_schema
from backends.domain.sources import AuditBackend
from backends.domain.errors import BackendError, ConfigError, NotFoundError
from backends.domain.models import AuditEntry, Incident, Note, utcnow

SOURCE = "audit"
MAX_DETAIL = 1_000_000
_AUTO: Any = object()
_COLUMNS = ("seq", "at", "actor", "kind", "action", "target", "reason", "outcome", "detail",
            "intent_seq", "incident_id", "prev_hash", "hash", "alg")


class SqliteAudit(AuditBackend):
    """The audit store. Thread-safe (one lock around its connection); process-safe (SQLite
    locks). Every public method raises :class:`BackendError` (``source="audit"``)."""

    def __init__(self, path: str | os.PathLike | None = None, *,
                 clock: Callable[[], datetime] = utcnow, busy_timeout_ms: int = 10_000,
                 create: bool = True, durable: bool = True, read_only: bool = False,
                 key: bytes | None = None, forward: str | Forwarder | None = None) -> None:
        """Open (and create, unless ``create=False``) the store. ``read_only=True`` is the
        readers' open (:class:`backends.audit.connect.ReadOnlyFile`): it changes nothing
        on disk, works on a read-only copy, and every write raises BackendError.
        ``key`` (:func:`backends.audit.chain.read_key`) makes new entries HMAC-keyed and
        lets keyed entries be checked; a writer given a key on a store whose newest entry
        is not keyed records the switch at once (a ``chain``/``keyed`` entry, which
        vouches for the plain entries before it). ``forward``: ``"syslog"`` or a file path
        (:mod:`backends.audit.forward`) receiving each entry once committed."""
        self.path = Path(os.path.expanduser(path)) if path else default_audit_path()
        self.clock = clock
        self.read_only = read_only
        self.key = key
        self._lock = threading.RLock()
        self._ro: ReadOnlyFile | None = None
        self._outbox: list[dict[str, Any]] = []
        self.forwarder = make_forwarder(forward) if isinstance(forward, str) or \
            forward is None else forward
        if read_only:
            self._ro = ReadOnlyFile(self.path, busy_timeout_ms)
            self.db = sqlite_utils.Database(self._ro.conn)
            self._check_readable()
            return
        prepare_file(self.path, create)
        try:
            conn = sqlite3.connect(str(self.path), timeout=busy_timeout_ms / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = journal_wal(conn, busy_timeout_ms)
            if str(mode).lower() != "wal":
                raise ConfigError(f"{self.path}: cannot use WAL journal (got {mode})",
                                  source=SOURCE)
            conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self.db = sqlite_utils.Database(conn)
            with self._write() as cur:
                version = cur.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ConfigError(f"{self.path}: audit schema v{version} is newer than "
                                      f"this pitboard (v{SCHEMA_VERSION})", source=SOURCE)
                if version < SCHEMA_VERSION:
                    create_schema(self.db)
                    cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if key is not None:
                self._start_keyed()
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open audit store {self.path}: {exc}",
                               source=SOURCE) from exc

    def _start_keyed(self) -> None:
        """With a key, on a store whose newest entry is plain: append the switch."""
        with self._write() as cur:
            last = cur.execute("SELECT seq, alg FROM entries ORDER BY seq DESC LIMIT 1"
                               ).fetchone()
            if last is None or row_alg({"alg": last[1]}) == ALG_KEYED:
                return
            self._insert_entry(cur, "chain", "pitboard", {
                "action": "keyed", "incident_id": None,
                "reason": f"entries from #{last[0] + 1} are HMAC-keyed",
                "detail": {"key_id": key_id(self.key or b""), "plain_through": last[0]}})

    def _check_readable(self) -> None:
        """A read-only open must find an audit store: ConfigError (bad input) if not."""
        try:
            version, tables = self._read(lambda conn: (
                conn.execute("PRAGMA user_version").fetchone()[0],
                {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                            "WHERE type = 'table'")}))
        except BackendError as exc:
            self.close()
            raise ConfigError(f"{self.path}: not a readable audit store ({exc})",
                              source=SOURCE) from None
        if version > SCHEMA_VERSION:
            self.close()
            raise ConfigError(f"{self.path}: audit schema v{version} is newer than this "
                              f"pitboard (v{SCHEMA_VERSION})", source=SOURCE)
        if not {"entries", "incidents", "notes"} <= tables:
            self.close()
            raise ConfigError(f"{self.path} is an SQLite file but not a pitboard audit "
                              f"store (no entries table)", source=SOURCE)

    def _read(self, read: Callable[[sqlite3.Connection], Any]) -> Any:
        """``read(conn)`` under the lock; a read-only immutable open whose file changed
        meanwhile (a writer started) is reopened and read again. sqlite3 errors become
        BackendError."""
        with self._lock:
            for _ in range(3):
                try:
                    result = read(self.db.conn)
                except sqlite3.Error as exc:
                    if self._ro is None or not self._ro.changed():
                        raise BackendError(f"audit store read failed: {exc}",
                                           source=SOURCE) from exc
                else:
                    if self._ro is None or not self._ro.changed():
                        return result
                self.db = sqlite_utils.Database(self._ro.refresh())
            raise BackendError(f"{self.path} keeps changing while being read", source=SOURCE)

    # -- plumbing ---------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """One ``BEGIN IMMEDIATE`` transaction: committed (and fsynced) on exit."""
        if self.read_only:
            raise BackendError(f"{self.path} is open read-only", source=SOURCE)
        with self._lock:
            conn = self.db.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise BackendError(f"audit store is busy or unwritable: {exc}",
                                   source=SOURCE) from exc
            try:
                yield conn.cursor()
                conn.execute("COMMIT")
            except BaseException:
                self._outbox.clear()
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            outbox, self._outbox = self._outbox, []
            if self.forwarder is not None:
                for row in outbox:
                    self.forwarder.send(row)

    def _query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cur = conn.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur]

        return self._read(read)

    @staticmethod
    def _text(name: str, value: Any, limit: int = 4000) -> str | None:
        if value is None:
            return None
        text = scrub_text(str(value))
        if len(text) > limit:
            raise BackendError(f"{name} is too long ({len(text)} > {limit} characters)",
                               source=SOURCE)
        return text

    def _insert_entry(self, cur: sqlite3.Cursor, kind: str, actor: str,
                      fields: dict[str, Any]) -> AuditEntry:
        unknown = set(fields) - {"action", "target", "reason", "outcome", "detail",
                                 "intent_seq", "incident_id"}
        if unknown:
            raise TypeError(f"unknown audit fields: {sorted(unknown)}")
        if not kind or len(kind) > 32 or not kind.replace("_", "").isalnum():
            raise BackendError(f"bad audit entry kind {kind!r}", source=SOURCE)
        if not actor or not str(actor).strip():
            raise BackendError("an audit entry needs an actor", source=SOURCE)
        incident_id = fields.get("incident_id", _AUTO)
        if incident_id is _AUTO:
            row = cur.execute("SELECT id FROM incidents WHERE closed_at IS NULL "
                              "ORDER BY id DESC LIMIT 1").fetchone()
            incident_id = row[0] if row else None
        detail = jsonable(fields.get("detail") or {})
        if not isinstance(detail, dict):
            raise BackendError("audit detail must be a mapping", source=SOURCE)
        detail_json = canonical(detail)
        if len(detail_json) > MAX_DETAIL:
            raise BackendError("audit detail is too large", source=SOURCE)
        last = cur.execute("SELECT seq, hash, alg FROM entries ORDER BY seq DESC LIMIT 1"
                           ).fetchone()
        if last is None:  # empty, or everything pruned: go on from the last archive
            archived = last_archived(cur.connection)
            last = (*archived, ALG_KEYED if self.key else ALG_PLAIN) if archived else None
        if last is not None and self.key is None and row_alg({"alg": last[2]}) == ALG_KEYED:
            raise ConfigError(f"{self.path} is a keyed (HMAC) audit store: appending without "
                              f"its key would break the chain (config audit.key_file)",
                              source=SOURCE)
        record: dict[str, Any] = {
            "seq": last[0] + 1 if last else 1,
            "at": iso_utc(self.clock()),
            "actor": self._text("actor", actor, 400),
            "kind": kind,
            "action": self._text("action", fields.get("action"), 64),
            "target": self._text("target", fields.get("target"), 1000),
            "reason": self._text("reason", fields.get("reason")),
            "outcome": self._text("outcome", fields.get("outcome")),
            "detail": detail,
            "intent_seq": fields.get("intent_seq"),
            "incident_id": incident_id,
            "prev_hash": last[1] if last else GENESIS,
        }
        record["hash"] = entry_hash(record, self.key)
        row = dict(record, detail=detail_json, alg=ALG_KEYED if self.key else ALG_PLAIN)
        self._outbox.append(row)
        cur.execute(f"INSERT INTO entries ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                    [row[c] for c in _COLUMNS])
        return row_to_entry(row)

    # -- entries ----------------------------------------------------------------------
    def _entry(self, row: dict[str, Any]) -> AuditEntry:
        """A stored row as an entry, checked against its own hash (``damaged`` if not)."""
        return row_to_entry(row, lambda r: expected_hash(r, self.key))

    def append(self, kind: str, *, actor: str, **fields: Any) -> AuditEntry:
        """Durably append one entry; returns it once committed. Fields: action, target,
        reason, outcome, detail (dict; secrets redacted), intent_seq, incident_id (default:
        the open incident, if any; pass ``None`` explicitly for none)."""
        try:
            with self._write() as cur:
                return self._insert_entry(cur, kind, actor, fields)
        except sqlite3.Error as exc:
            raise BackendError(f"audit append failed: {exc}", source=SOURCE) from exc

    def entries(self, *, since: datetime | None = None, target: str | None = None,
                limit: int | None = None, model: str | None = None,
                kind: str | None = None, incident_id: int | None = None) -> list[AuditEntry]:
        """Entries oldest first. ``limit`` keeps the *newest* N. ``model`` matches a target
        equal to it or ending in ``/<model>`` (a ``ModelService.key``)."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("at >= ?")
            params.append(iso_utc(since))
        if target is not None:
            where.append("target = ?")
            params.append(target)
        if model is not None:
            escaped = model.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("(target = ? OR target LIKE ? ESCAPE '\\')")
            params += [model, "%/" + escaped]
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        sql = "SELECT * FROM entries" + (" WHERE " + " AND ".join(where) if where else "")
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT {max(0, int(limit))})"
        return [self._entry(r) for r in self._query(sql + " ORDER BY seq", params)]

    def entry(self, seq: int) -> AuditEntry | None:
        rows = self._query("SELECT * FROM entries WHERE seq = ?", [seq])
        return self._entry(rows[0]) if rows else None

    def pending_intents(self) -> list[AuditEntry]:
        """Intents with no ``outcome`` (nor ``cancel``) entry: a crash between the intent and
        the outcome. Shown as "outcome unknown"."""
        rows = self._query(
            "SELECT * FROM entries i WHERE i.kind = 'intent' AND NOT EXISTS ("
            "SELECT 1 FROM entries o WHERE o.intent_seq = i.seq "
            "AND o.kind IN ('outcome', 'cancel')) ORDER BY i.seq")
        return [self._entry(r) for r in rows]

    def verify(self) -> tuple[bool, str]:
        """Recompute the chain; ``(False, message)`` names the first broken entry (edited,
        deleted -> gap, reordered/inserted -> prev mismatch), then edited or deleted
        incidents/notes, then dropped append-only triggers. See :meth:`chain_state`."""
        state = self.chain_state()
        return state.ok, state.message

    def chain_state(self, anchors: tuple[Anchor, ...] = ()) -> ChainState:
        """The whole verification (:func:`backends.audit.verify.check_store`) with this
        store's key, checked against ``anchors`` (heads recorded elsewhere). Never raises:
        an unreadable store is a broken one."""
        def check(conn: sqlite3.Connection) -> ChainState:
            return check_store(conn, key=self.key, anchors=anchors,
                               archived=archive_checker(conn, self.path.parent))

        try:
            return self._read(check)
        except BackendError as exc:
            return ChainState(ok=False, message=f"cannot read the audit store: {exc}")

    def prune(self, before: datetime, actor: str) -> PruneResult:
        """Move the entries older than ``before`` to a sealed archive beside the store
        (:mod:`backends.audit.archive`); the live chain goes on from its last hash."""
        return prune(self, before, actor)

    # -- incidents and notes -----------------------------------------------------------
    def open_incident(self, title: str, severity: str, actor: str) -> Incident:
        """Open an incident (and append its ``incident``/``open`` entry)."""
        return records.open_incident(self, title, severity, actor)

    def close_incident(self, incident_id: int, actor: str) -> Incident:
        """Close an open incident (and append its ``incident``/``close`` entry)."""
        return records.close_incident(self, incident_id, actor)

    @staticmethod
    def _incident(row: dict[str, Any]) -> Incident:
        return row_to_incident(row)

    def current_incident(self) -> Incident | None:
        """The most recently opened incident that is still open."""
        rows = self._query("SELECT * FROM incidents WHERE closed_at IS NULL "
                           "ORDER BY id DESC LIMIT 1")
        return self._incident(rows[0]) if rows else None

    def incident(self, incident_id: int) -> Incident:
        rows = self._query("SELECT * FROM incidents WHERE id = ?", [incident_id])
        if not rows:
            raise NotFoundError(f"no incident {incident_id}", source=SOURCE)
        return self._incident(rows[0])

    def incidents(self) -> list[Incident]:
        return [self._incident(r) for r in self._query("SELECT * FROM incidents ORDER BY id")]

    def add_note(self, text: str, actor: str, figures: dict | None = None,
                 incident_id: int | None = None) -> Note:
        """A note (author, UTC time, text, figures on screen). ``incident_id`` None = the
        open incident, if any. Text is stored verbatim (exports escape it), but for
        secrets, masked by their shape (:func:`backends.domain.redact.redact`)."""
        return records.add_note(self, text, actor, figures, incident_id)

    def notes(self, incident_id: int | None = None) -> list[Note]:
        """Notes oldest first (of one incident, or all)."""
        sql, params = "SELECT * FROM notes", []
        if incident_id is not None:
            sql, params = sql + " WHERE incident_id = ?", [incident_id]
        return [row_to_note(r)
                for r in self._query(sql + " ORDER BY id", params)]

    def head(self) -> AuditEntry | None:
        rows = self._query("SELECT * FROM entries ORDER BY seq DESC LIMIT 1")
        return self._entry(rows[0]) if rows else None

    def close(self) -> None:
        with self._lock:
            if self._ro is not None:
                self._ro.close()
            else:
                self.db.close()


__all__ = ["SqliteAudit", "default_audit_path", "TRIGGERS"]
