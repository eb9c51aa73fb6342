"""Guarded actions, approvals, incidents, notes and export, as seen from the console.

- :class:`ActionsMixin` (on the App) owns the audit store, the :class:`ActionRunner` and
  the actor. Flow of ``R``/``P``: build an ActionRequest for the selected model -> prepare
  in a thread worker -> push the guard modal -> (cancel: records nothing, sends nothing)
  -> run in a thread worker while the progress view shows the rollout -> result.
- :class:`console.action_keys.ActionKeysMixin` (on the fleet screen) holds the keys and
  ``check_action``: unavailable keys are dimmed, with the reason as their footer tooltip.

Read-only (``--read-only``, a read-only backend, or the context in
``actions.read_only_contexts``): every mutating key is dimmed and every writer refuses
here before reaching the runner (which refuses again): no audit write, no mutating call.
A frozen clock (tests, snapshots) makes the runner's waits advance that clock.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from backends.errors import ActionRefused, BackendError
from widgets.text import safe

from console.action_keys import (ACTION_BINDINGS, KEY_ACTIONS, MUTATING,  # noqa: F401
                                 ActionKeysMixin, palette_entries)

# The guard, audit and incident screens, the runner, records and export are imported where
# they are first used (a key press, or the audit store opening after the first frame): the
# console's first frame does not wait for them.
if TYPE_CHECKING:
    from backends.actions import (ActionKind, ActionPlan, ActionRequest, ActionResult,
                                  RolloutProgress)
    from backends.guard import ActionRunner, PendingIntent
    from backends.models import Incident, ModelService
    from console.screens.guard import GuardDecision, ProgressScreen

ALERT_LEAD_S = 3600
"""Alerts that started up to an hour before an incident join its export and view."""


# -- messages (thread workers -> app) ---------------------------------------------------
class PlanReady(Message, bubble=False):
    """``prepare`` finished: show the guard."""

    def __init__(self, plan: ActionPlan, confirm_name: str | None) -> None:
        super().__init__()
        self.plan, self.confirm_name = plan, confirm_name


class ActionProgressed(Message, bubble=False):
    """The rollout moved (a newer one replaces a queued one)."""

    def __init__(self, progress: RolloutProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ActionProgressed)


class ActionFinished(Message, bubble=False):
    """The action ended: ``result``, or ``error`` when it never ran (refused, no intent)."""

    def __init__(self, plan: ActionPlan | None, result: ActionResult | None,
                 error: str = "") -> None:
        super().__init__()
        self.plan, self.result, self.error = plan, result, error


class AuditOpened(Message, bubble=False):
    """The audit store is open (or why not), with the intents whose outcome is unknown."""

    def __init__(self, audit: object | None, runner: ActionRunner | None, error: str = "",
                 pending: tuple[PendingIntent, ...] = (), incident: Incident | None = None,
                 latest: int | None = None, actor: str = "") -> None:
        super().__init__()
        self.audit, self.runner, self.error = audit, runner, error
        self.pending, self.incident, self.latest = pending, incident, latest
        self.actor = actor


class AuditWritten(Message, bubble=False):
    """An approval, note, incident change or export finished (``error`` if it failed)."""

    def __init__(self, text: str, error: str = "", incident: Incident | None = None,
                 latest: int | None = None, refresh_incident: bool = False,
                 warning: bool = False) -> None:
        super().__init__()
        self.text, self.error, self.warning = text, error, warning
        self.incident, self.latest, self.refresh_incident = incident, latest, refresh_incident


def _why(exc: BaseException) -> str:
    if isinstance(exc, BackendError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


class ActionsMixin:
    """Needs on the host App: ``backends``, ``settings``, ``state``, ``read_only``,
    ``fleet_screen``, ``clock()``, ``poll()``."""

    def _init_actions(self) -> None:
        self.actor = ""
        self.runner: ActionRunner | None = None
        self.audit_error = "opening the audit store…"
        self.incident: Incident | None = None  # the open incident
        self.latest_incident: int | None = None
        self.action_busy = False
        self._progress: ProgressScreen | None = None

    # -- policy ---------------------------------------------------------------------
    def read_only_reason(self) -> str | None:
        """Why nothing may be changed (None: changes are allowed)."""
        if self.settings.read_only:
            return "read-only mode (--read-only)"
        if getattr(self, "replay", False):
            return "replaying history: actions are off"
        cluster = self.backends.cluster if self.backends is not None else None
        if cluster is None:
            return None
        if getattr(cluster, "read_only", False):
            return f"the {cluster.context} backend is read-only"
        if self.settings.actions.is_read_only(cluster.context):
            return f"context {cluster.context} is read-only (config)"
        return None

    def action_unavailable(self, action: str, service: ModelService | None) -> str | None:
        """Why the key ``action`` cannot be used now (None: it can)."""
        if action in MUTATING:
            why = self.read_only_reason()
            if why:
                return why
        if self.backends is None:
            return "not connected yet"
        if self.runner is None:
            return self.audit_error
        if action in ("rollback", "promote", "approve"):
            if service is None:
                return "no model selected"
            if self.action_busy:
                return "another action is under way"
            if action != "rollback" and service.canary is None:
                return f"{safe(service.name, 40)} has no canary"
        if action == "export" and self.incident is None and self.latest_incident is None:
            return "no incident to export yet (i opens one)"
        return None

    def _refuse(self, action: str, service: ModelService | None) -> bool:
        why = self.action_unavailable(action, service)
        if why:
            self.notify(safe(why, 200), title=f"{action}: unavailable", severity="warning",
                        markup=False)
        return why is not None

    def _snapshot(self):
        return self.state.snapshot(self.clock()) if self.state.has_data else None

    def _sync_keys(self) -> None:
        screen = getattr(self, "fleet_screen", None)
        if screen is not None and screen.is_mounted:
            screen.sync_action_keys()

    # -- start: audit store, actor, pending intents -----------------------------------
    def actions_ready(self) -> None:
        """Backends exist: settle the actor and read-only state, open the audit store.

        The actor is ``user@host`` plus the cluster identity known without a request; the
        audit worker then asks the cluster who we are (SelfSubjectReview) before any
        action is possible (they wait for the runner)."""
        from backends import identity  # noqa: PLC0415 - after the first frame

        b = self.backends
        self.actor = str(b.extra.get("actor") or "") or identity.actor(
            getattr(b.cluster, "identity", None))
        if self.read_only_reason() is not None:
            self.read_only = True
        self._open_audit()

    def _make_runner(self, audit) -> ActionRunner:
        from backends.guard import ActionRunner  # noqa: PLC0415 - see the imports

        clock = self.backends.clock
        kwargs = {}
        if callable(getattr(clock, "advance", None)):  # simulated time: waits advance it
            kwargs = {"sleep": clock.advance, "monotonic": lambda: clock().timestamp()}
        return ActionRunner(self.backends.cluster, audit, clock, config=self.settings.actions,
                            read_only=self.settings.read_only, **kwargs)

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-open")
    def _open_audit(self) -> None:
        from backends import identity  # noqa: PLC0415 - see the imports
        from console import records  # noqa: PLC0415
        from console.wiring import open_audit  # noqa: PLC0415 - sqlite-utils after frame 1

        actor = str(self.backends.extra.get("actor") or "") or identity.actor(
            records.cluster_identity(self.backends.cluster))
        try:
            audit = self.backends.audit or open_audit(
                self.settings, self.backends.clock, create=self.read_only_reason() is None)
        except Exception as exc:  # noqa: BLE001 - the app runs on without actions
            self.post_message(AuditOpened(None, None, f"audit store unavailable: {_why(exc)}"))
            return
        if audit is None:
            self.post_message(AuditOpened(None, None, "no audit store (read-only: not "
                                                      "created)"))
            return
        runner = self._make_runner(audit)
        try:
            pending = tuple(runner.unknown_outcomes())
            incident, latest = records.latest_incident(audit)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditOpened(audit, None, f"audit store unreadable: {_why(exc)}"))
            return
        self.post_message(AuditOpened(audit, runner, "", pending, incident, latest, actor))

    def on_audit_opened(self, message: AuditOpened) -> None:
        if message.pending:
            from console.screens.audit import pending_line  # noqa: PLC0415
        if message.audit is not None:
            self.backends.audit = message.audit
        if message.actor:
            self.actor = message.actor
        self.runner, self.audit_error = message.runner, message.error
        self.incident, self.latest_incident = message.incident, message.latest
        if message.error:
            self.notify(safe(message.error, 300), title="audit", severity="warning",
                        markup=False)
        for pending in message.pending:
            self.notify(safe(pending_line(pending), 400), title="outcome unknown",
                        severity="error", timeout=30, markup=False)
        self._sync_keys()

    # -- guarded actions --------------------------------------------------------------
    def begin_action(self, kind: ActionKind, service: ModelService | None) -> None:
        """``R``/``P``: prepare (thread) then show the guard."""
        from backends.actions import ActionKind, ActionRequest  # noqa: PLC0415

        if self._refuse("rollback" if kind == ActionKind.ROLLBACK else "promote", service):
            return
        assert service is not None
        self.action_busy = True
        self._sync_keys()
        request = ActionRequest(kind=kind, service_key=service.key, actor=self.actor)
        self._prepare(request, self._snapshot())

    @work(thread=True, exclusive=True, exit_on_error=False, group="action-prepare")
    def _prepare(self, request: ActionRequest, snapshot) -> None:
        try:
            plan = self.runner.prepare(request, snapshot)
            self.post_message(PlanReady(plan, self.runner.confirm_name(plan)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(ActionFinished(None, None, f"preflight failed: {_why(exc)}"))

    def on_plan_ready(self, message: PlanReady) -> None:
        from console.screens.guard import GuardScreen  # noqa: PLC0415

        self.push_screen(GuardScreen(message.plan, message.confirm_name),
                         callback=partial(self._guard_closed, message.plan))

    def _guard_closed(self, plan: ActionPlan, decision: GuardDecision | None) -> None:
        if decision is None:
            self.runner.cancel(plan, self.actor)
            self.action_busy = False
            self._sync_keys()
            self.notify("Cancelled: nothing was sent and nothing was recorded.",
                        title=plan.request.kind.value, markup=False)
            return
        from console.screens.guard import ProgressScreen  # noqa: PLC0415

        self._progress = ProgressScreen(plan)
        self.push_screen(self._progress, callback=self._progress_closed)
        self._run(plan, decision, self.actor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="action-run")
    def _run(self, plan: ActionPlan, decision: GuardDecision, actor: str) -> None:
        try:
            result = self.runner.run(
                plan, decision.reason, actor, confirm_text=decision.confirm_text,
                override=decision.override,
                on_progress=lambda p: self.post_message(ActionProgressed(p)))
        except Exception as exc:  # noqa: BLE001 - refused, or the intent was not written
            self.post_message(ActionFinished(plan, None, _why(exc)))
            return
        self.post_message(ActionFinished(plan, result))

    def on_action_progressed(self, message: ActionProgressed) -> None:
        if self._progress is not None and self._progress.is_mounted:
            self._progress.show_progress(message.progress)

    def on_action_finished(self, message: ActionFinished) -> None:
        from backends.actions import ActionStatus  # noqa: PLC0415

        self.action_busy = False
        result, plan = message.result, message.plan
        what = plan.request.kind.value if plan else "action"
        if self._progress is not None and self._progress.is_mounted:
            self._progress.show_result(result, message.error)
        if result is None:
            self.notify(safe(message.error, 400), title=f"{what}: not done",
                        severity="error", markup=False)
        else:
            ok = result.status in (ActionStatus.SUCCEEDED, ActionStatus.SKIPPED)
            self.notify(safe(result.message or result.status.value, 400),
                        title=f"{what}: {result.status.value}",
                        severity="information" if ok else "error", markup=False)
        self._sync_keys()
        self.poll("cluster")

    def _progress_closed(self, _result: None = None) -> None:
        self._progress = None

    # -- approve ------------------------------------------------------------------------
    def begin_approve(self, service: ModelService | None) -> None:
        """``A``: record an approval of promoting the selected canary."""
        if self._refuse("approve", service):
            return
        from console.screens.guard import ApproveScreen  # noqa: PLC0415

        canary = service.canary.revision if service.canary else None
        self.push_screen(ApproveScreen(service.name, canary, self.actor),
                         callback=partial(self._approve_closed, service.key, canary))

    def _approve_closed(self, key: str, canary: str | None, reason: str | None) -> None:
        from console.screens.audit import short_target  # noqa: PLC0415

        if reason:
            self._write(partial(self.runner.approve, key, self.actor, reason, canary=canary),
                        f"Approval recorded for {short_target(key)}")

    # -- notes and incidents -----------------------------------------------------------
    def begin_note(self, service: ModelService | None) -> None:
        """``n``: a note with the figures on screen now."""
        if self._refuse("note", service):
            return
        from console import records  # noqa: PLC0415
        from console.screens.incident import NoteScreen  # noqa: PLC0415

        figures = records.note_figures(self._snapshot(), service.key if service else None)
        self.push_screen(NoteScreen(records.figures_preview(figures), self.incident),
                         callback=partial(self._note_closed, figures))

    def _note_closed(self, figures: dict, text: str | None) -> None:
        if text:
            audit = self.backends.audit
            self._write(partial(audit.add_note, text, self.actor, figures), "Note saved")

    def begin_incident(self) -> None:
        """``i``: open an incident, or close the open one."""
        if self._refuse("incident", None):
            return
        from console.screens.incident import IncidentCloseScreen, IncidentOpenScreen  # noqa: PLC0415

        if self.incident is not None:
            self.push_screen(IncidentCloseScreen(self.incident),
                             callback=partial(self._close_chosen, self.incident.id))
        else:
            self.push_screen(IncidentOpenScreen(), callback=self._open_chosen)

    def _open_chosen(self, chosen: tuple[str, str] | None) -> None:
        if chosen:
            audit = self.backends.audit
            self._write(partial(audit.open_incident, chosen[0], chosen[1], self.actor),
                        "Incident opened", refresh_incident=True)

    def _close_chosen(self, incident_id: int, close: bool) -> None:
        if close:
            audit = self.backends.audit
            self._write(partial(audit.close_incident, incident_id, self.actor),
                        f"Incident #{incident_id} closed", refresh_incident=True)

    @work(thread=True, exit_on_error=False, group="audit-write")
    def _write(self, call, text: str, refresh_incident: bool = False) -> None:
        """One audit write off the event loop (refused again when read-only)."""
        from backends.guard import ApprovalResult  # noqa: PLC0415
        from console import records  # noqa: PLC0415

        try:
            if self.read_only_reason():
                raise ActionRefused(f"refused: {self.read_only_reason()}", source="console")
            done = call()
            warning = False
            if hasattr(done, "id") and hasattr(done, "title"):
                text = f"{text}: #{done.id} {done.title}"
            elif isinstance(done, ApprovalResult):  # the annotation may have failed
                text = f"{text}: {done.message}"
                warning = not done.annotated and done.supported
            incident = latest = None
            if refresh_incident:
                incident, latest = records.latest_incident(self.backends.audit)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditWritten(text, _why(exc)))
            return
        self.post_message(AuditWritten(text, incident=incident, latest=latest,
                                       refresh_incident=refresh_incident, warning=warning))

    def on_audit_written(self, message: AuditWritten) -> None:
        if message.refresh_incident and not message.error:
            self.incident, self.latest_incident = message.incident, message.latest
        if message.error:
            self.notify(safe(message.error, 400), title="not recorded", severity="error",
                        markup=False)
        elif message.warning:
            self.notify(safe(message.text, 400), title="recorded, with a problem",
                        severity="warning", timeout=15, markup=False)
        else:
            self.notify(safe(message.text, 400), markup=False)
        from console.screens.audit import AuditScreen  # noqa: PLC0415
        from console.screens.incident import IncidentScreen  # noqa: PLC0415

        if isinstance(self.screen, (IncidentScreen, AuditScreen)):
            self.screen.action_reload()
        self._sync_keys()

    # -- export and views ------------------------------------------------------------
    def _incident_alerts(self) -> tuple:
        """Alerts firing now that started at most ALERT_LEAD_S before the open incident
        (older ones would stretch its impact window); none once it is closed."""
        snap, incident = self._snapshot(), self.incident
        if snap is None or incident is None:
            return ()
        since = incident.opened_at - timedelta(seconds=ALERT_LEAD_S)
        return tuple(a for a in snap.alerts if a.starts_at is not None and a.starts_at >= since)

    def begin_export(self) -> None:
        """``e``: the open (else latest) incident's postmortem draft, as Markdown."""
        if self._refuse("export", None):
            return
        incident_id = self.incident.id if self.incident else self.latest_incident
        alerts = self._incident_alerts()
        self._export(incident_id, alerts, self.clock())

    @work(thread=True, exit_on_error=False, group="export")
    def _export(self, incident_id: int, alerts, now) -> None:
        from backends.export import export_incident  # noqa: PLC0415
        from console import records  # noqa: PLC0415

        try:
            text = export_incident(self.backends.audit, incident_id, "md", alerts=alerts,
                                   now=now)
            path = records.write_new(records.export_path(incident_id), text)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditWritten("export", f"export failed: {_why(exc)}"))
            return
        self.post_message(AuditWritten(f"Postmortem draft of incident #{incident_id} "
                                       f"written to {path}"))

    def show_audit(self) -> None:
        """``:audit``: the audit log view."""
        from console import records  # noqa: PLC0415
        from console.screens.audit import AuditScreen  # noqa: PLC0415

        audit = self.backends.audit if self.backends is not None else None
        self.push_screen(AuditScreen(partial(records.load_audit_view, audit, self.runner)))

    def show_incident(self, incident_id: int | None = None) -> None:
        """``:incident``: the open (else latest) incident's timeline."""
        from console import records  # noqa: PLC0415
        from console.screens.incident import IncidentScreen  # noqa: PLC0415

        audit = self.backends.audit if self.backends is not None else None
        alerts = self._incident_alerts()
        self.push_screen(IncidentScreen(partial(records.load_incident_view, audit,
                                                incident_id, alerts=alerts, now=self.clock())))
