"""Settings sections ``[slo]`` and ``[display]`` (owned by the deep views). Pydantic (and
Rich's colour parser) only.

Example TOML::

    [slo]
    period_days = 28                 # error budget period
    fast_burn = 14.4                 # 1h burn rate that pages (2 % of a 30-day budget in 1h)
    slow_burn = 6.0                  # 6h burn rate that warns (5 % in 6h)

    [slo.default]                    # every model without its own entry
    availability = 0.999             # 99.9 % of requests succeed
    latency_ms = 500                 # ...and p95 stays under 500 ms
    latency_quantile = "p95"
    latency_target = 0.99            # for 99 % of the period

    [slo.models.llm-chat]            # per model (only the fields given override)
    latency_ms = 6000

    [display.accents]                # per-context accent colour, as k9s skins do
    prod-eu = "red"
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rich.color import Color, ColorParseError  # Rich, not Textual: its colour parser

Quantile = Literal["p50", "p95", "p99"]


class Objective(BaseModel):
    """Availability and latency objectives of one model. ``None`` = no such objective."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    availability: float | None = Field(
        0.999, gt=0, lt=1, description="fraction of requests that must succeed (0..1)")
    latency_ms: float | None = Field(
        None, gt=0, description="latency objective on ``latency_quantile`` (ms)")
    latency_quantile: Quantile = Field("p95", description="p50 | p95 | p99")
    latency_target: float = Field(
        0.99, gt=0, lt=1, description="fraction of the period the quantile must meet it")


class ObjectiveOverride(BaseModel):
    """Per-model overrides of the default :class:`Objective`; unset fields inherit."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    availability: float | None = Field(None, gt=0, lt=1)
    latency_ms: float | None = Field(None, gt=0)
    latency_quantile: Quantile | None = None
    latency_target: float | None = Field(None, gt=0, lt=1)


class SloConfig(BaseModel):
    """Service level objectives: error budget period, objectives, burn-rate thresholds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    period_days: int = Field(28, ge=1, le=90, description="error budget period (days)")
    default: Objective = Field(default_factory=Objective)
    models: dict[str, ObjectiveOverride] = Field(
        default_factory=dict, description="model name -> overrides of the default")
    fast_burn: float = Field(14.4, gt=0, description="1h burn rate shown as critical")
    slow_burn: float = Field(6.0, gt=0, description="6h burn rate shown as a warning")

    def objective_for(self, model: str) -> Objective:
        """The effective objective of ``model``: the default merged with its overrides."""
        over = self.models.get(model)
        if over is None:
            return self.default
        return self.default.model_copy(update=over.model_dump(exclude_unset=True))


class DisplayConfig(BaseModel):
    """Look of the console per kubeconfig context."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    accents: dict[str, str] = Field(
        default_factory=dict, description="context name -> accent colour (e.g. 'red')")
    protected_accent: str | None = Field(
        "red", description="accent of protected contexts without their own entry")
    model_order: Literal["problems", "name"] = Field(
        "problems", description="the model table's order at start: problems first (the "
        "problem strip's order) or by name; `o` switches")

    @field_validator("accents")
    @classmethod
    def _colours(cls, value: dict[str, str]) -> dict[str, str]:
        for ctx, colour in value.items():
            _check_colour(colour, f"accents.{ctx}")
        return value

    @field_validator("protected_accent")
    @classmethod
    def _protected(cls, value: str | None) -> str | None:
        if value is not None:
            _check_colour(value, "protected_accent")
        return value

    def accent_for(self, context: str, protected: bool = False) -> str | None:
        """The accent colour of ``context`` (None = keep the theme's)."""
        if context in self.accents:
            return self.accents[context]
        return self.protected_accent if protected else None


def _check_colour(value: str, where: str) -> None:
    """Accept CSS-like colours (names, #rgb, #rrggbb, rgb(...)) via Rich's parser."""
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{where}: not a colour: {value!r}") from None
