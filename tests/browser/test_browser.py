"""The browser part: Debian's chromium, driven by Playwright, loads a page from a local
``http.server`` thread, runs its script (which fetches JSON from the same server) and
answers DOM queries; a request to any other host is refused before it leaves."""

from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = pytest.mark.integration

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>loading</title>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto%20Mono">
</head><body><table id="gpus"><tbody></tbody></table>
<script>
fetch("/gpus.json").then(r => r.json()).then(rows => {
  const body = document.querySelector("#gpus tbody");
  for (const g of rows) {
    const tr = document.createElement("tr");
    tr.dataset.uuid = g.uuid;
    for (const cell of [g.uuid, g.util.toFixed(1) + " %", g.model ?? "-"]) {
      const td = document.createElement("td");
      td.textContent = cell;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  document.title = "ready: " + rows.length + " GPUs";
});
</script></body></html>
"""
GPUS = [{"uuid": "GPU-a-0", "util": 42.0, "model": "llm-chat"},
        {"uuid": "GPU-a-1", "util": 7.25, "model": None},
        {"uuid": "GPU-b-0", "util": 99.5, "model": "[bold]resnet[/] <b>"}]


def test_a_local_page_is_rendered_and_queried(page, static_site):
    (static_site.root / "index.html").write_text(PAGE, encoding="utf-8")
    (static_site.root / "gpus.json").write_text(json.dumps(GPUS), encoding="utf-8")
    page.goto(f"{static_site.url}/index.html")
    page.wait_for_function("document.title.startsWith('ready')")
    assert page.title() == "ready: 3 GPUs"
    rows = page.locator("#gpus tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").all_text_contents() for i in range(3)] == [
        ["GPU-a-0", "42.0 %", "llm-chat"], ["GPU-a-1", "7.3 %", "-"],
        ["GPU-b-0", "99.5 %", "[bold]resnet[/] <b>"]]  # text stays text, not markup
    assert page.locator("tr[data-uuid='GPU-a-1'] td").first.text_content() == "GPU-a-1"
    assert page.locator("#gpus b").count() == 0
    # the script's fetch reached the local server; the web font never left the machine
    assert {"/index.html", "/gpus.json"} <= set(static_site.requests)
    assert page.blocked == ["https://fonts.googleapis.com/css?family=Roboto%20Mono"]


def test_the_browser_is_the_system_chromium(browser):
    """The launched browser is the system binary (no browser of Playwright's own)."""
    from tests.conftest import require_binary

    banner = subprocess.run([require_binary("chromium"), "--version"], capture_output=True,
                            text=True, timeout=30).stdout  # "Chromium 156.0.8078.129 ..."
    assert browser.browser_type.name == "chromium"
    assert banner.split()[:2] == ["Chromium", browser.version]


def test_textual_serve_runs_the_demo_console_in_the_page(page, served_demo):
    """``pitboard --demo`` behind textual-serve: the page builds an xterm.js terminal (drawn
    on canvases) and the console's first screen arrives through its websocket."""
    from tests.browser.conftest import CAPTURE_TERMINAL

    page.add_init_script(CAPTURE_TERMINAL)
    page.goto(served_demo.url)
    page.wait_for_selector("body.-first-byte", timeout=60_000)  # the app's output arrived
    assert page.locator("#terminal .xterm").count() == 1
    assert page.locator("#terminal canvas").count() >= 1  # drawn, not DOM text
    page.wait_for_function("window.__terminalText.includes('llm-chat')", timeout=60_000)
    text = page.evaluate("window.__terminalText")
    assert "pitboard" in text and "Models" in text and "GPUs" in text
    assert page.blocked == ["https://fonts.googleapis.com/css?family=Roboto%20Mono"]


async def test_async_tests_still_run_once_the_browser_was_launched(browser_session):
    """The session's browser leaves no asyncio loop marked running between its tests."""
    import asyncio

    loop = asyncio.get_running_loop()  # pytest-asyncio's, not Playwright's
    assert loop is not browser_session._loop
    assert await asyncio.wait_for(asyncio.sleep(0, result="ran"), 1) == "ran"
    with pytest.raises(RuntimeError, match="plain"):
        with browser_session.active():
            pass
