"""JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch for the types served."""

from __future__ import annotations

import copy
from typing import Any

from .apiserver_errors import ApiError

# Field name -> merge key, as declared by the Kubernetes core/apps types (patchMergeKey).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "volumes": "name",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
}
# Primitive lists with patchStrategy "merge".
MERGE_PRIMITIVES = {"finalizers"}


def _invalid(detail: str) -> ApiError:
    return ApiError(422, f"The request is invalid: {detail}", reason="Invalid")


# ---------------------------------------------------------------- JSON patch

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _invalid(f'json patch path "{path}" must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    cur = doc
    for part in parts[:-1]:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return cur, parts[-1]


def _get(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _parent(doc, parts, op, path)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parts = _pointer(path)
    parent, last = _parent(doc, parts, op, path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")


def _add(doc: Any, path: str, value: Any, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    op = "replace" if replace else "add"
    parent, last = _parent(doc, parts, op, path)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise _invalid(f"replace operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    else:
        raise _invalid(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 JSON patch to a copy of ``doc``."""
    if not isinstance(ops, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        if kind in ("add", "replace"):
            if "value" not in op:
                raise _invalid(f"{kind} operation does not apply: missing value")
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=kind == "replace")
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "move":
            value = _remove(doc, op["from"], "move")
            doc = _add(doc, path, value, replace=False)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"], "copy")), replace=False)
        elif kind == "test":
            if _get(doc, path, "test") != op.get("value"):
                raise _invalid(f"testing value {path} failed: test failed")
        else:
            raise _invalid(f"Unexpected kind: {kind}")
    return doc


# ---------------------------------------------------------------- merge patch

def merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch; returns a new document."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ---------------------------------------------------------------- strategic merge patch

def _merge_list(field: str, orig: list[Any], patch: list[Any], order: list[Any] | None) -> list[Any]:
    key = MERGE_KEYS.get(field)
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    if field in MERGE_PRIMITIVES:
        out = list(orig)
        out.extend(v for v in patch if v not in out)
        return out
    if key is None or not all(isinstance(p, dict) for p in patch):
        return copy.deepcopy(patch)
    out = [copy.deepcopy(o) for o in orig]
    for item in patch:
        if key not in item:
            raise ApiError(400, f"map: {item} does not contain declared merge key: {key}")
        idx = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    if order:
        rank = {(o.get(key) if isinstance(o, dict) else o): i for i, o in enumerate(order)}
        out.sort(key=lambda o: rank.get(o.get(key), len(rank)))
    return out


def strategic_merge(doc: Any, patch: Any) -> Any:
    """Apply a strategic merge patch (merge keys of the built-in types, ``$patch`` and friends)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    orders: dict[str, list[Any]] = {}
    retain: list[str] | None = None
    for key, value in patch.items():
        if key == "$patch":
            continue
        if key == "$retainKeys":
            retain = list(value)
        elif key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            out[field] = [v for v in out.get(field) or [] if v not in value]
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = strategic_merge(out.get(key), value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(key, out[key], value, orders.get(key))
        elif isinstance(value, list):
            out[key] = _merge_list(key, [], value, orders.get(key))
        else:
            out[key] = value
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    return out
