"""Postmortem export of one incident: a JSON-ready report, rendered as Markdown or JSON.

The report gathers the incident, its impact window, a timeline (notes, actions, approvals,
overrides and alerts, all in UTC), the figures recorded with each note, text charts of
those figures, and the audit chain's verification. Markdown rendering keeps hostile text
readable and inert: table cells escape Markdown/HTML punctuation and show control
characters as ``\\xNN``; full note texts go in fenced code blocks whose fence is longer
than any backtick run inside. JSON keeps every string verbatim once parsed, with C1 and bidi
controls escaped in the file (``\\u202e``). The header states the chain's state ("chain
verified up to entry N" / "chain broken at entry N: why"), with a warning when broken.
Files are written 0600 (:func:`write_private`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import textwrap
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from backends.audit.chain import iso_utc, jsonable, parse_utc
from backends.audit.export_text import (fence, flatten_figures, inert_json, number,
                                        sparkline, visible)
from backends.domain.models import Alert, AuditEntry, utcnow

FORMAT = "pitboard-postmortem/1"
SNIPPET = 140
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#$!])")
_ACTION_KINDS = {"intent", "outcome", "settle", "override", "cancel", "approval"}


def md_cell(text: Any, limit: int | None = None) -> str:
    """One inert, single-line Markdown table cell."""
    value = str(text if text is not None else "")
    if limit is not None:
        value = value[: limit * 2]  # enough: escapes only lengthen it
    value = visible(value.replace("\r\n", "\n"))
    value = re.sub(r"\s*\n\s*", " ⏎ ", value).replace("\t", " ")
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return _MD_SPECIAL.sub(r"\\\1", value) or " "


def _time(iso: str | None) -> str:
    return parse_utc(iso).strftime("%Y-%m-%d %H:%M:%SZ") if iso else "n/a"


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def entry_id(seq: int) -> str:
    """The stable id of audit entry ``seq`` in every export: the HTML export's anchor
    (``#entry-12``), the JSON rows' ``anchor``, the Markdown timeline's Ref."""
    return f"entry-{seq}"


def note_id(note: int) -> str:
    """The stable id of note ``note`` (``note-3``), like :func:`entry_id`."""
    return f"note-{note}"


def alert_id(alert: dict[str, Any]) -> str:
    """A stable id for an alert that is not an audit entry (from Alertmanager at export
    time): a digest of its name, start and model (``alert-3f9a0c21d4``)."""
    key = "\x1f".join(str(alert.get(k) or "") for k in ("name", "starts_at", "model"))
    return "alert-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _entry_what(entry: AuditEntry) -> str:
    target = entry.target or "?"
    if entry.kind == "incident":
        return f"incident {entry.action or ''}: {entry.reason or ''}".strip()
    if entry.kind == "intent":
        return f"{entry.action} requested on {target}: {entry.reason or ''}"
    if entry.kind in {"outcome", "settle"}:
        word = "outcome" if entry.kind == "outcome" else "rollout"
        return (f"{entry.action} {word} {entry.outcome} (intent #{entry.intent_seq})"
                + (f": {entry.reason}" if entry.reason else ""))
    if entry.kind == "override":
        names = ", ".join(str(c.get("name")) for c in entry.detail.get("checks", []))
        return f"OVERRIDE of {names} for {entry.action} on {target}: {entry.reason or ''}"
    if entry.kind == "approval":
        return f"approved promotion of {target}: {entry.reason or ''}"
    if entry.kind == "alert":
        d = entry.detail
        return f"alert {d.get('state', 'firing')}: {d.get('name')} ({d.get('severity')})"
    return f"{entry.kind} {entry.action or ''} {target}".strip()


def _actions(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for e in entries:
        if e.kind == "intent":
            out[e.seq] = {"seq": e.seq, "anchor": entry_id(e.seq), "at": iso_utc(e.at),
                          "actor": e.actor,
                          "action": e.action, "target": e.target, "reason": e.reason,
                          "object_ref": e.detail.get("object_ref"),
                          "changes": e.detail.get("changes", []),
                          "override": bool(e.detail.get("override")),
                          "outcome": "unknown", "outcome_message": None, "settle": None}
        elif e.intent_seq in out and e.kind == "outcome":
            out[e.intent_seq].update(outcome=e.outcome, outcome_message=e.reason)
        elif e.intent_seq in out and e.kind == "settle":
            out[e.intent_seq]["settle"] = e.outcome
    return list(out.values())


def _chain(audit: Any) -> dict[str, Any]:
    """The chain's state for the header: ``state`` reads "chain verified up to entry N"
    or "chain broken at entry N: why" (:meth:`ChainState.summary`)."""
    check = getattr(audit, "chain_state", None)
    if check is None:  # another AuditBackend: its (ok, message) only
        ok, message = audit.verify()
        return {"ok": ok, "state": f"chain {'verified' if ok else 'broken'}: {message}",
                "message": message}
    state = check()
    return {"ok": state.ok, "state": state.summary(), "message": state.message,
            "verified_through": state.verified_through, "broken_at": state.broken_at,
            "head": state.anchor if state.ok else None}


def build_report(audit: Any, incident_id: int, *, alerts: Sequence[Alert] = (),
                 now: datetime | None = None, verify: bool = True) -> dict[str, Any]:
    """The JSON-ready report of ``incident_id`` from a :class:`SqliteAudit`. ``alerts``
    (e.g. from the alerts backend) join the timeline; ``now`` ends an ongoing impact
    window and stamps the report."""
    now = now or utcnow()
    inc = audit.incident(incident_id)
    entries = audit.entries(incident_id=incident_id)
    notes = audit.notes(incident_id)
    alert_rows = [jsonable(a.model_dump(mode="json", exclude={"starts_at"}))
                  | {"starts_at": iso_utc(a.starts_at) if a.starts_at else None}
                  for a in alerts]
    alert_rows += [dict(e.detail, recorded_by=e.actor, recorded_at=iso_utc(e.at))
                   for e in entries if e.kind == "alert"]
    starts = [inc.opened_at] + [parse_utc(a["starts_at"]) for a in alert_rows
                                if a.get("starts_at")]
    end = inc.closed_at or now
    timeline: list[dict[str, Any]] = []
    for e in entries:
        if e.kind == "note":
            continue
        at = iso_utc(e.at)
        if e.kind == "alert" and isinstance(e.detail.get("starts_at"), str):
            at = iso_utc(parse_utc(e.detail["starts_at"]))
        timeline.append({"at": at, "kind": "action" if e.kind in _ACTION_KINDS else e.kind,
                         "who": e.actor, "what": _entry_what(e), "ref": f"#{e.seq}",
                         "anchor": entry_id(e.seq)})
    for n in notes:
        what = n.text if len(n.text) <= 2 * SNIPPET else n.text[: 2 * SNIPPET - 1] + "…"
        timeline.append({"at": iso_utc(n.at), "kind": "note", "who": n.author,
                         "what": what, "ref": f"note {n.id}",
                         "anchor": note_id(n.id)})
    for a in alert_rows:
        if a.get("starts_at") and "recorded_by" not in a:
            timeline.append({"at": a["starts_at"], "kind": "alert", "who": "alertmanager",
                             "what": f"alert {a.get('state', 'firing')}: {a.get('name')} "
                                     f"({a.get('severity')}) {a.get('summary') or ''}".strip(),
                             "ref": "", "anchor": alert_id(a)})
    timeline.sort(key=lambda row: row["at"])
    actions = _actions(entries)
    outcomes: dict[str, int] = {}
    for a in actions:
        outcomes[a["outcome"]] = outcomes.get(a["outcome"], 0) + 1
    note_rows = [{"id": n.id, "anchor": note_id(n.id), "at": iso_utc(n.at),
                  "author": n.author, "text": n.text, "figures": n.figures} for n in notes]
    series: dict[str, list[list[Any]]] = {}
    for n in note_rows:
        for key, value in flatten_figures(n["figures"]).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                series.setdefault(key, []).append([n["at"], value])
    chain = _chain(audit) if verify else {"ok": None, "state": "chain not verified"}
    return {
        "format": FORMAT,
        "generated_at": iso_utc(now),
        "incident": {"id": inc.id, "title": inc.title, "severity": inc.severity,
                     "status": "open" if inc.is_open else "closed",
                     "opened_at": iso_utc(inc.opened_at), "opened_by": inc.opened_by,
                     "closed_at": iso_utc(inc.closed_at) if inc.closed_at else None,
                     "closed_by": inc.closed_by},
        "impact_window": {"start": iso_utc(min(starts)), "end": iso_utc(end),
                          "duration_s": int((end - min(starts)).total_seconds()),
                          "ongoing": inc.is_open},
        "summary": {"notes": len(notes), "actions": len(actions), "outcomes": outcomes,
                    "overrides": sum(1 for e in entries if e.kind == "override"),
                    "approvals": sum(1 for e in entries if e.kind == "approval"),
                    "alerts": len(alert_rows),
                    "services": sorted({e.target for e in entries
                                        if e.target and e.kind in _ACTION_KINDS}),
                    "audit_chain": chain["state"],
                    "entries": [entries[0].seq, entries[-1].seq] if entries else []},
        "chain": chain,
        "timeline": timeline,
        "actions": actions,
        "notes": note_rows,
        "alerts": alert_rows,
        "charts": [{"figure": k, "points": v} for k, v in sorted(series.items())
                   if len(v) >= 2][:40],
    }


def render_json(report: dict[str, Any]) -> str:
    """The report as JSON: strings verbatim once parsed, but C1 and bidi controls written
    as ``\\uNNNN`` escapes in the file (:func:`inert_json`)."""
    return inert_json(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def _note_block(note: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for raw in visible(note["text"].replace("\r\n", "\n")).splitlines() or [""]:
        lines += textwrap.wrap(raw, 100, drop_whitespace=False, replace_whitespace=False,
                               break_on_hyphens=False) or [""]
    body = "\n".join(lines)
    marks = fence(body)
    out = [f"### Note {note['id']} · {_time(note['at'])} · {md_cell(note['author'])}", "",
           f"{marks}text", body, marks, ""]
    figures = flatten_figures(note["figures"])
    if figures:
        out += ["Figures at this note:", "", "| Figure | Value |", "|---|---|"]
        out += [f"| {md_cell(k)} | {md_cell(number(v), 200)} |" for k, v in figures.items()]
        out.append("")
    return out


def render_markdown(report: dict[str, Any]) -> str:
    """The postmortem draft as Markdown (readable raw, inert when rendered)."""
    inc, win, summ = report["incident"], report["impact_window"], report["summary"]
    end = f"{_time(win['end'])}{' (ongoing)' if win['ongoing'] else ''}"
    outcome_text = ", ".join(f"{n} {k}" for k, n in sorted(summ["outcomes"].items()))
    out = [f"# Postmortem draft: incident #{inc['id']}: {md_cell(inc['title'])}", ""]
    if report.get("chain", {}).get("ok") is False:
        out += [f"> **Warning: {md_cell(summ['audit_chain'], 300)}.** This draft is built "
                f"from an audit log that does not verify: it may not show what happened.", ""]
    out += ["| | |", "|---|---|", f"| Severity | {md_cell(inc['severity'])} |",
           f"| Status | {inc['status']} |",
           f"| Opened | {_time(inc['opened_at'])} by {md_cell(inc['opened_by'])} |",
           f"| Closed | {_time(inc['closed_at'])}"
           + (f" by {md_cell(inc['closed_by'])} |" if inc["closed_by"] else " |"),
           f"| Impact window | {_time(win['start'])} → {end}, "
           f"{_duration(win['duration_s'])} |",
           f"| Audit chain | {md_cell(summ['audit_chain'])} |", "",
           "## Summary", "",
           f"- {summ['notes']} notes, {summ['actions']} actions"
           + (f" ({outcome_text})" if outcome_text else "")
           + f", {summ['overrides']} overrides, {summ['approvals']} approvals, "
           f"{summ['alerts']} alerts.",
           "- Services acted on: " + (", ".join(md_cell(s) for s in summ["services"])
                                      or "none") + ".",
           "- *What happened, impact, root cause, what went well, what to change: "
           "write here.*", "",
           "## Timeline (UTC)", "", "| Time (UTC) | Kind | Who | What | Ref |",
           "|---|---|---|---|---|"]
    out += [f"| {_time(r['at'])} | {md_cell(r['kind'], 32)} | {md_cell(r['who'], 80)} | "
            f"{md_cell(r['what'], SNIPPET)} | {md_cell(r['anchor'])} |"
            for r in report["timeline"]] or ["| | | | nothing recorded | |"]
    out += ["", "## Actions", ""]
    if report["actions"]:
        out += ["| Intent | Time (UTC) | Action | Target | By | Outcome | Rollout | Reason |",
                "|---|---|---|---|---|---|---|---|"]
        for a in report["actions"]:
            outcome = a["outcome"] + (" (override)" if a["override"] else "")
            if a["outcome_message"]:
                outcome += f": {a['outcome_message']}"
            out.append(f"| #{a['seq']} | {_time(a['at'])} | {md_cell(a['action'])} | "
                       f"{md_cell(a['target'])} | {md_cell(a['actor'], 80)} | "
                       f"{md_cell(outcome, SNIPPET)} | {md_cell(a['settle'] or 'n/a')} | "
                       f"{md_cell(a['reason'], SNIPPET)} |")
    else:
        out.append("No actions were taken during this incident.")
    out += ["", "## Notes", ""]
    for note in report["notes"]:
        out += _note_block(note)
    if not report["notes"]:
        out += ["No notes.", ""]
    out += ["## Charts (figures recorded with the notes)", ""]
    if report["charts"]:
        width = min(48, max(len(visible(c["figure"])) for c in report["charts"]))
        rows = [f"{visible(c['figure'])[:width]:<{width}}  {sparkline([p[1] for p in c['points']])}"
                f"  min {number(min(p[1] for p in c['points']))}"
                f"  max {number(max(p[1] for p in c['points']))}"
                f"  last {number(c['points'][-1][1])}  ({len(c['points'])} notes)"
                for c in report["charts"]]
        marks = fence("\n".join(rows))
        out += [f"{marks}text", *rows, marks, ""]
    else:
        out += ["Fewer than two notes carried the same figure: nothing to chart.", ""]
    out += ["## Alerts", ""]
    if report["alerts"]:
        out += ["| Started (UTC) | Alert | Severity | State | Model | Summary |",
                "|---|---|---|---|---|---|"]
        out += [f"| {_time(a.get('starts_at'))} | {md_cell(a.get('name'))} | "
                f"{md_cell(a.get('severity') or 'n/a')} | {md_cell(a.get('state') or 'n/a')} | "
                f"{md_cell(a.get('model') or 'n/a')} | {md_cell(a.get('summary') or '', SNIPPET)} |"
                for a in report["alerts"]]
    else:
        out.append("No alerts recorded.")
    span = summ["entries"]
    out += ["", "---", "", f"Generated by pitboard at {_time(report['generated_at'])} from "
            f"the audit store" + (f" (entries #{span[0]}..#{span[1]})." if span else ".")]
    return "\n".join(out) + "\n"


def write_private(path: str | os.PathLike, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), also when the file
    exists (its mode is set before its content is replaced; a file that cannot be made
    private is left untouched: OSError). ``exclusive``: never replace an existing file.
    Not a regular file (``/dev/stdout``, a pipe): written as it is, its mode left alone."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0)
    fd = os.open(path, flags, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
            os.ftruncate(fd, 0)
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def export_incident(audit: Any, incident_id: int, fmt: str = "md", *,
                    alerts: Sequence[Alert] = (), now: datetime | None = None,
                    verify: bool = True) -> str:
    """The postmortem of ``incident_id`` as ``md`` or ``json`` text."""
    if fmt not in {"md", "json"}:
        raise ValueError(f"unknown export format {fmt!r} (md or json)")
    report = build_report(audit, incident_id, alerts=alerts, now=now, verify=verify)
    return render_markdown(report) if fmt == "md" else render_json(report)
