"""Settings sections `[audit]` and `[actions]` (owned by the audit/action path). Pydantic only.

Example TOML::

    [audit]
    path = "~/.local/share/pitboard/audit.db"   # default: $XDG_DATA_HOME/pitboard/audit.db
    key_file = "/etc/pitboard/audit.key"        # optional: HMAC-keyed chain (file 0600)
    forward = "syslog"                           # optional: or a file path (JSON lines)

    [actions]
    protected_contexts = ["prod-eu", "prod-us"]
    read_only_contexts = ["prod-archive"]
    local_approvers = ["rm-alice"]     # approvals by these local users count (else only
                                       # cluster identities, or anyone on the demo)

    [actions.promote_gates]            # defaults for every context
    max_error_ratio_delta = 0.01       # canary may exceed stable by 1 point at most
    max_p95_ratio_vs_stable = 1.2
    window_s = 300
    min_canary_age_s = 600

    [actions.contexts.prod-eu]         # per-context overrides (only the fields given)
    approvals_required = 1
    progress_timeout_s = 900
    trust_annotation_approvals = false # only this machine's audit store's approvals count
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    path: str | None = Field(None, description="SQLite file; default XDG data dir")
    busy_timeout_ms: int = Field(
        10_000, ge=100, le=600_000,
        description="how long a write waits for another console holding the lock",
    )
    key_file: str | None = Field(
        None, description="file holding a key (>= 16 bytes, mode 0600, kept outside the "
                          "store): new entries are chained with HMAC-SHA256 under it, so "
                          "nobody without it can rewrite and re-hash the log",
    )
    forward: str | None = Field(
        None, description="'syslog', or a file path: each entry, once committed, is sent "
                          "there as one JSON line (a copy outside the user's reach)",
    )

    @field_validator("forward")
    @classmethod
    def _forward(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty: give 'syslog' or a file path, or leave it out")
        return value


class PromoteGates(BaseModel):
    """Promote gates and action timings for one context. ``None`` disables a gate.

    ``trust_annotation_approvals``: whether approvals read from the object's
    ``pitboard.io/approvals`` annotation (made on another machine) count towards
    ``approvals_required``. Anyone allowed to patch the object can write a record there
    under any name; set it to false on a context whose patch rights are wider than its
    approvers, and only the local audit store's approvals count (the approvals check
    says annotation approvals are not trusted on this context)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    max_error_ratio_delta: float | None = Field(
        0.01, ge=0, le=1,
        description="canary error ratio minus stable error ratio (0..1) may not exceed this",
    )
    max_error_ratio_vs_stable: float | None = Field(
        None, gt=0,
        description="canary/stable error ratio may not exceed this (stable > 0 only)",
    )
    max_p95_ratio_vs_stable: float | None = Field(
        1.2, gt=0, description="canary p95 latency / stable p95 latency may not exceed this",
    )
    window_s: int = Field(
        300, ge=10, le=86_400,
        description="health is compared over this window; older samples count as missing",
    )
    min_canary_age_s: int | None = Field(
        600, ge=0, description="the canary must have been running this long",
    )
    approvals_required: int = Field(
        0, ge=0, le=10, description="approvals by identities other than the promoter",
    )
    block_on_missing_data: bool = Field(
        True, description="a gate without data fails (overridable) instead of 'unknown'",
    )
    progress_timeout_s: float = Field(
        600, gt=0, le=86_400, description="how long to watch a rollout settle after the call",
    )
    progress_poll_s: float = Field(2.0, gt=0, le=60, description="progress poll interval")
    trust_annotation_approvals: bool = Field(
        True, description="approvals in the object's pitboard.io/approvals annotation count",
    )


class GateOverrides(BaseModel):
    """Per-context overrides of :class:`PromoteGates`; unset fields inherit the defaults."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_error_ratio_delta: float | None = Field(None, ge=0, le=1)
    max_error_ratio_vs_stable: float | None = Field(None, gt=0)
    max_p95_ratio_vs_stable: float | None = Field(None, gt=0)
    window_s: int | None = Field(None, ge=10, le=86_400)
    min_canary_age_s: int | None = Field(None, ge=0)
    approvals_required: int | None = Field(None, ge=0, le=10)
    block_on_missing_data: bool | None = None
    progress_timeout_s: float | None = Field(None, gt=0, le=86_400)
    progress_poll_s: float | None = Field(None, gt=0, le=60)
    trust_annotation_approvals: bool | None = None
    protected: bool | None = Field(None, description="same as listing it in protected_contexts")
    read_only: bool | None = Field(None, description="same as listing it in read_only_contexts")


class ActionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    protected_contexts: list[str] = Field(default_factory=list)
    read_only_contexts: list[str] = Field(default_factory=list)
    promote_gates: PromoteGates = Field(default_factory=PromoteGates)
    contexts: dict[str, GateOverrides] = Field(
        default_factory=dict, description="context name -> overrides"
    )
    local_approvers: list[str] = Field(
        default_factory=list,
        description="local identities (a user name, any host, or user@host) whose "
                    "approvals count without a cluster identity; anyone can claim a local "
                    "name by setting $USER, so list only where that is acceptable",
    )

    @field_validator("protected_contexts", "read_only_contexts", "local_approvers")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip():
                raise ValueError("names may not be empty")
        return value

    def gates_for(self, context: str) -> PromoteGates:
        """The effective gates of ``context``: defaults merged with its overrides."""
        over = self.contexts.get(context)
        if over is None:
            return self.promote_gates
        fields = over.model_dump(exclude_unset=True, exclude={"protected", "read_only"})
        return self.promote_gates.model_copy(update=fields)

    def is_protected(self, context: str) -> bool:
        """Protected contexts require typing the object's name to confirm."""
        over = self.contexts.get(context)
        if over is not None and over.protected is not None:
            return over.protected
        return context in self.protected_contexts

    def is_read_only(self, context: str) -> bool:
        """Read-only contexts allow no mutating request and no action audit write."""
        over = self.contexts.get(context)
        if over is not None and over.read_only:
            return True
        return context in self.read_only_contexts

    def read_only_names(self) -> list[str]:
        """Every context configured read-only, by either spelling (for the backends)."""
        extra = [name for name, over in self.contexts.items()
                 if over.read_only and name not in self.read_only_contexts]
        return [*self.read_only_contexts, *extra]
