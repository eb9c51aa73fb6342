"""The audit view (``:audit``): entries newest first, "outcome unknown" intents with the
object's state now, and the chain's verification. Read in a thread worker."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from backends.actions.guard import PendingIntent
from backends.domain.models import AuditEntry
from console.screens.footer_fit import FooterFitMixin
from console.screens.typed import PitboardScreen
from console.presenters.records import AuditView
from widgets.footer import KeyFooter
from widgets.render.fresh_widths import Table
from widgets.model_panels import key_name
from widgets.text import safe

UNKNOWN = "outcome unknown"


def short_target(target: str | None) -> str:
    """``demo/ml-serving/Deployment/llm-chat`` -> ``llm-chat`` (names and contexts may
    hold ``/``)."""
    return key_name(target)


def pending_line(p: PendingIntent) -> str:
    """``#12 rollback llm-chat by alice@laptop at 14:00:05Z: outcome unknown; now: ...``."""
    i = p.intent
    now = (p.progress.message or p.progress.phase) if p.progress else f"unreadable ({p.error})"
    return (f"#{i.seq} {i.action} {short_target(i.target)} by {i.actor} at "
            f"{i.at:%Y-%m-%d %H:%M:%SZ}: {UNKNOWN} (crashed mid-action?); now: {now}")


def outcome_of(entry: AuditEntry, view: AuditView) -> str:
    """What the Outcome column says for ``entry``."""
    if entry.kind == "intent":
        return view.outcomes.get(entry.seq, UNKNOWN)
    return entry.outcome or ""


class AuditScreen(FooterFitMixin, PitboardScreen):
    """Newest entries first; pending intents are listed on top as "outcome unknown"."""

    DEFAULT_CSS = """
    AuditScreen #audit-head { height: 1; padding: 0 1; background: $panel; }
    AuditScreen #audit-head.-ok { color: $success; }
    AuditScreen #audit-head.-broken { color: $error; text-style: bold; }
    AuditScreen #audit-pending { height: auto; max-height: 8; padding: 0 1; color: $warning;
        display: none; }
    AuditScreen #audit-pending.-on { display: block; }
    AuditScreen DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="audit_back"),
                Binding("r", "reload", "Reload", id="audit_reload",
                        tooltip="Read the log again and re-verify the chain")]
    # Kept in a narrow footer, most important first (every key is in ``?``): back and help
    # always, then re-reading / re-verifying the log; pause and replay are fleet concerns.
    FOOTER_PRIORITY = ("escape", "question_mark", "r", "q", "space", "T")

    class Loaded(Message, bubble=False):
        """The view data, read in a thread worker."""

        def __init__(self, view: AuditView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, loader: Callable[[], AuditView]) -> None:
        super().__init__()
        self._loader = loader
        self.view: AuditView | None = None

    def compose(self) -> ComposeResult:
        yield Static("Audit log · loading…", id="audit-head")
        yield Static("", id="audit-pending")
        yield Table(id="audit-entries", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, width in (("#", "seq", 5), ("Time (UTC)", "at", 15),
                                  ("Actor", "actor", 16), ("Kind", "kind", 9),
                                  ("Action", "action", 9), ("Target", "target", 14),
                                  ("Outcome", "outcome", 16), ("Reason", "reason", None)):
            table.add_column(label, key=key, width=width)
        table.focus()
        self.action_reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-view")
    def action_reload(self) -> None:
        """Read the log and verify the chain (thread worker)."""
        try:
            view = self._loader()
        except Exception as exc:  # noqa: BLE001 - shown on screen, never crashes the app
            view = AuditView(error=f"{type(exc).__name__}: {exc}")
        self.post_message(self.Loaded(view))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.show(message.view)

    def show(self, view: AuditView) -> None:
        """Display ``view`` (main thread)."""
        self.view = view
        head = self.query_one("#audit-head", Static)
        table = self.query_one(DataTable)
        table.clear()
        head.set_class(False, "-ok")
        head.set_class(False, "-broken")
        if view.error:
            head.set_class(True, "-broken")
            head.update(Content(f"Audit log · {safe(view.error, 300)}"))
            return
        ok, message = view.verified or (False, "not verified")
        head.set_class(ok, "-ok")
        head.set_class(not ok, "-broken")
        shown = f"newest {len(view.entries)} of {view.total}" if view.total > len(
            view.entries) else f"{view.total} entr{'y' if view.total == 1 else 'ies'}"
        verdict = safe(message, 200) if ok else f"CHAIN BROKEN: {safe(message, 200)}"
        head.update(Content(f"Audit log · {safe(view.path, 60)} · {shown} · {verdict}"))
        pending = self.query_one("#audit-pending", Static)
        pending.set_class(bool(view.pending), "-on")
        pending.update(Content("\n".join(f"⚠ {safe(pending_line(p), 400)}"
                                         for p in view.pending)))
        for e in view.entries:
            outcome = outcome_of(e, view)
            table.add_row(
                Text(str(e.seq)), Text(e.at.strftime("%m-%d %H:%M:%S")),
                Text(safe(e.actor, 40)), Text(safe(e.kind)), Text(safe(e.action or "")),
                Text(safe(short_target(e.target), 40)),
                Text(safe(outcome, 30), style="bold" if outcome == UNKNOWN else ""),
                Text(safe(e.reason or "", 200)), key=str(e.seq))
        if not view.entries:
            table.add_row("", "", "", "", "", "", "", Text("nothing recorded yet"))
