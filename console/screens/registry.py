"""The one list of views: name, ``:`` aliases, help line, and where each opens.

Everything that names a view reads it from here: the ``:`` prompt (its completion and what
it accepts), the jump keys' help lines, the command palette's "Open ..." entries and the
navigator that pushes the screens. Adding a view is one :class:`View` line here plus its
screen module; nothing else lists views.

Screens are named by module path and imported on first use: the deep views' charts are
not on the path to the first frame, and this module imports no screen (no import circle).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Literal

from textual.screen import Screen
from textual.suggester import SuggestFromList

Opens = Literal["view", "panel", "records"]
ALL = ("fleet", "views", "palette")


@dataclass(frozen=True)
class View:
    """One place ``:`` can go.

    ``opens``: ``view`` pushes ``screen`` (a deep view, ``module:Class``); ``panel`` focuses
    the fleet screen's widget ``target`` (a CSS id); ``records`` opens an audit-store view
    through ``app.records.show(name)``. ``listed``: where the view is offered by name --
    ``fleet`` / ``views`` (the ``:`` key's help line and prompt on the fleet screen / in
    the deep views) and ``palette`` (the command palette's "Open <name> view")."""

    name: str
    help: str
    opens: Opens
    aliases: tuple[str, ...] = ()
    screen: str = ""
    target: str = ""
    listed: tuple[str, ...] = ("fleet",)


VIEWS: tuple[View, ...] = (
    View("gpus", "every GPU per node: util, memory, temperature, power, XID, owner, idle cost",
         "view", ("gpu",), "console.screens.gpus:GpuScreen", listed=ALL),
    View("drift", "features against their drift thresholds, worst first", "view",
         screen="console.screens.drift:DriftScreen", listed=ALL),
    View("cost", "$/h by model, namespace and node; today and month-to-date", "view",
         screen="console.screens.cost:CostScreen", listed=ALL),
    View("releases", "every model's revisions, newest first, with who and why", "view",
         screen="console.screens.releases:ReleasesScreen", listed=ALL),
    View("promotions", "every canary in every context: its gates and approvals; A, P",
         "view", ("canaries", "queue"), "console.screens.promotions:PromotionsScreen", listed=ALL),
    View("alerts", "every active alert, like Alertmanager's UI", "view",
         screen="console.screens.alerts:AlertsScreen", listed=("fleet", "views")),
    View("ctx", "kubeconfig contexts, their policy and health; narrow to one (:ctx NAME)",
         "view",
         ("context", "contexts"), "console.screens.contexts:ContextsScreen",
         listed=("fleet", "views")),
    View("audit", "the audit log, newest first, with outcome-unknown intents", "records"),
    View("models", "the fleet's model table", "panel", ("fleet",), target="#models",
         listed=("fleet", "views")),
    View("chart", "the selected model's latency and errors chart", "panel", target="#chart"),
    View("history", "the selected model's release history", "panel", target="#history",
         listed=()),
    View("incident", "the open (else latest) incident's timeline", "records", listed=()),
)
"""In the order the ``:`` help line lists them."""

MODEL_DETAIL = "console.screens.model_detail:ModelDetailScreen"
"""The model detail (``enter`` on a model): a view opened by key, not by name."""

_BY_NAME: dict[str, View] = {alias: v for v in VIEWS for alias in (v.name, *v.aliases)}


def find(name: str) -> View | None:
    """The view called ``name`` (a name or an alias, with or without ``:``), else None."""
    return _BY_NAME.get(name.strip().lstrip(":").lower())


def names() -> list[str]:
    """Every name and alias ``:`` accepts, for its completion."""
    return sorted(_BY_NAME)


def listed(where: str) -> tuple[View, ...]:
    """The views offered by name in ``where`` (``fleet``, ``views``, ``palette``)."""
    return tuple(v for v in VIEWS if where in v.listed)


def jump_help(where: str) -> str:
    """The ``:`` key's help line and prompt placeholder in ``where`` (``fleet``/``views``)."""
    return " ".join(f":{v.name}" for v in listed(where))


def make_view(name: str, window: str = "1h", **kwargs: object) -> Screen | None:
    """A new screen for the deep view ``name`` (or ``model``, the model detail); None if
    ``name`` is no deep view."""
    if name == "model":
        path = MODEL_DETAIL
    else:
        view = find(name)
        if view is None or view.opens != "view":
            return None
        path = view.screen
    module, cls = path.split(":")
    screen_class = getattr(import_module(module), cls)
    screen: Screen = screen_class(window=window, **kwargs)
    return screen


SUGGEST = SuggestFromList(names(), case_sensitive=False)
"""Completion for the ``:`` prompt: every name and alias."""
