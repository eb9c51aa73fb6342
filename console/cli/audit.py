"""`pitboard export` and `pitboard audit log|verify` (argparse; wired by console/cli.py).

    pitboard export --incident ID [--format md|json|html] [-o FILE]
    pitboard audit log [--since ISO|1h|30m|2d] [--model NAME] [--limit N] [--json]
    pitboard audit verify [--anchor COUNT:HASH]  # exit 0, or 1 naming the first broken entry
    pitboard audit verify --against-cluster [--context C]  # the anchors in the cluster
    pitboard audit anchor          # the verified head as COUNT:HASH, for a ticket
    pitboard audit prune --before ISO|90d   # old entries to a sealed archive (a writer)

Exit status: 0 done; 1 the chain is broken (``verify``); 2 bad input (no store at the
path, not an audit store, no such incident, an output file that cannot be written).
Every command takes ``--audit-db PATH`` (default ``$XDG_DATA_HOME/pitboard/audit.db``) and
opens it read-only (``prune`` excepted): readers change nothing on disk and work on an
auditor's read-only copy.
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

from backends.domain.errors import BackendError, ConfigError
from backends.domain.inert import printable
from console.cli.argtypes import whole_number

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
        try:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError:  # (99999999d: before the year 1)
            raise argparse.ArgumentTypeError(f"{text!r} is further back than any date "
                                              "(the year 1)") from None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since: {text!r} is neither a duration (30m, 1h, 2d) nor an ISO time") from None
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # (9999-12-31T23:59-14:00 is in the year 10000, UTC)
        raise argparse.ArgumentTypeError(f"{text!r} is outside the dates a store can hold "
                                          "(the years 1 to 9999, UTC)") from None


def _open(args: argparse.Namespace) -> SqliteAudit:
    from backends.audit.store import SqliteAudit, default_audit_path  # noqa: PLC0415 - sqlite-utils

    path = getattr(args, "audit_db", None) or default_audit_path()
    # readers change nothing (an auditor's copy)
    return SqliteAudit(path, read_only=True, key=_open_key(args))


def _open_key(args: argparse.Namespace) -> bytes | None:
    """The key of ``--key-file`` (or the config's ``audit.key_file``); ConfigError."""
    key_file = getattr(args, "audit_key_file", None)
    if not key_file:
        return None
    from backends.audit.chain import KeyFileError, read_key  # noqa: PLC0415

    try:
        return read_key(key_file)
    except KeyFileError as exc:
        raise ConfigError(str(exc), source="audit") from None


EXIT_BROKEN = 1
"""``audit verify``: the chain is broken (the message names the first broken entry)."""
EXIT_BAD_INPUT = 2
"""No store there, not an audit store, unreadable, no such incident: nothing was checked."""


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"pitboard: {printable(message)}", file=sys.stderr)
    return code


def cmd_export(args: argparse.Namespace) -> int:
    """Write the postmortem draft of one incident to ``-o FILE`` or stdout."""
    try:
        audit = _open(args)
        try:
            if args.format == "html":  # charts from the metrics source: its own module
                from console.cli.export_html import cmd_export_html  # noqa: PLC0415

                return cmd_export_html(args, audit)
            from backends.audit.export import export_incident  # noqa: PLC0415 - see above

            text = export_incident(audit, args.incident, args.format)
        finally:
            audit.close()
    except BackendError as exc:
        return _fail(str(exc))
    if args.output in (None, "-"):
        return to_stdout(lambda: sys.stdout.write(text))
    from backends.audit.export import write_private  # noqa: PLC0415 - see above

    try:
        write_private(args.output, text)  # 0600, also over an existing file
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
    damaged = [e for e in entries if e.damaged]
    if damaged and code == 0:
        shown = ", ".join(f"entry #{e.seq}" for e in damaged[:5])
        more = f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""
        return _fail(f"audit log BROKEN: {shown}{more} cannot be trusted (edited behind the "
                     f"store; marked DAMAGED above); run pitboard audit verify", EXIT_BROKEN)
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
        if e.damaged:
            status = f"DAMAGED: {e.damaged} {status}".strip()
        unreadable = e.damaged is not None and "at is not a time" in e.damaged
        parts = [f"#{e.seq:<6}", f"{'(no time)':<20}" if unreadable
                 else e.at.strftime("%Y-%m-%d %H:%M:%SZ"),
                 f"{printable(e.kind, max_len=32):<9}",
                 f"{printable(e.action or '-', max_len=64):<9}", printable(e.target or "-", max_len=80),
                 printable(e.actor, max_len=60),
                 printable(status, max_len=160 if e.damaged else 60)]
        if e.reason:
            parts.append("— " + printable(e.reason, max_len=120))
        print("  ".join(parts))


