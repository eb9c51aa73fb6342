"""Approvals, notes, incidents, postmortem export and the audit/incident views.

:class:`RecordsController` is ``app.records``; it reads the actor, runner and incident of ``app.actions``:
every write runs in one thread worker (``_write``) that refuses again when read-only, and
its outcome comes back as an :class:`AuditWritten` message. The screens and
:mod:`console.presenters.records` are imported where they are first used, after the first frame.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from backends.domain.errors import ActionRefused, BackendError
from console.controllers.base import Controller, in_thread
from widgets.text import safe

if TYPE_CHECKING:
    from console.app import PitboardApp
    from backends.domain.models import Alert, Incident, ModelService
    from backends.domain.sources import AuditBackend

ALERT_LEAD_S = 3600
"""Alerts that started up to an hour before an incident join its export and view."""


class AuditWritten(Message, bubble=False):
    """An approval, note, incident change or export finished (``error`` if it failed)."""

    def __init__(self, text: str, error: str = "", incident: Incident | None = None,
                 latest: int | None = None, refresh_incident: bool = False,
                 warning: bool = False) -> None:
        super().__init__()
        self.text, self.error, self.warning = text, error, warning
        self.incident, self.latest, self.refresh_incident = incident, latest, refresh_incident


def why_failed(exc: BaseException) -> str:
    """The user-facing reason for a failed worker call."""
    if isinstance(exc, BackendError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


class RecordsController(Controller):
    """Approve, note, incident, export and the audit/incident views (``app.records``)."""

    # -- approve ------------------------------------------------------------------------
    def begin_approve(self, service: ModelService | None) -> None:
        """``A``: record an approval of promoting the selected canary."""
        if self.app.actions._refuse("approve", service) or service is None:
            return  # (no model selected: refused, said why)
        from console.screens.modals.guard import ApproveScreen  # noqa: PLC0415 - a modal, on first use

        canary = service.canary.revision if service.canary else None
        self.app.push_screen(ApproveScreen(service.name, canary, self.app.actions.actor),
                         callback=partial(self._approve_closed, service.key, canary))

    def _approve_closed(self, key: str, canary: str | None, reason: str | None) -> None:
        from console.screens.audit import short_target  # noqa: PLC0415 - a screen, after frame 1

        if reason:
            self._write(partial(self.app.actions.require_runner().approve, key,
                                self.app.actions.acting_as(), reason, canary=canary),
                        f"Approval recorded for {short_target(key)}")

    # -- notes and incidents -----------------------------------------------------------
    def begin_note(self, service: ModelService | None) -> None:
        """``n``: a note with the figures on screen now."""
        if self.app.actions._refuse("note", service):
            return
        from console.presenters import records  # noqa: PLC0415 - guard, export: after frame 1
        from console.screens.incident import NoteScreen  # noqa: PLC0415 - a modal, on first use

        figures = records.note_figures(self.app.actions._snapshot(), service.key if service else None)
        # the incident the user sees now: the note goes under it, whatever another console
        # opens or closes meanwhile
        seen = self.app.actions.incident
        self.app.push_screen(NoteScreen(records.figures_preview(figures), seen),
                             callback=partial(self._note_closed, figures,
                                              seen.id if seen is not None else None))

    def _note_closed(self, figures: dict, incident_id: int | None, text: str | None) -> None:
        if text:
            audit = self._audit()
            self._write(partial(audit.add_note, text, self.app.actions.actor, figures,
                                incident_id=incident_id), "Note saved")

    def begin_incident(self) -> None:
        """``i``: open an incident, or close the open one."""
        if self.app.actions._refuse("incident", None):
            return
        from console.screens.incident import IncidentCloseScreen, IncidentOpenScreen  # noqa: PLC0415 - modals

        if self.app.actions.incident is not None:
            self.app.push_screen(IncidentCloseScreen(self.app.actions.incident),
                             callback=partial(self._close_chosen, self.app.actions.incident.id))
        else:
            self.app.push_screen(IncidentOpenScreen(), callback=self._open_chosen)

    def _open_chosen(self, chosen: tuple[str, str] | None) -> None:
        if chosen:
            audit = self._audit()
            self._write(partial(audit.open_incident, chosen[0], chosen[1], self.app.actions.actor),
                        "Incident opened", refresh_incident=True)

    def _close_chosen(self, incident_id: int, close: bool) -> None:
        if close:
            audit = self._audit()
            self._write(partial(audit.close_incident, incident_id, self.app.actions.actor),
                        f"Incident #{incident_id} closed", refresh_incident=True)

    def _audit(self) -> AuditBackend:
        """The audit store, for the writes and reads the keys allow: they wait for the
        action runner, which exists only once the store is open (``on_audit_opened``)."""
        audit = self.app.require_backends().audit
        if audit is None:
            raise RuntimeError("the audit store is not open")
        return audit

    @in_thread(group="audit-write")
    def _write(self, call: Callable[[], object], text: str,
               refresh_incident: bool = False) -> None:
        """One audit write off the event loop (refused again when read-only)."""
        from backends.actions.guard import ApprovalResult  # noqa: PLC0415 - the guard, after frame 1
        from console.presenters import records  # noqa: PLC0415 - guard, export: after frame 1

        try:
            if self.app.actions.read_only_reason():
                raise ActionRefused(f"refused: {self.app.actions.read_only_reason()}", source="console")
            done = call()
            warning = False
            if hasattr(done, "id") and hasattr(done, "title"):
                text = f"{text}: #{done.id} {done.title}"
            elif isinstance(done, ApprovalResult):  # the annotation may have failed
                text = f"{text}: {done.message}"
                warning = not done.annotated and done.supported
            incident = latest = None
            if refresh_incident:
                incident, latest = records.latest_incident(self._audit())
        except Exception as exc:  # noqa: BLE001
            self.app.post_message(AuditWritten(text, why_failed(exc)))
            return
        self.app.post_message(AuditWritten(text, incident=incident, latest=latest,
                                       refresh_incident=refresh_incident, warning=warning))

    def on_audit_written(self, message: AuditWritten) -> None:
        if message.refresh_incident and not message.error:
            self.app.actions.incident, self.app.actions.latest_incident = message.incident, message.latest
        if message.error:
            self.app.notify(safe(message.error, 400), title="not recorded", severity="error",
                        markup=False)
        elif message.warning:
            self.app.notify(safe(message.text, 400), title="recorded, with a problem",
                        severity="warning", timeout=15, markup=False)
        else:
            self.app.notify(safe(message.text, 400), markup=False)
        from console.screens.audit import AuditScreen  # noqa: PLC0415 - a screen, on first use
        from console.screens.incident import IncidentScreen  # noqa: PLC0415 - a screen, on first use

        if isinstance(self.app.screen, (IncidentScreen, AuditScreen)):
            self.app.screen.action_reload()
        self.app.actions._sync_keys()

    # -- export and views ------------------------------------------------------------
    def _incident_alerts(self) -> tuple[Alert, ...]:
        """Alerts firing now that started at most ALERT_LEAD_S before the open incident
        (older ones would stretch its impact window); none once it is closed."""
        snap, incident = self.app.actions._snapshot(), self.app.actions.incident
        if snap is None or incident is None:
            return ()
        since = incident.opened_at - timedelta(seconds=ALERT_LEAD_S)
        return tuple(a for a in snap.alerts if a.starts_at is not None and a.starts_at >= since)

    def begin_export(self) -> None:
        """``e``: the open (else latest) incident's postmortem draft, as Markdown."""
        if self.app.actions._refuse("export", None):
            return
        incident = self.app.actions.incident
        incident_id = incident.id if incident else self.app.actions.latest_incident
        if incident_id is None:  # refused above: "no incident to export yet"
            return
        alerts = self._incident_alerts()
        self._export(incident_id, alerts, self.app.clock())

    @in_thread(group="export")
    def _export(self, incident_id: int, alerts: tuple[Alert, ...], now: datetime) -> None:
        from backends.audit.export import export_incident  # noqa: PLC0415 - export, on first use
        from console.presenters import records  # noqa: PLC0415 - guard, export: after frame 1

        try:
            text = export_incident(self._audit(), incident_id, "md", alerts=alerts, now=now)
            path = records.write_new(records.export_path(incident_id), text)
        except Exception as exc:  # noqa: BLE001
            self.app.post_message(AuditWritten("export", f"export failed: {why_failed(exc)}"))
            return
        self.app.post_message(AuditWritten(f"Postmortem draft of incident #{incident_id} "
                                       f"written to {path}"))

    def show(self, name: str) -> None:
        """Open the records view ``name`` (``audit`` or ``incident``, from the registry)."""
        {"audit": self.show_audit, "incident": self.show_incident}[name]()

    def show_audit(self) -> None:
        """``:audit``: the audit log view."""
        from console.presenters import records  # noqa: PLC0415 - guard, export: after frame 1
        from console.screens.audit import AuditScreen  # noqa: PLC0415 - a screen, on first use

        audit = self.app.backends.audit if self.app.backends is not None else None
        self.app.push_screen(AuditScreen(partial(records.load_audit_view, audit, self.app.actions.runner)))

    def show_incident(self, incident_id: int | None = None) -> None:
        """``:incident``: the open (else latest) incident's timeline."""
        from console.presenters import records  # noqa: PLC0415 - guard, export: after frame 1
        from console.screens.incident import IncidentScreen  # noqa: PLC0415 - a screen, on first use

        audit = self.app.backends.audit if self.app.backends is not None else None
        alerts = self._incident_alerts()
        self.app.push_screen(IncidentScreen(partial(records.load_incident_view, audit,
                                                incident_id, alerts=alerts, now=self.app.clock())))
