"""Settings section `[kubernetes]` (owned by the Kubernetes backend). Pydantic only."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: one requirement of an equality-based label selector: ``key``, ``key=value``,
#: ``key==value``, ``key!=value`` or ``!key`` (a key may carry a DNS prefix: ``a.io/name``)
_REQUIREMENT = re.compile(r"!?[A-Za-z0-9][-A-Za-z0-9_./]*(?:(?:==|!=|=)[-A-Za-z0-9_.]*)?")


class KubernetesConfig(BaseModel):
    """How pitboard reaches its clusters and what it calls a model there."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    contexts: list[str] = Field(
        default_factory=list,
        description="kubeconfig contexts to show side by side; empty = the current context",
    )
    namespaces: list[str] = Field(default_factory=list, description="empty = all")
    kubeconfig: str | None = Field(
        None, description="kubeconfig path (default: $KUBECONFIG, ~/.kube/config, in-cluster)"
    )
    model_label: str = Field("pitboard.io/model", description="label selecting model Deployments")
    discover: bool = Field(
        True, description="also show Deployments, StatefulSets and LeaderWorkerSets without "
                          "the model label that request GPUs (nvidia.com/gpu, amd.com/gpu) or "
                          "carry app.kubernetes.io/name, marked unlabelled (read-only until "
                          "adopted); false = only labelled objects (a server-side selector)")
    adopt: list[str] = Field(
        default_factory=list,
        description="label selectors (e.g. \"app.kubernetes.io/name=foo\") whose objects are "
                    "models as if they carried the model label (actions allowed)")
    rollout_label: str | None = Field(
        None, description="label an Argo Rollout must carry to be a model; None = every Rollout"
    )
    @field_validator("adopt")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        for sel in value:
            parts = [p.strip() for p in sel.split(",")]
            bad = [p for p in parts if not _REQUIREMENT.fullmatch(p)]
            if not sel.strip() or bad:
                raise ValueError(f"{sel!r} is not a label selector (use key=value, key, "
                                 f"!key or key!=value, comma-separated)")
        return value

    request_timeout_s: float = Field(10.0, gt=0, description="timeout of one API request")
    sync_timeout_s: float = Field(
        15.0, gt=0, description="how long the first read waits for the caches' initial LIST"
    )
    watch_timeout_s: int = Field(
        300, ge=1, description="server-side timeoutSeconds of one watch (then it is resumed)"
    )
    stale_after_s: float = Field(
        3.0, gt=0, description="a watch down (ended, failing or reconnecting) this long makes "
                               "the cluster source stale, with the reason")
    bookmark_interval_s: float = Field(
        60.0, gt=0, description="how often the API server sends a watch bookmark (Kubernetes: "
                                "every minute); once a server has sent one, a watch connected "
                                "but silent -- neither an event nor a bookmark -- for 3 of these "
                                "makes the cluster source stale, with the reason")
    backoff_initial_s: float = Field(0.5, gt=0, description="first reconnect delay")
    backoff_max_s: float = Field(30.0, gt=0, description="longest reconnect delay")
    max_events: int = Field(2000, ge=0, description="events kept in memory per cluster")
    page_size: int = Field(500, ge=1, description="LIST page size (limit/continue)")
