"""``pitboard serve`` in a real browser: Debian's chromium (Playwright) opens the page with
the printed token, reads the console's screen through the page's websocket (xterm.js draws
on a canvas), moves with the keyboard, opens ``:promotions`` and approves; requests without
the token, with a wrong one, from another Host or origin get 403 and start no console."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from backends.actions import identity
from tests.browser.conftest import CAPTURE_TERMINAL, ROOT, TextualServe
from tests.browser.screenshots import keep_screenshot

pytestmark = pytest.mark.integration

URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/(?:\?token=(\S+))?")


def process_tree(root: int) -> dict[int, str]:
    """Every descendant of ``root``: pid -> command line (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                try:
                    cmd = (Path("/proc") / str(child) / "cmdline").read_bytes()
                except OSError:
                    continue
                found[child] = cmd.replace(b"\0", b" ").decode(errors="replace")
                todo.append(child)
    return found


class PitboardServe(TextualServe):
    """``python -m console serve --demo ...`` (this checkout) with isolated XDG dirs; the
    token is read from what it prints."""

    def __init__(self, work: Path, *flags: str) -> None:
        super().__init__("", work)
        self.flags = flags
        self.token: str | None = None
        self.printed = ""

    def start(self, deadline_s: float = 30.0) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in {"PITBOARD_CONFIG", "KUBECONFIG"}}
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[var] = str(self.work / var.lower())
        log_path = self.work / "textual-serve.log"
        log = open(log_path, "ab")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", "serve", "--demo", "--port", str(self.port),
             *self.flags], cwd=ROOT, env=env, stdout=log, stderr=log,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pitboard serve exited ({self.proc.returncode}): "
                                   f"{self.log_tail()}")
            self.printed = log_path.read_text(errors="replace")
            match = URL_LINE.search(self.printed)
            if match is not None:
                self.token = match.group(2)
                try:
                    ready = httpx.get(f"{self.url}/static/css/xterm.css", timeout=1,
                                      trust_env=False)
                    if ready.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pitboard serve not ready within {deadline_s}s: {self.log_tail()}")

    @property
    def page(self) -> str:
        return f"{self.url}/?token={self.token}"

    def consoles(self) -> list[str]:
        """Command lines of the consoles started so far (descendants running console)."""
        assert self.proc is not None
        return [cmd for cmd in process_tree(self.proc.pid).values() if "-m console" in cmd]


@pytest.fixture
def served(tmp_path) -> Iterator[PitboardServe]:
    server = PitboardServe(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def served_actions(tmp_path) -> Iterator[PitboardServe]:
    server = PitboardServe(tmp_path, "--allow-actions")
    server.start()
    yield server
    server.stop()


def terminal_text(page) -> str:
    return page.evaluate("window.__terminalText || ''")


def wait_js(page, expression: str, arg: object = None, timeout: int = 30_000) -> None:
    """Poll ``expression`` (a JS function of ``arg``) until it is true. Playwright's own
    ``wait_for_function`` evaluates strings inside the page, which the served page's
    Content-Security-Policy forbids (no 'unsafe-eval'); ``evaluate`` is not subject to it."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} ms: {expression}\n"
                                 f"terminal text: {terminal_text(page)[-1500:]!r}")
        page.wait_for_timeout(50)


def type_keys(page, *keys: str) -> int:
    """Type into the terminal; returns how much terminal text there was before, so the
    caller can wait for what the keys made appear."""
    mark = len(terminal_text(page))
    page.locator("#terminal .xterm-helper-textarea").focus()
    for key in keys:
        if key in ("Enter", "Escape"):
            page.keyboard.press(key)
        else:
            # a person's pace: the console moves the focus after a key (":" focuses its
            # prompt on the next frame), so keys sent in one burst would reach the old focus
            page.keyboard.type(key, delay=40)
        page.wait_for_timeout(250)
    return mark


def wait_text(page, mark: int, *words: str, timeout: int = 30_000) -> str:
    """Until every one of ``words`` appeared in the terminal after ``mark``."""
    wait_js(page, "([mark, words]) => words.every("
                  "w => (window.__terminalText || '').slice(mark).includes(w))",
            [mark, list(words)], timeout)
    return terminal_text(page)[mark:]


def open_console(page, server: PitboardServe, capsys) -> float:
    """Load the page; seconds from the start of the load to the first fleet table text."""
    page.add_init_script(CAPTURE_TERMINAL)
    start = time.perf_counter()
    page.goto(server.page)
    wait_js(page, "() => ['Models', 'llm-chat'].every("
                  "w => (window.__terminalText || '').includes(w))", timeout=60_000)
    took = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[pitboard serve] page load -> first fleet table text: {took:.2f} s")
    return took


def test_the_served_console_shows_the_fleet_moves_with_keys_and_is_read_only(
        page, served, capsys, tmp_path):
    took = open_console(page, served, capsys)
    assert took < 60
    # the page names who the consoles run as, and the mode
    assert page.locator("#served-by .who").inner_text() == identity.actor()
    assert page.locator("#served-by .mode").inner_text() == "read-only"
    assert page.title() == f"pitboard · {identity.actor()}"
    assert page.locator("#terminal canvas").count() >= 1

    mark = type_keys(page, ":", "gpus", "Enter")
    seen = wait_text(page, mark, "GPUs on", "nodes")
    assert re.search(r"\d+ GPUs on \d+ nodes", seen)

    mark = type_keys(page, ":", "promotions", "Enter")
    seen = wait_text(page, mark, "promotions", "canaries", "reranker", "A/P off")
    assert "A/P off: read-only mode (--read-only)" in seen
    mark = type_keys(page, "A")  # dimmed: no approve dialog opens
    page.wait_for_timeout(500)
    assert "Approve promotion of" not in terminal_text(page)[mark:]
    keep_screenshot(page, "serve.png", tmp_path)  # for the README

    # one console for this tab, started read-only; nothing fetched from the network
    consoles = served.consoles()
    assert len(consoles) >= 1 and all("--read-only" in c and "--demo" in c for c in consoles)
    assert page.blocked == []


def test_with_allow_actions_the_browser_approves_a_canary(page, served_actions, capsys):
    open_console(page, served_actions, capsys)
    assert page.locator("#served-by .mode").inner_text() == "actions allowed"
    mark = type_keys(page, ":", "promotions", "Enter")
    wait_text(page, mark, "promotions", "canaries", "recommender")
    mark = type_keys(page, "A")
    wait_text(page, mark, "Approve promotion of", "Reason")
    mark = type_keys(page, "canary errors explained", "Enter")
    seen = wait_text(page, mark, "Approval recorded")
    assert "recommender" in seen
    assert all("--read-only" not in c for c in served_actions.consoles())

    from backends.audit.store import SqliteAudit

    store = SqliteAudit(served_actions.work / "xdg_data_home" / "pitboard" / "audit.db",
                        create=False)
    try:
        approvals = [e for e in store.entries() if e.kind == "approval"]
    finally:
        store.close()
    assert len(approvals) == 1
    assert approvals[0].actor == identity.actor()  # the identity of who started the server
    assert (approvals[0].target or "").endswith("/recommender")
    assert approvals[0].reason == "canary errors explained"
    assert page.blocked == []


WS_UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


async def _one_session(url: str, probe: Callable[[], list[str]]) -> tuple[bytes, list[str]]:
    """Open the console's websocket like the page does: (the first bytes of the console's
    output, ``probe()`` while the session is open)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            while True:
                msg = await asyncio.wait_for(ws.receive(), 30)
                if msg.type == aiohttp.WSMsgType.BINARY and len(msg.data) > 10:
                    return bytes(msg.data), probe()


