"""Postmortem export: golden Markdown/JSON of a scripted incident; hostile notes stay inert."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from backends.domain.actions import ActionKind, ActionRequest
from backends.domain.errors import ForbiddenError, NotFoundError
from backends.audit.export import build_report, export_incident, md_cell, render_markdown
from backends.audit.export_text import fence, sparkline
from backends.domain.models import Alert
from tests.audit.conftest import ALICE, BOB, FAKE_KEY, T0, FakeCluster, clock_runner

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = ("# Heading?\n<script>alert('x')</script> <img src=x onerror=alert(1)> "
           "**bold** _it_ [link](javascript:alert(1)) | pipe | `tick` ``` fence\n"
           "\x1b[2J\x1b[31mred\x1b[0m [bold red]rich[/] &amp; &lt;b&gt; \\ back\u202eslash "
           "emoji 🔥 \x00 nul")


def _figures(p95: float, errors: float | None, busy: int) -> dict:
    return {"model": {"name": "llm-chat", "p95_ms": p95, "error_ratio": errors,
                      "rps": 120.5},
            "fleet": {"gpus_busy": busy, "hourly_cost": 212.4, "alerts": 2}}


def scripted_incident(audit, clock) -> int:
    """A 30-minute incident: notes, an approval, a rollback, a failed call, alerts."""
    incident = audit.open_incident("llm-chat p95 over SLO", "SEV2", ALICE)
    clock.advance(120)
    audit.add_note("p95 at 840 ms since 13:52, errors flat. Suspect v1.4.2.", ALICE,
                   _figures(840.0, 0.004, 28))
    clock.advance(60)
    audit.append("alert", actor="pitboard@console", detail={
        "name": "LLMErrorBudgetBurn", "severity": "warning", "state": "firing",
        "starts_at": "2026-11-21T14:02:30.000000Z", "model": "llm-chat",
        "summary": "error budget burning 6x"})
    clock.advance(60)
    runner = clock_runner(FakeCluster(), audit, clock)
    plan = runner.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=FAKE_KEY), None)
    runner.run(plan, "p95 regression after v1.4.2", ALICE)
    clock.advance(300)
    audit.add_note(HOSTILE, BOB, _figures(410.0, None, 27))
    clock.advance(120)
    denied = clock_runner(FakeCluster(error=ForbiddenError(
        'deployments.apps "m" is forbidden: User "bob" cannot patch', source="kubernetes",
        status=403)), audit, clock)
    denied.run(denied.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=FAKE_KEY),
                              None), "second try", BOB)
    clock.advance(600)
    audit.add_note("Recovered: p95 320 ms.\nKeep v1.4.1 pinned until the fix.", ALICE,
                   _figures(320.0, 0.002, 26))
    clock.advance(600)
    audit.close_incident(incident.id, BOB)
    return incident.id


ALERTS = (Alert(name="LLMHighLatency", severity="critical", starts_at=T0 - timedelta(minutes=5),
                summary="p95 > 500 ms for 5m", model="llm-chat"),)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def test_golden_markdown_and_json(audit, clock):
    incident_id = scripted_incident(audit, clock)
    md = export_incident(audit, incident_id, "md", alerts=ALERTS, now=clock())
    js = export_incident(audit, incident_id, "json", alerts=ALERTS, now=clock())
    _golden("incident.md", md)
    _golden("incident.json", js)
    report = json.loads(js)
    assert report["impact_window"] == {"start": "2026-11-21T13:55:00.000000Z",
                                       "end": "2026-11-21T14:31:00.000000Z",
                                       "duration_s": 2160, "ongoing": False}
    assert report["summary"]["outcomes"] == {"failed": 1, "succeeded": 1}
    assert report["summary"]["audit_chain"].startswith("chain verified up to entry ")
    assert report["chain"]["ok"] and report["chain"]["broken_at"] is None
    assert [c["figure"] for c in report["charts"]][:3] == [
        "fleet.alerts", "fleet.gpus_busy", "fleet.hourly_cost"]
    assert report["notes"][1]["text"] == HOSTILE  # JSON keeps the text verbatim


def _outside_fences(md: str) -> list[str]:
    lines, inside = [], None
    for line in md.splitlines():
        marks = re.match(r"^(`{3,})", line)
        if inside is None and marks:
            inside = marks.group(1)
        elif inside is not None and line.strip() == inside:
            inside = None
        elif inside is None:
            lines.append(line)
    return lines


@pytest.mark.parametrize("text", [
    HOSTILE,
    "```\nnot the end of the fence ```` still inside\n```",
    "long " * 5000,
    "x" * 20_000,
    "<h1>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n</h1>",
], ids=["hostile", "fences", "long-words", "long-line", "html-table"])
def test_hostile_notes_stay_readable_and_inert(audit, clock, text):
    incident = audit.open_incident("<b>title</b> [x](y) \x1b[5m", "SEV3", "mallory@<evil>")
    audit.add_note(text, "mallory@<evil>", {"k<": "<v>", "n": 1})
    clock.advance(60)
    audit.add_note("second", ALICE, {"n": 2})
    md = export_incident(audit, incident.id, "md", now=clock())
    assert "\x1b" not in md and "\x00" not in md and "\u202e" not in md
    for line in _outside_fences(md):
        assert not re.search(r"(?<!\\)[<>]", line.replace("→", "")), line
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    for tag in ("<script", "<img", "<b>", 'href="javascript', "<a "):
        assert tag not in html
    assert html.count("<h1>") == 1  # the report's own title only
    # readable: the note's text is all there, in order, in one code block
    body = md.split("### Note 1", 1)[1]
    found = re.search(r"\n\n(`{3,})text\n(.*?)\n\1\n", body, re.DOTALL)
    assert found and len(found.group(1)) > max(map(len, re.findall("`+", text)), default=0)
    visible_text = (text.replace("\x1b", "\\x1b").replace("\x00", "\\x00")
                    .replace("\u202e", "\\u202e"))
    assert found.group(2).replace("\n", "") == visible_text.replace("\n", "")
    assert max(len(line) for line in md.splitlines()) < 900


def test_open_incident_has_an_ongoing_window(audit, clock):
    incident = audit.open_incident("still burning", "SEV1", ALICE)
    clock.advance(90)
    report = build_report(audit, incident.id, now=clock())
    assert report["impact_window"]["ongoing"] and report["impact_window"]["duration_s"] == 90
    md = render_markdown(report)
    assert "(ongoing)" in md and "No actions were taken" in md and "nothing to chart" in md


def test_unknown_incident_and_format(audit):
    with pytest.raises(NotFoundError):
        export_incident(audit, 42)
    incident = audit.open_incident("x", "SEV3", ALICE)
    with pytest.raises(ValueError, match="format"):
        export_incident(audit, incident.id, "pdf")


def test_text_helpers():
    assert sparkline([1, 2, None, 8]) == "▁▂·█"
    assert sparkline([5, 5]) == "▄▄" and sparkline([None]) == "·"
    assert md_cell("a|b\n*c*", 100) == "a\\|b ⏎ \\*c\\*"
    assert md_cell("x" * 50, 10) == "x" * 9 + "…"
    assert fence("a ````` b") == "``````"
