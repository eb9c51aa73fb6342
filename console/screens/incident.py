"""Incidents and notes: open/close modals, the note modal, and the incident timeline view.

The modals only collect input and return it; the app (``console.controllers.actions``) writes to the
audit store in a thread worker. Every stored string is displayed literally.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TextArea

from backends.audit.chain import parse_utc
from backends.audit.records import MAX_TEXT
from backends.domain.models import Incident
from console.screens.footer_fit import FooterFitMixin
from console.screens.typed import PitboardScreen
from console.presenters.records import IncidentView
from console.screens.modals.guard import MODAL_CSS, _text
from widgets.footer import KeyFooter
from widgets.render.fresh_widths import Table
from widgets.text import safe

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def when(at: datetime | None) -> str:
    """``2026-11-21 14:00:05Z`` (UTC) or ``n/a``."""
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else "n/a"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def incident_line(incident: Incident) -> str:
    """``#3 SEV2 llm-chat slow · open since 2026-11-21 14:00:05Z by alice@laptop``."""
    state = (f"open since {when(incident.opened_at)} by {incident.opened_by}"
             if incident.is_open else
             f"{when(incident.opened_at)} → {when(incident.closed_at)}, closed by "
             f"{incident.closed_by}")
    return f"#{incident.id} {incident.severity} {incident.title} · {state}"


class IncidentOpenScreen(ModalScreen[tuple[str, str] | None]):
    """Open an incident: returns ``(title, severity)`` or None."""

    DEFAULT_CSS = MODAL_CSS + """
    IncidentOpenScreen { align: center middle; }
    IncidentOpenScreen .field > Select { width: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="incident_cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-open", classes="dialog -danger") as box:
            box.border_title = Content(" Open an incident ")
            yield Static("Actions and notes join its timeline until it is closed.",
                         classes="hint")
            with Horizontal(classes="field"):
                yield Label("Title")
                yield Input(placeholder="what is going on? (required)", id="title",
                            max_length=500, compact=True)
            with Horizontal(classes="field", id="sev-row"):
                yield Label("Severity")
                yield Select([(s, s) for s in SEVERITIES], value="SEV3", allow_blank=False,
                             id="severity", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Open", id="ok", variant="error", disabled=True,
                             compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        field = self.query_one("#title", Input)
        field.cursor_blink = False
        field.focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#ok", Button).disabled = not event.value.strip()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _open(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if title:
            self.dismiss((title, str(self.query_one("#severity", Select).value)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Open nothing."""
        self.dismiss(None)


