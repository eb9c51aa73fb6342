"""``pitboard serve``: the same console in a browser, through textual-serve, behind a token.

    pitboard serve [--demo] [--host 127.0.0.1] [--port 8000] [--token-file FILE]
                   [--allow-actions]

- Binds 127.0.0.1 by default. Each browser connection starts one console process (the
  ``pitboard`` command line of this process, with the same global options), running as the
  OS user who started the server: that is the identity its actions are recorded under, and
  the page shows it.
- Every request needs the token: a random one printed at start, the way Jupyter does
  (``http://127.0.0.1:8000/?token=...``), or the one in ``--token-file`` (a file only its
  owner may read). A wrong or missing token gets HTTP 403 and starts nothing; so does a
  ``Host`` header naming another machine while bound to a loopback address (DNS
  rebinding), and a websocket opened from another origin.
- Read-only (``--read-only`` is passed to every console) unless ``--allow-actions``.
- The page fetches nothing from the network: textual-serve's page asks a web-font service
  for its font; ours serves the same font (shipped with textual-serve) from the server
  itself, and its Content-Security-Policy allows this origin only.

This module stays light (argparse only): ``pitboard`` builds its parser on every start.
The web server itself is :mod:`console.cli.serve_server` (aiohttp, textual-serve).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import shlex
import socket
import stat
import sys
from pathlib import Path

from console.cli.argtypes import whole_number

TOKEN_BYTES = 32
"""Random bytes in a generated token (43 URL-safe characters)."""
MIN_TOKEN_CHARS = 16
"""A token from a file must be at least this long."""
DEFAULT_PORT = 8000
EXIT_BAD_INPUT = 2

# Global options of ``pitboard`` handed on to each console the server starts:
# (attribute, flag, repeatable)
_PASSED_ON: tuple[tuple[str, str, bool], ...] = (
    ("config", "--config", False), ("seed", "--seed", False),
    ("context", "--context", True), ("kubeconfig", "--kubeconfig", False),
    ("namespace", "--namespace", True), ("prometheus", "--prometheus", False),
    ("alertmanager", "--alertmanager", False), ("refresh", "--refresh", False),
    ("window", "--window", False),
)


class TokenProblem(ValueError):
    """The token file cannot be used (the message says why)."""


def new_token() -> str:
    """A random token (URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def read_token_file(path: str | os.PathLike[str]) -> str:
    """The token in ``path`` (surrounding whitespace stripped). Raises TokenProblem when
    the file cannot be read, may be read by other users (``chmod 600``), or holds no usable
    token (shorter than MIN_TOKEN_CHARS, or with spaces or control characters)."""
    try:
        info = os.stat(path)
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenProblem(f"cannot read the token file {path}: {exc}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenProblem(f"the token file {path} may be read by other users "
                           f"(mode {stat.S_IMODE(info.st_mode):04o}): chmod 600 it")
    token = text.strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenProblem(f"the token in {path} is shorter than {MIN_TOKEN_CHARS} "
                           "characters")
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise TokenProblem(f"the token in {path} holds spaces or control characters")
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name, no port) is this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def console_argv(args: argparse.Namespace, *, read_only: bool) -> list[str]:
    """The command line of the console each connection starts: this interpreter running
    ``console`` with the global options given to ``pitboard`` (``--demo``, ``--context``,
    ...), plus ``--read-only`` unless actions are allowed."""
    argv = [sys.executable, "-m", "console"]
    if getattr(args, "demo", None):
        argv.append("--demo")
    for attr, flag, repeat in _PASSED_ON:
        value = getattr(args, attr, None)
        if value is None:
            continue
        for item in (value if repeat else [value]):
            argv += [flag, str(item)]
    if read_only or getattr(args, "read_only", None):
        argv.append("--read-only")
    return argv


def page_url(host: str, port: int, token: str | None = None) -> str:
    """The address to open (with ``?token=`` when given)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    base = f"http://{shown}:{port}/"
    return f"{base}?token={token}" if token else base


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted; 2 on bad input (token file, missing package)."""
    try:
        token = read_token_file(args.token_file) if args.token_file else new_token()
    except TokenProblem as exc:
        print(f"pitboard serve: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        from console.cli.serve_server import PitboardServer  # noqa: PLC0415 - aiohttp
    except ImportError as exc:
        print(f"pitboard serve needs textual-serve ({exc.name} is missing): "
              "pip install 'pitboard[serve]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    from backends.actions import identity  # noqa: PLC0415

    try:
        check_listen(args.host, args.port)  # before anything says where to go
    except OSError as exc:
        return cannot_listen(args, exc)
    read_only = not args.allow_actions
    command = shlex.join(console_argv(args, read_only=read_only))
    server = PitboardServer(command, host=args.host, port=args.port, token=token,
                            served_by=identity.actor(), read_only=read_only,
                            show_token=not args.token_file)
    if not is_loopback(args.host):
        print(f"pitboard serve: listening on {args.host}, not only on this machine: anyone "
              "who can reach it and has the token can use the console (no TLS)",
              file=sys.stderr)
    try:
        server.serve()
    except OSError as exc:  # the port taken since check_listen (the server's own bind)
        return cannot_listen(args, exc)
    return 0


def cannot_listen(args: argparse.Namespace, exc: OSError) -> int:
    """Say why the server cannot listen (exit 2)."""
    print(f"pitboard serve: cannot listen on {args.host} port {args.port}: "
          f"{exc.strerror or exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


def check_listen(host: str, port: int) -> None:
    """Raise the OSError the server's bind would (the port in use, an address that is not
    this machine's, a name that does not resolve): binds each address of ``host`` as
    asyncio's ``create_server`` does for aiohttp (SO_REUSEADDR, IPv6 only on an IPv6
    socket, a family this machine cannot make skipped), then lets go of it."""
    for family, kind, proto, _, address in set(socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)):
        try:
            sock = socket.socket(family, kind, proto)
        except OSError:
            continue
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    """Register ``serve`` (sets ``func(args) -> int``)."""
    serve = subparsers.add_parser(
        "serve", help="run the console in a browser (textual-serve), behind a token",
        description="Run the console in a browser. Every connection needs the token; "
                    "read-only unless --allow-actions.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=whole_number(1, 65535), default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--token-file", metavar="FILE", default=None,
                       help="read the token from FILE (mode 600) instead of a random one")
    serve.add_argument("--allow-actions", action="store_true",
                       help="let the browser consoles act (default: read-only)")
    # the same as ``pitboard --demo serve`` (SUPPRESS: never overwrites the global flag)
    serve.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                       help="serve the embedded simulated fleet")
    serve.set_defaults(func=cmd_serve)
