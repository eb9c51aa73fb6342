"""The action keys of the fleet screen (R P A n i e U F X Y r s z Z m), dimmed with their reason when
unavailable (``check_action`` + the footer tooltip), and their command palette entries.
The work itself is done by the app's controllers (``app.actions``, ``app.records``).

In a release history (the fleet screen's releases panel focused, the model detail's
releases, ``:releases``) ``R`` and ``U`` roll back to the highlighted revision: the host
screen says which through :meth:`ActionKeysMixin.picked_revision`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.binding import ActiveBinding, Binding

from backends.actions import catalog
from backends.domain.action_kind import ActionKind
from console.screens.typed import ScreenHost
from widgets.text import safe

if TYPE_CHECKING:
    from backends.domain.models import ModelService, Revision
    from console.app import PitboardApp

KEY_ACTIONS = catalog.NAMES
PICKING = ("rollback", "rollback_to")
"""The keys that, in a release history, roll back to the highlighted revision."""
ACTION_BINDINGS = [Binding(a.key, a.name, a.label, id=a.name, tooltip=a.help)
                   for a in catalog.ACTIONS]
"""The fleet screen's action keys, from the declarations (backends.actions.catalog)."""


class ActionKeysMixin(ScreenHost):
    """For the fleet screen: the action keys, dimmed with their reason when unavailable.
    Needs ``selected`` and ``snapshot`` on the host Screen."""

    _keys_state: tuple | None = None

    def _selected_model(self) -> ModelService | None:
        snap, key = getattr(self, "snapshot", None), getattr(self, "selected", None)
        if snap is None or key is None:
            return None
        return next((s for s in snap.services if s.key == key), None)

    def picked_revision(self) -> Revision | str | None:
        """In a release history with focus: the highlighted revision, or why its row gives
        none (a string); None when no release history has focus (the host overrides it)."""
        return None

    def _unavailable(self, action: str) -> str | None:
        probe = getattr(getattr(self.app, "actions", None), "action_unavailable", None)
        if action in PICKING and self.picked_revision() is not None:
            action = "rollback_to"  # in a history both keys roll back to the picked one
        return probe(action, self._selected_model()) if probe else "not wired"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in KEY_ACTIONS:
            why = self._unavailable(action)
            if why and self._unlabelled_only(action):
                return True  # pressed, it says why and the line that adopts the model
            return None if why else True
        return super().check_action(action, parameters)

    def _unlabelled_only(self, action: str) -> bool:
        """The key is refused only because the selected model is unlabelled."""
        svc = self._selected_model()
        declared = catalog.spec(action)
        if svc is None or declared is None or not declared.mutating or not declared.per_context:
            return False
        ro = catalog.read_only(svc.cluster, flag=False, service=svc)
        return ro is not None and self._unavailable(action) == ro.message

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The screen's bindings; a dimmed action key's tooltip says why it is dimmed."""
        return self._annotated(super().active_bindings)

    @property
    def unfitted_bindings(self) -> dict[str, ActiveBinding]:
        """What the help lists, annotated the same way (on a screen whose footer is fitted
        after this mixin: console.screens.footer_fit)."""
        try:
            unfitted = super().unfitted_bindings  # type: ignore[misc]  # FooterFitMixin
        except AttributeError:
            return self.active_bindings
        return self._annotated(unfitted)

    def _annotated(self, bindings: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
        bindings = dict(bindings)
        picked: Revision | str | None = None
        asked = False
        for key, active in list(bindings.items()):
            if not active.enabled and active.binding.action in KEY_ACTIONS:
                why = self._unavailable(active.binding.action) or "unavailable"
                bindings[key] = active._replace(
                    tooltip=f"{active.binding.description}: unavailable, {why}")
            elif active.binding.action in PICKING:
                if not asked:
                    picked, asked = self.picked_revision(), True
                if picked is not None:
                    bindings[key] = active._replace(tooltip=pick_help(picked))
        return bindings

    def sync_action_keys(self) -> None:
        """Refresh the footer when the availability of an action key changed."""
        state = tuple(self._unavailable(a) for a in KEY_ACTIONS)
        if state != self._keys_state:
            self._keys_state = state
            self.refresh_bindings()

    def action_rollback(self) -> None:
        """Roll back the selected model (guarded): to the previous revision, or in a
        release history to the highlighted one."""
        picked = self.picked_revision()
        if picked is not None:
            self.app.actions.rollback_to_picked(self._selected_model(), picked)
        else:
            self.app.actions.begin_action(ActionKind.ROLLBACK, self._selected_model())

    def action_promote(self) -> None:
        """Promote the selected model's canary (gated)."""
        self.app.actions.begin_action(ActionKind.PROMOTE, self._selected_model())

    def action_rollback_to(self) -> None:
        """Roll the selected model back to the revision highlighted in a release history,
        else to one picked from a list of its history."""
        picked = self.picked_revision()
        if picked is not None:
            self.app.actions.rollback_to_picked(self._selected_model(), picked)
        else:
            self.app.actions.begin("rollback_to", self._selected_model())

    def action_promote_full(self) -> None:
        """Promote the selected canary fully (Argo)."""
        self.app.actions.begin("promote_full", self._selected_model())

    def action_abort(self) -> None:
        """Abort the selected model's rollout (Argo)."""
        self.app.actions.begin("abort", self._selected_model())

    def action_retry(self) -> None:
        """Retry the selected model's aborted rollout (Argo)."""
        self.app.actions.begin("retry", self._selected_model())

    def action_restart(self) -> None:
        """Restart the selected model's pods."""
        self.app.actions.begin("restart", self._selected_model())

    def action_scale(self) -> None:
        """Scale the selected model."""
        self.app.actions.begin("scale", self._selected_model())

    def action_pause(self) -> None:
        """Pause the selected model's rollout."""
        self.app.actions.begin("pause", self._selected_model())

    def action_resume(self) -> None:
        """Resume the selected model's rollout."""
        self.app.actions.begin("resume", self._selected_model())

    def action_silence(self) -> None:
        """Silence the selected model's alerts."""
        self.app.actions.begin("silence", self._selected_model())

    def action_approve(self) -> None:
        """Approve promoting the selected canary."""
        self.app.records.begin_approve(self._selected_model())

    def action_note(self) -> None:
        """Add a note with the figures on screen."""
        self.app.records.begin_note(self._selected_model())

    def action_incident(self) -> None:
        """Open or close an incident."""
        self.app.records.begin_incident()

    def action_export(self) -> None:
        """Export the incident's postmortem draft."""
        self.app.records.begin_export()


