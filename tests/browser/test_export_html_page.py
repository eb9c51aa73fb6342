"""The HTML postmortem opened in Debian's chromium: the timeline entries, their anchors
and the charts are in the DOM, the marks on the charts lead to their entries, no script
runs and nothing but the file itself is requested."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tests.audit.incident_demo import demo_incident
from tests.browser.conftest import ROOT
from tests.browser.screenshots import PNG_MAGIC, keep_screenshot

pytestmark = pytest.mark.integration


def export(tmp_path, out) -> None:
    db = tmp_path / "audit.db"
    demo_incident(db)
    env = {k: v for k, v in os.environ.items() if k not in {"PITBOARD_CONFIG", "KUBECONFIG"}}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")
    run = subprocess.run([sys.executable, "-m", "console", "--demo", "export", "--incident",
                          "1", "--format", "html", "-o", str(out), "--audit-db", str(db)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    out.chmod(0o644)  # for the test's web server


def test_the_html_postmortem_in_the_browser(page, static_site, tmp_path):
    out = static_site.root / "postmortem.html"
    export(tmp_path, out)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{static_site.url}/postmortem.html")

    # the timeline: every entry, with the exports' anchors
    ids = page.eval_on_selector_all("ol.timeline > li.entry", "els => els.map(e => e.id)")
    assert ids == ["entry-1", "note-1", "entry-3", "entry-4", "entry-5", "entry-6", "note-2",
                   "entry-8", "entry-9", "note-3", "entry-11"]
    rollback = page.locator("#entry-4")
    assert "rollback" in rollback.inner_text() and "succeeded" in rollback.inner_text()
    assert "A1" in rollback.locator(".tag").inner_text()
    assert "failed" in page.locator("#entry-8 .outcome-failed").inner_text()
    note = page.locator("#note-2 pre.note").inner_text()
    assert "<script>alert('x')</script>" in note and "\\u202eevil" in note
    assert page.locator("#note-1 table.figures").inner_text().count("llm-chat") == 1
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("img, link[rel=stylesheet], iframe").count() == 0

    # the charts: matplotlib's SVG inline, four panels, marks linked to their entries
    assert page.locator("figure.chart svg").count() == 1
    svg_text = page.locator("figure.chart svg").inner_html()
    for panel in ("error ratio", "p95 latency", "requests / s", "GPU utilisation"):
        assert panel in svg_text
    links = page.eval_on_selector_all(
        "figure.chart svg a", "els => els.map(a => a.getAttribute('xlink:href'))")
    assert {"#entry-4", "#entry-8", "#note-1", "#note-2", "#note-3", "#entry-3"} <= set(links)
    box = page.locator("figure.chart svg").bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 300
    kept = keep_screenshot(page, "export_html.png", tmp_path, full_page=True)
    assert kept.read_bytes()[:8] == PNG_MAGIC
    page.locator("figure.chart svg text", has_text="A2").first.click()
    assert page.evaluate("location.hash") == "#entry-8"

    # nothing but the file was asked for
    assert requested == [f"{static_site.url}/postmortem.html"]
    assert page.blocked == [] and static_site.requests == ["/postmortem.html"]

