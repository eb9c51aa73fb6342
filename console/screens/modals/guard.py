"""The guard modal (what will change, the checks, a reason), the progress view, and the
approval modal.

:class:`GuardScreen` is a ``ModalScreen`` returning a :class:`GuardDecision` (confirm) or
``None`` (cancel). It decides nothing itself: the runner re-checks everything in ``run``.
Confirm stays disabled, with the reason on screen, until a reason is given, the object's
name is typed on a protected context, and every failed blocking check is either absent or
overridden (override needs a reason too, and is recorded as an override).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from backends.domain.actions import (ActionKind, ActionPlan, ActionResult, ActionStatus, CheckStatus,
                              RolloutProgress)
from console.screens.audit import short_target
from widgets.text import MISSING, safe

VERBS = {ActionKind.ROLLBACK: "Roll back", ActionKind.PROMOTE: "Promote",
         ActionKind.ABORT: "Abort", ActionKind.PROMOTE_FULL: "Fully promote",
         ActionKind.RETRY: "Retry", ActionKind.PAUSE: "Pause", ActionKind.RESUME: "Resume",
         ActionKind.RESTART: "Restart", ActionKind.SCALE: "Scale",
         ActionKind.SILENCE: "Silence the alerts of"}
ICONS = {CheckStatus.PASSED: "✔", CheckStatus.FAILED: "✘", CheckStatus.UNKNOWN: "?"}

MODAL_CSS = """
    .dialog { width: 100; max-width: 100%; height: auto; max-height: 100%;
        background: $surface; padding: 0 1; border: round $primary; }
    .dialog.-danger { border: round $error; }
    .dialog .section { color: $text-accent; text-style: bold; margin-top: 1; }
    .dialog .field { height: 1; margin-top: 1; }
    .dialog .field > Label { width: 12; color: $text-muted; }
    .dialog .field > Input { width: 1fr; }
    .dialog .hint { color: $text-muted; height: auto; margin-top: 1; }
    .dialog .hint.-problem { color: $warning; }
    .dialog .buttons { height: 1; margin-top: 1; align-horizontal: right; }
    .dialog .buttons > Button { min-width: 10; margin-left: 2; }
