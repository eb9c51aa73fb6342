"""Forwarding of each audit entry, as it is appended, to a place outside the user's store.

Config ``audit.forward``: ``"syslog"`` (the local syslog daemon, ident ``pitboard-audit``,
facility ``user``, priority ``info``; journald/rsyslog ship it on to a SIEM) or a file path
(one JSON line appended per entry, the file created 0600; what SIEM agents such as Filebeat,
Fluent Bit or the Splunk forwarder tail). Each line is one entry as stored -- every field,
``detail`` as an object, ``prev_hash``, ``hash`` and ``alg`` -- in compact ASCII JSON, so
the chain can be re-verified from the copy (``backends.audit.chain.entry_hash``).

Forwarding happens after the entry is committed: it never loses or blocks an append. A
failure is logged and kept in :attr:`Forwarder.error` (the console may show it); the next
entry is tried again. A syslog message longer than the daemon accepts (commonly 8 KiB) may
be cut by it: entries with large ``detail`` are better forwarded to a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
SYSLOG = "syslog"


def entry_line(row: dict[str, Any]) -> str:
    """One stored row (``detail`` as JSON text or a dict) as one ASCII JSON line."""
    record = dict(row)
    if isinstance(record.get("detail"), str):
        record["detail"] = json.loads(record["detail"])
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Forwarder(ABC):
    """Sends lines somewhere; ``error`` holds the last failure (None after a success)."""

    target = ""

    def __init__(self) -> None:
        self.error: str | None = None
        self.sent = 0

    @abstractmethod
    def _send(self, line: str) -> None:
        """Deliver one line (raises on failure; :meth:`send` records it)."""

    def send(self, row: dict[str, Any]) -> None:
        """Forward one stored row; never raises."""
        try:
            self._send(entry_line(row))
        except (OSError, ValueError, TypeError) as exc:
            self.error = f"forwarding audit entry #{row.get('seq')} to {self.target} " \
                         f"failed: {exc}"
            log.warning("%s", self.error)
            return
        self.error = None
        self.sent += 1

    def close(self) -> None:
        pass


class FileForwarder(Forwarder):
    """Appends lines to a file (created 0600; opened per line so rotation just works)."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__()
        self.path = Path(os.path.expanduser(path))
        self.target = str(self.path)

    def _send(self, line: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)


class SyslogForwarder(Forwarder):
    """Sends lines to the local syslog daemon (``syslog(3)``)."""

    target = SYSLOG

    def __init__(self) -> None:
        super().__init__()
        import syslog  # noqa: PLC0415 - POSIX only, and only when configured

        self._syslog = syslog
        syslog.openlog("pitboard-audit", syslog.LOG_PID, syslog.LOG_USER)

    def _send(self, line: str) -> None:
        self._syslog.syslog(self._syslog.LOG_INFO, line)


def make_forwarder(spec: str | None) -> Forwarder | None:
    """The forwarder for the config value ``audit.forward`` (None: no forwarding)."""
    if spec is None or not spec.strip():
        return None
    if spec.strip().lower() == SYSLOG:
        return SyslogForwarder()
    return FileForwarder(spec.strip())
