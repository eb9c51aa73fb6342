"""One module per resource kind (how it is read and acted on), and the registry of them."""

from __future__ import annotations

from collections.abc import Mapping

from backends.kube.kinds import (deployment, kserve, leaderworkerset, llmisvc, rollout,
                                 statefulset)
from backends.kube.kinds.base import Kind

#: kind name (``ServiceKind`` value, as in service keys) -> its module. Add a kind here.
KINDS: Mapping[str, Kind] = {
    deployment.KIND.value: deployment,
    kserve.KIND.value: kserve,
    rollout.KIND.value: rollout,
    statefulset.KIND.value: statefulset,
    leaderworkerset.KIND.value: leaderworkerset,
    llmisvc.KIND.value: llmisvc,
}

__all__ = ["KINDS", "Kind"]
