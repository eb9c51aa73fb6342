"""The action keys of the fleet screen (R P A n i e U F X Y r s z Z m), dimmed with their reason when
unavailable (``check_action`` + the footer tooltip), and their command palette entries.
The work itself is done by the app's controllers (``app.actions``, ``app.records``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.binding import ActiveBinding, Binding

from backends.actions import catalog
from backends.domain.actions import ActionKind
from console.screens.typed import ScreenHost
from widgets.text import safe

if TYPE_CHECKING:
    from backends.domain.models import ModelService
    from console.app import PitboardApp

KEY_ACTIONS = catalog.NAMES
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

    def _unavailable(self, action: str) -> str | None:
        probe = getattr(getattr(self.app, "actions", None), "action_unavailable", None)
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
        bindings = super().active_bindings
        for key, active in list(bindings.items()):
            if not active.enabled and active.binding.action in KEY_ACTIONS:
                why = self._unavailable(active.binding.action) or "unavailable"
                bindings[key] = active._replace(
                    tooltip=f"{active.binding.description}: unavailable, {why}")
        return bindings

    def sync_action_keys(self) -> None:
        """Refresh the footer when the availability of an action key changed."""
        state = tuple(self._unavailable(a) for a in KEY_ACTIONS)
        if state != self._keys_state:
            self._keys_state = state
            self.refresh_bindings()

    def action_rollback(self) -> None:
        """Roll back the selected model (guarded)."""
        self.app.actions.begin_action(ActionKind.ROLLBACK, self._selected_model())

    def action_promote(self) -> None:
        """Promote the selected model's canary (gated)."""
        self.app.actions.begin_action(ActionKind.PROMOTE, self._selected_model())

    def action_rollback_to(self) -> None:
        """Roll the selected model back to a revision picked from its history."""
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
