"""Retention: ``pitboard audit prune --before DATE`` moves old entries to a sealed archive.

An archive is an SQLite file beside the store, ``<store>.archive-<first>-<last>.db``
(journal mode DELETE: one file), holding the entries #first..#last exactly as they were
(hashes, ``alg`` and all) and a one-row ``archive`` table naming them. It is written first
(0600, fsynced, renamed into place), then *sealed*: made read-only (0400) and its SHA-256
recorded. Then, in one transaction of the live store, the entries are deleted (the
append-only trigger is dropped and re-created inside that transaction), the archive is
listed in the ``archives`` table, and a ``chain``/``prune`` entry is appended naming the
archive, its range, its head hash and its SHA-256. The live chain goes on from the
archive's last hash: the next entry's ``prev_hash`` is that hash, so nothing is re-hashed.

``verify`` proves continuity across them (:func:`archive_checker`): every archive listed
must be there, unchanged (its SHA-256), chain from the previous one (the first from the
genesis), and be the one a prune entry of the chain sealed; the live entries must follow
on from the last archive's head. A missing archive is a break (entries #a..#b cannot be
shown to exist): copy the archives along with the store.

What pruning gives up: archived actions, notes' entries and approvals no longer appear in
``audit log``, exports and the promote gate (notes and incidents stay in the live store).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.audit.chain import iso_utc
from backends.audit.schema import TRIGGERS
from backends.audit.connect import ReadOnlyFile
from backends.audit.verify import BeforeLive, Scan, check_chain
from backends.domain.errors import ActionRefused, BackendError
from backends.domain.models import AuditEntry

if TYPE_CHECKING:
    from backends.audit.store import SqliteAudit

SOURCE = "audit"
_COLUMNS = ("seq", "at", "actor", "kind", "action", "target", "reason", "outcome", "detail",
            "intent_seq", "incident_id", "prev_hash", "hash", "alg")


@dataclass(frozen=True)
class PruneResult:
    """What a prune did: the archive written (None when nothing was old enough)."""

    archive: Path | None
    first: int = 0
    last: int = 0
    head: str = ""
    sha256: str = ""
    entry_seq: int | None = None  # the chain/prune entry of the live store

    def __str__(self) -> str:
        if self.archive is None:
            return "nothing to prune: no entry is older than the date given"
        return (f"archived entries #{self.first}..#{self.last} to {self.archive} (sealed "
                f"0400, sha256 {self.sha256[:16]}); the live chain goes on from #{self.last} "
                f"{self.head[:16]} (entry #{self.entry_seq} records it)")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The archives a store lists, oldest first ([] for a store that never pruned)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'archives'").fetchone():
        return []
    cur = conn.execute("SELECT name, first, last, head, sha256 FROM archives ORDER BY first")
    return [dict(zip(("name", "first", "last", "head", "sha256"), row)) for row in cur]


def last_archived(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """(seq, hash) of the newest archived entry, for a live store left empty by a prune."""
    rows = archive_rows(conn)
    return (rows[-1]["last"], rows[-1]["head"]) if rows else None


def archive_checker(conn: sqlite3.Connection, directory: Path) -> BeforeLive:
    """The ``archived`` step of :func:`backends.audit.verify.check_store` for the store
    behind ``conn`` whose archives lie in ``directory``."""
    def check(scan: Scan) -> tuple[str | None, int | None]:
        for ref in archive_rows(conn):
            problem = _check_one(ref, directory, scan)
            if problem:
                return problem, ref["first"]
        return None, None
    return check


def _check_one(ref: dict[str, Any], directory: Path, scan: Scan) -> str | None:
    name, first, last = ref["name"], ref["first"], ref["last"]
    what = f"entries #{first}..#{last}"
    path = directory / str(name)
    if os.path.basename(str(name)) != name or not path.is_file():
        return (f"{what} were archived to {name}, which is not beside the store (copy the "
                f"archives along with it)")
    if first != scan.head[0] + 1:
        return f"archive {name} starts at #{first}, not #{scan.head[0] + 1} (a gap)"
    try:
        if file_sha256(path) != ref["sha256"]:
            return f"archive {name} changed after it was sealed (its SHA-256 differs)"
        archive = ReadOnlyFile(path)
    except (OSError, BackendError) as exc:
        return f"archive {name} cannot be read: {exc}"
    try:
        scan.start = (first, scan.head[1])
        archive.conn.execute("BEGIN")
        try:
            problem, _ = check_chain(archive.conn, scan)
        finally:
            archive.conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        problem = f"archive {name} cannot be read: {exc}"
    finally:
        archive.close()
    if problem:
        return f"{problem} (in archive {name})"
    if scan.head != (last, ref["head"]):
        return (f"archive {name} ends at #{scan.head[0]} {scan.head[1][:16]}, not at #{last} "
                f"{str(ref['head'])[:16]} as listed (entries cut off)")
    scan.archived.append(ref)
    return None


def _write_archive(path: Path, rows: list[tuple], first: int, last: int, head: str,
                   at: str) -> str:
    """Write the archive file (via a temporary name, fsynced) and seal it; its SHA-256."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                     "actor TEXT NOT NULL, kind TEXT NOT NULL, action TEXT, target TEXT, "
                     "reason TEXT, outcome TEXT, detail TEXT NOT NULL, intent_seq INTEGER, "
                     "incident_id INTEGER, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, "
                     "alg TEXT)")
        conn.executemany(f"INSERT INTO entries ({', '.join(_COLUMNS)}) VALUES "
                         f"({', '.join('?' * len(_COLUMNS))})", rows)
        conn.execute("CREATE TABLE archive (first INTEGER, last INTEGER, head TEXT, at TEXT)")
        conn.execute("INSERT INTO archive VALUES (?, ?, ?, ?)", [first, last, head, at])
        for name in ("no_update", "no_delete"):
            verb = name.split("_")[1].upper()
            conn.execute(f"CREATE TRIGGER archive_{name} BEFORE {verb} ON entries BEGIN "
                         f"SELECT RAISE(ABORT, 'an archive is sealed'); END")
        conn.execute("COMMIT")
    finally:
        conn.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o400)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return file_sha256(path)