class IncidentCloseScreen(ModalScreen[bool]):
    """Confirm closing the open incident (``ModalScreen[bool]``)."""

    DEFAULT_CSS = MODAL_CSS + "IncidentCloseScreen { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="close_cancel"),
                Binding("y", "confirm", "Close it", show=False),
                Binding("n", "cancel", "Keep it open", show=False)]

    def __init__(self, incident: Incident) -> None:
        super().__init__()
        self.incident = incident

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-close", classes="dialog") as box:
            box.border_title = Content(f" Close incident #{self.incident.id}? ")
            yield Static(_text(incident_line(self.incident), 300), classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(Content("Close it [y]"), id="ok", variant="warning",
                             compact=True)
                yield Button(Content("Keep open [n]"), id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#ok")
    def action_confirm(self) -> None:
        """Close the incident."""
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Keep it open."""
        self.dismiss(False)


def too_long(text: str) -> str | None:
    """Why a note cannot be saved for its length (the store's limit), or None."""
    if len(text) <= MAX_TEXT:
        return None
    return (f"{len(text):,} characters: a note holds at most {MAX_TEXT:,} -- cut it "
            "(the text stays here until you save or cancel)")


class NoteScreen(ModalScreen[str | None]):
    """A multi-line note; returns its text, or None. ``ctrl+s`` saves."""

    DEFAULT_CSS = MODAL_CSS + """
    NoteScreen { align: center middle; }
    NoteScreen TextArea { height: 8; margin-top: 1; border: round $primary-muted; }
    NoteScreen TextArea:focus { border: round $primary; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note_cancel"),
                Binding("ctrl+s", "save", "Save", id="note_save", priority=True)]

    def __init__(self, preview: str, incident: Incident | None) -> None:
        super().__init__()
        self.preview = preview
        self.incident = incident

    def compose(self) -> ComposeResult:
        with Vertical(id="note", classes="dialog") as box:
            where = (f"incident #{self.incident.id}" if self.incident is not None
                     else "no open incident")
            box.border_title = Content(f" Note · {where} ")
            box.border_subtitle = Content(" ctrl+s saves · esc cancels ")
            yield Static(_text(f"Carries: {self.preview}", 300), classes="hint")
            yield TextArea(id="text", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="note-why", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="ok", variant="primary", disabled=True,
                             compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = False
        area.focus()

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        why = too_long(text)
        self.query_one("#ok", Button).disabled = not text.strip() or why is not None
        self.query_one("#note-why", Static).update(why or "")

    @on(Button.Pressed, "#ok")
    def action_save(self) -> None:
        """Save the note (ignored while empty; refused, the dialog kept open with the
        text, while longer than the store takes)."""
        text = self.query_one(TextArea).text
        if text.strip() and too_long(text) is None:
            self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Discard the note."""
        self.dismiss(None)


class IncidentScreen(FooterFitMixin, PitboardScreen):
    """One incident and its timeline (notes, actions, alerts; UTC)."""

    DEFAULT_CSS = """
    IncidentScreen #inc-head { height: auto; padding: 0 1; background: $panel; }
    IncidentScreen #inc-head.-open { color: $warning; }
    IncidentScreen #inc-sub { height: 1; padding: 0 1; color: $text-muted; }
    IncidentScreen DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="incident_back"),
                Binding("r", "reload", "Reload", id="incident_reload",
                        tooltip="Read the timeline again"),
                Binding("n", "note", "Note", id="incident_note",
                        tooltip="Add a note (with the fleet's figures now)"),
                Binding("e", "export", "Export", id="incident_export",
                        tooltip="Write the postmortem draft (Markdown)")]
    # Kept in a narrow footer, most important first (every key is in ``?``): back and help
    # always, then what an incident needs -- a note, the postmortem export -- then the rest.
    FOOTER_PRIORITY = ("escape", "question_mark", "n", "e", "q", "r", "space", "T")

    class Loaded(Message, bubble=False):
        """The view data, read in a thread worker."""

        def __init__(self, view: IncidentView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, loader: Callable[[], IncidentView]) -> None:
        super().__init__()
        self._loader = loader
        self.view: IncidentView | None = None

    def compose(self) -> ComposeResult:
        yield Static("Incident · loading…", id="inc-head")
        yield Static("", id="inc-sub")
        yield Table(id="timeline", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("UTC", key="at", width=14)
        table.add_column("Kind", key="kind", width=8)
        table.add_column("Who", key="who", width=16)
        table.add_column("What", key="what")
        table.focus()
        self.action_reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident-view")
    def action_reload(self) -> None:
        """Read the incident and its timeline again (thread worker)."""
        try:
            view = self._loader()
        except Exception as exc:  # noqa: BLE001 - shown on screen, never crashes the app
            view = IncidentView(error=f"{type(exc).__name__}: {exc}")
        self.post_message(self.Loaded(view))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.show(message.view)

    def show(self, view: IncidentView) -> None:
        """Display ``view`` (main thread)."""
        self.view = view
        head = self.query_one("#inc-head", Static)
        table = self.query_one(DataTable)
        table.clear()
        if view.incident is None:
            head.update(_text(f"Incident · {view.error or 'none'}", 300))
            self.query_one("#inc-sub", Static).update("")
            return
        inc = view.incident
        head.set_class(inc.is_open, "-open")
        head.update(_text(f"Incident {incident_line(inc)}", 400))
        self.query_one("#inc-sub", Static).update(Content(
            f"{_count(view.notes, 'note')} · {_count(view.actions, 'action')} · "
            f"{_count(len(view.timeline), 'timeline row')} · n adds a note · e exports"))
        for i, row in enumerate(view.timeline):
            table.add_row(Text(f"{parse_utc(row['at']):%m-%d %H:%M:%S}"),
                          Text(safe(row["kind"])),
                          Text(safe(row["who"], 40)), Text(safe(row["what"], 300)),
                          key=str(i))
        if not view.timeline:
            table.add_row("", "", "", Text("nothing recorded yet"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("note", "export"):
            probe = getattr(getattr(self.app, "actions", None), "action_unavailable", None)
            return None if probe is None or probe(action, None) else True
        return True

    def action_note(self) -> None:
        """Add a note (the app writes it, then this view reloads)."""
        fleet = getattr(self.app, "fleet_screen", None)
        self.app.records.begin_note(fleet._selected_model() if fleet is not None else None)

    def action_export(self) -> None:
        """Write the postmortem draft of the open (else latest) incident."""
        self.app.records.begin_export()

    def search_text(self) -> str:
        """Every timeline cell as plain text (for tests and the palette)."""
        if self.view is None:
            return ""
        return "\n".join(f"{r['at']} {r['kind']} {r['who']} {safe(r['what'])}"
                         for r in self.view.timeline)
