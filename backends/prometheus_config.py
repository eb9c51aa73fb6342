"""Settings section `[prometheus]` (owned by the Prometheus backend). Pydantic only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PrometheusConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="Prometheus/Thanos/Mimir base URL")
    timeout_s: float = Field(5.0, gt=0, description="per-request timeout")
