"""The postmortem as one self-contained HTML file: no script, no request, inline CSS and
inline SVG charts.

Built from the same report as the Markdown and JSON exports (:func:`build_report`): the
incident's facts, a timeline whose entries carry the exports' stable anchors (``entry-12``,
``note-3``, ``alert-...``: ``file.html#entry-12``), each action with its intent and outcome,
each note with its full text and the figures captured with it, the alerts, and the charts
of the incident window (:mod:`backends.audit.export_charts`), whose marks link to the
timeline entries. Every text from the store is escaped (``html.escape``) after control and
bidi characters were made visible (``\\x1b``, ``\\u202e``): a note cannot add markup, run a
script, fetch anything or reorder what it shows. A Content-Security-Policy meta tag lets
nothing load even if it could.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends.audit.export import _duration, _time, alert_id
from backends.domain.models import ModelService
from backends.audit.export_charts import MARK_STYLE, Mark
from backends.audit.export_text import flatten_figures, number, visible
from backends.audit.chain import iso_utc, parse_utc

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class ChartBlock:
    """One model's chart: its SVG (from export_charts) and a caption."""

    model: str
    svg: str
    caption: str = ""


def esc(value: Any) -> str:
    """Text for HTML: control/bidi characters visible, then escaped (quotes included)."""
    return html.escape(visible(str(value if value is not None else "")), quote=True)


def marks_of(report: dict[str, Any]) -> list[Mark]:
    """The incident's actions (A1..), notes (N1..) and alerts (!1..) as chart marks, in
    time order, linked to their timeline entries."""
    marks: list[Mark] = []
    for i, a in enumerate(report["actions"], 1):
        parts = ModelService.parse_key(a["target"] or "")
        marks.append(Mark(parse_utc(a["at"]), f"A{i}", "action", a["anchor"],
                          f"{a['action']} {a['target']}: {a['outcome']}",
                          parts[3] if parts else None))
    for i, n in enumerate(report["notes"], 1):
        marks.append(Mark(parse_utc(n["at"]), f"N{i}", "note", n["anchor"],
                          f"note by {n['author']}"))
    alerts = [r for r in report["timeline"] if r["kind"] == "alert"]
    models = {alert_id(a): a.get("model") for a in report["alerts"]}
    for i, r in enumerate(alerts, 1):
        marks.append(Mark(parse_utc(r["at"]), f"!{i}", "alert", r["anchor"], r["what"],
                          models.get(r["anchor"])))
    return sorted(marks, key=lambda m: m.at)


def _figures_table(figures: dict[str, Any]) -> str:
    flat = flatten_figures(figures)
    if not flat:
        return ""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(number(v))}</td></tr>"
                   for k, v in flat.items())
    return f'<table class="figures"><caption>Figures at this note</caption>{rows}</table>'


def _timeline(report: dict[str, Any], tags: dict[str, str]) -> str:
    actions = {a["anchor"]: a for a in report["actions"]}
    notes = {n["anchor"]: n for n in report["notes"]}
    items: list[str] = []
    for r in report["timeline"]:
        anchor = r["anchor"]
        tag = tags.get(anchor, "")
        body = f'<p class="what">{esc(r["what"])}</p>'
        if anchor in actions:
            a = actions[anchor]
            outcome = a["outcome"] + (" (override)" if a["override"] else "")
            body += ('<dl class="action">'
                     f'<dt>intent</dt><dd>{esc(a["action"])} on {esc(a["target"])}: '
                     f'{esc(a["reason"] or "")}</dd>'
                     f'<dt>outcome</dt><dd class="outcome-{esc(a["outcome"])}">{esc(outcome)}'
                     + (f": {esc(a['outcome_message'])}" if a["outcome_message"] else "")
                     + f'</dd><dt>rollout</dt><dd>{esc(a["settle"] or "n/a")}</dd></dl>')
        if anchor in notes:
            n = notes[anchor]
            body = (f'<pre class="note">{esc(n["text"])}</pre>'
                    + _figures_table(n["figures"]))
        items.append(
            f'<li id="{esc(anchor)}" class="entry kind-{esc(r["kind"])}">'
            f'<div class="head"><a class="ref" href="#{esc(anchor)}">{esc(anchor)}</a> '
            f'<time datetime="{esc(r["at"])}">{esc(_time(r["at"]))}</time>'
            + (f' <span class="tag">{esc(tag)}</span>' if tag else "")
            + f' <span class="kind">{esc(r["kind"])}</span>'
            f' <span class="who">{esc(r["who"])}</span></div>{body}</li>')
    if not items:
        return '<p class="empty">Nothing recorded.</p>'
    return '<ol class="timeline">' + "".join(items) + "</ol>"