def test_no_token_wrong_token_other_host_or_origin_get_403_and_start_nothing(served):
    base, token = served.url, served.token
    assert token and len(token) >= 40
    get = httpx.Client(trust_env=False, timeout=10).get
    refused = {
        "page, no token": get(f"{base}/"),
        "page, wrong token": get(f"{base}/?token=not-the-token"),
        "page, token with a suffix": get(f"{base}/?token={token}x"),
        "websocket, no token": get(f"{base}/ws", headers=WS_UPGRADE),
        "websocket, wrong token": get(f"{base}/ws/not-the-token?width=80&height=24",
                                      headers=WS_UPGRADE),
        "websocket, another origin": get(f"{base}/ws/{token}?width=80&height=24",
                                         headers=WS_UPGRADE | {"Origin": "http://evil.test"}),
        "page, another Host (DNS rebinding)": get(f"{base}/?token={token}",
                                                  headers={"Host": f"evil.test:{served.port}"}),
        "download route": get(f"{base}/download/x"),
    }
    assert {what: r.status_code for what, r in refused.items()} == {
        what: 403 for what in refused}
    assert "token" in refused["page, no token"].text
    assert served.consoles() == []  # nothing was started
    log = served.log_tail()
    assert "refused GET /ws/<token> from 127.0.0.1: websocket from another origin" in log
    assert log.count(token) == 1  # printed once at start; refusals, access log: never

    page = get(f"{base}/?token={token}")
    assert page.status_code == 200
    assert "fonts.googleapis" not in page.text and "https://" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert f"/ws/{token}" in page.text
    assert served.consoles() == []  # the page alone starts nothing either

    # the right token on the websocket starts one console (the count above could see it)
    first, consoles = asyncio.run(_one_session(
        f"ws://127.0.0.1:{served.port}/ws/{token}?width=100&height=30", served.consoles))
    assert first and consoles and all("--read-only" in c for c in consoles)
    assert "session 1: starting the console" in served.log_tail()


def test_the_token_may_come_from_a_private_file(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("file-token-0123456789abcdef\n")
    secret.chmod(0o600)
    server = PitboardServe(tmp_path, "--token-file", str(secret))
    server.start()
    try:
        assert server.token is None  # not printed: the user has it
        assert "file-token" not in server.printed
        client = httpx.Client(trust_env=False, timeout=10)
        assert client.get(f"{server.url}/?token=file-token-0123456789abcdef").status_code == 200
        assert client.get(f"{server.url}/?token=file-token").status_code == 403
    finally:
        server.stop()

    secret.chmod(0o644)  # readable by others: refused before anything listens
    run = subprocess.run([sys.executable, "-m", "console", "serve", "--demo", "--token-file",
                          str(secret), "--port", str(server.port)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "chmod 600" in run.stderr
    assert stat.S_IMODE(secret.stat().st_mode) == 0o644
