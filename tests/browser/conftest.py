"""A real browser: Debian's chromium driven by Playwright for Python (sync API).

Playwright is pinned in the test extras and never downloads a browser here: it launches the
system ``chromium`` through ``executable_path``. The browser may reach 127.0.0.1 only:
chromium resolves no other host name (``--host-resolver-rules``) and every page of the
``page`` fixture aborts any request to another address (listed in ``page.blocked``), so a
page that links a web font or a CDN script makes no traffic leave the machine.

Chromium is launched once per session (``browser_session``); ``browser`` hands it to one
test. Both use Playwright's *sync* API: use them from plain (not ``async``) tests.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import require_binary
from tests.prometheus.conftest import _no_proxy_env, free_port  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]  # the checkout: its code is the one served

CHROMIUM_ARGS = [
    "--no-sandbox",  # root, no user namespaces
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.hostname in LOCAL_HOSTS


class BrowserSession:
    """One Playwright driver and one chromium for the whole session.

    Playwright's sync API runs its asyncio loop in a greenlet and leaves that loop marked
    as the thread's *running* loop between calls; while so marked, no other asyncio loop
    can run in the thread, and every ``async`` test after the first browser test would fail
    ("Runner.run() cannot be called from a running event loop"). So the mark is kept only
    while a test uses the browser (:meth:`active`, which the ``browser`` fixture enters)
    and cleared in between: the browser is launched once, the rest of the suite keeps its
    loops."""

    def __init__(self, executable: str):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._loop = asyncio._get_running_loop()  # Playwright's, marked running by start()
        try:
            self.browser = self._pw.chromium.launch(executable_path=executable,
                                                    args=CHROMIUM_ARGS, headless=True,
                                                    timeout=30_000)
        except BaseException:
            self._pw.stop()
            raise
        asyncio._set_running_loop(None)

    @contextmanager
    def active(self) -> Iterator[object]:
        """The browser, usable inside the block (from sync code, outside asyncio loops)."""
        previous = asyncio._get_running_loop()
        if previous is not None and previous is not self._loop:
            raise RuntimeError("the browser fixtures use Playwright's sync API: use them "
                               "from plain (not async) tests")
        asyncio._set_running_loop(self._loop)
        try:
            yield self.browser
        finally:
            asyncio._set_running_loop(previous)

    def close(self) -> None:
        asyncio._set_running_loop(self._loop)
        try:
            self.browser.close()
        finally:
            self._pw.stop()  # ends Playwright's loop (and its running mark)


@pytest.fixture(scope="session")
def browser_session() -> Iterator[BrowserSession]:
    """Launches Debian's chromium once per session (``with browser_session.active() as
    browser:`` in a module-scoped fixture)."""
    session = BrowserSession(require_binary("chromium"))
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def browser(browser_session) -> Iterator[object]:
    """The session's headless chromium (``playwright.sync_api.Browser``) for one test."""
    with browser_session.active() as b:
        yield b


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A page in a context of its own whose requests may go to 127.0.0.1 only; the URLs
    it was refused are in ``page.blocked``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    blocked: list[str] = []

    def guard(route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.blocked = blocked
    try:
        yield pg
    finally:
        context.close()


class StaticSite:
    """``http.server`` serving a directory from a thread on 127.0.0.1; ``requests`` lists
    the paths asked for."""

    def __init__(self, root: Path):
        self.requests: list[str] = []
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                site.requests.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0),
                                          partial(Handler, directory=str(root)))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def static_site(tmp_path) -> Iterator[StaticSite]:
    """Serve ``tmp_path / "site"`` (the test writes its files there)."""
    root = tmp_path / "site"
    root.mkdir()
    site = StaticSite(root)
    site.root = root
    yield site
    site.close()


# Records what the page's terminal receives: textual-serve sends the app's output (text and
# escape sequences) as binary websocket frames, which xterm.js draws on a canvas. A test
# reads the screen's text from ``window.__terminalText`` (escape sequences stripped).
CAPTURE_TERMINAL = r"""
(() => {
  const Native = window.WebSocket;
  window.__terminalRaw = "";
  window.__terminalText = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const decoder = new TextDecoder();
      this.addEventListener("message", (event) => {
        if (!(event.data instanceof ArrayBuffer)) return;
        const chunk = decoder.decode(event.data, {stream: true});
        window.__terminalRaw += chunk;
        window.__terminalText = window.__terminalRaw
          .replace(/\x1b\[[0-9;?$]*[ -\/]*[@-~]/g, "")
          .replace(/\x1b[\]P_^][\s\S]*?(\x07|\x1b\\)/g, "");
      });
    }
  };
})();
"""


class TextualServe:
    """``textual-serve`` running ``command`` (a shell command line) on 127.0.0.1, in a
    process group of its own (the server starts the app per browser connection)."""

    SERVE = ("import sys; from textual_serve.server import Server; "
             "Server(sys.argv[1], host='127.0.0.1', port=int(sys.argv[2])).serve()")

    def __init__(self, command: str, work: Path):
        self.command = command
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, deadline_s: float = 30.0) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in {"PITBOARD_CONFIG", "KUBECONFIG"}}
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[var] = str(self.work / var.lower())  # never the real user's files
        log = open(self.work / "textual-serve.log", "ab")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.SERVE, self.command, str(self.port)], cwd=ROOT,
            env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"textual-serve exited ({self.proc.returncode}): "
                                   f"{self.log_tail()}")
            try:
                if httpx.get(self.url, timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"textual-serve not ready within {deadline_s}s")

    def log_tail(self) -> str:
        return (self.work / "textual-serve.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """End the server and the apps it started (its own process group)."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # the app (a child of the server) may outlive its parent's exit
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory) -> Iterator[TextualServe]:
    """``pitboard --demo`` (this checkout's code) served by textual-serve."""
    server = TextualServe(f"{shlex.quote(sys.executable)} -m console --demo",
                          tmp_path_factory.mktemp("textual-serve"))
    server.start()
    yield server
    server.stop()
