"""Argo Rollouts' blue-green strategy, as far as the test API server's controller plays it.

With ``spec.strategy.blueGreen.autoPromotionEnabled: false`` a new ReplicaSet (one that is
not ``status.stableRS``) becomes the *preview*: scaled to ``previewReplicaCount`` (default:
all replicas) next to the active (stable) one, and the rollout pauses once before
promotion (``status.pauseConditions: [{reason: BlueGreenPause}]``, ``controllerPause:
true``). ``kubectl argo rollouts promote`` clears the pause conditions; since
``controllerPause`` stays set, the controller does not pause again and switches the active
side to the preview (``stableRS`` = ``currentPodHash``), then scales the old one down (no
``scaleDownDelaySeconds`` wait here). ``status.blueGreen`` names the active and preview
pod-template hashes, as Argo's does.
"""

from __future__ import annotations

from typing import Any

PAUSE_REASON = "BlueGreenPause"


def blue_green(rollout: dict[str, Any]) -> dict[str, Any] | None:
    """``spec.strategy.blueGreen`` of a Rollout, or None for other strategies."""
    spec = ((rollout.get("spec") or {}).get("strategy") or {}).get("blueGreen")
    return spec if isinstance(spec, dict) else None


def pause_before_promotion(store: Any, resource: Any, rollout: dict[str, Any], new_hash: str) -> bool:
    """Add the pre-promotion pause when Argo would (see the module docstring); ``rollout``
    gets the new status too. True when the rollout paused now."""
    spec = blue_green(rollout)
    status = rollout.get("status") or {}
    stable = status.get("stableRS")
    if spec is None or spec.get("autoPromotionEnabled", True) is not False:
        return False
    if not stable or new_hash == stable or status.get("controllerPause") or status.get("pauseConditions"):
        return False
    meta = rollout["metadata"]
    current = store.get(resource, meta["namespace"], meta["name"])
    if current is None:
        return False
    st = current.setdefault("status", {})
    st["pauseConditions"] = [{"reason": PAUSE_REASON, "startTime": store.timestamp()}]
    st["controllerPause"] = True
    store.save(resource, current)
    rollout["status"] = st
    return True


def preview_replicas(rollout: dict[str, Any], desired: int) -> int:
    """Replicas of the preview ReplicaSet before promotion."""
    count = (blue_green(rollout) or {}).get("previewReplicaCount")
    return int(count) if isinstance(count, int) and count > 0 else desired


def status_fields(rollout: dict[str, Any], status: dict[str, Any], pod_hash: str, paused: bool) -> None:
    """Blue-green parts of ``RolloutStatus`` (in place): selectors, the pause message, and
    ``controllerPause`` cleared once the preview became the active side."""
    if blue_green(rollout) is None:
        return
    stable = status.get("stableRS")
    status["blueGreen"] = {"activeSelector": stable or pod_hash, "previewSelector": pod_hash}
    if paused:
        status["message"] = PAUSE_REASON
    elif stable == pod_hash:
        status.pop("controllerPause", None)
