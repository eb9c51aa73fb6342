"""Guarded actions, approvals, incidents, notes and export, as seen from the console.

- :class:`ActionController` (``app.actions``) owns the audit store, the :class:`ActionRunner` and
  the actor. Flow of ``R``/``P``: build an ActionRequest for the selected model -> prepare
  in a thread worker -> push the guard modal -> (cancel: records nothing, sends nothing)
  -> run in a thread worker while the progress view shows the rollout -> result.
- :class:`console.controllers.records.RecordsController` (``app.records``) does approvals, notes,
  incidents, export and the audit/incident views.
- :class:`console.controllers.action_keys.ActionKeysMixin` (on the fleet screen) holds the keys and
  ``check_action``: unavailable keys are dimmed, with the reason as their footer tooltip.

Read-only (``--read-only``, a read-only backend, or the context in
``actions.read_only_contexts``): every mutating key is dimmed and every writer refuses
here before reaching the runner (which refuses again): no audit write, no mutating call.
A frozen clock (tests, snapshots) makes the runner's waits advance that clock.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from console.controllers.base import Controller, in_thread
from widgets.text import safe

from backends.actions import catalog, identity
from backends.domain.action_kind import ActionKind
from console.controllers.records import why_failed as _why
from console.controllers.contexts import context_policy
from console.wiring import open_audit

__all__ = ["ActionController", "ActionFinished", "ActionProgressed", "AuditOpened", "PlanReady"]

# The guard, audit and incident screens, the runner, records and export are imported where
# they are first used (a key press, or the audit store opening after the first frame): the
# console's first frame does not wait for them.
if TYPE_CHECKING:
    from console.app import PitboardApp
    from backends.domain.actions import ActionPlan, ActionRequest, ActionResult, RolloutProgress
    from backends.actions.guard import ActionRunner, PendingIntent
    from backends.domain.models import FleetSnapshot, Incident, ModelService, Revision
    from backends.domain.sources import AuditBackend
    from console.screens.modals.guard import GuardDecision, ProgressScreen


# -- messages (thread workers -> app) ---------------------------------------------------
class PlanReady(Message, bubble=False):
    """``prepare`` finished: show the guard."""

    def __init__(self, plan: ActionPlan, confirm_name: str | None) -> None:
        super().__init__()
        self.plan, self.confirm_name = plan, confirm_name


class ActionProgressed(Message, bubble=False):
    """The rollout of ``key`` moved (a newer one of the same object replaces a queued one)."""

    def __init__(self, progress: RolloutProgress, key: str = "") -> None:
        super().__init__()
        self.progress, self.key = progress, key

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ActionProgressed) and message.key == self.key


class ActionFinished(Message, bubble=False):
    """The action on ``key`` ended: ``result``, or ``error`` when it never ran (refused,
    no intent)."""

    def __init__(self, plan: ActionPlan | None, result: ActionResult | None,
                 error: str = "", key: str = "") -> None:
        super().__init__()
        self.plan, self.result, self.error = plan, result, error
        self.key = key or (plan.request.service_key if plan is not None else "")


class AuditOpened(Message, bubble=False):
    """The audit store is open (or why not), with the intents whose outcome is unknown."""

    def __init__(self, audit: AuditBackend | None, runner: ActionRunner | None, error: str = "",
                 pending: tuple[PendingIntent, ...] = (), incident: Incident | None = None,
                 latest: int | None = None, actor: str = "", chain: str | None = None) -> None:
        super().__init__()
        self.audit, self.runner, self.error = audit, runner, error
        self.pending, self.incident, self.latest = pending, incident, latest
        self.actor, self.chain = actor, chain


class ActionController(Controller):
    """Needs on the host App: ``backends``, ``settings``, ``state``, ``read_only``,
    ``fleet_screen``, ``clock()``, ``poll()``."""

    def __init__(self, app: PitboardApp) -> None:
        super().__init__(app)
        self.chain_warning: str | None = None
        """Why the audit chain does not verify, as found when the store opened."""
        self.actor = ""
        self.runner: ActionRunner | None = None
        self.audit_error = "opening the audit store…"
        self.incident: Incident | None = None  # the open incident
        self.latest_incident: int | None = None
        # the lock per object: service key -> the action prepared or running on it (an
        # action blocks a second one on the same object only; every other stays actionable)
        self.in_flight: dict[str, ActionKind] = {}
        self._names: dict[str, str] = {}  # service key -> the model's name, for messages
        self._progress: dict[str, ProgressScreen] = {}  # open progress views, by key

    @property
    def action_busy(self) -> bool:
        """Whether any action is being prepared or run (on any object)."""
        return bool(self.in_flight)

    def in_flight_text(self, limit: int = 3) -> str:
        """What is in flight where, for the footer or header: ``rollback llm-chat ·
        promote reranker`` ("" when nothing is); at most ``limit`` named, then "+N"."""
        items = [f"{kind.value.replace('_', '-')} {self._names.get(key) or key}"
                 for key, kind in self.in_flight.items()]
        more = len(items) - limit
        return " · ".join(items[:limit]) + (f" · +{more}" if more > 0 else "")

    def _lock(self, kind: ActionKind, service: ModelService) -> None:
        self.in_flight[service.key] = kind
        self._names[service.key] = safe(service.name, 40)
        self._sync_keys()

    def _release(self, key: str) -> None:
        self.in_flight.pop(key, None)
        self._names.pop(key, None)
        self._sync_keys()

    # -- policy ---------------------------------------------------------------------
    def read_only_reason(self, context: str | None = None) -> str | None:
        """Why nothing may be changed in ``context`` (default: the console's; with several
        contexts, one may be read-only while the others are not). None: changes are allowed."""
        if self.app.settings.read_only:
            return "read-only mode (--read-only)"
        if self.app.navigator.replay:
            return "replaying history: actions are off"
        cluster = self.app.backends.cluster if self.app.backends is not None else None
        if cluster is None:
            return None
        why = context_policy(self.app.settings, cluster, safe(context or cluster.context, 40))
        return why.message if why else None

    def action_unavailable(self, action: str, service: ModelService | None) -> str | None:
        """Why the key ``action`` cannot be used now (None: it can)."""
        declared = catalog.spec(action)
        if declared is not None and declared.mutating:
            # R/P/A change one context's objects: that context's policy decides
            per_context = service is not None and declared.per_context
            why = self.read_only_reason(service.cluster if per_context and service else None)
            if why:
                return why
            unlabelled = catalog.read_only(service.cluster, flag=False, service=service) \
                if per_context and service is not None else None
            if unlabelled is not None:
                return unlabelled.message
        if self.app.backends is None:
            return "not connected yet"
        if self.runner is None:
            return self.audit_error
        target = declared.target if declared is not None else None
        if target in ("model", "canary"):
            if service is None:
                return "no model selected"
            busy = self.in_flight.get(service.key)
            if busy is not None:
                return (f"{busy.value.replace('_', '-')} of {safe(service.name, 40)} "
                        f"is under way")
            if target == "canary" and service.canary is None:
                return f"{safe(service.name, 40)} has no canary"
            if declared is not None and service.kind.value not in declared.kinds:
                return declared.not_for(safe(service.name, 40), service.kind.value)
            if declared is not None and declared.kind == ActionKind.SILENCE and \
                    getattr(self.app.backends, "alerts", None) is None:
                return "no Alertmanager configured (--alertmanager URL)"
        if target == "incident" and self.incident is None and self.latest_incident is None:
            return "no incident to export yet (i opens one)"
        return None

    def _refuse(self, action: str, service: ModelService | None) -> bool:
        why = self.action_unavailable(action, service)
        if why:
            self.app.notify(safe(why, 200), title=f"{action}: unavailable", severity="warning",
                        markup=False)
        return why is not None

    def _snapshot(self) -> FleetSnapshot | None:
        return self.app.state.snapshot(self.app.clock()) if self.app.state.has_data else None

    def require_runner(self) -> ActionRunner:
        """The runner, for the steps of an action, approval, note or incident that
        ``action_unavailable`` let start: it refuses them all while there is no runner."""
        if self.runner is None:
            raise RuntimeError(f"no action runner: {self.audit_error or 'not ready'}")
        return self.runner

    def _sync_keys(self) -> None:
        screen = getattr(self.app, "fleet_screen", None)
        if screen is not None and screen.is_mounted:
            screen.sync_action_keys()
            screen.show_header()  # what is in flight where, now (not at the next tick)

    # -- start: audit store, actor, pending intents -----------------------------------
    def actions_ready(self) -> None:
        """Backends exist: settle the actor and read-only state, open the audit store.

        The actor is ``user@host`` plus the cluster identity known without a request; the
        audit worker then asks the cluster who we are (SelfSubjectReview) before any
        action is possible (they wait for the runner)."""
        b = self.app.require_backends()
        self.actor = str(b.extra.get("actor") or "") or identity.actor(
            getattr(b.cluster, "identity", None))
        if self.read_only_reason() is not None:
            self.app.read_only = True
        self._open_audit()

    def acting_as(self) -> str:
        """The actor handed to the runner for an action or approval. On a cluster that
        answers per context (SelfSubjectReview), the local ``user@host`` only: the runner
        adds the answer of the object's context (``ActionRunner.actor_for``), or refuses
        where the API server cannot say; elsewhere (demo, tests) ``actor``."""
        b = self.app.require_backends()
        if b.extra.get("actor") or not callable(getattr(b.cluster, "whoami_for", None)):
            return self.actor
        return identity.actor()

    def _make_runner(self, audit: AuditBackend) -> ActionRunner:
        from backends.actions.guard import ActionRunner  # noqa: PLC0415 - the guard: after frame 1

        backends = self.app.require_backends()
        clock = backends.clock
        advance = getattr(clock, "advance", None)
        kwargs: dict[str, Any] = {}  # sleep and monotonic, or ActionRunner's defaults
        if callable(advance):  # simulated time: waits advance it
            kwargs = {"sleep": advance, "monotonic": lambda: clock().timestamp()}
        return ActionRunner(backends.cluster, audit, clock, config=self.app.settings.actions,
                            read_only=self.app.settings.read_only, alerts=backends.alerts,
                            **kwargs)

    @in_thread(exclusive=True, group="audit-open")
    def _open_audit(self) -> None:
        from console.presenters import records  # noqa: PLC0415 - guard, export: after frame 1

        backends = self.app.require_backends()
        actor = str(backends.extra.get("actor") or "") or identity.actor(
            records.cluster_identity(backends.cluster))
        try:
            audit = backends.audit or open_audit(
                self.app.settings, backends.clock, create=self.read_only_reason() is None)
        except Exception as exc:  # noqa: BLE001 - the app runs on without actions
            self.app.post_message(AuditOpened(None, None, f"audit store unavailable: {_why(exc)}"))
            return
        if audit is None:
            self.app.post_message(AuditOpened(None, None, "no audit store (read-only: not "
                                                      "created)"))
            return
        runner = self._make_runner(audit)
        try:
            pending = tuple(runner.unknown_outcomes())
            incident, latest = records.latest_incident(audit)
            chain = records.chain_warning(audit)  # reads the whole chain: here, in the worker
        except Exception as exc:  # noqa: BLE001
            self.app.post_message(AuditOpened(audit, None, f"audit store unreadable: {_why(exc)}"))
            return
        self.app.post_message(AuditOpened(audit, runner, "", pending, incident, latest, actor,
                                          chain))

    def on_audit_opened(self, message: AuditOpened) -> None:
        if message.pending:
            from console.screens.audit import pending_line  # noqa: PLC0415 - a screen, after frame 1
        if message.audit is not None:
            self.app.require_backends().audit = message.audit
        if message.actor:
            self.actor = message.actor
        self.runner, self.audit_error = message.runner, message.error
        self.incident, self.latest_incident = message.incident, message.latest
        if message.error:
            self.app.notify(safe(message.error, 300), title="audit", severity="warning",
                        markup=False)
        for pending in message.pending:
            self.app.notify(safe(pending_line(pending), 400), title="outcome unknown",
                        severity="error", timeout=30, markup=False)
        self.chain_warning = message.chain
        if message.chain:  # a broken or unverifiable chain: red, and it stays up
            self.app.notify(safe(message.chain, 400), title="audit chain", severity="error",
                            timeout=24 * 3600, markup=False)
        self._sync_keys()

    # -- guarded actions --------------------------------------------------------------
    def begin(self, name: str, service: ModelService | None) -> None:
        """The key of the guarded action declared as ``name``: ask for what it needs (a
        revision from the model's history, a replica count, a duration), then
        :meth:`begin_action`. Cancelling a question sends and records nothing."""
        declared = catalog.BY_NAME[name]
        assert declared.kind is not None, f"{name} is not a guarded action"
        if self._refuse(name, service):
            return
        assert service is not None
        kind = declared.kind

        def then(value: object | None) -> None:
            if value is None:
                return
            if isinstance(value, float):  # a duration, in seconds
                self.begin_action(kind, service, name=name, duration_s=value)
            elif "replicas" in declared.params and isinstance(value, int):
                self.begin_action(kind, service, name=name, replicas=value)
            elif isinstance(value, int):
                self.begin_action(kind, service, name=name, to_revision=value)

        from console.screens.modals import params  # noqa: PLC0415 - a modal, on first use

        if "to_revision" in declared.params:
            snap = self._snapshot()
            revisions = snap.revisions.get(service.key, ()) if snap is not None else ()
            self.app.push_screen(params.RevisionScreen(service.name, revisions), callback=then)
        elif "replicas" in declared.params:
            from backends.domain.actions import parse_replicas  # noqa: PLC0415 - not for frame 1

            now = service.replicas_desired
            self.app.push_screen(params.ParamScreen(
                f"Scale {service.name}", "Replicas",
                f"now {now if now is not None else 'unknown'}; the preview follows",
                parse_replicas, str(now if now is not None else "")), callback=then)
        elif "duration" in declared.params:
            self.app.push_screen(params.ParamScreen(
                f"Silence the alerts of {service.name}", "For",
                "30m, 2h, 1d ...; it expires on its own; the preview follows",
                params.parse_duration, "2h"), callback=then)
        else:
            self.begin_action(kind, service, name=name)

    def rollback_to_picked(self, service: ModelService | None, picked: Revision | str) -> None:
        """``R`` / ``U`` in a release history: the guarded rollback to the highlighted
        revision (``kubectl rollout undo --to-revision``). ``picked`` is that revision, or
        why the highlighted row gives none; the live revision is no target."""
        if self._refuse("rollback_to", service):
            return
        assert service is not None
        name = safe(service.name, 40)
        if isinstance(picked, str):
            self.app.notify(safe(picked, 200), title="rollback", severity="warning",
                            markup=False)
        elif picked.current:
            self.app.notify(f"revision {picked.number} is the one {name} runs now: highlight "
                            f"an older revision to roll back to", title="rollback",
                            severity="warning", markup=False)
        else:
            self.begin_action(ActionKind.ROLLBACK, service, name="rollback_to",
                              to_revision=picked.number)

    def begin_action(self, kind: ActionKind, service: ModelService | None, *,
                     name: str | None = None, to_revision: int | None = None,
                     replicas: int | None = None, duration_s: float | None = None) -> None:
        """Lock the object, prepare (thread), then show the guard."""
        from backends.domain.actions import ActionRequest  # noqa: PLC0415 - models: after frame 1

        declared = catalog.BY_NAME.get(name or "") or catalog.BY_KIND.get(kind)
        if self._refuse(declared.name if declared else kind.value, service):
            return
        assert service is not None
        self._lock(kind, service)
        request = ActionRequest(kind=kind, service_key=service.key, actor=self.acting_as(),
                                to_revision=to_revision, replicas=replicas,
                                duration_s=duration_s)
        self._prepare(request, self._snapshot())

    @in_thread(group="action-prepare")
    def _prepare(self, request: ActionRequest, snapshot: FleetSnapshot | None) -> None:
        try:
            runner = self.require_runner()
            plan = runner.prepare(request, snapshot)
            self.app.post_message(PlanReady(plan, runner.confirm_name(plan)))
        except Exception as exc:  # noqa: BLE001
            self.app.post_message(ActionFinished(None, None, f"preflight failed: {_why(exc)}",
                                                 key=request.service_key))

    def on_plan_ready(self, message: PlanReady) -> None:
        from console.screens.modals.guard import GuardScreen  # noqa: PLC0415 - a modal, on first use

        self.app.push_screen(GuardScreen(message.plan, message.confirm_name),
                         callback=partial(self._guard_closed, message.plan))

    def _guard_closed(self, plan: ActionPlan, decision: GuardDecision | None) -> None:
        key = plan.request.service_key
        if decision is None:
            self.require_runner().cancel(plan, self.actor)
            self._release(key)
            self.app.notify("Cancelled: nothing was sent and nothing was recorded.",
                        title=plan.request.kind.value, markup=False)
            return
        from console.screens.modals.guard import ProgressScreen  # noqa: PLC0415 - a modal, on first use

        progress = self._progress[key] = ProgressScreen(plan)
        self.app.push_screen(progress, callback=partial(self._progress_closed, key, progress))
        self._run(plan, decision, plan.request.actor or self.actor)  # prepare's, per context

    @in_thread(group="action-run")
    def _run(self, plan: ActionPlan, decision: GuardDecision, actor: str) -> None:
        key = plan.request.service_key

        def progressed(progress: RolloutProgress) -> None:
            self.app.post_message(ActionProgressed(progress, key))

        try:
            result = self.require_runner().run(
                plan, decision.reason, actor, confirm_text=decision.confirm_text,
                override=decision.override, on_progress=progressed)
        except Exception as exc:  # noqa: BLE001 - refused, or the intent was not written
            self.app.post_message(ActionFinished(plan, None, _why(exc)))
            return
        self.app.post_message(ActionFinished(plan, result))

    def on_action_progressed(self, message: ActionProgressed) -> None:
        view = self._progress.get(message.key)
        if view is not None and view.is_mounted:
            view.show_progress(message.progress)

    def on_action_finished(self, message: ActionFinished) -> None:
        from backends.domain.actions import ActionStatus  # noqa: PLC0415 - models: after frame 1

        self._release(message.key)
        result, plan = message.result, message.plan
        what = plan.request.kind.value if plan else "action"
        if plan is not None:
            what += f" {safe(split_name(plan.object_ref), 40)}"
        view = self._progress.get(message.key)
        if view is not None and view.is_mounted:
            view.show_result(result, message.error)
        if result is None:
            self.app.notify(safe(message.error, 400), title=f"{what}: not done",
                        severity="error", markup=False)
        else:
            ok = result.status in (ActionStatus.SUCCEEDED, ActionStatus.SKIPPED)
            self.app.notify(safe(result.message or result.status.value, 400),
                        title=f"{what}: {result.status.value}",
                        severity="information" if ok else "error", markup=False)
            if result.warnings:  # done, but its record on the object (or here) is not
                self.app.notify(safe("; ".join(result.warnings), 600),
                                title=f"{what}: done, with a warning", severity="warning",
                                timeout=20, markup=False)
        self._sync_keys()
        self.app.poller.poll("cluster")

    def _progress_closed(self, key: str, view: ProgressScreen, _result: None = None) -> None:
        if self._progress.get(key) is view:
            del self._progress[key]


def split_name(object_ref: str) -> str:
    """``deployment/llm-chat`` -> ``llm-chat``."""
    return object_ref.rsplit("/", 1)[-1]
