"""`pitboard export` and `pitboard audit log|verify` (argparse; wired by console/cli.py).

    pitboard export --incident ID [--format md|json] [-o FILE]
    pitboard audit log [--since ISO|1h|30m|2d] [--model NAME] [--limit N] [--json]
    pitboard audit verify          # exit 0, or 1 naming the first broken entry

Every command takes ``--audit-db PATH`` (default ``$XDG_DATA_HOME/pitboard/audit.db``).
The CLI owner may pre-fill it from the config with ``parser.set_defaults(audit_db=...)``.
Output is inert: control characters in stored text are shown as ``\\xNN``.
``audit log --json`` prints one JSON object per line (NDJSON).
A reader that goes away early (``pitboard audit log | head -1``) ends the command quietly
with exit status 141 (128 + SIGPIPE, what the shell reports for ``seq 1 1000000 | head -1``),
without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from backends.domain.errors import BackendError
from backends.actions.identity import printable

if TYPE_CHECKING:  # sqlite-utils only when a subcommand runs
    from backends.audit.store import SqliteAudit

# backends.audit.store (sqlite-utils) and backends.audit.export are imported by the commands that use
# them: ``pitboard`` builds this parser on every start, and the console must not pay for them.

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EXIT_BROKEN_PIPE = 141
"""The reader of stdout went away (128 + SIGPIPE): stop quietly."""


def to_stdout(write: Callable[[], object]) -> int:
    """Run ``write`` (which prints to stdout) and flush; 0, or EXIT_BROKEN_PIPE when the
    reader closed the pipe early. Later writes (the interpreter's final flush) then go to
    /dev/null, so nothing prints a traceback either (Python's documented SIGPIPE recipe)."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
            pass
        return EXIT_BROKEN_PIPE
    return 0


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``1h``/``30m``/``2d`` ago, or an ISO-8601 time (naive = UTC)."""
    now = now or datetime.now(timezone.utc)
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since: {text!r} is neither a duration (30m, 1h, 2d) nor an ISO time") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _open(args: argparse.Namespace) -> SqliteAudit:
    from backends.audit.store import SqliteAudit, default_audit_path  # noqa: PLC0415 - sqlite-utils

    path = getattr(args, "audit_db", None) or default_audit_path()
    return SqliteAudit(path, create=False)


def _fail(message: str) -> int:
    print(f"pitboard: {printable(message)}", file=sys.stderr)
    return 1


def cmd_export(args: argparse.Namespace) -> int:
    """Write the postmortem draft of one incident to ``-o FILE`` or stdout."""
    try:
        audit = _open(args)
        try:
            from backends.audit.export import export_incident  # noqa: PLC0415 - see the imports

            text = export_incident(audit, args.incident, args.format)
        finally:
            audit.close()
    except BackendError as exc:
        return _fail(str(exc))
    if args.output in (None, "-"):
        return to_stdout(lambda: sys.stdout.write(text))
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"wrote {printable(args.output)} ({args.format}, incident {args.incident})",
          file=sys.stderr)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    """Print audit entries, oldest first; pending intents marked "outcome unknown"."""
    try:
        audit = _open(args)
        try:
            entries = audit.entries(since=args.since, model=args.model, limit=args.limit)
            pending = {e.seq for e in audit.pending_intents()}
        finally:
            audit.close()
    except BackendError as exc:
        return _fail(str(exc))
    code = to_stdout(lambda: _print_entries(entries, pending, args.json))
    if not entries and not args.json:
        print("no audit entries match", file=sys.stderr)
    return code


def _print_entries(entries: list, pending: set[int], as_json: bool) -> None:
    for e in entries:
        if as_json:
            row = e.model_dump(mode="json")
            row["outcome_unknown"] = e.seq in pending
            print(json.dumps(row, sort_keys=True, ensure_ascii=True))
            continue
        status = e.outcome or ("outcome unknown" if e.seq in pending else "")
        if e.intent_seq:
            status = f"{status} (intent #{e.intent_seq})".strip()
        parts = [f"#{e.seq:<6}", e.at.strftime("%Y-%m-%d %H:%M:%SZ"), f"{e.kind:<9}",
                 f"{e.action or '-':<9}", printable(e.target or "-", max_len=80),
                 printable(e.actor, max_len=60), printable(status, max_len=60)]
        if e.reason:
            parts.append("— " + printable(e.reason, max_len=120))
        print("  ".join(parts))


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 if the chain verifies, else 1 with the first broken entry named."""
    try:
        audit = _open(args)
        try:
            ok, message = audit.verify()
        finally:
            audit.close()
    except BackendError as exc:
        return _fail(str(exc))
    if ok:
        return to_stdout(lambda: print(f"{printable(message)} ({printable(str(audit.path))})"))
    return _fail(f"audit log BROKEN: {message}")


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audit-db", metavar="PATH", default=argparse.SUPPRESS,
                        help="audit store (default: $XDG_DATA_HOME/pitboard/audit.db)")


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export`` and ``audit {log,verify}``; each sets ``func(args) -> int``."""
    export = subparsers.add_parser("export", help="write an incident's postmortem draft")
    export.add_argument("--incident", type=int, required=True, metavar="ID")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="file to write (default: stdout)")
    _db_option(export)
    export.set_defaults(func=cmd_export)

    audit = subparsers.add_parser("audit", help="read or verify the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="{log,verify}")
    audit.set_defaults(func=lambda args: (audit.print_help(sys.stderr), 2)[1])

    log = audit_sub.add_parser("log", help="list audit entries, oldest first")
    log.add_argument("--since", type=parse_since, default=None, metavar="ISO|1h")
    log.add_argument("--model", default=None, metavar="NAME")
    log.add_argument("--limit", type=int, default=None, metavar="N",
                     help="only the newest N entries")
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    _db_option(log)
    log.set_defaults(func=cmd_log)

    verify = audit_sub.add_parser("verify", help="check the hash chain (exit 0 or 1)")
    _db_option(verify)
    verify.set_defaults(func=cmd_verify)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests: ``python -m console.cli.audit audit verify``."""
    parser = argparse.ArgumentParser(prog="pitboard")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
