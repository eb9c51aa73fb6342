"""Defaulting and validation the real API server applies to the types served."""

from __future__ import annotations

import json
import re
from typing import Any

from .apiserver_errors import ApiError, invalid
from .apiserver_resources import Resource
from .apiserver_select import match_label_selector

_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


def _default_container(c: dict[str, Any]) -> None:
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c:
        image = c.get("image", "")
        tag = image.rsplit("/", 1)[-1]
        latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
        c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")


def default_pod_spec(spec: dict[str, Any]) -> None:
    """``SetDefaults_PodSpec`` and container defaults (the fields kubectl shows in -o json)."""
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _default_container(c)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def apply_defaults(res: Resource, obj: dict[str, Any]) -> None:
    """Fill server-side defaults in place."""
    spec = obj.get("spec")
    if res.plural == "deployments" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxUnavailable", "25%")
            ru.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    if res.plural == "statefulsets" and isinstance(spec, dict):  # SetDefaults_StatefulSet
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("persistentVolumeClaimRetentionPolicy",
                        {"whenDeleted": "Retain", "whenScaled": "Retain"})
    if res.plural in ("deployments", "replicasets", "statefulsets") and isinstance(spec, dict):
        default_pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))
    if res.plural == "replicasets" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
    if res.plural == "pods" and isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
    if res.plural == "namespaces":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


INT32_MAX = 2**31 - 1


def check_int32(kind: str, go_struct: str, field: str, value: Any) -> None:
    """400 like the real server's decoder for a number that is not an int32 (it never gets
    to validation: ``spec.replicas: 99999999999999999999`` was taken, and the controller
    then tried to make that many pods)."""
    if isinstance(value, bool) or not isinstance(value, int) or not -2**31 <= value <= INT32_MAX:
        what = f"number {value}" if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else f"{type(value).__name__} {json.dumps(value)}"
        raise ApiError(400, f'{kind} in version "v1" cannot be handled as a {kind}: json: cannot '
                            f"unmarshal {what} into Go struct field {go_struct}.{field} of type int32",
                       reason="BadRequest")


def validate(res: Resource, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Raise 422 Invalid like the real server for the checks that matter to clients."""
    meta = obj["metadata"]
    name = meta.get("name", "")
    kind, group = res.kind, res.group
    if res.plural == "namespaces":
        if len(name) > 63 or not re.fullmatch(_LABEL, name):
            raise invalid(kind, group, name, "metadata.name", name,
                          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                          "and must start and end with an alphanumeric character")
    elif res.plural != "selfsubjectaccessreviews" and (len(name) > 253 or not re.fullmatch(_SUBDOMAIN, name)):
        raise invalid(kind, group, name, "metadata.name", name,
                      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                      "'.', and must start and end with an alphanumeric character")
    spec = obj.get("spec") or {}
    if res.plural in ("deployments", "replicasets", "statefulsets"):
        selector = spec.get("selector")
        if not selector:
            raise invalid(kind, group, name, "spec.selector", None, "Required value")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not match_label_selector(selector, labels):
            raise invalid(kind, group, name, "spec.template.metadata.labels", labels,
                          "`selector` does not match template `labels`")
        if old is not None and old.get("spec", {}).get("selector") != selector:
            raise invalid(kind, group, name, "spec.selector", selector, "field is immutable")
        check_int32(kind, "DeploymentSpec" if res.plural == "deployments" else
                    "ReplicaSetSpec" if res.plural == "replicasets" else "StatefulSetSpec",
                    "spec.replicas", spec.get("replicas", 0))
        if int(spec.get("replicas", 0)) < 0:
            raise invalid(kind, group, name, "spec.replicas", spec.get("replicas"),
                          "must be greater than or equal to 0")
    if res.plural in ("deployments", "replicasets", "statefulsets", "pods"):
        pod_spec = spec if res.plural == "pods" else (spec.get("template") or {}).get("spec") or {}
        prefix = "spec" if res.plural == "pods" else "spec.template.spec"
        containers = pod_spec.get("containers") or []
        if not containers:
            raise ApiError(422, f'{kind}.{group} "{name}" is invalid: {prefix}.containers: Required value'
                           if group else f'{kind} "{name}" is invalid: {prefix}.containers: Required value',
                           reason="Invalid")
        for i, c in enumerate(containers):
            if not c.get("image"):
                raise ApiError(422, f'{kind}.{group} "{name}" is invalid: {prefix}.containers[{i}].image: '
                               "Required value" if group else
                               f'{kind} "{name}" is invalid: {prefix}.containers[{i}].image: Required value',
                               reason="Invalid")
    if res.plural == "events":
        involved = obj.get("involvedObject") or {}
        ns = involved.get("namespace")
        if ns and ns != meta.get("namespace"):
            raise invalid(kind, group, name, "involvedObject.namespace", ns, "does not match event.namespace")
