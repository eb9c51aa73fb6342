"""The light half of the settings: what the console needs before its first frame.

:mod:`console.config` (pydantic-settings, every backend's config section) costs a few
hundred milliseconds to import. When nothing but command-line flags configures pitboard --
no config file, no ``PITBOARD_*`` variable, only the flags -- :func:`quick_settings`
returns a :class:`QuickSettings` with exactly the values :func:`console.config.load_settings`
would give, validated by the same pydantic fields: the top-level ones, and the backend
sections the flags set (``--context``, ``--kubeconfig``, ``--namespace``: ``kubernetes``;
``--prometheus``; ``--alertmanager``), built from them at once; every other section is
built (with its defaults) the first time it is read. Anything else takes the full path.
"""

from __future__ import annotations

import difflib
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


#: Textual's built-in themes (textual 8.2's ``textual.theme.BUILTIN_THEMES``; a test keeps
#: them equal, so this module need not import Textual).
THEMES = ("ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe",
          "catppuccin-latte", "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki",
          "gruvbox", "monokai", "nord", "rose-pine", "rose-pine-dawn", "rose-pine-moon",
          "solarized-dark", "solarized-light", "textual-dark", "textual-light", "tokyo-night")
ENV_PREFIX = "PITBOARD_"

if TYPE_CHECKING:
    from typing import TypeAlias

    from console.config import Settings


class ConfigProblem(Exception):
    """The configuration cannot be used; ``str()`` is the message for the user."""


class DemoConfig(BaseModel):
    """Embedded simulated fleet (``--demo``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enabled: bool = Field(False, description="use the demo fleet instead of real backends")
    seed: int = Field(7, description="random seed of the simulation")
    n_gpus: int | None = Field(None, ge=1, le=20000, description="fleet size override")
    n_models: int | None = Field(None, ge=1, le=5000, description="model count override")
    hostile: bool = Field(False, description="add models with hostile names (markup, ANSI...)")


class CoreSettings(BaseModel):
    """Top-level settings (``console.config.Settings`` inherits these fields)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)

    refresh: float = Field(5.0, ge=0.05, le=3600, description="seconds between polls")
    read_only: bool = Field(False, description="remove every mutating action (RO badge)")
    time_window: str = Field("1h", pattern=r"^(15m|1h|6h|24h|7d)$", description="chart range")
    theme: str | None = Field(None, description="Textual theme name (one of THEMES)")
    demo: DemoConfig = Field(default_factory=DemoConfig)

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str | None) -> str | None:
        if value is None or value in THEMES:
            return value
        close = difflib.get_close_matches(value, THEMES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown theme: {hint}themes: {', '.join(THEMES)}")


#: Backend sections of ``Settings``: name -> (module, class). Built with their defaults.
SECTIONS: dict[str, tuple[str, str]] = {
    "kubernetes": ("backends.kube.config", "KubernetesConfig"),
    "prometheus": ("backends.prometheus.config", "PrometheusConfig"),
    "alertmanager": ("backends.prometheus.config", "AlertmanagerConfig"),
    "audit": ("backends.actions.config", "AuditConfig"),
    "actions": ("backends.actions.config", "ActionsConfig"),
    "slo": ("backends.domain.slo_config", "SloConfig"),
    "display": ("backends.domain.slo_config", "DisplayConfig"),
}
#: Environment variables named PITBOARD_* that are not settings.
NOT_SETTINGS = frozenset({"PITBOARD_CONFIG", "PITBOARD_FIRST_FRAME_FILE"})


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/pitboard/config.toml`` (``~/.config`` when unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "pitboard" / "config.toml"


def config_path(explicit: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """The config file to read and whether it was asked for explicitly (must exist)."""
    if explicit:
        return Path(os.path.expanduser(explicit)), True  # (Path.expanduser raises on ~nobody)
    env = os.environ.get("PITBOARD_CONFIG")
    if env:
        return Path(os.path.expanduser(env)), True
    return default_config_path(), False


class QuickSettings:
    """Defaults plus command-line flags, read like ``Settings`` (attributes only)."""

    quick = True

    def __init__(self, core: CoreSettings, sections: dict[str, Any] | None = None) -> None:
        self._core = core
        for name, section in (sections or {}).items():  # the flags' sections, built
            setattr(self, name, section)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in CoreSettings.model_fields:
            return getattr(self._core, name)
        if name not in SECTIONS:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        section = _section_class(name)()
        setattr(self, name, section)  # built once; next reads skip __getattr__
        return section

    def __repr__(self) -> str:
        return f"QuickSettings({self._core!r})"


def built_section(settings: Any, name: str) -> Any | None:
    """``settings.<name>`` (a backend section), or None when ``settings`` are
    :class:`QuickSettings` that have not built it yet: it can then only hold its defaults
    (a quick start has no config file and no variable). For a caller to whom the defaults
    mean "nothing configured" -- the ``[actions]`` defaults make no context read-only --
    this saves building the section (its pydantic models) for questions asked before the
    first frame (the footer's key checks)."""
    if isinstance(settings, QuickSettings):
        return settings.__dict__.get(name)
    return getattr(settings, name, None)


if TYPE_CHECKING:
    AppSettings: TypeAlias = "Settings | QuickSettings"
    """What the console runs with: the full settings, or the same values as QuickSettings."""


def quick_settings(path: str | os.PathLike | None = None,
                   **overrides: Any) -> QuickSettings | None:
    """:class:`QuickSettings` when only defaults and ``overrides`` of the top-level fields
    apply (no config file, no ``PITBOARD_*`` variable) and they are valid; else None (the
    caller then runs ``load_settings``, which also words any error)."""
    file, explicit = config_path(path)
    if explicit or file.exists():
        return None
    if any(k.upper().startswith("PITBOARD_") and k.upper() not in NOT_SETTINGS
           for k in os.environ):
        return None
    core = {k: v for k, v in overrides.items() if k in CoreSettings.model_fields}
    given = {k: v for k, v in overrides.items() if k not in core}
    if not set(given) <= set(FLAG_SECTIONS) or \
            not all(isinstance(v, dict) for v in given.values()):
        return None
    try:
        sections = {name: _section_class(name).model_validate(body)
                    for name, body in given.items()}
        return QuickSettings(CoreSettings(**core), sections)
    except ValidationError:
        return None


FLAG_SECTIONS = ("kubernetes", "prometheus", "alertmanager")
"""The backend sections command-line flags set (``console.cli.main.overrides_from_args``)."""


def _section_class(name: str) -> type[BaseModel]:
    module, cls = SECTIONS[name]
    return getattr(importlib.import_module(module), cls)
