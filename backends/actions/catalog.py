"""Every action pitboard can take, declared once, and the one read-only rule.

An action's declaration says its key, its label and help line, whether it changes
anything, what it acts on, when it is allowed, and which gates stand before it. The guard
(backends.actions.guard), the console's keys, footer dimming, palette and replay
(console.controllers.action_keys, console.controllers.actions, console.controllers.navigation)
and ``--read-only`` all read these declarations; none keeps a list of its own. What a
cluster action does to each resource kind lives with that kind (backends.kube.kinds).

Adding an action: its :class:`ActionSpec` below, its executor per resource kind, its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from backends.domain.action_kind import ActionKind

Target = Literal["model", "canary", "fleet", "incident"]
"""What an action needs: a selected model, a selected model with a canary, nothing
(fleet-wide), or an incident (open or latest)."""

Param = Literal["to_revision", "replicas", "duration"]
"""What a guarded action asks for besides the reason: a revision to roll back to, a
replica count, a duration (the request's ``to_revision``, ``replicas``, ``duration_s``)."""

ALL_KINDS = ("Deployment", "Rollout", "InferenceService")


@dataclass(frozen=True)
class ActionSpec:
    """One action. ``mutating`` actions are refused in read-only contexts and in replay,
    write an audit entry, and are dimmed with the reason; ``kind`` is the guarded action
    (preview, preflight, reason, confirm) or None for an audit-store record; ``gates``
    name the checks the guard adds before the run (``slo``, ``approvals``); ``kinds`` the
    resource kinds it applies to (each has its executor in ``backends.kube.kinds``);
    ``params`` what it asks for (optional ones in ``optional``); ``shell`` its
    ``pitboard`` subcommand (None: reached through another one's option)."""

    name: str
    key: str
    label: str
    help: str
    mutating: bool
    target: Target
    kind: ActionKind | None = None
    gates: tuple[str, ...] = ()
    palette: str = ""
    """The command palette's label (``{model}`` is the selected model's name)."""
    kinds: tuple[str, ...] = ALL_KINDS
    params: tuple[Param, ...] = ()
    optional: tuple[Param, ...] = ()
    shell: str | None = None

    @property
    def per_context(self) -> bool:
        """Whether the selected model's own context decides read-only (not the console's)."""
        return self.target in ("model", "canary")

    @property
    def verb(self) -> str:
        """How messages name it: ``promote-full``."""
        return self.name.replace("_", "-")

    def not_for(self, model: str, kind: str) -> str:
        """Why it does not apply to ``model`` (a ``kind`` outside :attr:`kinds`)."""
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        return (f"{self.verb} is for {' and '.join(self.kinds)} only ({model} is {article} "
                f"{kind})")


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("rollback", "R", "Rollback", "Roll the selected model back (guarded, audited)",
               mutating=True, target="model", kind=ActionKind.ROLLBACK,
               palette="Rollback {model}", optional=("to_revision",), shell="rollback"),
    ActionSpec("promote", "P", "Promote",
               "Promote the selected model's canary (gated, audited)",
               mutating=True, target="canary", kind=ActionKind.PROMOTE,
               gates=("slo", "approvals"), palette="Promote {model}",
               kinds=("Rollout", "InferenceService"), shell="promote"),
    ActionSpec("approve", "A", "Approve",
               "Approve promoting the selected canary (someone else promotes)",
               mutating=True, target="canary", palette="Approve promotion of {model}"),
    ActionSpec("note", "n", "Note", "Add a timestamped note carrying the figures on screen",
               mutating=True, target="fleet", palette="Add a note"),
    ActionSpec("incident", "i", "Incident", "Open / close an incident",
               mutating=True, target="fleet", palette="Open an incident"),
    ActionSpec("export", "e", "Export", "Write the incident's postmortem draft (Markdown)",
               mutating=False, target="incident", palette="Export the postmortem draft"),
    ActionSpec("rollback_to", "U", "Undo to…",
               "Roll the selected model back to a revision picked from its history "
               "(kubectl rollout undo --to-revision)",
               mutating=True, target="model", kind=ActionKind.ROLLBACK,
               palette="Roll {model} back to a chosen revision", params=("to_revision",),
               kinds=("Deployment", "Rollout")),
    ActionSpec("promote_full", "F", "Full promote",
               "Promote the canary fully, skipping the remaining steps (gated, audited)",
               mutating=True, target="canary", kind=ActionKind.PROMOTE_FULL,
               gates=("slo", "approvals"), palette="Fully promote {model}",
               kinds=("Rollout",), shell="promote-full"),
    ActionSpec("abort", "X", "Abort",
               "Abort the rollout: traffic back to the stable revision (guarded, audited)",
               mutating=True, target="model", kind=ActionKind.ABORT,
               palette="Abort the rollout of {model}", kinds=("Rollout",), shell="abort"),
    ActionSpec("retry", "Y", "Retry", "Retry an aborted rollout (guarded, audited)",
               mutating=True, target="model", kind=ActionKind.RETRY,
               palette="Retry the rollout of {model}", kinds=("Rollout",), shell="retry"),
    ActionSpec("restart", "r", "Restart",
               "Restart the model's pods (kubectl rollout restart; guarded, audited)",
               mutating=True, target="model", kind=ActionKind.RESTART,
               palette="Restart {model}", kinds=("Deployment", "Rollout"), shell="restart"),
    ActionSpec("scale", "s", "Scale", "Scale the model to N replicas (guarded, audited)",
               mutating=True, target="model", kind=ActionKind.SCALE,
               palette="Scale {model}", kinds=("Deployment", "Rollout"), params=("replicas",),
               shell="scale"),
    ActionSpec("pause", "z", "Pause", "Pause the model's rollout (guarded, audited)",
               mutating=True, target="model", kind=ActionKind.PAUSE,
               palette="Pause the rollout of {model}", kinds=("Deployment", "Rollout"),
               shell="pause"),
    ActionSpec("resume", "Z", "Resume", "Resume the model's paused rollout (guarded, audited)",
               mutating=True, target="model", kind=ActionKind.RESUME,
               palette="Resume the rollout of {model}", kinds=("Deployment", "Rollout"),
               shell="resume"),
    ActionSpec("silence", "m", "Silence",
               "Silence the model's alerts in Alertmanager for a while (guarded, audited; "
               "expires on its own)",
               mutating=True, target="model", kind=ActionKind.SILENCE,
               palette="Silence the alerts of {model}", params=("duration",), shell="silence"),
)
"""The console's action keys, in footer order."""