def pick_help(picked: Revision | str) -> str:
    """What ``R`` / ``U`` do in a release history, for the footer tooltip and ``?``."""
    if isinstance(picked, str):
        return f"Roll back to the highlighted revision: {picked}"
    if picked.current:
        return (f"Roll back to the highlighted revision: revision {picked.number} is the live "
                f"one; highlight an older one")
    return (f"Roll back to revision {picked.number} (highlighted; kubectl rollout undo "
            f"--to-revision={picked.number}; guarded, audited)")


def revision_binding(name: str, screen: str) -> Binding:
    """The key of the rollback action ``name`` (``rollback``, ``rollback_to``) on a view
    with a release history (``screen``: the binding id's prefix)."""
    spec = catalog.BY_NAME[name]
    return Binding(spec.key, name, spec.label, id=f"{screen}_{name}", tooltip=spec.help)


def palette_entries(app: PitboardApp) -> list[tuple[str, Callable[[], object], str]]:
    """Command palette entries for the actions available now: (label, callback, help)."""
    fleet = getattr(app, "fleet_screen", None)
    probe = getattr(getattr(app, "actions", None), "action_unavailable", None)
    if fleet is None or probe is None:
        return []
    svc = fleet._selected_model()
    name = safe(svc.name, 40) if svc else ""
    out: list[tuple[str, Callable[[], object], str]] = [
        ("Audit log", app.records.show_audit, ":audit"),
        ("Incident timeline", app.records.show_incident, ":incident")]
    for action in catalog.ACTIONS:
        label = action.palette.format(model=name)
        if action.name == "incident" and app.actions.incident:
            label = "Close the incident"
        if probe(action.name, svc) is None:
            out.append((label, getattr(fleet, f"action_{action.name}"), action.key))
    return out
