"""Status blocks the Deployment and Argo Rollout controllers write."""

from __future__ import annotations

import math
from typing import Any


def _cond(old: list[dict[str, Any]], ctype: str, status: str, reason: str, message: str, now: str,
          update_time: bool = True) -> dict[str, Any]:
    prev = next((c for c in old if c.get("type") == ctype), None)
    same = prev is not None and prev.get("status") == status
    cond = {"type": ctype, "status": status}
    if update_time:
        cond["lastUpdateTime"] = prev["lastUpdateTime"] if same and prev.get("reason") == reason else now
    cond["lastTransitionTime"] = prev["lastTransitionTime"] if same else now
    cond["reason"] = reason
    cond["message"] = message
    return cond


def deployment_status(dep: dict[str, Any], new: dict[str, Any] | None, rss: list[dict[str, Any]],
                      in_progress: bool, paused: bool, desired: int, now: str,
                      stuck: bool = False) -> dict[str, Any]:
    """``DeploymentStatus`` (zero counts omitted, as the real JSON has them); ``stuck``: the
    progress deadline passed (Progressing False, ProgressDeadlineExceeded)."""
    def total(field: str) -> int:
        return sum(int((rs.get("status") or {}).get(field, 0)) for rs in rss)

    replicas, ready, available = total("replicas"), total("readyReplicas"), total("availableReplicas")
    updated = int((new or {}).get("status", {}).get("replicas", 0)) if new else 0
    strategy = (dep["spec"].get("strategy") or {})
    max_unavail_raw = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(max_unavail_raw, str) and max_unavail_raw.endswith("%"):
        max_unavail = math.floor(int(max_unavail_raw[:-1]) * desired / 100)
    else:
        max_unavail = int(max_unavail_raw)
    if strategy.get("type") == "Recreate":
        max_unavail = 0
    old_conds = (dep.get("status") or {}).get("conditions") or []
    if available >= desired - max_unavail:
        avail = _cond(old_conds, "Available", "True", "MinimumReplicasAvailable",
                      "Deployment has minimum availability.", now)
    else:
        avail = _cond(old_conds, "Available", "False", "MinimumReplicasUnavailable",
                      "Deployment does not have minimum availability.", now)
    rs_name = new["metadata"]["name"] if new else ""
    if paused:
        prog = _cond(old_conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now)
    elif stuck and in_progress:
        prog = _cond(old_conds, "Progressing", "False", "ProgressDeadlineExceeded",
                     f'ReplicaSet "{rs_name}" has timed out progressing.', now)
    elif new is not None and not in_progress and updated == desired == replicas and available >= desired:
        prog = _cond(old_conds, "Progressing", "True", "NewReplicaSetAvailable",
                     f'ReplicaSet "{rs_name}" has successfully progressed.', now)
    else:
        prog = _cond(old_conds, "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.',
                     now)
    status: dict[str, Any] = {"observedGeneration": dep["metadata"].get("generation", 1)}
    for key, value in (("replicas", replicas), ("updatedReplicas", updated), ("readyReplicas", ready),
                       ("availableReplicas", available), ("unavailableReplicas", max(desired - available, 0))):
        if value:
            status[key] = value
    status["conditions"] = [avail, prog]
    return status


def rollout_status(ro: dict[str, Any], new: dict[str, Any] | None, rss: list[dict[str, Any]],
                   paused: bool, desired: int) -> dict[str, Any]:
    """A minimal Argo ``RolloutStatus``; fields the controller does not own are kept."""
    status = dict(ro.get("status") or {})

    def total(field: str) -> int:
        return sum(int((rs.get("status") or {}).get(field, 0)) for rs in rss)

    status["observedGeneration"] = str(ro["metadata"].get("generation", 1))
    status["replicas"] = total("replicas")
    status["readyReplicas"] = total("readyReplicas")
    status["availableReplicas"] = total("availableReplicas")
    if new is not None:
        pod_hash = new["metadata"]["labels"].get("rollouts-pod-template-hash", "")
        status["currentPodHash"] = pod_hash
        status["updatedReplicas"] = int((new.get("status") or {}).get("replicas", 0))
        steps = ((ro["spec"].get("strategy") or {}).get("canary") or {}).get("steps") or []
        if not paused:
            status["stableRS"] = pod_hash
            if steps:
                status["currentStepIndex"] = len(steps)
            status["phase"] = "Healthy"
            status.pop("message", None)
        else:
            status["phase"] = "Paused"
            status["message"] = "CanaryPauseStep"
        from .apiserver_controller_bluegreen import status_fields

        status_fields(ro, status, pod_hash, paused)
    status["selector"] = ",".join(f"{k}={v}" for k, v in
                                  sorted(((ro["spec"].get("selector") or {}).get("matchLabels") or {}).items()))
    return status
