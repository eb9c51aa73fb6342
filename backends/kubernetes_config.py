"""Settings section `[kubernetes]` (owned by the Kubernetes backend). Pydantic only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KubernetesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contexts: list[str] = Field(default_factory=list, description="kubeconfig contexts")
    namespaces: list[str] = Field(default_factory=list, description="empty = all")
    kubeconfig: str | None = None
    model_label: str = Field("pitboard.io/model", description="label selecting model Deployments")
