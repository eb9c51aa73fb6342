"""The kinds of guarded action, apart from the action models (``backends.domain.actions``):
the fleet screen's keys need the names before its first frame, the pydantic models only when
an action is planned."""

from __future__ import annotations

from enum import Enum


class ActionKind(str, Enum):
    ROLLBACK = "rollback"  # to the previous revision, or ActionRequest.to_revision
    PROMOTE = "promote"
    ABORT = "abort"
    PROMOTE_FULL = "promote_full"  # Argo: kubectl argo rollouts promote --full
    RETRY = "retry"  # Argo: kubectl argo rollouts retry (after an abort)
    PAUSE = "pause"  # kubectl rollout pause / kubectl argo rollouts pause
    RESUME = "resume"  # kubectl rollout resume / kubectl argo rollouts resume
    RESTART = "restart"  # kubectl rollout restart (kubectl.kubernetes.io/restartedAt)
    SCALE = "scale"  # kubectl scale --replicas=N
    SILENCE = "silence"  # an Alertmanager silence of the model's alerts (not the cluster)
