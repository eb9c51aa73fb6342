"""``verify`` of the audit store: recompute the chain and cross-check incidents and notes.

Reported in this order, first problem only:
1. the chain: ``seq`` must run 1, 2, 3 ... without gaps, through the sealed archives a
   prune moved old entries to (:mod:`backends.audit.archive`) and on into the live store; each ``prev_hash`` must
   equal the previous entry's hash; each ``hash`` must equal the SHA-256 (or, for a keyed
   entry, the HMAC-SHA256 with the key) of the row's canonical JSON; the row must read back
   (``detail`` a JSON object, ``at`` a time);
2. keys: with a key, plain entries may only come before the first keyed entry, and the
   chain must end keyed (otherwise it was rewritten without the key); without a key, keyed
   entries cannot be checked: the result says a key is needed (``needs_key``);
3. anchors (``COUNT:HASH`` recorded elsewhere, e.g. a ticket): the chain must reach entry
   #COUNT (else it was truncated) and that entry's hash must be HASH (else it was rewritten
   and re-hashed up to there);
4. incidents and notes: each row must match the ``record_sha256`` of its audit entry, and
   every entry's record must still exist;
5. the append-only triggers must all be present;
6. each archive read must be the file a ``chain``/``prune`` entry of the chain sealed.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backends.audit.chain import (ALG_KEYED, ALG_PLAIN, GENESIS, canonical, expected_hash,
                                  row_alg, sha256_hex)
from backends.audit.rows import row_to_entry
from backends.audit.schema import TRIGGERS, incident_record

_ANCHOR = re.compile(r"^\s*#?(\d{1,18})\s*:\s*([0-9a-fA-F]{16,64})\s*$")


@dataclass(frozen=True)
class Anchor:
    """A head recorded outside the store: entry #``count`` had hash ``hash`` (a prefix of
    at least 16 hex digits is accepted)."""

    count: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """``COUNT:HASH`` (what ``pitboard audit anchor`` prints); ValueError otherwise."""
        match = _ANCHOR.match(text or "")
        if not match:
            raise ValueError(f"anchor {text!r} is not COUNT:HASH (as printed by "
                             f"`pitboard audit anchor`, e.g. 42:9f86d081884c7d65...)")
        return cls(int(match.group(1)), match.group(2).lower())

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"


@dataclass(frozen=True)
class ChainState:
    """The outcome of one verification.

    ``ok``: everything checked holds. ``broken_at``: the first broken entry (None when the
    problem is not one entry, e.g. a dropped trigger). ``verified_through``: the last entry
    up to which the chain was proven (the head when ok). ``needs_key``: keyed entries were
    found and no key was given (nothing is wrong that could be seen; not verified either).
    ``head``: the last entry's (seq, hash); ``(0, GENESIS)`` for an empty store.
    """

    ok: bool
    message: str
    verified_through: int = 0
    broken_at: int | None = None
    needs_key: bool = False
    head: tuple[int, str] = (0, GENESIS)
    keyed: int = 0
    anchors: tuple[Anchor, ...] = field(default=())

    @property
    def anchor(self) -> str:
        """The head as ``COUNT:HASH`` (for a ticket)."""
        return f"{self.head[0]}:{self.head[1]}"

    def summary(self) -> str:
        """One line for an export's header or the console's banner."""
        if self.ok:
            return (f"chain verified up to entry {self.verified_through}"
                    if self.verified_through else "chain verified (the audit log is empty)")
        if self.broken_at is not None:
            return f"chain broken at entry {self.broken_at}: {self.message}"
        if self.needs_key:
            return f"chain not verified: {self.message}"
        return f"chain broken: {self.message}"


@dataclass
class Scan:
    """What one pass over the chain (archives first, then the live store) collects."""

    key: bytes | None
    start: tuple[int, str] = (1, GENESIS)
    notes: dict[int, str] = field(default_factory=dict)
    opens: dict[int, str] = field(default_factory=dict)
    closes: dict[int, str] = field(default_factory=dict)
    hashes: dict[int, str] = field(default_factory=dict)
    wanted: set[int] = field(default_factory=set)
    head: tuple[int, str] = (0, GENESIS)
    keyed: int = 0
    unchecked: int = 0
    first_keyed: int | None = None
    last_plain: int | None = None
    prunes: dict[str, str] = field(default_factory=dict)  # archive name -> sealed sha256
    archived: list[dict[str, Any]] = field(default_factory=list)  # the archives read


def _row_problem(row: dict[str, Any], scan: Scan, prev_hash: str) -> str | None:
    seq = row["seq"]
    try:
        detail = json.loads(row["detail"])
    except (TypeError, ValueError, RecursionError):
        return f"entry #{seq}: detail is not valid JSON (the row was edited)"
    if not isinstance(detail, dict):
        return f"entry #{seq}: detail is not a JSON object (the row was edited)"
    if row["prev_hash"] != prev_hash:
        return (f"entry #{seq}: prev_hash does not match entry #{seq - 1} "
                f"(entries reordered, inserted or replaced)")
    alg = row_alg(row)
    if alg == ALG_PLAIN and scan.key is not None and scan.first_keyed is not None:
        return (f"entry #{seq}: not keyed, after keyed entries from #{scan.first_keyed} "
                f"(rewritten without the key)")
    try:
        want = expected_hash(dict(row, detail=detail), scan.key)
    except ValueError as exc:
        if "algorithm" in str(exc):
            return f"entry #{seq}: {exc} (the row was edited)"
        return f"entry #{seq}: holds values that cannot be hashed (the row was edited)"
    except (TypeError, RecursionError):
        return f"entry #{seq}: holds values that cannot be hashed (the row was edited)"
    if alg == ALG_KEYED:
        scan.keyed += 1
        scan.first_keyed = scan.first_keyed or seq
        if want is None:
            scan.unchecked += 1
    else:
        scan.last_plain = seq
    if want is not None and want != row["hash"]:
        what = "its HMAC (edited, or not the key it was written with)" if alg == ALG_KEYED \
            else "its hash (the row was edited)"
        return f"entry #{seq}: content does not match {what}"
    damaged = row_to_entry(row).damaged
    if damaged:
        return f"entry #{seq}: {damaged} (hash recomputed after an edit?)"
    if row["kind"] == "chain" and row["action"] == "prune" and \
            isinstance(detail.get("archive"), str):
        scan.prunes[detail["archive"]] = str(detail.get("sha256"))
    if row["kind"] == "note" and isinstance(detail.get("note_id"), int):
        scan.notes[detail["note_id"]] = str(detail.get("record_sha256"))
    elif row["kind"] == "incident" and isinstance(detail.get("incident_id"), int):
        target = scan.opens if row["action"] == "open" else scan.closes
        target[detail["incident_id"]] = str(detail.get("record_sha256"))
    return None


def check_chain(conn: sqlite3.Connection, scan: Scan) -> tuple[str | None, int | None]:
    """(problem, seq of the broken entry) for the entries behind ``conn``, which must
    follow on from ``scan.start``; fills ``scan``."""
    expected_seq, prev_hash = scan.start
    scan.head = (expected_seq - 1, prev_hash)
    cur = conn.execute("SELECT * FROM entries ORDER BY seq")
    cols = [d[0] for d in cur.description]
    for values in cur:
        row = dict(zip(cols, values))
        seq = row["seq"]
        if seq != expected_seq:
            if seq < expected_seq:
                return (f"entry #{seq}: the chain should start at #{expected_seq} "
                        f"(entries inserted before it)"), seq
            missing = (f"#{expected_seq}" if seq == expected_seq + 1
                       else f"#{expected_seq}..#{seq - 1}")
            return (f"entry #{seq}: entry {missing} is missing (deleted); "
                    f"the chain breaks after #{expected_seq - 1}"), expected_seq
        problem = _row_problem(row, scan, prev_hash)
        if problem:
            return problem, seq
        if seq in scan.wanted:
            scan.hashes[seq] = str(row["hash"])
        prev_hash, expected_seq = row["hash"], seq + 1
        scan.head = (seq, str(prev_hash))
    return None, None


def _check_keys(scan: Scan) -> tuple[str | None, int | None]:
    last, first = scan.head[0], 1
    if scan.key is not None and last >= first and scan.last_plain == last:
        # plain entries may only precede keyed ones: ending plain means none is keyed
        return (f"entries #{first}..#{last} are not keyed, but a key is given: no keyed "
                f"entry vouches for them (written by a pitboard without audit.key_file, or "
                f"rewritten by someone without the key; a console with the key records "
                f"the switch when it starts)"), first
    return None, None


def _check_anchors(scan: Scan, anchors: tuple[Anchor, ...]) -> tuple[str | None, int | None]:
    last = scan.head[0]
    for anchor in sorted(anchors, key=lambda a: a.count):
        if anchor.count > last:
            lost = anchor.count - last
            return (f"truncated: the chain ends at entry #{last} but the anchor "
                    f"{anchor.count}:{anchor.hash[:16]} names entry #{anchor.count} "
                    f"(at least {lost} entr{'y' if lost == 1 else 'ies'} deleted from the "
                    f"end)"), last + 1
        have = GENESIS if anchor.count == 0 else scan.hashes.get(anchor.count)
        if have is None or not have.lower().startswith(anchor.hash):
            return (f"entry #{anchor.count}: its hash {str(have)[:16]} differs from the "
                    f"anchor {anchor.hash[:16]} (the log was rewritten up to entry "
                    f"#{anchor.count} and re-hashed)"), anchor.count
    return None, None


def _digest(record: dict[str, Any]) -> str | None:
    """SHA-256 of a record's canonical JSON; None when it holds what JSON cannot (an edited
    row: bytes, infinities), which then matches no audit entry."""
    try:
        return sha256_hex(canonical(record))
    except (TypeError, ValueError, RecursionError):
        return None


def _check_records(conn: sqlite3.Connection, scan: Scan) -> str | None:
    notes, opens, closes = scan.notes, scan.opens, scan.closes
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


def _check_archived(scan: Scan) -> str | None:
    """Each archive read must be the file a prune entry of the chain sealed."""
    for ref in scan.archived:
        sealed = scan.prunes.get(ref["name"])
        if sealed is None:
            return (f"archive {ref['name']} (entries #{ref['first']}..#{ref['last']}) is "
                    f"named by no prune entry of the chain (forged)")
        if sealed != ref["sha256"]:
            return (f"archive {ref['name']} is listed with another checksum than its prune "
                    f"entry sealed (the listing was edited)")
    return None


BeforeLive = Callable[[Scan], tuple[str | None, int | None]]


def check_store(conn: sqlite3.Connection, *, key: bytes | None = None,
                anchors: tuple[Anchor, ...] = (), archived: BeforeLive | None = None,
                records: bool = True) -> ChainState:
    """Verify the store behind ``conn`` (read in one snapshot). ``archived``: checks the
    entries a prune moved to archives (:func:`backends.audit.archive.archive_checker`),
    into the same ``Scan``; the live entries must then follow on from them. ``records``:
    also cross-check incidents, notes and the triggers (an archive alone has none)."""
    scan = Scan(key=key, wanted={a.count for a in anchors})
    conn.execute("BEGIN")
    try:
        problem, broken = archived(scan) if archived is not None else (None, None)
        if not problem:
            scan.start = (scan.head[0] + 1, scan.head[1])
            problem, broken = check_chain(conn, scan)
        if not problem:
            problem, broken = _check_keys(scan)
        if not problem:
            problem, broken = _check_anchors(scan, anchors)
        if not problem:
            problem = _check_archived(scan)
        if not problem and records:
            problem = _check_records(conn, scan)
        if not problem and records:
            present = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            missing = sorted(set(TRIGGERS) - present)
            if missing:
                problem = (f"append-only triggers missing: {', '.join(missing)} "
                           f"(dropped; the store may have been tampered with)")
    finally:
        conn.execute("ROLLBACK")
    last, head = scan.head
    def state(**fields: Any) -> ChainState:
        return ChainState(head=scan.head, keyed=scan.keyed, anchors=anchors, **fields)

    if problem:
        through = (broken - 1) if broken is not None else 0
        return state(ok=False, message=problem, broken_at=broken,
                     verified_through=max(0, through))
    if scan.unchecked:
        return state(ok=False, needs_key=True, verified_through=0, message=(
            f"{scan.unchecked} entr{'y is' if scan.unchecked == 1 else 'ies are'} keyed "
            f"(HMAC) and no key was given: verify with the key (config audit.key_file, "
            f"or --key-file)"))
    if last < 1:
        return state(ok=True, message="ok: the audit log is empty")
    pinned = f", {len(anchors)} anchor{'s' if len(anchors) > 1 else ''} matched" \
        if anchors else ""
    keyed = f", {scan.keyed} keyed (HMAC)" if scan.keyed else ""
    files = len(scan.archived)
    moved = (f" ({scan.archived[-1]['last']} in {files} sealed archive"
             f"{'s' if files > 1 else ''})") if files else ""
    return state(ok=True, verified_through=last, message=(
        f"ok: {last} entries{moved}, chain intact{keyed}{pinned}, head #{last} "
        f"{head[:16]}"))


def verify_store(conn: sqlite3.Connection, key: bytes | None = None) -> tuple[bool, str]:
    """``(ok, message)`` for the store behind ``conn`` (read in one snapshot)."""
    state = check_store(conn, key=key)
    return state.ok, state.message