def _anchor(text: str):
    from backends.audit.verify import Anchor  # noqa: PLC0415 - light, but only when used

    try:
        return Anchor.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _state(args: argparse.Namespace):
    """The chain's state (read-only), or an exit status for bad input."""
    try:
        audit = _open(args)
        try:
            return audit.chain_state(tuple(getattr(args, "anchor", None) or ())), audit.path
        finally:
            audit.close()
    except BackendError as exc:
        return _fail(str(exc)), None


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 if the chain verifies (and matches every ``--anchor``), 1 with the first
    broken entry named, 2 when it cannot be checked (no store, keyed without the key)."""
    if getattr(args, "against_cluster", False):
        if getattr(args, "anchor", None):
            return _fail("--anchor and --against-cluster: give one or the other")
        from console.cli.audit_cluster import cmd_verify_cluster  # noqa: PLC0415 - kube client

        return cmd_verify_cluster(args, _open, _fail, to_stdout)
    state, path = _state(args)
    if isinstance(state, int):
        return state
    if state.ok:
        return to_stdout(lambda: print(f"{printable(state.message)} ({printable(str(path))})"))
    if state.needs_key:
        return _fail(f"audit log not verified: {state.message}", EXIT_BAD_INPUT)
    return _fail(f"audit log BROKEN: {state.message}", EXIT_BROKEN)


def cmd_anchor(args: argparse.Namespace) -> int:
    """Print the verified head as ``COUNT:HASH`` (to paste into a ticket; check it later
    with ``audit verify --anchor COUNT:HASH``). A chain that does not verify has no
    anchor worth recording: exit 1 (2 when it cannot be checked)."""
    state, _ = _state(args)
    if isinstance(state, int):
        return state
    if not state.ok:
        what = "not verified" if state.needs_key else "BROKEN"
        return _fail(f"no anchor: audit log {what}: {state.message}",
                     EXIT_BAD_INPUT if state.needs_key else EXIT_BROKEN)
    return to_stdout(lambda: print(state.anchor))


def cmd_prune(args: argparse.Namespace) -> int:
    """Move the entries older than ``--before`` to a sealed archive beside the store. Exit
    0 (done, or nothing that old), 1 refused (the chain does not verify), 2 bad input."""
    from backends.audit.store import SqliteAudit, default_audit_path  # noqa: PLC0415
    from backends.actions.identity import actor  # noqa: PLC0415
    from backends.domain.errors import ActionRefused  # noqa: PLC0415

    try:
        key = _open_key(args)
        audit = SqliteAudit(getattr(args, "audit_db", None) or default_audit_path(),
                            create=False, key=key)
    except BackendError as exc:
        return _fail(str(exc))
    try:
        result = audit.prune(args.before, actor())
    except ActionRefused as exc:
        return _fail(str(exc), EXIT_BROKEN)
    except (BackendError, OSError) as exc:
        return _fail(f"prune failed: {exc}")
    finally:
        audit.close()
    return to_stdout(lambda: print(printable(str(result))))


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audit-db", metavar="PATH", default=argparse.SUPPRESS,
                        help="audit store (default: $XDG_DATA_HOME/pitboard/audit.db)")
    parser.add_argument("--key-file", dest="audit_key_file", metavar="PATH",
                        default=argparse.SUPPRESS,
                        help="the key of a keyed (HMAC) chain (default: config audit.key_file)")


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export`` and ``audit {log,verify,anchor,prune}``; each sets ``func(args) -> int``."""
    export = subparsers.add_parser("export", help="write an incident's postmortem draft")
    export.add_argument("--incident", type=whole_number(1), required=True, metavar="ID")
    export.add_argument("--format", choices=("md", "json", "html"), default="md",
                        help="html: one self-contained file with SVG charts (needs the "
                             "'export' extra)")
    export.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="file to write (default: stdout)")
    _db_option(export)
    export.set_defaults(func=cmd_export)

    audit = subparsers.add_parser("audit", help="read or verify the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="{log,verify,anchor,prune}")
    audit.set_defaults(func=lambda args: (audit.print_help(sys.stderr), 2)[1])

    log = audit_sub.add_parser("log", help="list audit entries, oldest first")
    log.add_argument("--since", type=parse_since, default=None, metavar="ISO|1h")
    log.add_argument("--model", default=None, metavar="NAME")
    log.add_argument("--limit", type=whole_number(1), default=None, metavar="N",
                     help="only the newest N entries")
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    _db_option(log)
    log.set_defaults(func=cmd_log)

    verify = audit_sub.add_parser("verify", help="check the hash chain (exit 0, 1 or 2)")
    verify.add_argument("--anchor", type=_anchor, action="append", metavar="COUNT:HASH",
                        help="a head printed earlier by `audit anchor` (repeatable): "
                             "catches truncation and rewrite-and-rehash up to it")
    verify.add_argument("--against-cluster", action="store_true",
                        help="check every anchor pitboard's actions left in the cluster "
                             "(object annotations, Events): catches truncation and "
                             "rewrite-and-rehash")
    verify.add_argument("--context", action="append", metavar="CTX",
                        default=argparse.SUPPRESS, help="with --against-cluster (repeatable)")
    verify.add_argument("--kubeconfig", metavar="PATH", default=argparse.SUPPRESS)
    verify.add_argument("--namespace", action="append", metavar="NS",
                        default=argparse.SUPPRESS, help="default: every namespace")
    _db_option(verify)
    verify.set_defaults(func=cmd_verify)

    anchor = audit_sub.add_parser("anchor", help="print the verified head as COUNT:HASH")
    _db_option(anchor)
    anchor.set_defaults(func=cmd_anchor)

    prune = audit_sub.add_parser("prune", help="move old entries to a sealed archive")
    prune.add_argument("--before", type=parse_since, required=True, metavar="ISO|90d",
                       help="entries written before this time (or this long ago)")
    _db_option(prune)
    prune.set_defaults(func=cmd_prune)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests: ``python -m console.cli.audit audit verify``."""
    parser = argparse.ArgumentParser(prog="pitboard")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
