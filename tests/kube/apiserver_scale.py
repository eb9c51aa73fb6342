"""The ``/scale`` subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets and Rollouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .apiserver_defaults import check_int32
from .apiserver_errors import ApiError, conflict, not_found
from .apiserver_patch import json_patch, merge_patch
from .apiserver_resources import Resource
from .apiserver_select import selector_to_string

if TYPE_CHECKING:
    from .apiserver import ApiServer


def _as_scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": int(obj["spec"].get("replicas", 1))},
        "status": {"replicas": int((obj.get("status") or {}).get("replicas", 0)),
                   "selector": selector_to_string(obj["spec"].get("selector")).replace("<none>", "")},
    }


def scale(api: ApiServer, res: Resource, namespace: str | None, name: str, verb: str, body: Any, ctype: str,
          dry_run: bool) -> dict[str, Any]:
    """GET/PUT/PATCH a Scale; writes go through the registry as a change of spec.replicas."""
    with api.store.lock:
        obj = api.store.get(res, namespace, name)
        if obj is None:
            raise not_found(res.group, res.plural, name)
        current = _as_scale(obj)
        if verb == "get":
            return current
        if verb == "patch":
            new = json_patch(current, body) if ctype == "application/json-patch+json" else merge_patch(current, body)
        elif isinstance(body, dict):
            new = body
        else:
            raise ApiError(400, "the body of the request was in an unknown format")
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != obj["metadata"]["resourceVersion"]:
            raise conflict(res.group, res.plural, name)
        replicas = (new.get("spec") or {}).get("replicas", 0)
        check_int32("Scale", "ScaleSpec", "spec.replicas", replicas)
        obj["spec"]["replicas"] = int(replicas)
        updated = api.registry.update(res, namespace, name, obj, dry_run)
        return _as_scale(updated)
