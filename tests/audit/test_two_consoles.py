"""Two consoles on one store: a note and an action stay under the incident the user sees,
whatever the other console opens meanwhile (the other console is another process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backends.domain.actions import ActionKind, ActionRequest
from backends.audit.store import SqliteAudit
from tests.audit.conftest import ALICE, BOB, FAKE_KEY, FakeCluster, clock_runner

ROOT = Path(__file__).resolve().parents[2]


def other_console_opens_an_incident(db: Path) -> None:
    code = ("import sys; from backends.audit.store import SqliteAudit; "
            "a = SqliteAudit(sys.argv[1]); a.open_incident('other outage', 'SEV1', "
            f"{BOB!r}); a.close()")
    subprocess.run([sys.executable, "-c", code, str(db)], cwd=ROOT, check=True, timeout=60)


class BusyCluster(FakeCluster):
    """While the call is in flight, the other console opens an incident."""

    def __init__(self, db: Path):
        super().__init__()
        self.db = db

    def execute(self, request):
        other_console_opens_an_incident(self.db)
        return super().execute(request)


def test_notes_and_actions_stay_under_the_incident_the_user_sees(audit, clock):
    seen = audit.open_incident("llm-chat slow", "SEV2", ALICE)  # what console A shows
    other_console_opens_an_incident(audit.path)               # console B, meanwhile
    assert audit.current_incident().title == "other outage"
    note = audit.add_note("rolled back, watching p95", ALICE, incident_id=seen.id)
    assert note.incident_id == seen.id
    runner = clock_runner(BusyCluster(audit.path), audit, clock)
    plan = runner.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=FAKE_KEY), None)
    runner.run(plan, "p95 regression", ALICE, incident_id=seen.id)
    ours = [(e.kind, e.incident_id) for e in audit.entries(target=FAKE_KEY)]
    assert ours == [("intent", seen.id), ("outcome", seen.id), ("settle", seen.id)]
    assert [n.id for n in audit.notes(seen.id)] == [note.id]
    assert audit.verify()[0]


def test_the_outcome_follows_its_intent_by_default(tmp_path, clock):
    """Without an explicit incident the intent joins the open one; its outcome joins the
    intent's incident even if another console opened a newer one during the call."""
    audit = SqliteAudit(tmp_path / "a.db", clock=clock)
    try:
        first = audit.open_incident("first", "SEV2", ALICE)
        runner = clock_runner(BusyCluster(audit.path), audit, clock)
        plan = runner.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=FAKE_KEY),
                              None)
        runner.run(plan, "r", ALICE)
        kinds = {e.kind: e.incident_id for e in audit.entries(target=FAKE_KEY)}
        assert kinds == {"intent": first.id, "outcome": first.id, "settle": first.id}
    finally:
        audit.close()