def _actions_table(report: dict[str, Any], tags: dict[str, str]) -> str:
    if not report["actions"]:
        return '<p class="empty">No actions were taken during this incident.</p>'
    head = ("<tr><th>Tag</th><th>Intent</th><th>Time (UTC)</th><th>Action</th><th>Target</th>"
            "<th>By</th><th>Outcome</th><th>Rollout</th><th>Reason</th></tr>")
    rows = []
    for a in report["actions"]:
        outcome = a["outcome"] + (" (override)" if a["override"] else "")
        if a["outcome_message"]:
            outcome += f": {a['outcome_message']}"
        rows.append(f'<tr><td>{esc(tags.get(a["anchor"], ""))}</td>'
                    f'<td><a href="#{esc(a["anchor"])}">#{esc(a["seq"])}</a></td>'
                    f'<td>{esc(_time(a["at"]))}</td><td>{esc(a["action"])}</td>'
                    f'<td>{esc(a["target"])}</td><td>{esc(a["actor"])}</td>'
                    f'<td>{esc(outcome)}</td><td>{esc(a["settle"] or "n/a")}</td>'
                    f'<td>{esc(a["reason"] or "")}</td></tr>')
    return f'<table class="actions">{head}{"".join(rows)}</table>'


def _alerts_table(report: dict[str, Any]) -> str:
    if not report["alerts"]:
        return '<p class="empty">No alerts recorded.</p>'
    head = ("<tr><th>Started (UTC)</th><th>Alert</th><th>Severity</th><th>State</th>"
            "<th>Model</th><th>Summary</th></tr>")
    rows = "".join(
        f'<tr><td>{esc(_time(a.get("starts_at")))}</td><td>{esc(a.get("name"))}</td>'
        f'<td>{esc(a.get("severity") or "n/a")}</td><td>{esc(a.get("state") or "n/a")}</td>'
        f'<td>{esc(a.get("model") or "n/a")}</td><td>{esc(a.get("summary") or "")}</td></tr>'
        for a in report["alerts"])
    return f'<table class="alerts">{head}{rows}</table>'


def _charts(charts: Sequence[ChartBlock], marks: Sequence[Mark], note: str) -> str:
    legend = " ".join(
        f'<span class="legend" style="border-color:{colour}">{kind}s</span>'
        for kind, (colour, _dash) in MARK_STYLE.items())
    out = [f'<p class="hint">{esc(note)} Marks: {legend}; each links to its timeline '
           "entry.</p>"]
    for i, chart in enumerate(charts):
        out.append(f'<figure class="chart" id="chart-{i + 1}"><figcaption>'
                   f'{esc(chart.model)}{" · " + esc(chart.caption) if chart.caption else ""}'
                   f"</figcaption>{chart.svg}</figure>")
    if not charts:
        out.append('<p class="empty">No charts: no metrics for the models involved.</p>')
    if marks:
        out.append('<ul class="marks">' + "".join(
            f'<li><a href="#{esc(m.anchor)}"><b>{esc(m.tag)}</b></a> '
            f'{esc(_time(iso_utc(m.at)))} {esc(m.label)}</li>' for m in marks) + "</ul>")
    return "".join(out)