"""


def _text(value: object, limit: int | None = None) -> Content:
    """Untrusted value -> literal, single-line display content (never markup)."""
    return Content(safe(value, limit))


@dataclass(frozen=True)
class GuardDecision:
    """What the operator confirmed: their reason, the typed name, whether to override."""

    reason: str
    confirm_text: str | None = None
    override: bool = False


def title_of(plan: ActionPlan) -> Content:
    """``Roll back llm-chat`` (the object's name from the plan, shown literally)."""
    verb = VERBS.get(plan.request.kind, plan.request.kind.value)
    name = short_target(plan.request.service_key)
    return Content(f" {verb} {safe(name, 50)} ")


class GuardScreen(ModalScreen[GuardDecision | None]):
    """Target, change (before -> after), checklist, reason, typed name, override."""

    DEFAULT_CSS = MODAL_CSS + """
    GuardScreen { align: center middle; }
    GuardScreen #guard-body { height: auto; max-height: 100%; }
    GuardScreen #guard-form { dock: bottom; height: auto; }
    GuardScreen #changes { grid-size: 4; grid-columns: 13 1fr 2 1fr; grid-gutter: 0 1;
        height: auto; grid-rows: auto; }
    GuardScreen #checks { grid-size: 3; grid-columns: 2 22 1fr; height: auto; grid-rows: auto; }
    GuardScreen #changes > Static, GuardScreen #checks > Static { height: auto; }
    GuardScreen .-passed { color: $success; }
    GuardScreen .-failed { color: $error; text-style: bold; }
    GuardScreen .-unknown { color: $warning; }
    GuardScreen .muted { color: $text-muted; }
    GuardScreen #guard-actions { height: auto; margin-top: 1; }
    GuardScreen #guard-actions > .hint { width: 1fr; margin-top: 0; }
    GuardScreen #guard-actions > Button { min-width: 10; margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="guard_cancel",
                tooltip="Close without doing anything (nothing is sent or recorded)"),
    ]
    AUTO_FOCUS = None

    def __init__(self, plan: ActionPlan, confirm_name: str | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.confirm_name = confirm_name
        self.failed = [c for c in plan.checks
                       if c.status == CheckStatus.FAILED and c.blocking]
        self.hard = [c for c in self.failed if not c.overridable]
        self.can_override = bool(self.failed) and not self.hard

    # -- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="guard", classes="dialog -danger") as box:
            box.border_title = title_of(plan)
            box.border_subtitle = Content(" esc cancels ")
            with Vertical(id="guard-form"):
                yield from self._form()
            with VerticalScroll(id="guard-body"):
                yield Static(Content.assemble(("Target  ", "bold $text-accent"), safe(
                    f"{plan.context} / {plan.namespace} / {plan.object_ref}")), id="target")
                yield Static("Change", classes="section")
                if plan.noop:
                    yield Static(_text(f"nothing: {plan.noop_reason}"), classes="muted")
                elif not plan.changes:
                    yield Static("not known (the preflight failed)", classes="muted")
                else:
                    with Grid(id="changes"):
                        for change in plan.changes:
                            yield Static(_text(change.field), classes="muted")
                            yield Static(_text(change.before or MISSING))
                            yield Static("→", classes="muted")
                            yield Static(_text(change.after or MISSING))
                yield Static(self._checks_title(), classes="section", id="checks-title")
                with Grid(id="checks"):
                    order = {CheckStatus.FAILED: 0, CheckStatus.UNKNOWN: 1, CheckStatus.PASSED: 2}
                    for check in sorted(plan.checks, key=lambda c: order[c.status]):
                        status = check.status.value
                        yield Static(ICONS[check.status], classes=f"-{status}")
                        yield Static(_text(check.name, 22), classes=f"-{status}")
                        reason = check.reason or status
                        if check.status == CheckStatus.FAILED and not check.blocking:
                            reason += " (not blocking)"
                        yield Static(_text(reason))

    def _form(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label("Reason")
            yield Input(placeholder="why? required, recorded in the audit log",
                        id="reason", max_length=4000, compact=True)
        if self.confirm_name is not None:
            with Horizontal(classes="field", id="confirm-row"):
                yield Label("Type name")
                yield Input(placeholder=f"type {safe(self.confirm_name, 60)} to confirm "
                                        f"({safe(self.plan.context, 30)} is protected)",
                            id="confirm-name", compact=True)
        if self.can_override:
            count = len(self.failed)
            yield Checkbox(f"Override {count} failed check{'s' if count > 1 else ''} "
                           f"(recorded as an override)", id="override", compact=True)
        with Horizontal(id="guard-actions"):
            yield Static("", id="hint", classes="hint")
            yield Button("Confirm", id="confirm", variant="error", disabled=True,
                         compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def _checks_title(self) -> Content:
        counts = {s: sum(1 for c in self.plan.checks if c.status == s) for s in CheckStatus}
        return Content(f"Checks  {counts[CheckStatus.PASSED]} passed · "
                       f"{counts[CheckStatus.FAILED]} failed · "
                       f"{counts[CheckStatus.UNKNOWN]} unknown")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self._validate()
        if self.hard or self.plan.noop:
            self.query_one("#cancel", Button).focus()
        else:
            self.query_one("#reason", Input).focus()

    # -- validation ---------------------------------------------------------------
    def problem(self) -> str | None:
        """Why Confirm is disabled (None: it is enabled)."""
        if self.plan.noop:
            return f"Nothing to change: {self.plan.noop_reason or 'already in place'}"
        if self.hard:
            return "Blocked (cannot be overridden): " + "; ".join(
                f"{c.name}: {c.reason}" for c in self.hard)
        if self.failed and not self.override:
            return ("Blocked by " + ", ".join(c.name for c in self.failed)
                    + ": tick override to proceed anyway (recorded).")
        if not self.reason:
            return "Enter a reason: it is required and recorded in the audit log."
        if self.confirm_name is not None and self.typed != self.confirm_name:
            return (f"{self.plan.context} is protected: type {self.confirm_name} "
                    f"exactly to confirm.")
        return None

    @property
    def reason(self) -> str:
        return self.query_one("#reason", Input).value.strip()

    @property
    def typed(self) -> str | None:
        if self.confirm_name is None:
            return None
        return self.query_one("#confirm-name", Input).value.strip()

    @property
    def override(self) -> bool:
        return self.can_override and self.query_one("#override", Checkbox).value

    def _validate(self) -> None:
        problem = self.problem()
        hint = self.query_one("#hint", Static)
        hint.set_class(problem is not None, "-problem")
        if problem is None:
            problem = ("Ready: enter or Confirm writes the intent, dry-runs, then acts."
                       + (" Recorded as an OVERRIDE." if self.override else ""))
        hint.update(_text(problem, 400))
        self.query_one("#confirm", Button).disabled = self.problem() is not None

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._validate()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.problem() is None:
            self.action_confirm()
        elif event.input.id == "reason" and self.reason and self.confirm_name is not None:
            self.query_one("#confirm-name", Input).focus()
        elif self.reason and self.can_override and not self.override:
            self.query_one("#override", Checkbox).focus()

    # -- decisions ----------------------------------------------------------------
    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        """Confirm (only when every condition holds)."""
        if self.problem() is not None:
            self.app.bell()
            return
        self.dismiss(GuardDecision(reason=self.reason, confirm_text=self.typed,
                                   override=self.override))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Cancel: nothing is sent and nothing is recorded."""
        self.dismiss(None)


class ProgressScreen(ModalScreen[None]):
    """The action under way: the rollout's progress bar, then the result."""

    DEFAULT_CSS = MODAL_CSS + """
    ProgressScreen { align: center middle; }
    ProgressScreen #p-bar { margin-top: 1; width: 1fr; }
    ProgressScreen #p-bar Bar { width: 1fr; }
    ProgressScreen #p-message { height: auto; margin-top: 1; }
    ProgressScreen #p-result { height: auto; margin-top: 1; text-style: bold; }
    ProgressScreen #p-result.-succeeded { color: $success; }
    ProgressScreen #p-result.-failed { color: $error; }
    ProgressScreen #p-result.-other { color: $warning; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="progress_close",
                        tooltip="Close (a running action carries on; its result is notified)")]

    def __init__(self, plan: ActionPlan) -> None:
        super().__init__()
        self.plan = plan
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(id="progress", classes="dialog") as box:
            box.border_title = title_of(self.plan)
            yield Static(_text(f"{self.plan.context} / {self.plan.namespace} / "
                               f"{self.plan.object_ref}"), classes="muted")
            yield ProgressBar(total=None, show_eta=False, id="p-bar")
            yield Static("Writing the intent to the audit log, dry run, then the call…",
                         id="p-message")
            yield Static("", id="p-result")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", compact=True)

    def show_progress(self, progress: RolloutProgress) -> None:
        """Advance the bar: the new revision's available replicas of the desired count
        (old ready pods never count); full only once the controller reports it done."""
        bar = self.query_one(ProgressBar)
        if progress.desired and progress.available is not None:
            done = min(progress.available, progress.desired)
            if not progress.done:  # the controller has not said "done": never a full bar
                done = min(done, progress.desired - 1) if progress.desired > 1 else 0
            bar.update(total=progress.desired, progress=done)
        if progress.done and progress.phase in ("complete", "paused"):
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#p-message", Static).update(_text(progress.message or progress.phase,
                                                          300))

    def show_result(self, result: ActionResult | None, error: str = "") -> None:
        """The final word: the outcome and the server's message (or why nothing ran)."""
        self.done = True
        line = self.query_one("#p-result", Static)
        if result is None:
            line.set_class(True, "-failed")
            line.update(_text(f"Not done: {error}", 600))
        else:
            status = result.status
            kind = ("-succeeded" if status == ActionStatus.SUCCEEDED
                    else "-failed" if status == ActionStatus.FAILED else "-other")
            line.set_class(True, kind)
            text = f"{status.value.replace('_', ' ')}: {result.message or 'no message'}"
            if result.warnings:
                text += " (warning: " + "; ".join(result.warnings) + ")"
                kind = "-other" if kind == "-succeeded" else kind
                line.set_class(False, "-succeeded")
                line.set_class(True, kind)
            line.update(_text(text, 600))
            if status == ActionStatus.SUCCEEDED and result.detail.get("progress"):
                bar = self.query_one(ProgressBar)
                bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Close the view; the app notifies the result if the action is still running."""
        self.dismiss(None)


class ApproveScreen(ModalScreen[str | None]):
    """Approve a promotion: returns the reason, or None (cancel)."""

    DEFAULT_CSS = MODAL_CSS + "ApproveScreen { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="approve_cancel")]

    def __init__(self, service_name: str, canary: str | None, actor: str) -> None:
        super().__init__()
        self.service_name = service_name
        self.canary = canary
        self.actor = actor

    def compose(self) -> ComposeResult:
        with Vertical(id="approve", classes="dialog") as box:
            box.border_title = Content(f" Approve promotion of {safe(self.service_name, 50)} ")
            yield Static(_text(f"Canary {self.canary or MISSING}. Recorded as "
                               f"{self.actor}; it counts only for a promotion by someone "
                               f"else.", 400), classes="hint")
            with Horizontal(classes="field"):
                yield Label("Reason")
                yield Input(placeholder="why is this canary good to go? (required)",
                            id="reason", max_length=4000, compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Approve", id="ok", variant="primary", disabled=True,
                             compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#ok", Button).disabled = not event.value.strip()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _approve(self) -> None:
        reason = self.query_one(Input).value.strip()
        if reason:
            self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Record nothing."""
        self.dismiss(None)
