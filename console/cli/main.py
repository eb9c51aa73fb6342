"""``pitboard`` command line: run the console, ``--once`` reports, subcommands."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

# pitboard uses no pydantic plugin: without this, the first schema pydantic builds (the
# settings', imported below) scans every installed distribution's entry points for one
# (~13 ms CPU at start). A value set in the environment wins (empty: plugins load as usual).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from console.cli.pydantic_plugins import skip_discovery  # noqa: E402 - after the line above

# ... nor the import of pydantic's plugin loader, which imports importlib.metadata (email,
# zipfile...: 20-40 ms at start) only to find them disabled (console.cli.pydantic_plugins)
skip_discovery()

from backends.domain.errors import BackendError, is_transient  # noqa: E402 - after the lines above
from console.config_core import ConfigProblem, quick_settings  # noqa: E402
from console.wiring import BackendsInAdvance, build_backends  # noqa: E402

if TYPE_CHECKING:  # the full settings (pydantic-settings) load only when needed
    from console.config import Settings
    from console.config_core import AppSettings


class _NotPlain(Exception):
    """The command line is more than the console's own flags (see :func:`parse_args`)."""


class _FlagsOnlyParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotPlain(message)


def add_console_flags(p: argparse.ArgumentParser) -> None:
    """The console's own flags (they override the config file and environment)."""
    p.add_argument("--demo", action="store_true", default=None,
                   help="use the embedded simulated fleet")
    p.add_argument("--seed", type=int, help="demo random seed")
    p.add_argument("--context", action="append", metavar="CTX",
                   help="kubeconfig context (repeatable)")
    p.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG)")
    p.add_argument("--namespace", action="append", metavar="NS", help="namespace (repeatable)")
    p.add_argument("--prometheus", metavar="URL", help="Prometheus base URL")
    p.add_argument("--alertmanager", metavar="URL", help="Alertmanager base URL")
    p.add_argument("--read-only", action="store_true", default=None,
                   help="no mutating action at all (RO badge)")
    p.add_argument("--refresh", type=float, metavar="SECONDS", help="seconds between polls")
    p.add_argument("--window", choices=["15m", "1h", "6h", "24h", "7d"], help="chart window")
    p.add_argument("--config", metavar="PATH", help="config file (default: XDG, PITBOARD_CONFIG)")
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="--once output format")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the console's flags and every subcommand."""
    p = argparse.ArgumentParser(prog="pitboard",
                                description="Terminal operations console for production ML.")
    add_console_flags(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    bench = sub.add_parser("bench", help="startup, refresh and memory benchmark (prints "
                                         "JSON; --quick, --help for its options)",
                           add_help=False)
    # its options are console.cli.bench's own: the ones after "bench" come back from
    # parse_known_args in their order (an argparse.REMAINDER took a value but left its
    # option behind: "bench --runs 3" ran as "bench 3 --runs")
    bench.set_defaults(func=_bench, bench_args=[])
    # the subcommands' modules: only for the full parser, never for pitboard --demo
    from console.cli.audit import add_subcommands  # noqa: PLC0415 - light
    from console.cli.serve import add_subcommand as add_serve  # noqa: PLC0415 - light
    from console.cli.actions import add_subcommands as add_actions  # noqa: PLC0415 - light

    add_subcommands(sub)
    add_serve(sub)
    add_actions(sub)
    return p


def _bench(args: argparse.Namespace) -> int:
    from console.cli.bench import main as bench_main  # noqa: PLC0415 - the app: bench only

    return bench_main(list(args.bench_args))


def overrides_from_args(args: argparse.Namespace) -> dict:
    """Nested settings overrides for the flags that were given."""
    o: dict = {}
    if args.demo or args.seed is not None:
        o.setdefault("demo", {})["enabled"] = True if args.demo else None
        if args.seed is not None:
            o["demo"]["seed"] = args.seed
        if o["demo"]["enabled"] is None:
            del o["demo"]["enabled"]
    if args.context:
        o.setdefault("kubernetes", {})["contexts"] = args.context
    if args.kubeconfig:
        o.setdefault("kubernetes", {})["kubeconfig"] = args.kubeconfig
    if args.namespace:
        o.setdefault("kubernetes", {})["namespaces"] = args.namespace
    if args.prometheus:
        o["prometheus"] = {"url": args.prometheus}
    if args.alertmanager:
        o["alertmanager"] = {"url": args.alertmanager}
    if args.read_only:
        o["read_only"] = True
    if args.refresh is not None:
        o["refresh"] = args.refresh
    if args.window:
        o["time_window"] = args.window
    return o


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the file, the environment and the flags. Raises ConfigProblem."""
    from console.config import load_settings  # noqa: PLC0415 - pydantic-settings on demand

    return load_settings(args.config, **overrides_from_args(args))


def startup_settings(args: argparse.Namespace) -> AppSettings:
    """The settings the console starts with: :class:`QuickSettings` when only flags
    configure it (the same values, without pydantic-settings), else the full ones."""
    quick = quick_settings(args.config, **overrides_from_args(args))
    return quick if quick is not None else settings_from_args(args)


ONCE_ATTEMPTS = 4  # --once: the first try and three retries
ONCE_BACKOFF_S = (0.5, 1.0, 2.0)  # before each retry (3.5 s at most in all)


def run_once(settings: AppSettings, fmt: str,
             sleep: Callable[[float], None] | None = None) -> int:
    """Print one snapshot; 0 on success, 2 when nothing can be read. Transient failures
    (5xx, 429, timeouts) are tried again with backoff, a bounded number of times, each
    retry said on stderr; then the last error, with the host, and 2."""
    import time  # noqa: PLC0415

    from console.cli.report import render_json, render_text, take_snapshot  # noqa: PLC0415 - Textual
    from backends.domain.redact import redact  # noqa: PLC0415

    wait = sleep or time.sleep
    for attempt in range(ONCE_ATTEMPTS):
        try:
            backends = build_backends(settings)
            try:
                snap = take_snapshot(backends, settings.slo, history=True)
            finally:
                backends.close()
            break
        except BackendError as exc:
            if is_transient(exc) and attempt + 1 < ONCE_ATTEMPTS:
                delay = ONCE_BACKOFF_S[min(attempt, len(ONCE_BACKOFF_S) - 1)]
                print(f"pitboard: {exc.source}: {redact(str(exc))}; trying again in "
                      f"{delay:g}s ({attempt + 1}/{ONCE_ATTEMPTS - 1})", file=sys.stderr)
                wait(delay)
                continue
            tries = f" (after {attempt + 1} tries)" if attempt else ""
            print(f"pitboard: nothing can be read from {exc.source}{tries}: "
                  f"{redact(str(exc))}\n"
                  "(pitboard --demo runs the console on an embedded simulated fleet)",
                  file=sys.stderr)
            return 2
    sys.stdout.write(render_json(snap) if fmt == "json" else render_text(snap, settings.slo))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pitboard`` command."""
    gc.disable()  # until the console's first frame (see console/__main__.py)
    try:
        return _main(argv)
    finally:
        gc.enable()


def no_terminal() -> str | None:
    """Why the console cannot draw here, or None: it reads keys from standard input and
    draws on standard error (Textual's terminal driver), so both must be a terminal --
    unless a driver of its own is set (``TEXTUAL_DRIVER``: ``pitboard serve``'s browser)."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    for name, stream in (("standard input", sys.stdin), ("standard error", sys.__stderr__)):
        try:
            if stream is None or not stream.isatty():
                return f"{name} is not a terminal"
        except (AttributeError, ValueError):  # closed, or not a file
            return f"{name} is not a terminal"
    return None


def parse_args(argv: Sequence[str] | None
               ) -> tuple[argparse.ArgumentParser | None, argparse.Namespace, list[str]]:
    """(parser, args, unrecognised) of the command line. When it holds the console's flags
    and nothing else (``pitboard --demo``), they are parsed without building the
    subcommands' parsers (~20 ms at every start; parser None then); anything else -- a
    subcommand, ``--help``, a bad or unknown flag -- goes to the full parser, which says
    exactly what it always said."""
    tokens = list(sys.argv[1:] if argv is None else argv)
    flags = _FlagsOnlyParser(prog="pitboard", add_help=False)
    add_console_flags(flags)
    flags.set_defaults(command=None)
    try:
        args, extra = flags.parse_known_args(tokens)
    except _NotPlain:
        extra = ["(bad flag)"]
    if not extra:
        return None, args, extra
    parser = build_parser()
    args, extra = parser.parse_known_args(tokens)
    return parser, args, extra


def _main(argv: Sequence[str] | None) -> int:
    parser, args, extra = parse_args(argv)
    if getattr(args, "command", None) == "bench":  # its own options: console.cli.bench
        args.bench_args = [*args.bench_args, *extra]
    elif extra and parser is not None:  # (with the flags-only parser, extra is empty)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    func = getattr(args, "func", None)
    if func is not None or getattr(args, "once", False):  # no console: collect as usual
        gc.enable()
    if func is not None:
        if args.command in ("export", "audit") and not (
                getattr(args, "audit_db", None) and getattr(args, "audit_key_file", None)):
            from console.config import load_settings  # noqa: PLC0415 - pydantic-settings

            try:  # the same store and key as the app: the config's [audit], else XDG
                audit = load_settings(args.config).audit
            except ConfigProblem as exc:
                print(f"pitboard: bad configuration\n{exc}", file=sys.stderr)
                return 2
            if not getattr(args, "audit_db", None):
                args.audit_db = audit.path
            if not getattr(args, "audit_key_file", None):
                args.audit_key_file = audit.key_file
        return int(func(args) or 0)
    try:
        settings = startup_settings(args)
    except ConfigProblem as exc:
        print(f"pitboard: bad configuration\n{exc}", file=sys.stderr)
        return 2
    if args.once:
        return run_once(settings, args.format)
    problem = no_terminal()
    if problem is not None:  # (cron, a pipe: it would draw into a file and never end)
        print(f"pitboard: {problem}: the console needs a terminal; pitboard --once prints "
              "one snapshot (--format json for scripts)", file=sys.stderr)
        return 2
    # the backends' imports and construction start now, beside Textual's import (wiring)
    in_advance = BackendsInAdvance(settings)
    from console.app import make_app  # noqa: PLC0415 - Textual: not for --once, subcommands

    app = make_app(settings, backends_in_advance=in_advance)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
