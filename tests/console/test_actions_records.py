"""Pilot tests of notes, incidents, export, the audit view and crash recovery."""

from __future__ import annotations

from textual.notifications import Notify
from textual.widgets import TextArea

from backends.audit.store import SqliteAudit
from backends.demo.fleet import FrozenClock
from console.presenters.records import export_path, figures_preview, note_figures
from console.screens.audit import AuditScreen
from console.screens.incident import IncidentScreen, NoteScreen
from tests.console.actions_support import (ALICE, FROZEN, LLM, action_app, fill, ready,
                                           screen_text, select)
from tests.console.conftest import wait_for

HOSTILE = "[bold red]x[/] \x1b[2J <b>html</b> `code` | pipe"


async def test_incident_note_action_and_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, _ = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        audit = app.backends.audit
        await select(pilot, LLM)
        await pilot.press("i")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "IncidentOpenScreen")
        await fill(pilot, app.screen, "#title", "chat slow")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.actions.incident is not None)
        assert app.actions.incident.title == "chat slow" and app.actions.incident.severity == "SEV3"

        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteScreen))
        assert "llm-chat: rps" in screen_text(app)
        app.screen.query_one(TextArea).text = f"p95 up since 13:40\n{HOSTILE}"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(audit.notes()) == 1)
        note = audit.notes()[0]
        assert note.text.endswith(HOSTILE) and note.incident_id == app.actions.incident.id
        assert note.author == ALICE and note.figures["service_key"] == LLM
        assert note.figures["model"]["name"] == "llm-chat"
        assert note.figures["fleet"]["models"] >= 8 and note.figures["taken_at"]

        kinds = [e.kind for e in audit.entries(incident_id=app.actions.incident.id)]
        assert kinds == ["incident", "note"]

        await pilot.press("e")
        draft = tmp_path / f"pitboard-incident-{app.actions.incident.id}.md"
        await wait_for(pilot, draft.exists)
        text = draft.read_text()
        assert "# Postmortem draft: incident #1: chat slow" in text
        assert "p95 up since 13:40" in text and "1 notes, 0 actions" in text
        assert "\x1b" not in text and "\\x1b[2J" in text  # inert

        await pilot.press("colon", *"incident", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen)
                       and app.screen.view is not None)
        view = app.screen.view
        assert view.incident.id == 1 and view.notes == 1 and view.actions == 0
        assert "p95 up since" in app.screen.search_text()
        assert "[bold red]x[/]" in screen_text(app)  # literal, not styled
        await pilot.press("escape")

        await pilot.press("i")  # close it
        await wait_for(pilot, lambda: type(app.screen).__name__ == "IncidentCloseScreen")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.actions.incident is None)
        assert audit.incident(1).closed_by == ALICE and audit.verify()[0]
        assert app.fleet_screen.active_bindings["e"].enabled  # the latest, closed one


