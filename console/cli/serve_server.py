"""The web server of ``pitboard serve``: textual-serve's :class:`Server` behind a token.

textual-serve (pinned) runs on aiohttp; its ``Server._make_app`` builds the web app. Ours
builds it with one middleware in front of every route (:meth:`PitboardServer.gate`), our
page (``serve_page/index.html``: no web font from the network, the identity shown), the
websocket at ``/ws/<token>`` (textual-serve's page script appends ``?width=..`` to the
address it is given, so the token goes in the path) and textual-serve's own static files.
A request refused by the gate never reaches a handler: no console process is started.

Public without a token: ``/static/`` only (textual-serve's script, stylesheet, font and
background image: the same files for everyone, nothing of the fleet). Its download route
(files an app hands to the browser) is not served: the console hands out none.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from console.cli.serve import is_loopback, page_url

PAGE_DIR = Path(__file__).with_name("serve_page")
log = logging.getLogger("pitboard.serve")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                               token.encode("utf-8"))


def host_of(header: str) -> str:
    """The host part of a ``Host`` header (``127.0.0.1:8000`` -> ``127.0.0.1``)."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class PitboardServer(Server):
    """textual-serve's server with a token gate, a page of ours, and no network fonts."""

    def __init__(self, command: str, *, host: str, port: int, token: str, served_by: str,
                 read_only: bool, show_token: bool = True) -> None:
        super().__init__(command, host=host, port=port, title="pitboard",
                         templates_path=PAGE_DIR)
        self.token = token
        self.served_by = served_by
        self.read_only = read_only
        self.show_token = show_token
        self.loopback = is_loopback(host)
        self.refused = 0
        self.sessions = 0

    # -- the gate ------------------------------------------------------------------------
    def refusal(self, request: web.Request) -> str | None:
        """Why ``request`` is refused (None: let it through)."""
        if self.loopback and not is_loopback(host_of(request.host)):
            return "Host header names another machine"
        if request.path.startswith("/static/"):
            return None
        given = request.match_info.get("token") or request.query.get("token")
        if not token_matches(given, self.token):
            return "no token" if not given else "wrong token"
        origin = request.headers.get("Origin")
        if request.path.startswith("/ws/") and origin is not None:
            scheme = "https" if request.secure else "http"
            if origin != f"{scheme}://{request.host}":
                return "websocket from another origin"
        return None

    @web.middleware
    async def gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse (403) before any handler runs; the page's answer is never cached."""
        why = self.refusal(request)
        if why is not None:
            self.refused += 1
            path = "/ws/<token>" if request.path.startswith("/ws/") else request.path
            log.warning("refused %s %s from %s: %s", request.method, path, request.remote,
                        why)  # never the token, right or wrong
            raise web.HTTPForbidden(text=f"403 Forbidden: {why}. Open the address "
                                         "pitboard serve printed (with its ?token=).\n")
        response = await handler(request)
        if request.path == "/":
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
                f"connect-src 'self' ws://{request.host} wss://{request.host}; "
                "frame-ancestors 'none'")
        return response

    # -- the web app ---------------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        """The web app (replaces textual-serve's: same handlers, behind the gate)."""
        app = web.Application(middlewares=[self.gate])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(PAGE_DIR),
                             autoescape=jinja2.select_autoescape(default=True))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws/{token}", self.handle_session, name="websocket"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        return app

    @aiohttp_jinja2.template("index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """The page: terminal, identity bar, the websocket address (token in its path)."""
        scheme = "wss" if request.secure else "ws"
        return {
            "font_size": max(8, min(32, _int(request.query.get("fontsize"), 16))),
            "app_websocket_url": f"{scheme}://{request.host}/ws/{self.token}",
            "static_url": "/static/",
            "served_by": self.served_by,
            "mode": "read-only" if self.read_only else "actions allowed",
        }

    async def handle_session(self, request: web.Request) -> web.StreamResponse:
        """One browser tab: one console process (textual-serve's websocket handler)."""
        self.sessions += 1
        log.info("session %d: starting the console", self.sessions)
        return await self.handle_websocket(request)

    def initialize_logging(self) -> None:
        """textual-serve's logging, without aiohttp's access log (it would print the
        page's address, token included, for every request)."""
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def on_startup(self, app: web.Application) -> None:
        """Say where to go (with the token, Jupyter-style) and as whom the consoles run."""
        url = page_url(self.host, self.port, self.token if self.show_token else None)
        mode = ("read-only (start with --allow-actions to act)" if self.read_only
                else "actions allowed")
        print(f"pitboard serve: consoles run as {self.served_by}, {mode}", flush=True)
        print(f"    {url}", flush=True)
        if not self.show_token:
            print("    (add ?token=<the token in the token file>)", flush=True)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
