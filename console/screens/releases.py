"""Releases view: every model's revisions in time order (newest first) with who/what/why,
merged with pitboard's own actions, approvals and notes from the audit store (◆).
``R`` / ``U`` on a revision's row roll its model back to that revision (guarded)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from datetime import datetime, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backends.domain.models import FleetSnapshot, Revision
from console.controllers.action_keys import ActionKeysMixin, revision_binding
from console.screens.base import ViewScreen
from widgets.model_panels import (
    ReleaseRow, audit_rows, key_name, merge_rows, release_cells, revision_rows,
)
from widgets.render.fresh_widths import FreshWidths
from widgets.text import safe

MAX_ROWS = 2000


class ReleaseTable(FreshWidths, DataTable):
    """The releases table: its ``enter`` shows in the footer (a DataTable's own is hidden,
    and, focused, it hides the screen's)."""

    BINDINGS = [Binding("enter", "select_cursor", "Model",
                        tooltip="Open the model of the selected release")]


class ReleasesScreen(ActionKeysMixin, ViewScreen):
    """Fleet release history; ``enter`` opens the model of the selected row; ``R`` / ``U``
    roll that model back to the highlighted revision."""

    DEFAULT_CSS = """
    ReleasesScreen #rel-table { height: 1fr; }
    ReleasesScreen #rel-why { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [Binding("enter", "open_model", "Model", id="rel_model",
                        tooltip="Open the model of the selected release"),
                revision_binding("rollback", "releases"),
                revision_binding("rollback_to", "releases")]
    FOOTER_PRIORITY = ("escape", "question_mark", "q", "colon", "enter", "R", "U", "t",
                       "slash", "s", "T", "space")
    VIEW_TITLE = "releases"

    def __init__(self, window: str = "1h", **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self.audit: list = []
        self._shown: tuple | None = None
        self._merged_for: tuple | None = None
        self._merged_rows: list = []
        self._audit_for: list | None = None
        self._audit_rows: list = []
        self._models: list[str | None] = []  # ModelService.key per row
        self._rows: list[ReleaseRow] = []
        self.audit_state = "no audit store"

    def compose_body(self) -> ComposeResult:
        table = ReleaseTable(id="rel-table", classes="panel", cursor_type="row")
        table.border_title = "Revisions and pitboard actions · ◆ = pitboard"
        yield table
        # the highlighted row whole: its why is cut in the table on a narrow terminal
        yield Static(Text(""), id="rel-why")

    def on_mount(self) -> None:
        self.query_one("#rel-table", DataTable).add_columns(
            "when (UTC)", "model", "what", "version", "who", "why")
        super().on_mount()
        self.query_one("#rel-table").focus()

    def _merged(self, snapshot: FleetSnapshot) -> Iterator:
        """Every revision's and audit entry's row, newest first: made again only when the
        revisions, the services or the audit entries changed (a metrics refresh keeps
        them: at 3,000 models that is 15,000 rows not rebuilt every 5 s)."""
        key = (snapshot.revisions, snapshot.services)
        if self._merged_for is None or any(a is not b for a, b in zip(key, self._merged_for)):
            names = {s.key: s.name for s in snapshot.services}
            groups = [revision_rows(names[k] if k in names else key_name(k), revs, key=k)
                      for k, revs in snapshot.revisions.items()]
            self._merged_rows = merge_rows(*groups)
            self._merged_for = key
        if self._audit_for is not self.audit:
            self._audit_rows = merge_rows(audit_rows(None, self.audit))
            self._audit_for = self.audit
        # both newest first (rows without a time last), as merge_rows orders them
        return heapq.merge(self._merged_rows, self._audit_rows, reverse=True,
                           key=lambda r: (r.at is not None, r.at or datetime.min))

    def show(self, snapshot: FleetSnapshot) -> None:
        end = snapshot.taken_at
        rows = []
        for r in self._merged(snapshot):  # newest first: stop at MAX_ROWS
            if r.at is None or r.at <= end:
                rows.append(r)
                if len(rows) >= MAX_ROWS:
                    break
        start = end - timedelta(seconds=self.app.navigator.window_s())
        recent = sum(1 for r in rows if r.at is not None and r.at >= start)
        actions = sum(1 for r in rows if r.pitboard)
        self.set_title(f"{len(rows)} entries", f"{recent} in the last {self.window}",
                       f"{actions} pitboard actions", self.audit_state)
        key = tuple(rows)
        if key != self._shown:
            self._shown = key
            table = self.query_one("#rel-table", DataTable)
            row = table.cursor_row
            before = self._rows[row] if 0 <= row < len(self._rows) else None
            table.clear()
            self._models, self._rows = [], rows
            for r in rows:
                style = "bold" if r.pitboard else "dim" if r.at is not None and r.at < start else ""
                table.add_row(*(Text(c, style=style, no_wrap=True, overflow="ellipsis")
                                for c in release_cells(r, with_model=True)))
                self._models.append(r.key)
            if before is not None and before.revision is not None:
                # the same revision stays highlighted (what R / U pick)
                row = next((i for i, r in enumerate(rows) if r.key == before.key
                            and r.revision == before.revision), row)
            if rows:
                table.move_cursor(row=min(row, len(rows) - 1), animate=False)
        self._show_why()
        self.sync_action_keys()
        audit = getattr(self.app.backends, "audit", None) if self.app.backends else None
        if audit is not None and self.due("audit", None):
            self.request("audit", lambda: tuple(audit.entries(limit=1000)))

    def receive(self, tag: str, result, error: str | None) -> None:
        if tag != "audit":
            return
        if error is not None:
            self.audit_state = "audit store unavailable"
            self.notify_error("audit", error)
            return
        self.audit = list(result)
        self.audit_state = f"{len(self.audit)} audit entries"
        if self.snapshot is not None:
            self.show(self.snapshot)

    def _show_why(self) -> None:
        """The highlighted row in full under the table: model, what, version, who, why."""
        row = self.query_one("#rel-table", DataTable).cursor_row
        r = self._rows[row] if 0 <= row < len(self._rows) else None
        text = Text()
        if r is not None:
            text.append(safe(r.model, 60), style="bold")
            text.append(f" {safe(r.what.lstrip('▶ '), 40)}")
            if r.version:
                text.append(f" {safe(r.version, 40)}")
            text.append(f" · {safe(r.who, 60)} · ")
            text.append(safe(r.why, 400) if r.why else "no reason recorded",
                        style="" if r.why else "italic")
        self.query_one("#rel-why", Static).update(text)

    @property
    def selected(self) -> str | None:
        """The highlighted row's model (its service key: what ``R`` / ``U`` act on)."""
        row = self.query_one("#rel-table", DataTable).cursor_row
        return self._models[row] if 0 <= row < len(self._models) else None

    def picked_revision(self) -> Revision | str:
        """The highlighted row's revision, or why it gives none (the whole view is a
        release history: ``R`` / ``U`` always pick here)."""
        row = self.query_one("#rel-table", DataTable).cursor_row
        picked = self._rows[row] if 0 <= row < len(self._rows) else None
        if picked is None:
            return "no release to pick"
        if picked.revision is None:
            return "the highlighted row is a pitboard record, not a revision: highlight a rev row"
        snap = self.snapshot
        revisions = snap.revisions.get(picked.key or "", ()) if snap is not None else ()
        found = next((r for r in revisions if r.number == picked.revision), None)
        return found or f"revision {picked.revision} is no longer in the history"

    @on(DataTable.RowHighlighted, "#rel-table")
    def _release_highlighted(self) -> None:
        self._show_why()
        self.sync_action_keys()
        self.refresh_bindings()  # the footer's and help's R / U name the highlighted one

    def action_open_model(self) -> None:
        """Open the model detail of the selected row."""
        table = self.query_one("#rel-table", DataTable)
        if not 0 <= table.cursor_row < len(self._models) or self.snapshot is None:
            return
        key = self._models[table.cursor_row]
        svc = next((s for s in self.snapshot.services if s.key == key), None)
        if svc is not None:
            self.app.navigator.open_view("model", key=svc.key)

    @on(DataTable.RowSelected, "#rel-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_model()
