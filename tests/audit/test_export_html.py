"""The HTML postmortem without a browser: one document, stable anchors shared with the
Markdown and JSON exports, hostile text inert, matplotlib's charts inline with links to the
timeline, mode 0600, and the command line (demo metrics, no metrics, no matplotlib)."""

from __future__ import annotations

import json
import re
import stat
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from backends.audit.export import build_report, export_incident
from backends.audit.export_html import esc, marks_of, render_html
from backends.audit.store import SqliteAudit
from backends.domain.models import Point, Series
from console.cli.export_html import (chart_window, involved_models, mean_series,
                                     write_private)
from console.cli.main import main
from tests.audit.incident_demo import HOSTILE, demo_incident


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


@pytest.fixture
def store(tmp_path) -> Path:
    db = tmp_path / "audit.db"
    assert demo_incident(db) == 1
    return db


def report_of(db: Path) -> dict:
    audit = SqliteAudit(db, create=False)
    try:
        return build_report(audit, 1, now=datetime(2026, 11, 21, 15, tzinfo=timezone.utc))
    finally:
        audit.close()


def test_every_export_names_the_same_timeline_entries(store):
    audit = SqliteAudit(store, create=False)
    try:
        now = datetime(2026, 11, 21, 15, tzinfo=timezone.utc)
        md = export_incident(audit, 1, "md", now=now)
        js = json.loads(export_incident(audit, 1, "json", now=now))
    finally:
        audit.close()
    anchors = [row["anchor"] for row in js["timeline"]]
    assert len(anchors) == len(set(anchors)) == 11
    assert anchors[:4] == ["entry-1", "note-1", "entry-3", "entry-4"]
    assert [a["anchor"] for a in js["actions"]] == ["entry-4", "entry-8"]
    assert [n["anchor"] for n in js["notes"]] == ["note-1", "note-2", "note-3"]
    for anchor in anchors:  # the Markdown timeline's Ref column
        assert re.search(rf"\| {re.escape(anchor)} \|$", md, re.MULTILINE), anchor
    html = render_html(report_of(store))
    ids = [attrs["id"] for tag, attrs in parse(html).tags if tag == "li" and "id" in attrs]
    assert ids == anchors  # the HTML's anchors are the same, in the same order


def test_hostile_text_stays_text(store):
    report = report_of(store)
    html = render_html(report)
    tags = parse(html)
    names = [t for t, _ in tags.tags]
    assert "script" not in names and "img" not in names and "link" not in names
    hrefs = [a.get("href") for t, a in tags.tags if t == "a"]
    assert all(h and h.startswith("#") for h in hrefs)  # in-document links only
    assert "\x1b" not in html and "\u202e" not in html and "\u202c" not in html
    text = "".join(tags.text)
    assert "<script>alert('x')</script>" in text  # shown literally
    assert "\\x1b[31mred\\x1b[0m \\u202eevil\\u202c" in text  # controls visible
    assert "llm-chat p95 over SLO <b>" in text  # the title is text too
    assert esc('"<>&\u2066') == "&quot;&lt;&gt;&amp;\\u2066"


def test_charts_are_matplotlib_svg_linked_to_the_timeline(store):
    from backends.audit.export_charts import model_chart_svg, tag_levels
    from backends.audit.export_html import ChartBlock

    report = report_of(store)
    start, end = chart_window(report)
    assert (start, end) == (datetime(2026, 11, 21, 13, 55, tzinfo=timezone.utc),
                            datetime(2026, 11, 21, 14, 36, tzinfo=timezone.utc))
    at = [start + timedelta(minutes=m) for m in range(0, 42, 2)]
    series = [Series(name="error %", points=tuple(Point(at=t, value=0.1 * i)
                                                  for i, t in enumerate(at))),
              Series(name="p95 ms", points=tuple(Point(at=t, value=None) for t in at))]
    marks = marks_of(report)
    assert [m.tag for m in marks] == ["N1", "!1", "A1", "N2", "A2", "N3"]
    assert {m.model for m in marks if m.kind == "action"} == {"llm-chat"}
    svg = model_chart_svg("llm-chat", series, start, end, marks)
    assert svg.startswith("<svg") and svg == model_chart_svg("llm-chat", series, start, end,
                                                              marks)  # deterministic
    assert "no data" in svg  # p95 had none
    assert "GPU" not in svg  # no util series: no GPU panel
    links = re.findall(r'<a xlink:href="(#[^"]+)"', svg)
    assert {m.anchor for m in marks} <= {h[1:] for h in links}
    assert "_blank" not in svg and "http://" not in svg.replace(
        "http://www.w3.org/", "").replace("http://purl.org/", "").replace(
        "http://creativecommons.org/", "")
    assert tag_levels(marks, start, end) == [0, 1, 0, 0, 0, 0]  # N1 and !1 are 30 s apart
    html = render_html(report, [ChartBlock("llm-chat", svg)], charts_note="test figures.")
    assert html.count("<svg") == 1 and "test figures." in html


def test_models_involved_and_the_mean_of_gpu_series(store):
    report = report_of(store)
    assert involved_models(report) == ["llm-chat"]
    t0 = datetime(2026, 11, 21, 14, tzinfo=timezone.utc)
    a = Series(name="util %", points=(Point(at=t0, value=50.0), Point(at=t0, value=None)))
    b = Series(name="util %", points=(Point(at=t0, value=70.0),))
    assert mean_series("util %", [a, b]).points == (Point(at=t0, value=60.0),)


def test_written_0600_never_through_a_symlink(tmp_path):
    path = tmp_path / "pm.html"
    path.write_text("old")
    path.chmod(0o644)
    write_private(str(path), "<!DOCTYPE html>")
    assert path.read_text() == "<!DOCTYPE html>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    target = tmp_path / "elsewhere"
    link = tmp_path / "link.html"
    link.symlink_to(target)
    with pytest.raises(OSError):
        write_private(str(link), "x")
    assert not target.exists()


def test_cli_writes_the_html_with_the_demo_metrics(store, tmp_path, capsys):
    out = tmp_path / "pm.html"
    code = main(["--demo", "export", "--incident", "1", "--format", "html", "-o", str(out),
                 "--audit-db", str(store)])
    assert code == 0, capsys.readouterr().err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 1
    assert "demo fleet&#x27;s simulated metrics" in html and "GPU utilisation" in html
    assert "1 charts" in capsys.readouterr().err


def test_cli_without_a_metrics_source_keeps_the_timeline(store, tmp_path, capsys):
    out = tmp_path / "pm.html"
    assert main(["export", "--incident", "1", "--format", "html", "-o", str(out),
                 "--audit-db", str(store)]) == 0
    html = out.read_text()
    assert "<svg" not in html and "No metrics source is configured" in html
    assert 'id="entry-4"' in html


def test_cli_without_matplotlib_says_how_to_get_it(store, tmp_path, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    out = tmp_path / "pm.html"
    code = main(["--demo", "export", "--incident", "1", "--format", "html", "-o", str(out),
                 "--audit-db", str(store)])
    assert code == 2 and "pitboard[export]" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_incident_fails_cleanly(store, tmp_path, capsys):
    assert main(["export", "--incident", "9", "--format", "html", "-o",
                 str(tmp_path / "x.html"), "--audit-db", str(store)]) == 2  # an unknown incident is bad input, as for md and json
    assert "9" in capsys.readouterr().err and not (tmp_path / "x.html").exists()
