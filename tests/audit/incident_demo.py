"""A scripted incident on the demo fleet's models, for the HTML export's tests: notes with
figures (one hostile), an alert on llm-chat, a rollback of llm-chat (intent, outcome,
rollout) and a refused one, over 30 minutes of a frozen clock."""

from __future__ import annotations

from pathlib import Path

from backends.audit.store import SqliteAudit
from tests.audit.conftest import ALICE, BOB, LLM, T0, StepClock

HOSTILE = ("<script>alert('x')</script> <img src=x onerror=alert(1)> <a href=\"https://evil."
           "test/\">link</a> <link rel=stylesheet href=https://evil.test/x.css> "
           "\x1b[31mred\x1b[0m \u202eevil\u202c &amp; ]]> -->")


def figures(p95: float, errors: float) -> dict:
    return {"model": {"name": "llm-chat", "p95_ms": p95, "error_ratio": errors, "rps": 37.0},
            "fleet": {"gpus_busy": 28}}


def demo_incident(db: Path) -> int:
    """Write the incident into a new store at ``db``; returns its id."""
    clock = StepClock(T0)
    audit = SqliteAudit(db, clock=clock)
    try:
        incident = audit.open_incident("llm-chat p95 over SLO <b>", "SEV2", ALICE)
        clock.advance(120)
        audit.add_note("p95 at 4.4 s since 13:58. Suspect v1.4.2.", ALICE,
                       figures(4400.0, 0.004))
        clock.advance(60)
        audit.append("alert", actor="pitboard@console", detail={
            "name": "LLMHighLatency", "severity": "critical", "state": "firing",
            "starts_at": "2026-11-21T14:02:30.000000Z", "model": "llm-chat",
            "summary": "p95 > 4 s for 5m"})
        clock.advance(120)
        intent = audit.append("intent", actor=ALICE, action="rollback", target=LLM,
                              reason="p95 regression after v1.4.2")
        audit.append("outcome", actor=ALICE, action="rollback", target=LLM,
                     outcome="succeeded", reason="patched", intent_seq=intent.seq)
        clock.advance(240)
        audit.append("settle", actor=ALICE, action="rollback", target=LLM,
                     outcome="complete", reason="rolled out", intent_seq=intent.seq)
        clock.advance(300)
        audit.add_note(HOSTILE, BOB, figures(3900.0, 0.002))
        clock.advance(300)
        denied = audit.append("intent", actor=BOB, action="rollback", target=LLM,
                              reason="second try")
        audit.append("outcome", actor=BOB, action="rollback", target=LLM, outcome="failed",
                     reason='kubernetes (403): User "bob" cannot patch',
                     intent_seq=denied.seq)
        clock.advance(600)
        audit.add_note("Recovered: p95 3.9 s.", ALICE, figures(3900.0, 0.001))
        clock.advance(120)
        audit.close_incident(incident.id, BOB)
        return incident.id
    finally:
        audit.close()
