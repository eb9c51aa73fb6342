"""Settings: TOML file, ``PITBOARD_*`` environment variables, CLI flags (highest wins).

- File: ``$XDG_CONFIG_HOME/pitboard/config.toml`` (``~/.config/...``); ``PITBOARD_CONFIG``
  or ``--config`` name another file (which then must exist).
- Environment: ``PITBOARD_READ_ONLY=1``, nested with ``__``: ``PITBOARD_PROMETHEUS__URL=...``.
- Sections come from the backends' own config classes (``backends/*_config.py``).

A bad configuration raises :class:`ConfigProblem` whose message names the field path and
the reason; the CLI prints it and exits 2 (no traceback).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from backends.actions.config import ActionsConfig, AuditConfig
from backends.domain.redact import redact
from backends.kube.config import KubernetesConfig
from backends.prometheus.config import AlertmanagerConfig, PrometheusConfig
from backends.domain.slo_config import DisplayConfig, SloConfig
from backends.domain.files import read_at_most
from console.config_core import (  # noqa: F401 - re-exported: the light half
    ENV_PREFIX, NOT_SETTINGS, ConfigProblem, CoreSettings, DemoConfig, config_path,
    default_config_path,
)

_toml_path: ContextVar[Path | None] = ContextVar("pitboard_toml_path", default=None)

CONFIG_MAX_BYTES = 1 << 20
"""A config file is read up to this size: a path to a device or an endless pipe
(``--config /dev/zero``) is refused instead of read until memory runs out."""


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file chosen by :func:`load_settings`."""

    def get_field_value(self, field, field_name):  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _toml_path.get()
        if path is None or not path.exists():
            return {}
        try:
            data = read_at_most(path, CONFIG_MAX_BYTES)
            if data is None:
                raise ConfigProblem(f"{path}: too large for a config file (over "
                                    f"{CONFIG_MAX_BYTES >> 20} MiB)")
            return tomllib.loads(data.decode("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigProblem(f"{path}: invalid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigProblem(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                                f"at offset {exc.start}); TOML files are UTF-8: save it as "
                                f"UTF-8") from None
        except OSError as exc:
            raise ConfigProblem(f"{path}: cannot read: {exc.strerror or exc}") from None


class Settings(BaseSettings, CoreSettings):
    """Everything pitboard can be configured with (top-level fields: :class:`CoreSettings`)."""

    model_config = SettingsConfigDict(
        env_prefix="PITBOARD_", env_nested_delimiter="__", extra="forbid",
        validate_default=True, allow_inf_nan=False,
    )

    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    alertmanager: AlertmanagerConfig = Field(default_factory=AlertmanagerConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    actions: ActionsConfig = Field(default_factory=ActionsConfig)
    slo: SloConfig = Field(default_factory=SloConfig)
    display: DisplayConfig = Field(default_factory=DisplayConfig)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        # CLI flags (init) > environment > TOML file.
        return (init_settings, env_settings, _TomlSource(settings_cls))


def describe_errors(exc: ValidationError, origin: str) -> str:
    """``origin: field.path: reason (got 'x')`` lines for each validation error."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        path = ".".join(loc) or "(top level)"
        got = err.get("input")
        shown = "" if isinstance(got, dict) or err.get("type") == "missing" \
            else f" (got {redact(repr(got)):.60})"
        env = "PITBOARD_" + "__".join(loc).upper()
        where = f"environment {env}" if loc and env in os.environ else origin
        lines.append(f"{where}: {path}: {redact(str(err.get('msg', 'invalid')))}{shown}")
    return "\n".join(lines)


def _env_settings() -> dict[str, str]:
    """``PITBOARD_*`` environment variables that are meant as settings (upper-cased)."""
    return {k.upper(): v for k, v in os.environ.items()
            if k.upper().startswith(ENV_PREFIX) and k.upper() not in NOT_SETTINGS}


def check_env_names() -> None:
    """A ``PITBOARD_*`` variable whose first part names no setting is a typo, not silence:
    ConfigProblem naming it, with the closest names ("did you mean PITBOARD_REFRESH?").
    (Unknown keys *inside* a section are refused by the section's validation.)"""
    fields = {name.upper() for name in Settings.model_fields}
    known = sorted({ENV_PREFIX + f for f in fields} | NOT_SETTINGS)
    for name in sorted(_env_settings()):
        head = name[len(ENV_PREFIX):].split("__", 1)[0]
        if head in fields:
            continue
        close = difflib.get_close_matches(name.split("__", 1)[0], known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else \
            f" (settings: {', '.join(ENV_PREFIX + f for f in sorted(fields))})"
        raise ConfigProblem(f"environment {name}: not a pitboard setting{hint}")


def _env_json_problem(exc: SettingsError) -> str:
    """The variable behind a pydantic-settings parsing error, and why (its JSON)."""
    match = re.search(r'field "([^"]+)"', str(exc))
    field = (match.group(1) if match else "").upper()
    for name, value in sorted(_env_settings().items()):
        if not name[len(ENV_PREFIX):].split("__", 1)[0] == field:
            continue
        try:
            json.loads(value)
        except json.JSONDecodeError as err:
            path = name[len(ENV_PREFIX):].lower().replace("__", ".")
            return (f"environment {name}: {path}: not valid JSON ({err.msg} at "
                    f"character {err.pos}); lists and tables are given as JSON, e.g. "
                    f"'[\"a\", \"b\"]' or '{{\"key\": 1}}' (got {redact(repr(value)):.60})")
    where = f" (PITBOARD_{field}...)" if field else ""
    return f"environment{where}: {redact(str(exc))}"


def load_settings(path: str | os.PathLike | None = None, **overrides: Any) -> Settings:
    """Settings from file + environment + ``overrides`` (CLI flags, nested dicts allowed).

    Raises :class:`ConfigProblem` naming the field path and the reason (a misspelt
    ``PITBOARD_*`` variable, a value that is not JSON where a list is due, a file that is
    not UTF-8 TOML included)."""
    file, explicit = config_path(path)
    if explicit and not file.exists():
        raise ConfigProblem(f"{file}: config file not found")
    check_env_names()
    token = _toml_path.set(file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        origin = str(file) if file.exists() else "configuration"
        raise ConfigProblem(describe_errors(exc, origin)) from None
    except SettingsError as exc:
        raise ConfigProblem(_env_json_problem(exc)) from None
    finally:
        _toml_path.reset(token)