STYLE = """
:root { color-scheme: light; --ink: #1c2833; --muted: #626e78; --line: #d5d8dc;
        --action: #b03a2e; --note: #1f618d; --alert: #b9770e; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.5em; margin-bottom: .3em; } h2 { border-bottom: 1px solid var(--line);
     padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid var(--line); padding: .25em .6em; text-align: left;
         vertical-align: top; }
table.facts th { background: #f4f6f7; width: 11em; }
nav a { margin-right: 1em; } .hint, .empty, .muted { color: var(--muted); }
ol.timeline { list-style: none; padding: 0; margin: 0; }
li.entry { border-left: 4px solid var(--line); padding: .3em .8em; margin: .4em 0; }
li.entry:target { background: #fef9e7; }
li.kind-action { border-color: var(--action); } li.kind-note { border-color: var(--note); }
li.kind-alert { border-color: var(--alert); }
.head time { font-variant-numeric: tabular-nums; margin-right: .4em; }
.head .kind { text-transform: uppercase; font-size: .8em; color: var(--muted); }
.head .who { color: var(--muted); } .head .tag { font-weight: bold; }
.head a.ref { float: right; font-size: .8em; color: var(--muted); }
p.what { margin: .2em 0; overflow-wrap: break-word; }
pre.note { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f6f7;
           padding: .5em; margin: .3em 0; }
dl.action { display: grid; grid-template-columns: 6em 1fr; margin: .2em 0; }
dl.action dt { color: var(--muted); } dl.action dd { margin: 0; overflow-wrap: anywhere; }
.outcome-failed, .outcome-unknown { color: var(--action); font-weight: bold; }
table.figures caption { text-align: left; color: var(--muted); }
figure.chart { margin: 1em 0; } figure.chart svg { width: 100%; height: auto; }
figcaption { font-weight: bold; }
span.legend { border-bottom: 2px dashed; padding: 0 .2em; }
td { overflow-wrap: break-word; }
"""


def render_html(report: dict[str, Any], charts: Sequence[ChartBlock] = (), *,
                charts_note: str = "") -> str:
    """The postmortem draft as one HTML document (see the module docstring)."""
    inc, win, summ = report["incident"], report["impact_window"], report["summary"]
    marks = marks_of(report)
    tags = {m.anchor: m.tag for m in marks}
    title = f"Postmortem draft: incident #{inc['id']}: {inc['title']}"
    end = _time(win["end"]) + (" (ongoing)" if win["ongoing"] else "")
    closed = _time(inc["closed_at"]) + (f" by {inc['closed_by']}" if inc["closed_by"] else "")
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(summ["outcomes"].items()))
    facts = [("Severity", inc["severity"]), ("Status", inc["status"]),
             ("Opened", f"{_time(inc['opened_at'])} by {inc['opened_by']}"),
             ("Closed", closed),
             ("Impact window", f"{_time(win['start'])} → {end}, "
                               f"{_duration(win['duration_s'])}"),
             ("Audit chain", summ["audit_chain"])]
    span = summ["entries"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
        f'<header><h1 id="top">{esc(title)}</h1><table class="facts">'
        + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)
        + "</table></header>",
        '<nav><a href="#summary">Summary</a><a href="#charts">Charts</a>'
        '<a href="#timeline">Timeline</a><a href="#actions">Actions</a>'
        '<a href="#alerts">Alerts</a></nav>',
        '<section id="summary"><h2>Summary</h2><ul>'
        f"<li>{summ['notes']} notes, {summ['actions']} actions"
        + (f" ({esc(outcomes)})" if outcomes else "")
        + f", {summ['overrides']} overrides, {summ['approvals']} approvals, "
        f"{summ['alerts']} alerts.</li>"
        f"<li>Services acted on: {esc(', '.join(summ['services']) or 'none')}.</li>"
        "<li><em>What happened, impact, root cause, what went well, what to change: "
        "write here.</em></li></ul></section>",
        f'<section id="charts"><h2>Charts of the incident window</h2>'
        f"{_charts(charts, marks, charts_note)}</section>",
        f'<section id="timeline"><h2>Timeline (UTC)</h2>{_timeline(report, tags)}</section>',
        f'<section id="actions"><h2>Actions</h2>{_actions_table(report, tags)}</section>',
        f'<section id="alerts"><h2>Alerts</h2>{_alerts_table(report)}</section>',
        f'<footer class="muted"><hr>Generated by pitboard at '
        f"{esc(_time(report['generated_at']))} from the audit store"
        + (f" (entries #{span[0]}..#{span[1]})." if span else ".")
        + "</footer></body></html>",
    ]
    return "\n".join(parts) + "\n"