BY_NAME: dict[str, ActionSpec] = {a.name: a for a in ACTIONS}
BY_KIND: dict[ActionKind, ActionSpec] = {}
"""Each guarded action's main declaration (the first with that kind: rollback's ``R``)."""
for _a in ACTIONS:
    if _a.kind is not None:
        BY_KIND.setdefault(_a.kind, _a)
GUARDED: tuple[ActionSpec, ...] = tuple(a for a in ACTIONS if a.kind is not None)
SHELL: dict[str, ActionSpec] = {a.shell: a for a in GUARDED if a.shell}
"""``pitboard <subcommand>`` -> the guarded action it runs."""
NAMES: tuple[str, ...] = tuple(BY_NAME)
MUTATING: frozenset[str] = frozenset(a.name for a in ACTIONS if a.mutating)


def spec(name: str) -> ActionSpec | None:
    """The declaration of ``name`` (a binding's action, ``screen.`` prefixes allowed)."""
    return BY_NAME.get(name.rsplit(".", 1)[-1])


def is_mutating(action: str) -> bool:
    """Whether the key action ``action`` changes anything (unknown actions do not)."""
    found = spec(action)
    return found is not None and found.mutating


# -- the read-only rule ---------------------------------------------------------------------
ReadOnlyCause = Literal["--read-only", "config", "backend", "unlabelled"]


@dataclass(frozen=True)
class ReadOnly:
    """Why a context takes no mutating action: ``cause`` for tables, ``message`` to show."""

    cause: ReadOnlyCause
    message: str


def read_only(context: str, *, flag: bool, config: Any = None,
              backend: bool = False, service: Any = None) -> ReadOnly | None:
    """Why ``context`` takes no mutating action, None when it may: ``--read-only``
    (``flag``), the ``[actions]`` config (``config.is_read_only(context)``:
    ``read_only_contexts`` or ``contexts.<name>.read_only``), or a backend built read-only
    (``backend``); for one model (``service``), also an unlabelled one (found without the
    model label: read-only until adopted). The guard, the console's keys and ``:ctx`` all
    ask this."""
    if flag:
        return ReadOnly("--read-only", "read-only mode (--read-only)")
    if config is not None and config.is_read_only(context):
        return ReadOnly("config", f"context {context} is read-only (config)")
    if backend:
        return ReadOnly("backend", f"context {context} is read-only (backend)")
    if service is not None and getattr(service, "unlabelled", False):
        return ReadOnly("unlabelled", unlabelled_message(service))
    return None


def unlabelled_message(service: Any) -> str:
    """Why an unlabelled model takes no action, and the line that adopts it."""
    adopt = tuple(getattr(service, "adopt", ()) or ())
    how = f"; adopt it: {adopt[0]}" + (f" (or {adopt[1]})" if len(adopt) > 1 else "") \
        if adopt else ""
    return (f"{getattr(service, 'name', '?')} is unlabelled (no model label): read-only "
            f"until adopted{how}")
