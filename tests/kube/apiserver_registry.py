"""The write verbs (create, update, patch, delete) with the real server's strategies and dry run."""

from __future__ import annotations

import copy
from typing import Any

from .apiserver_controller import Controller
from .apiserver_defaults import apply_defaults, validate
from .apiserver_errors import ApiError, already_exists, conflict, not_found, success_status
from .apiserver_patch import json_patch, merge_patch, strategic_merge
from .apiserver_resources import Resource, find
from .apiserver_store import Store

NAMESPACES = find("", "v1", "namespaces")
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")


def drop_nulls(value: Any) -> Any:
    """What decoding into a typed Go struct does to JSON nulls (``creationTimestamp: null`` etc.)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Registry:
    """Applies writes to the store like the API server's generic registry plus type strategies."""

    def __init__(self, store: Store, controller: Controller) -> None:
        self.store = store
        self.controller = controller

    # ------------------------------------------------------------ create
    def create(self, res: Resource, namespace: str | None, body: Any, dry_run: bool,
               keep_status: bool = False) -> dict[str, Any]:
        """POST to a collection; returns the stored object (or what would be stored)."""
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        obj = drop_nulls(body)
        obj["apiVersion"], obj["kind"] = res.group_version, res.kind
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise ApiError(400, "the namespace of the provided object does not match the namespace sent on "
                                    "the request")
            meta["namespace"] = namespace or meta.get("namespace")
        else:
            meta.pop("namespace", None)
        with self.store.lock:
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(
                    self.controller.pods.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
            if not meta.get("name"):
                raise ApiError(422, f"{res.kind}.{res.group} \"\" is invalid: metadata.name: Required value: "
                                    "name or generateName is required" if res.group else
                                    f"{res.kind} \"\" is invalid: metadata.name: Required value: name or "
                                    "generateName is required", reason="Invalid")
            if res.namespaced and self.store.get(NAMESPACES, None, meta["namespace"]) is None:
                raise not_found("", "namespaces", meta["namespace"])
            if self.store.get(res, meta.get("namespace"), meta["name"]) is not None:
                raise already_exists(res.group, res.plural, meta["name"])
            for key in ("resourceVersion", "deletionTimestamp", "managedFields"):
                meta.pop(key, None)
            meta["uid"] = self.store.new_uid()
            meta.setdefault("creationTimestamp", self.store.timestamp()) if keep_status else \
                meta.__setitem__("creationTimestamp", self.store.timestamp())
            if res.plural in ("deployments", "replicasets", "statefulsets") or res.custom:
                meta["generation"] = 1
            if res.status_subresource and not keep_status and res.plural not in ("namespaces", "nodes", "pods"):
                obj.pop("status", None)
            if res.plural in ("deployments", "replicasets", "statefulsets") and not keep_status:
                obj["status"] = {}
            apply_defaults(res, obj)
            validate(res, obj, None)
            if dry_run:
                return obj
            stored = self.store.commit(res, obj)
            self.controller.on_write(res, stored)
            return self.store.get(res, meta.get("namespace"), meta["name"]) or stored

    # ------------------------------------------------------------ update / patch
    def _current(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any]:
        current = self.store.get(res, namespace, name)
        if current is None:
            raise not_found(res.group, res.plural, name)
        return current

    def update(self, res: Resource, namespace: str | None, name: str, body: Any, dry_run: bool,
               subresource: str = "", patched: bool = False) -> dict[str, Any]:
        """PUT an object (or its status); 409 on a stale resourceVersion."""
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        with self.store.lock:
            old = self._current(res, namespace, name)
            new = drop_nulls(body)
            meta = new["metadata"]
            if meta.get("name") != name:
                raise ApiError(400, f"the name of the object ({meta.get('name')}) does not match the name on the "
                                    f"URL ({name})")
            if res.namespaced and meta.get("namespace") not in (None, namespace):
                raise ApiError(400, "the namespace of the provided object does not match the namespace sent on "
                                    "the request")
            rv = meta.get("resourceVersion")
            if not rv and not patched and res.custom:
                raise ApiError(422, f'{res.kind}.{res.group} "{name}" is invalid: metadata.resourceVersion: '
                                    "Invalid value: 0x0: must be specified for an update", reason="Invalid")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(res.group, res.plural, name)
            new["apiVersion"], new["kind"] = res.group_version, res.kind
            if res.namespaced:
                meta["namespace"] = namespace
            for key in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            if subresource == "status":
                status = new.get("status")
                new = copy.deepcopy(old)
                if status is None:
                    new.pop("status", None)
                else:
                    new["status"] = status
            elif subresource:
                raise ApiError(404, "the server could not find the requested resource")
            elif res.status_subresource and res.plural not in ("namespaces",):
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            apply_defaults(res, new)
            if meta.get("generation") is not None and _spec_part(new) != _spec_part(old):
                meta["generation"] = int(meta["generation"]) + 1
            validate(res, new, old)
            if new == old:
                return old
            if dry_run:
                return new
            stored = self.store.commit(res, new)
            self.controller.on_write(res, stored)
            return self.store.get(res, namespace, name) or stored

    def patch(self, res: Resource, namespace: str | None, name: str, patch: Any, content_type: str,
              dry_run: bool, subresource: str = "") -> dict[str, Any]:
        """PATCH with a JSON, merge or strategic merge patch (the last only for built-in types)."""
        if content_type not in PATCH_TYPES or (res.custom and content_type.startswith("application/strategic")):
            accepted = ", ".join(t for t in PATCH_TYPES if not (res.custom and "strategic" in t))
            raise ApiError(415, f"the body of the request was in an unknown format - accepted media types include: "
                                f"{accepted}, application/apply-patch+yaml")
        with self.store.lock:
            old = self._current(res, namespace, name)
            if content_type == PATCH_TYPES[0]:
                new = json_patch(old, patch)
            elif not isinstance(patch, dict):
                raise ApiError(400, "json: cannot unmarshal array into Go value of type map[string]interface {}")
            elif content_type == PATCH_TYPES[1]:
                new = merge_patch(old, patch)
            else:
                new = strategic_merge(old, patch)
            if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
                raise ApiError(422, "The request is invalid: patch produced an invalid object", reason="Invalid")
            if new["metadata"].get("resourceVersion") in (None, ""):
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self.update(res, namespace, name, new, dry_run, subresource, patched=True)

    # ------------------------------------------------------------ delete
    def delete(self, res: Resource, namespace: str | None, name: str, dry_run: bool,
               options: Any = None) -> dict[str, Any]:
        """DELETE an object; dependents are garbage collected in the background (immediately here)."""
        with self.store.lock:
            old = self._current(res, namespace, name)
            pre = (options or {}).get("preconditions") or {} if isinstance(options, dict) else {}
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise ApiError(409, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                                    f"{old['metadata']['uid']}", reason="Conflict")
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise conflict(res.group, res.plural, name)
            details = {"name": name, "group": res.group, "kind": res.plural, "uid": old["metadata"]["uid"]}
            if dry_run:
                return success_status(details)
            self.store.commit(res, old, deleted=True)
            if res.plural == "namespaces":
                for key in [k for k in self.store.objects if k[2] == name]:
                    obj = self.store.objects[key]
                    owner = find(key[0], obj["apiVersion"].rpartition("/")[2], key[1])
                    if owner is not None:
                        self.store.commit(owner, obj, deleted=True)
            self.controller.on_write(res, old, deleted=True)
            return success_status(details)
