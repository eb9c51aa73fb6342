"""Server-side ``meta.k8s.io/v1`` Table rendering with the columns a real cluster prints."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from .apiserver_resources import Resource
from .apiserver_select import selector_to_string


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration`` from apimachinery (the AGE column)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(ts: str | None) -> str:
    """``translateTimestampSince``."""
    if not ts:
        return "<unknown>"
    when = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return human_duration((datetime.now(timezone.utc) - when).total_seconds())


def _col(name: str, ctype: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": ctype, "format": fmt, "description": name, "priority": priority}


NAME = _col("Name", fmt="name")
_WIDE_TEMPLATE = [_col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)]

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "deployments": [NAME, _col("Ready"), _col("Up-to-date"), _col("Available"), _col("Age")] + _WIDE_TEMPLATE,
    "statefulsets": [NAME, _col("Ready"), _col("Age"), _col("Containers", priority=1),
                     _col("Images", priority=1)],
    "replicasets": [NAME, _col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer"),
                    _col("Age")] + _WIDE_TEMPLATE,
    "pods": [NAME, _col("Ready"), _col("Status"), _col("Restarts"), _col("Age"), _col("IP", priority=1),
             _col("Node", priority=1), _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
    "nodes": [NAME, _col("Status"), _col("Roles"), _col("Age"), _col("Version"), _col("Internal-IP", priority=1),
              _col("External-IP", priority=1), _col("OS-Image", priority=1), _col("Kernel-Version", priority=1),
              _col("Container-Runtime", priority=1)],
    "namespaces": [NAME, _col("Status"), _col("Age")],
    "events": [_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Subobject", priority=1),
               _col("Source", priority=1), _col("Message"), _col("First Seen", priority=1),
               _col("Count", "integer", 1), _col("Name", priority=1)],
}


def _template_cells(spec: dict[str, Any]) -> list[Any]:
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            selector_to_string(spec.get("selector"))]


def _pod_cells(pod: dict[str, Any]) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    reason = status.get("reason") or status.get("phase") or ""
    for c in statuses:
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    return [f"{ready}/{total}", reason, str(restarts), since(pod["metadata"].get("creationTimestamp")),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", f"0/{len(gates)}" if gates else "<none>"]


def _node_cells(node: dict[str, Any]) -> list[Any]:
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    text = "Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")
    if (node.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in (node["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def addr(kind: str) -> str:
        return next((a["address"] for a in addresses if a.get("type") == kind), "<none>")

    return [text, ",".join(roles) or "<none>", since(node["metadata"].get("creationTimestamp")),
            info.get("kubeletVersion", ""), addr("InternalIP"), addr("ExternalIP"), info.get("osImage", "<unknown>"),
            info.get("kernelVersion", "<unknown>"), info.get("containerRuntimeVersion", "<unknown>")]


def _event_cells(ev: dict[str, Any]) -> list[Any]:
    inv = ev.get("involvedObject") or {}
    src = ev.get("source") or {}
    source = ", ".join(x for x in (src.get("component"), src.get("host")) if x) or ev.get("reportingComponent", "")
    last = ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    return [since(last), ev.get("type", ""), ev.get("reason", ""), f"{inv.get('kind', '').lower()}/{inv.get('name', '')}",
            inv.get("fieldPath", ""), source, (ev.get("message") or "").strip(), since(first),
            int(ev.get("count", 1)), ev["metadata"]["name"]]


def jsonpath(obj: Any, path: str) -> Any:
    """Evaluate the small JSONPath subset CRD printer columns use (fields and ``[?(@.k=="v")]``)."""
    cur: list[Any] = [obj]
    for token in re.findall(r"\.([A-Za-z0-9_]+)|\[\?\(@\.([A-Za-z0-9_]+)\s*==\s*(?:[\"']([^\"']*)[\"']|(\w+))\)\]",
                            path):
        field, fkey, fstr, fword = token
        nxt: list[Any] = []
        for item in cur:
            if field:
                if isinstance(item, dict) and field in item:
                    nxt.append(item[field])
            elif isinstance(item, list):
                want: Any = fstr if fstr else {"true": True, "false": False}.get(fword, fword)
                nxt.extend(x for x in item if isinstance(x, dict) and x.get(fkey) == want)
        cur = nxt
    return cur[0] if cur else None


def _custom(res: Resource) -> list[dict[str, Any]]:
    if not res.printer_columns:
        return [NAME, _col("Age", "date")]
    return [NAME] + [_col(name, ctype, prio) for name, ctype, _, prio in res.printer_columns]


def columns(res: Resource) -> list[dict[str, Any]]:
    """Column definitions for ``res``."""
    return COLUMNS.get(res.plural) or _custom(res)


def cells(res: Resource, obj: dict[str, Any]) -> list[Any]:
    """One row's cells."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    age = since(meta.get("creationTimestamp"))
    if res.plural == "deployments":
        return [meta["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
                int(status.get("updatedReplicas", 0)), int(status.get("availableReplicas", 0)), age] + \
            _template_cells(spec)
    if res.plural == "statefulsets":
        return [meta["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", age] + \
            _template_cells(spec)[:2]
    if res.plural == "replicasets":
        return [meta["name"], int(spec.get("replicas", 1)), int(status.get("replicas", 0)),
                int(status.get("readyReplicas", 0)), age] + _template_cells(spec)
    if res.plural == "pods":
        return [meta["name"]] + _pod_cells(obj)
    if res.plural == "nodes":
        return [meta["name"]] + _node_cells(obj)
    if res.plural == "namespaces":
        return [meta["name"], status.get("phase", ""), age]
    if res.plural == "events":
        return _event_cells(obj)
    if not res.printer_columns:
        return [meta["name"], age]
    out: list[Any] = [meta["name"]]
    for _, ctype, path, _ in res.printer_columns:
        value = jsonpath(obj, path)
        out.append(since(value) if ctype == "date" and value else value)
    return out


def table(res: Resource, objs: list[dict[str, Any]], include: str, list_meta: dict[str, Any]) -> dict[str, Any]:
    """A Table for ``objs``; ``include`` is the includeObject parameter (None/Metadata/Object)."""
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": cells(res, obj)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": columns(res), "rows": rows}