async def test_pending_intent_shows_as_outcome_unknown(tmp_path):
    db = tmp_path / "audit.db"
    store = SqliteAudit(db, clock=FrozenClock(FROZEN))
    store.append("intent", actor=ALICE, action="rollback", target=LLM, reason="crashed")
    store.close()
    notes: list[str] = []

    def hook(message):
        if isinstance(message, Notify):
            notes.append(f"{message.notification.title}: {message.notification.message}")

    app, _ = action_app(db)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: any(n.startswith("outcome unknown") for n in notes))
        assert "#1 rollback llm-chat" in notes[-1] and "successfully rolled out" in notes[-1]
        await pilot.press("colon", *"audit", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen)
                       and app.screen.view is not None)
        view = app.screen.view
        assert len(view.pending) == 1 and view.verified[0]
        text = screen_text(app)
        assert "outcome unknown" in text and "1 entry" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_audit_store_unavailable_disables_actions(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    app, _ = action_app(blocker / "audit.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        assert app.actions.runner is None and "audit store unavailable" in app.actions.audit_error
        assert not app.fleet_screen.active_bindings["R"].enabled
        await pilot.press("R")
        assert app.screen is app.fleet_screen


def test_note_figures_keep_missing_values_missing():
    from backends.domain.models import FleetSnapshot, ModelService

    svc = ModelService(name="m", namespace="ns", cluster="c")
    snap = FleetSnapshot(taken_at=FROZEN, context="c", services=(svc,))
    figures = note_figures(snap, svc.key)
    assert figures["model"]["rps"] is None and figures["model"]["p95_ms"] is None
    assert figures["fleet"]["gpu_util_avg_pct"] is None and figures["fleet"]["cost_hourly"] is None
    assert "rps n/a" in figures_preview(figures)
    assert note_figures(None, None) == {}


def test_export_path_never_overwrites(tmp_path):
    first = export_path(3, cwd=tmp_path)
    assert first == tmp_path / "pitboard-incident-3.md"
    first.write_text("edited by hand")
    assert export_path(3, cwd=tmp_path) == tmp_path / "pitboard-incident-3-2.md"


def test_cli_audit_commands_use_the_configured_store(tmp_path, capsys):
    from console.cli.main import main

    db = tmp_path / "elsewhere.db"
    store = SqliteAudit(db, clock=FrozenClock(FROZEN))
    store.open_incident("disk full", "SEV2", ALICE)
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[audit]\npath = "{db}"\n')
    assert main(["--config", str(config), "audit", "verify"]) == 0
    assert str(db) in capsys.readouterr().out
    assert main(["--config", str(config), "export", "--incident", "1"]) == 0
    assert "# Postmortem draft: incident #1: disk full" in capsys.readouterr().out


async def test_a_note_lands_under_the_incident_its_console_shows(tmp_path, monkeypatch):
    """Another console on the same store closes our incident and opens another while
    the note is being written: the note still goes under the incident on our screen, and
    the figures it carries say the model's status and why."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "audit.db"
    app, _ = action_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        audit = app.backends.audit
        await select(pilot, LLM)
        await pilot.press("i")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "IncidentOpenScreen")
        await fill(pilot, app.screen, "#title", "chat slow")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.actions.incident is not None)
        ours = app.actions.incident.id
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteScreen))
        other = SqliteAudit(db, clock=FrozenClock(FROZEN))  # the second console
        try:
            other.close_incident(ours, "bob@desk")
            theirs = other.open_incident("disk full", "SEV2", "bob@desk").id
        finally:
            other.close()
        assert theirs != ours
        app.screen.query_one(TextArea).text = "rolled back, watching p95"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(audit.notes()) == 1)
        note = audit.notes()[0]
        assert note.incident_id == ours
        assert note.figures["model"]["status"] == "GPU"
        assert note.figures["model"]["reasons"].startswith("XID 79 on GPU")


async def test_a_broken_chain_is_a_red_notice_at_start(tmp_path):
    import sqlite3

    db = tmp_path / "audit.db"
    store = SqliteAudit(db, clock=FrozenClock(FROZEN))
    store.append("note", actor=ALICE, target=LLM, reason="first")
    store.append("note", actor=ALICE, target=LLM, reason="second")
    store.close()
    conn = sqlite3.connect(db)  # an insider edits the file behind pitboard's back
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("UPDATE entries SET reason = 'edited' WHERE seq = 1")
    conn.commit()
    conn.close()
    notes: list[tuple[str, str, str]] = []

    def hook(message):
        if isinstance(message, Notify):
            n = message.notification
            notes.append((n.title, n.severity, n.message))

    app, _ = action_app(db)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.actions.chain_warning is not None)
        chain = [n for n in notes if n[0] == "audit chain"]
        assert chain and chain[0][1] == "error" and "BROKEN" in chain[0][2]
        assert "entry 1" in chain[0][2]


async def test_a_note_too_long_for_the_store_keeps_its_text_and_says_why(tmp_path):
    """A paste longer than the store takes: Save is off, the dialog says why and keeps the
    text (it used to close, 'not recorded', and the text was gone); cut, it saves."""
    from backends.audit.records import MAX_TEXT
    from textual.widgets import Button, Static

    app, _ = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        audit = app.backends.audit
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteScreen))
        note = app.screen
        area = note.query_one(TextArea)
        area.text = "y" * (MAX_TEXT + 1)
        await pilot.pause()
        assert note.query_one("#ok", Button).disabled
        assert "100,001 characters: a note holds at most 100,000" in str(
            note.query_one("#note-why", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is note and area.text == "y" * (MAX_TEXT + 1) and not audit.notes()
        area.text = "y" * MAX_TEXT
        await pilot.pause()
        assert not note.query_one("#ok", Button).disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(audit.notes()) == 1)
        assert len(audit.notes()[0].text) == MAX_TEXT
