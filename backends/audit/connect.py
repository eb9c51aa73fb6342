"""Opening the audit store's SQLite file: read-write for the console, read-only for readers.

The console (the writer) creates the file 0600 in a 0700 directory and switches it to WAL.
Readers (``audit verify``, ``audit log``, ``export``) use :class:`ReadOnlyFile`, which
changes nothing on disk -- not the file's bytes, its mtime or its mode, and no ``-wal`` /
``-shm`` file appears beside it -- and works on an auditor's copy (a 0444 file in a 0555
directory):

- a WAL store with no ``-wal`` file beside it holds everything in the main file (the last
  writer checkpointed and removed it): it is opened ``immutable=1``, which takes no lock
  and creates nothing. Immutable means SQLite trusts that nobody writes meanwhile, so the
  file's size, mtime, inode and the ``-wal``'s absence are compared after each read: if a
  writer started in between, the read is done again through a shared (``mode=ro``) open;
- otherwise (a console has it open: the ``-wal`` and ``-shm`` exist) ``mode=ro``, SQLite's
  ordinary read-only open, which reads the ``-wal`` too;
- when that cannot work (a ``-wal`` without its ``-shm`` in a directory we cannot write:
  SQLite would need to create the ``-shm``), the file and its ``-wal`` are copied to a
  private temporary directory and read there.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.request import pathname2url

from backends.domain.errors import BackendError, ConfigError, NotFoundError

SOURCE = "audit"
_MAGIC = b"SQLite format 3\x00"


def default_audit_path() -> Path:
    """``$XDG_DATA_HOME/pitboard/audit.db`` (``~/.local/share`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"),
                                                           ".local", "share")
    return Path(base) / "pitboard" / "audit.db"


def prepare_file(path: Path, create: bool) -> None:
    """The writer's file: created 0600 (parent 0700) when missing, made 0600 if wider."""
    if not path.exists():
        if not create:
            raise NotFoundError(f"no audit store at {path}", source=SOURCE)
        if not path.parent.exists():
            os.makedirs(path.parent, mode=0o700, exist_ok=True)
            os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:  # not ours: leave it, SQLite will say if it cannot write
        pass


def journal_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> str:
    """Switch to WAL. Two processes creating the store at once can get SQLITE_BUSY here
    without SQLite calling its busy handler (the switch wants an exclusive lock), so the
    switch is retried until the busy timeout."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{pathname2url(str(path))}?{query}"


def _header(path: Path) -> bytes:
    """The first 100 bytes; ConfigError (bad input) when the file is not SQLite."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, not an audit store", source=SOURCE) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", source=SOURCE) from None
    if len(head) == 0:
        raise ConfigError(f"{path} is empty: not an audit store", source=SOURCE)
    if not head.startswith(_MAGIC):
        raise ConfigError(f"{path} is not an SQLite file (not an audit store)", source=SOURCE)
    return head


class ReadOnlyFile:
    """A connection to the store at ``path`` that writes nothing anywhere (see the module
    docstring). ``conn`` may be replaced by :meth:`refresh`: read it after each call."""

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self.timeout = busy_timeout_ms / 1000
        if not path.exists():
            raise NotFoundError(f"no audit store at {path}", source=SOURCE)
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.immutable = False
        self._stamp: tuple | None = None
        self.conn = self._connect()

    def _wal(self) -> Path:
        return Path(f"{self.path}-wal")

    def stamp(self) -> tuple:
        st = self.path.stat()
        return st.st_size, st.st_mtime_ns, st.st_ino, self._wal().exists()

    def _connect(self) -> sqlite3.Connection:
        head = _header(self.path)
        wal_db = len(head) > 19 and head[18] == 2 and head[19] == 2
        if wal_db and not self._wal().exists():
            self.immutable, self._stamp = True, self.stamp()
            return self._open(self.path, mode="ro", immutable="1")
        self.immutable, self._stamp = False, None
        conn = self._open(self.path, mode="ro")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            conn.close()  # the -shm cannot be created: read a private copy
            return self._copy()
        return conn

    def _open(self, path: Path, **params: str) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(_uri(path, **params), uri=True, timeout=self.timeout,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            return conn
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open audit store {self.path} read-only: {exc}",
                               source=SOURCE) from exc

    def _copy(self) -> sqlite3.Connection:
        self._tmp = tempfile.TemporaryDirectory(prefix="pitboard-audit-")
        copy = Path(self._tmp.name) / "audit.db"
        try:
            shutil.copyfile(self.path, copy)
            if self._wal().exists():
                shutil.copyfile(self._wal(), Path(f"{copy}-wal"))
        except OSError as exc:
            raise BackendError(f"cannot read {self.path}: {exc.strerror or exc}",
                               source=SOURCE) from exc
        return self._open(copy, mode="ro")

    def changed(self) -> bool:
        """True when a writer may have touched the file during an immutable read."""
        if not self.immutable:
            return False
        try:
            return self.stamp() != self._stamp
        except OSError:
            return True

    def refresh(self) -> sqlite3.Connection:
        """Reconnect (after :meth:`changed`): shared read-only open if a writer is there."""
        self.close()
        self.conn = self._connect()
        return self.conn

    def close(self) -> None:
        self.conn.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
