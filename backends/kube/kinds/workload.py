"""What makes a workload a model: the model label, an ``[kubernetes] adopt`` selector, or
(discovery) a GPU request or ``app.kubernetes.io/name`` without either -- "unlabelled".

Shared by the kinds that can run a model without pitboard's label (Deployment,
StatefulSet, LeaderWorkerSet). Pure functions over plain objects and labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from backends.kube.config import KubernetesConfig
from backends.kube.slim import parse_int

#: extended resources that are GPUs (requests or limits of any container)
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
NAME_LABEL = "app.kubernetes.io/name"
#: the label a LeaderWorkerSet's pods carry (sigs.k8s.io/lws api/leaderworkerset/v1 SetNameLabelKey)
LWS_NAME_LABEL = "leaderworkerset.sigs.k8s.io/name"

Role = Literal["model", "unlabelled"]
#: the kinds a label (or discovery) makes a model; the others are models as they are
LABELLED = ("Deployment", "StatefulSet", "LeaderWorkerSet")
_SET = re.compile(r"\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*")


def _quantity(resources: Any) -> int:
    if not isinstance(resources, dict):
        return 0
    best = 0
    for section in ("requests", "limits"):
        values = resources.get(section) or {}
        if not isinstance(values, dict):
            continue
        for name in GPU_RESOURCES:
            n = parse_int(values.get(name)) if values.get(name) is not None else None
            best = max(best, n or 0)
    return best


def template_gpus(*templates: Any) -> int:
    """GPUs (nvidia.com/gpu or amd.com/gpu) the pod templates (or pod specs) ask for:
    the sum over their containers, each container's larger of requests and limits."""
    total = 0
    for t in templates:
        spec = t.get("spec", t) if isinstance(t, dict) else None
        if not isinstance(spec, dict):
            continue
        total += sum(_quantity(c.get("resources")) for c in spec.get("containers") or []
                     if isinstance(c, dict))
    return total


def owner_uid(meta: Any) -> str | None:
    """The uid of the object's controller (an ownerReference with ``controller: true``)."""
    for ref in (meta.get("ownerReferences") if isinstance(meta, dict) else None) or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return str(ref.get("uid") or "") or None
    return None


def _split(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p.strip() for p in [*parts, cur] if p.strip()]


def matches(selector: str, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy a label selector (``key``, ``!key``, ``key=v``,
    ``key==v``, ``key!=v``, ``key in (a,b)``, ``key notin (a,b)``; comma = and), as the
    API server's ``labelSelector`` does."""
    for req in _split(selector):
        m = _SET.fullmatch(req)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            inside = labels.get(m.group(1)) in values
            if inside != (m.group(2) == "in") or (m.group(2) == "in" and m.group(1) not in labels):
                return False
        elif req.startswith("!"):
            if req[1:].strip() in labels:
                return False
        elif "!=" in req:
            k, v = (x.strip() for x in req.split("!=", 1))
            if labels.get(k) == v:
                return False
        elif "=" in req:
            k, v = (x.strip() for x in req.replace("==", "=").split("=", 1))
            if labels.get(k) != v:
                return False
        elif req not in labels:
            return False
    return True


def server_selector(config: KubernetesConfig) -> str | None:
    """The LIST/WATCH label selector of the discoverable kinds: the model label when
    only labelled objects are shown, else none (every object is looked at once)."""
    return None if config.discover or config.adopt else config.model_label


def role(labels: Mapping[str, str], gpus: int, owned: bool,
         config: KubernetesConfig) -> Role | None:
    """``model`` (the model label, or an adopt selector), ``unlabelled`` (discovery: it
    asks for GPUs or carries app.kubernetes.io/name, and no other object controls it:
    KServe's and LeaderWorkerSet's own workloads are read through their owner), or None."""
    if matches(config.model_label, labels) or any(matches(s, labels) for s in config.adopt):
        return "model"
    if config.discover and not owned and (gpus > 0 or NAME_LABEL in labels):
        return "unlabelled"
    return None


def adopt_lines(resource: str, name: str, namespace: str | None,
                labels: Mapping[str, str], config: KubernetesConfig) -> tuple[str, ...]:
    """The config line that adopts the object (by its app.kubernetes.io/name), then the
    kubectl command that gives it the model label instead."""
    key, _, value = config.model_label.partition("=")
    if not re.fullmatch(r"[A-Za-z0-9][-A-Za-z0-9_./]*", key.strip()):
        key, value = "pitboard.io/model", ""
    ns = f" -n {namespace}" if namespace else ""
    kubectl = f"kubectl label {resource} {name}{ns} {key.strip()}={value.strip() or name}"
    app = labels.get(NAME_LABEL)
    if app and re.fullmatch(r"[-A-Za-z0-9_.]*", app):
        return (f'[kubernetes] adopt = ["{NAME_LABEL}={app}"]', kubectl)
    return (kubectl,)


def classify(kind_resource: str, meta_name: str, namespace: str | None,
             labels: Mapping[str, str], gpus: int, owned: bool, config: KubernetesConfig
             ) -> tuple[bool, tuple[str, ...]] | None:
    """None (not a model), else (unlabelled, the lines that adopt it: empty when labelled)."""
    found = role(labels, gpus, owned, config)
    if found is None:
        return None
    if found == "model":
        return False, ()
    return True, adopt_lines(kind_resource, meta_name, namespace, labels, config)




def looked_for(config: KubernetesConfig, context: str, namespaces: list[str],
               followed: list[str], not_served: list[str]) -> str:
    """What a cluster that showed no model looked for, and how to change it."""
    where = f"namespace{'s' if len(namespaces) > 1 else ''} {', '.join(namespaces)}" \
        if namespaces else "all namespaces"
    labelled = [k for k in followed if k in LABELLED]
    sought = [f"{', '.join(labelled)} labelled {config.model_label}"]
    sought += [f"those matching [kubernetes] adopt {s!r}" for s in config.adopt]
    if config.discover:
        sought.append("those without the label requesting "
                      f"{' or '.join(GPU_RESOURCES)} or carrying {NAME_LABEL}")
    for k in followed:
        if k == "Rollout" and config.rollout_label:
            sought.append(f"Rollouts labelled {config.rollout_label}")
        elif k not in LABELLED:
            sought.append(f"every {k}")
    lines = [f"No models in context {context} ({where}).",
             "Looked for: " + "; ".join(sought) + "."]
    if not_served:
        lines.append(f"Not served by this cluster (CRD absent): {', '.join(not_served)}.")
    lines.append(
        f"To change it: label a workload (kubectl label deployment NAME "
        f"{config.model_label.partition('=')[0]}=NAME), adopt it in the config "
        f"([kubernetes] adopt = [\"{NAME_LABEL}=NAME\"]), set [kubernetes] model_label"
        + ("" if config.discover else ", turn discovery on ([kubernetes] discover = true)")
        + ", or look elsewhere (--namespace, --context).")
    return "\n".join(lines)