def prune(audit: SqliteAudit, before: datetime, actor: str) -> PruneResult:
    """Move the entries written before ``before`` (all of them up to the newest such
    entry: the chain is cut in one place) to a sealed archive. Refuses a chain that does
    not verify (ActionRefused): an archive must start from a proven chain."""
    state = audit.chain_state()
    if not state.ok:
        raise ActionRefused(f"the audit chain does not verify, nothing pruned: "
                            f"{state.summary()}", source=SOURCE)
    cut = iso_utc(before)
    rows = audit._query(f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE seq <= "
                        f"(SELECT max(seq) FROM entries WHERE at < ?) ORDER BY seq", [cut])
    if not rows:
        return PruneResult(archive=None)
    first, last, head = rows[0]["seq"], rows[-1]["seq"], rows[-1]["hash"]
    path = audit.path.with_name(f"{audit.path.stem}.archive-{first:06d}-{last:06d}.db")
    if path.exists():
        raise ActionRefused(f"{path} exists already: nothing pruned", source=SOURCE)
    sealed_at = iso_utc(audit.clock())
    digest = _write_archive(path, [tuple(r[c] for c in _COLUMNS) for r in rows], first, last,
                            head, sealed_at)
    try:
        entry = _seal_live(audit, path.name, first, last, head, digest, sealed_at, actor)
    except BaseException:
        os.chmod(path, 0o600)
        path.unlink(missing_ok=True)
        raise
    return PruneResult(archive=path, first=first, last=last, head=head, sha256=digest,
                       entry_seq=entry.seq)


def _seal_live(audit: SqliteAudit, name: str, first: int, last: int, head: str, digest: str,
           at: str, actor: str) -> AuditEntry:
    """The live half of a prune, in one transaction: list the archive, delete its
    entries (the append-only trigger dropped and re-created inside the transaction),
    append the ``chain``/``prune`` entry that seals it."""
    try:
        with audit._write() as cur:
            now = cur.execute("SELECT hash FROM entries WHERE seq = ?", [last]).fetchone()
            if now is None or now[0] != head:
                raise ActionRefused("the audit store changed during the prune",
                                    source=SOURCE)
            cur.execute("INSERT INTO archives (name, first, last, head, sha256, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [name, first, last, head, digest, at])
            cur.execute("DROP TRIGGER entries_no_delete")
            cur.execute("DELETE FROM entries WHERE seq BETWEEN ? AND ?", [first, last])
            cur.execute(f"CREATE TRIGGER entries_no_delete {TRIGGERS['entries_no_delete']}")
            return audit._insert_entry(cur, "chain", actor, {
                "action": "prune", "incident_id": None,
                "reason": f"entries #{first}..#{last} moved to the sealed archive {name}",
                "detail": prune_detail(name, first, last, head, digest)})
    except sqlite3.Error as exc:
        raise BackendError(f"prune failed: {exc}", source=SOURCE) from exc


def prune_detail(name: str, first: int, last: int, head: str, digest: str) -> dict:
    """The ``detail`` of the ``chain``/``prune`` entry (what verify checks archives by)."""
    return {"archive": name, "first": first, "last": last, "head": head, "sha256": digest}


__all__ = ["PruneResult", "archive_checker", "archive_rows", "file_sha256", "last_archived",
           "prune", "prune_detail"]
