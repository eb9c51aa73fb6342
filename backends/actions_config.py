"""Settings sections `[audit]` and `[actions]` (owned by the audit/action path). Pydantic only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, description="SQLite file; default XDG data dir")


class ActionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protected_contexts: list[str] = Field(default_factory=list)
    read_only_contexts: list[str] = Field(default_factory=list)
